#include "attestors/sevsnp/verify.h"

#include <openssl/evp.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "attestors/sevsnp/roots.h"

namespace twi::sevsnp {

// What a successful chain verification established about one endorsement certificate, under
// one trust configuration. Immutable once built; shared between concurrent verifications.
struct VerificationCache::Entry {
  std::string context;  // trust configuration it was verified under (see TrustContext)
  EvpPkeyPtr key;       // the VCEK/VLEK public key (own reference)
  AmdCertExtensions ext;
  bool is_vlek = false;
  Product cert_product = Product::kUnknown;  // from productName
  Product root_product = Product::kUnknown;
  TimePoint valid_from{}, valid_until{};
  std::string endorsement_label, endorsement_fp, root_label, root_fp;
  bool builtin_root = false;
  std::string crl_fp;        // SHA-256 of the CRL applied; "" when none was
  std::string root_subject;  // to tell whether a CRL speaks for this root
  // Details of the checks the cold path recorded, replayed on hits.
  std::string chain_detail, validity_detail, crl_detail, key_detail, ext_detail;
};

class CacheAccess {
 public:
  static std::shared_ptr<const VerificationCache::Entry> Lookup(VerificationCache& c,
                                                                const std::string& key,
                                                                const std::string& context,
                                                                TimePoint at) {
    std::lock_guard<std::mutex> lock(c.mu_);
    auto it = c.entries_.find(key);
    if (it == c.entries_.end()) return nullptr;
    const auto& e = it->second;
    // Outside the window the cold path runs again and produces the precise error.
    if (e->context != context || at < e->valid_from || at > e->valid_until) return nullptr;
    return e;
  }
  static void Insert(VerificationCache& c, const std::string& key,
                     std::shared_ptr<const VerificationCache::Entry> e, TimePoint at) {
    std::lock_guard<std::mutex> lock(c.mu_);
    if (c.entries_.size() >= c.max_entries_ && !c.entries_.contains(key)) {
      std::erase_if(c.entries_, [at](const auto& kv) { return kv.second->valid_until < at; });
      if (c.entries_.size() >= c.max_entries_) c.entries_.erase(c.entries_.begin());
    }
    c.entries_[key] = std::move(e);
  }
};

size_t VerificationCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}
void VerificationCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
}

namespace {

using Entry = VerificationCache::Entry;

absl::Status Fail(CheckList& checks, std::string name, std::string detail) {
  return checks.Fail(std::move(name), std::move(detail), absl::StatusCode::kInvalidArgument);
}

std::string FpLabel(const Certificate& c) {
  return absl::StrCat(c.label(), " (sha256 ", ShortHex(c.sha256()), ")");
}

// Everything besides the endorsement that a cached result depends on.
std::string TrustContext(const VerifyOptions& o) {
  std::string s = o.allow_simulation_roots ? "sim:" : "amd:";
  if (o.allow_simulation_roots) {
    for (const ExtraRoot& r : o.extra_trusted_roots) {
      s.append(AsString(r.cert.sha256()));
      s.append(r.key == SigningKey::kVlek ? "vlek;" : "vcek;");
    }
  }
  // With a CRL source the CRL is re-checked on each hit instead (see CrlStillCurrent).
  s.append(o.crl.has_value() ? AsString(o.crl->sha256()) : o.crl_source ? "crl-source" : "no-crl");
  s.append(o.crl_policy == CrlPolicy::kRequire ? ":require" : ":allow-missing");
  return s;
}

struct Anchor {
  const Certificate* cert;
  bool builtin;
  Product product;
  std::optional<SigningKey> key;  // extra roots: the one key type they are trusted for
};

std::vector<Anchor> TrustedRoots(const VerifyOptions& o) {
  std::vector<Anchor> roots;
  for (const AmdAuthority& a : BuiltinAmdAuthorities()) {
    if (a.role == AmdCertRole::kArk) roots.push_back({&a.cert, true, a.product, std::nullopt});
  }
  if (o.allow_simulation_roots) {
    for (const ExtraRoot& r : o.extra_trusted_roots) {
      // A root named ARK-<product> is scoped to that product: report.product refuses a report
      // of another. (The server's configuration only accepts extra roots named so.)
      std::string cn = r.cert.subject_cn();
      Product p = absl::StartsWith(cn, "ARK-") ? ProductFromName(cn.substr(4)) : Product::kUnknown;
      roots.push_back({&r.cert, false, p, r.key});
    }
  }
  return roots;
}

struct Chain {
  Certificate intermediate;
  Anchor root;
  bool intermediate_is_asvk;
};

// Why no trusted root matched: the most useful explanation we can give.
std::string ExplainMissingRoot(const Certificate& inter, std::span<const Certificate> chain,
                               const VerifyOptions& o) {
  auto is_extra = [&](const Certificate& c) {
    for (const ExtraRoot& r : o.extra_trusted_roots) {
      if (r.cert.sha256() == c.sha256()) return true;
    }
    return false;
  };
  std::vector<const Certificate*> named;
  for (const Certificate& c : chain) {
    if (c.IsSelfIssued() && inter.IssuedBy(c)) named.push_back(&c);
  }
  for (const ExtraRoot& r : o.extra_trusted_roots) {
    if (inter.IssuedBy(r.cert)) named.push_back(&r.cert);
  }
  for (const Certificate* c : named) {
    if (is_extra(*c) && !o.allow_simulation_roots) {
      return absl::StrCat("root ", FpLabel(*c),
                          " is a configured extra root, but allow_simulation_roots is false");
    }
    return absl::StrCat("root ", FpLabel(*c), " is not a pinned amd root");
  }
  return absl::StrCat("no trusted root named \"", inter.issuer(), "\" (issuer of ",
                      inter.label(), ")");
}

absl::StatusOr<Chain> BuildChain(const Certificate& leaf, std::span<const Certificate> chain,
                                 const VerifyOptions& o) {
  // Intermediates: the caller's first (they may be newer), then the built-in ASK/ASVKs.
  std::vector<std::pair<const Certificate*, bool /*builtin asvk*/>> inters;
  for (const Certificate& c : chain) {
    if (!c.IsSelfIssued()) inters.push_back({&c, false});
  }
  for (const AmdAuthority& a : BuiltinAmdAuthorities()) {
    if (a.role != AmdCertRole::kArk) inters.push_back({&a.cert, a.role == AmdCertRole::kAsvk});
  }
  // Every (intermediate, root) pair is tried, so a stale or corrupted certificate supplied
  // by the host does not hide a valid path through the built-in ones.
  absl::Status first_error;
  for (const auto& [inter, builtin_asvk] : inters) {
    if (!leaf.IssuedBy(*inter)) continue;
    absl::Status s = CheckIsCa(*inter);
    if (s.ok()) s = VerifySignedBy(leaf, *inter);
    if (!s.ok()) {
      if (first_error.ok()) first_error = s;
      continue;
    }
    bool named_root = false;
    for (const Anchor& root : TrustedRoots(o)) {
      if (!inter->IssuedBy(*root.cert)) continue;
      named_root = true;
      s = CheckIsCa(*root.cert);
      if (s.ok()) s = VerifySignedBy(*inter, *root.cert);
      if (s.ok()) s = VerifySignedBy(*root.cert, *root.cert);
      if (!s.ok()) {
        if (first_error.ok()) first_error = s;
        continue;
      }
      bool is_asvk = builtin_asvk || absl::StartsWith(inter->subject_cn(), "SEV-VLEK");
      if (root.key && (*root.key == SigningKey::kVlek) != is_asvk) {
        // An extra root vouches for one key type: a vcek root does not make an ASVK (nor a
        // vlek root an ASK) it signed trustworthy.
        if (first_error.ok()) {
          first_error = absl::InvalidArgumentError(absl::StrCat(
              "extra root ", FpLabel(*root.cert), " is configured for ",
              *root.key == SigningKey::kVlek ? "vlek" : "vcek", " evidence only; this chain goes through ",
              is_asvk ? "an asvk (vlek)" : "an ask (vcek)"));
        }
        continue;
      }
      return Chain{*inter, root, is_asvk};
    }
    if (!named_root && first_error.ok()) {
      first_error = absl::InvalidArgumentError(ExplainMissingRoot(*inter, chain, o));
    }
  }
  if (!first_error.ok()) return first_error;
  return absl::InvalidArgumentError(
      absl::StrCat("no issuer named \"", leaf.issuer(), "\" for ", leaf.label(),
                   "; supply the ask/asvk in the chain"));
}

// The cold path: everything about the endorsement certificate that does not depend on the
// report. Records cert.chain, cert.validity, cert.crl, cert.key, cert.extensions.
absl::StatusOr<std::shared_ptr<const Entry>> VerifyEndorsement(
    const Certificate& leaf, std::span<const Certificate> chain, const VerifyOptions& o,
    std::string context, CheckList& checks) {
  auto e = std::make_shared<Entry>();
  e->context = std::move(context);
  e->endorsement_label = leaf.label();
  e->endorsement_fp = leaf.fingerprint_hex();

  auto built = BuildChain(leaf, chain, o);
  if (!built.ok()) return Fail(checks, "cert.chain", std::string(built.status().message()));
  const Certificate& inter = built->intermediate;
  const Certificate& root = *built->root.cert;
  e->is_vlek = built->intermediate_is_asvk;
  const char* leaf_role = e->is_vlek ? "vlek" : "vcek";
  const char* inter_role = e->is_vlek ? "asvk" : "ask";
  std::string cn = leaf.subject_cn();
  if ((cn == "SEV-VCEK" && e->is_vlek) || (cn == "SEV-VLEK" && !e->is_vlek)) {
    return Fail(checks, "cert.chain",
                absl::StrCat(cn, " is issued by ", inter.label(), ", an ", inter_role,
                             "; want ", cn == "SEV-VCEK" ? "an ask" : "an asvk"));
  }
  e->root_label = root.label();
  e->root_subject = root.subject();
  e->root_fp = root.fingerprint_hex();
  e->builtin_root = built->root.builtin;
  e->root_product = built->root.product;
  e->chain_detail = absl::StrCat(leaf_role, " ", FpLabel(leaf), " <- ", inter_role, " ",
                                 FpLabel(inter), " <- ",
                                 e->builtin_root ? "pinned amd ark " : "extra root ",
                                 FpLabel(root));
  checks.Pass("cert.chain", e->chain_detail);

  for (auto [cert, role] : {std::pair{&leaf, leaf_role}, std::pair{&inter, inter_role},
                            std::pair{&root, "ark"}}) {
    absl::Status s = CheckValidity(*cert, o.time, role);
    if (!s.ok()) return Fail(checks, "cert.validity", std::string(s.message()));
  }
  e->valid_from = std::max({leaf.not_before(), inter.not_before(), root.not_before()});
  e->valid_until = std::min({leaf.not_after(), inter.not_after(), root.not_after()});
  e->validity_detail = absl::StrCat("all certificates valid at ", FormatRfc3339(o.time),
                                    "; chain valid until ", FormatRfc3339(e->valid_until));
  checks.Pass("cert.validity", e->validity_detail);

  std::optional<Crl> crl = o.crl;
  std::string why = "no crl given";
  const bool from_source = !crl && o.crl_source;
  if (from_source) crl = o.crl_source(built->root.product, e->is_vlek, &why);
  if (from_source && crl && !built->root.builtin && crl->issuer() != root.subject()) {
    why = absl::StrCat("the crl at hand is issued by \"", crl->issuer(), "\", not by extra root ",
                       root.label());
    crl.reset();
  }
  if (crl.has_value()) {
    const Certificate subjects[] = {inter, leaf};
    absl::Status s = CheckCrl(*crl, root, subjects, o.time);
    if (!s.ok()) return Fail(checks, "cert.crl", std::string(s.message()));
    e->valid_from = std::max(e->valid_from, crl->this_update());
    if (crl->next_update()) e->valid_until = std::min(e->valid_until, *crl->next_update());
    e->crl_fp = std::string(AsString(crl->sha256()));
    e->crl_detail = absl::StrCat("crl of ", root.label(), " (sha256 ", ShortHex(crl->sha256()),
                                 ") does not list ", inter.label());
  } else if (o.crl_policy == CrlPolicy::kRequire) {
    // Collateral a source could not deliver now may be there on the next attempt.
    return checks.Fail("cert.crl",
                       absl::StrCat("no AMD CRL available (", why,
                                    ") and the crl policy requires one"),
                       from_source ? absl::StatusCode::kUnavailable
                                   : absl::StatusCode::kInvalidArgument);
  } else {
    e->crl_detail = absl::StrCat("skipped: ", why, " (crl policy allow-missing)");
  }
  checks.Pass("cert.crl", e->crl_detail);

  EVP_PKEY* key = leaf.public_key();
  char group[64] = {};
  size_t group_len = 0;
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len) != 1 ||
      std::string_view(group, group_len) != "secp384r1") {
    OpenSslErrors();
    return Fail(checks, "cert.key",
                absl::StrCat(leaf_role, " public key is ",
                             key == nullptr ? "unusable" : EVP_PKEY_get0_type_name(key),
                             group_len ? absl::StrCat(" ", std::string(group, group_len))
                                       : "",
                             ", want ec secp384r1"));
  }
  EVP_PKEY_up_ref(key);
  e->key.reset(key);
  e->key_detail = absl::StrCat(leaf_role, " key is ec secp384r1");
  checks.Pass("cert.key", e->key_detail);

  auto ext = ParseAmdExtensions(leaf);
  if (!ext.ok()) return Fail(checks, "cert.extensions", std::string(ext.status().message()));
  e->ext = std::move(*ext);
  std::vector<std::string> missing;
  if (!e->ext.bl_spl) missing.push_back("blSPL");
  if (!e->ext.tee_spl) missing.push_back("teeSPL");
  if (!e->ext.snp_spl) missing.push_back("snpSPL");
  if (!e->ext.ucode_spl) missing.push_back("ucodeSPL");
  if (!e->is_vlek && !e->ext.hwid) missing.push_back("hwID");
  if (!missing.empty()) {
    return Fail(checks, "cert.extensions",
                absl::StrCat(leaf_role, " lacks ", absl::StrJoin(missing, ", ")));
  }
  if (!e->is_vlek && e->ext.csp_id) {
    return Fail(checks, "cert.extensions",
                absl::StrCat("vcek carries cspId \"", *e->ext.csp_id, "\"; want none"));
  }
  if (e->is_vlek && e->ext.hwid) {
    return Fail(checks, "cert.extensions",
                absl::StrCat("vlek carries hwID ", ShortHex(*e->ext.hwid), "; want none"));
  }
  if (e->ext.product_name) {
    e->cert_product = ProductFromName(*e->ext.product_name);
    if (e->cert_product == Product::kUnknown) {
      return Fail(checks, "cert.extensions",
                  absl::StrCat(leaf_role, " productName \"", *e->ext.product_name,
                               "\" is not milan, genoa or turin"));
    }
  }
  e->ext_detail = absl::StrCat(leaf_role, " productName \"", e->ext.product_name.value_or(""),
                               "\"", e->is_vlek ? absl::StrCat(", cspId \"",
                                                               e->ext.csp_id.value_or(""), "\"")
                                                : "");
  checks.Pass("cert.extensions", e->ext_detail);
  return std::shared_ptr<const Entry>(std::move(e));
}

void ReplayCached(const Entry& e, CheckList& checks) {
  checks.Pass("cert.chain", absl::StrCat(e.chain_detail, " (cached)"));
  checks.Pass("cert.validity", absl::StrCat(e.validity_detail, " (cached)"));
  checks.Pass("cert.crl", absl::StrCat(e.crl_detail, " (cached)"));
  checks.Pass("cert.key", absl::StrCat(e.key_detail, " (cached)"));
  checks.Pass("cert.extensions", absl::StrCat(e.ext_detail, " (cached)"));
}

// Every known source of the product must agree (spec 1.6: never decode a TCB before).
absl::StatusOr<Product> ResolveProduct(const AttestationReport& r, const VerifyOptions& o,
                                       const Entry& e, CheckList& checks) {
  const char* role = e.is_vlek ? "vlek" : "vcek";
  std::vector<std::pair<std::string, Product>> sources = {
      {r.version >= 3 ? "report cpuid" : "parse option", r.product},
      {"product option", o.product},
      {absl::StrCat(role, " productName"), e.cert_product},
      {absl::StrCat("root ", e.root_label), e.root_product}};
  Product product = Product::kUnknown;
  std::vector<std::string> seen;
  for (const auto& [name, p] : sources) {
    if (p == Product::kUnknown) continue;
    seen.push_back(absl::StrCat(name, " ", ProductName(p)));
    if (product == Product::kUnknown) product = p;
    if (p != product) {
      return Fail(checks, "report.product",
                  absl::StrCat("product sources disagree: ", absl::StrJoin(seen, ", ")));
    }
  }
  if (product == Product::kUnknown) {
    return Fail(checks, "report.product",
                absl::StrCat("cannot tell the product of this v", r.version,
                             " report: no cpuid, no product option, no ", role,
                             " productName"));
  }
  checks.Pass("report.product", absl::StrCat(ProductName(product), " (", absl::StrJoin(seen, ", "),
                                             ")"));
  return product;
}

absl::Status CheckTcb(const AttestationReport& r, const Entry& e, CheckList& checks) {
  const char* role = e.is_vlek ? "vlek" : "vcek";
  const TcbVersion& t = r.reported_tcb;
  struct Item { const char* ext; const char* comp; std::optional<uint8_t> got; uint8_t want; };
  std::vector<Item> items = {{"blSPL", "bl", e.ext.bl_spl, t.bootloader},
                             {"teeSPL", "tee", e.ext.tee_spl, t.tee},
                             {"snpSPL", "snp", e.ext.snp_spl, t.snp},
                             {"ucodeSPL", "ucode", e.ext.ucode_spl, t.microcode}};
  if (t.has_fmc) items.push_back({"fmcSPL", "fmc", e.ext.fmc_spl, t.fmc});
  for (const Item& i : items) {
    if (!i.got.has_value()) {
      return Fail(checks, "cert.tcb_match",
                  absl::StrCat(role, " has no ", i.ext, "; REPORTED_TCB ", i.comp, "=", i.want));
    }
    if (*i.got != i.want) {
      return Fail(checks, "cert.tcb_match",
                  absl::StrCat(role, " ", i.ext, " ", *i.got, " != REPORTED_TCB ", i.comp, " ",
                               i.want, " (report ", TcbString(t), ")"));
    }
  }
  checks.Pass("cert.tcb_match", absl::StrCat(role, " tcb == REPORTED_TCB ", TcbString(t)));
  return absl::OkStatus();
}

absl::Status CheckHwid(const AttestationReport& r, const Entry& e, CheckList& checks) {
  if (e.is_vlek) {
    checks.Pass("cert.hwid_match", "vlek: not bound to a chip (no hwID)");
    return absl::OkStatus();
  }
  const Bytes& hwid = *e.ext.hwid;
  size_t want_len = r.product == Product::kTurin ? 8 : 64;
  if (hwid.size() != want_len) {
    return Fail(checks, "cert.hwid_match",
                absl::StrCat("vcek hwID is ", hwid.size(), " bytes, want ", want_len, " on ",
                             ProductName(r.product)));
  }
  ByteView chip(r.chip_id.data(), want_len);
  if (!ConstantTimeEqual(hwid, chip)) {
    return Fail(checks, "cert.hwid_match",
                absl::StrCat("CHIP_ID ", ShortHex(chip), " != vcek hwID ", ShortHex(hwid),
                             IsAllZero(r.chip_id) ? " (CHIP_ID is masked)" : ""));
  }
  checks.Pass("cert.hwid_match", absl::StrCat("CHIP_ID == vcek hwID ", ShortHex(hwid)));
  return absl::OkStatus();
}

absl::Status CheckSignature(const AttestationReport& r, const Entry& e, CheckList& checks) {
  const char* role = e.is_vlek ? "vlek" : "vcek";
  auto der = SignatureDer(r);
  if (!der.ok()) return Fail(checks, "report.signature", std::string(der.status().message()));
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, e.key.get()) != 1) {
    return OpenSslError("report signature verification setup failed");
  }
  ByteView msg = r.signed_bytes();
  int rc = EVP_DigestVerify(ctx.get(), der->data(), der->size(), msg.data(), msg.size());
  if (rc != 1) {
    OpenSslErrors();
    return Fail(checks, "report.signature",
                absl::StrCat("ecdsa p-384 signature over report bytes 0x000-0x29f does not "
                             "verify with the ", role, " key of ", e.endorsement_label,
                             " (sha256 ", e.endorsement_fp.substr(0, 16), "...)"));
  }
  checks.Pass("report.signature",
              absl::StrCat("ecdsa p-384/sha-384 by ", role, " ", e.endorsement_label));
  return absl::OkStatus();
}

absl::Status CheckSigningKeyPresent(const AttestationReport& r, CheckList& checks) {
  if (r.signer_info.signing_key == SigningKey::kNone) {
    return Fail(checks, "report.signing_key",
                "SIGNING_KEY is 7 (none): the report carries no vcek/vlek signature");
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifiedReport> Finish(const AttestationReport& report, const Entry& e,
                                      const VerifyOptions& o, CheckList& checks, bool hit) {
  bool report_vlek = report.signer_info.signing_key == SigningKey::kVlek;
  if (report_vlek != e.is_vlek) {
    return Fail(checks, "report.signing_key",
                absl::StrCat("report SIGNING_KEY says ", report_vlek ? "vlek" : "vcek",
                             ", but ", e.endorsement_label, " is a ",
                             e.is_vlek ? "vlek" : "vcek"));
  }
  checks.Pass("report.signing_key", absl::StrCat("signed by the ", e.is_vlek ? "vlek" : "vcek"));
  VerifiedReport out;
  out.report = report;
  TWI_ASSIGN_OR_RETURN(Product product, ResolveProduct(report, o, e, checks));
  if (out.report.product == Product::kUnknown) {
    TWI_RETURN_IF_ERROR(SetProduct(out.report, product));
  }
  TWI_RETURN_IF_ERROR(CheckTcb(out.report, e, checks));
  TWI_RETURN_IF_ERROR(CheckHwid(out.report, e, checks));
  TWI_RETURN_IF_ERROR(CheckSignature(out.report, e, checks));
  out.signing_key = report.signer_info.signing_key;
  out.endorsement_extensions = e.ext;
  out.endorsement_label = e.endorsement_label;
  out.endorsement_fingerprint = e.endorsement_fp;
  out.root_label = e.root_label;
  out.root_fingerprint = e.root_fp;
  out.builtin_root = e.builtin_root;
  out.chain_valid_until = e.valid_until;
  out.cache_hit = hit;
  return out;
}

std::string CacheKey(const Bytes& der_sha256) { return std::string(AsString(der_sha256)); }

// With a CRL source, a cached result stands only while the source would hand the same CRL (or
// still none) for the entry's verified root: a newly published or newly reachable CRL sends
// the endorsement through the cold path again.
bool CrlStillCurrent(const Entry& e, const VerifyOptions& o) {
  if (o.crl.has_value() || !o.crl_source) return true;
  std::string why;
  std::optional<Crl> crl = o.crl_source(e.root_product, e.is_vlek, &why);
  std::string fp = crl ? std::string(AsString(crl->sha256())) : "";
  if (!e.builtin_root && crl && crl->issuer() != e.root_subject) fp.clear();  // not applicable
  return fp == e.crl_fp;
}

}  // namespace

absl::StatusOr<VerifiedReport> VerifyReport(const AttestationReport& report,
                                            const Certificate& endorsement,
                                            std::span<const Certificate> chain,
                                            const VerifyOptions& options, CheckList& checks,
                                            VerificationCache* cache) {
  checks.Pass("report.structure", absl::StrCat("version ", report.version, ", ", kReportSize,
                                               " bytes"));
  TWI_RETURN_IF_ERROR(CheckSigningKeyPresent(report, checks));
  std::string context = TrustContext(options);
  std::string key = CacheKey(endorsement.sha256());
  if (cache != nullptr) {
    auto e = CacheAccess::Lookup(*cache, key, context, options.time);
    if (e && CrlStillCurrent(*e, options)) {
      ReplayCached(*e, checks);
      return Finish(report, *e, options, checks, /*hit=*/true);
    }
  }
  TWI_ASSIGN_OR_RETURN(auto e, VerifyEndorsement(endorsement, chain, options, context, checks));
  if (cache != nullptr) CacheAccess::Insert(*cache, key, e, options.time);
  return Finish(report, *e, options, checks, /*hit=*/false);
}

absl::StatusOr<VerifiedReport> VerifyReportBytes(ByteView report_bytes, ByteView endorsement,
                                                 std::span<const Certificate> chain,
                                                 const VerifyOptions& options, CheckList& checks,
                                                 VerificationCache* cache) {
  ParseOptions po;
  po.product = options.product;
  auto report = ParseReport(report_bytes, po);
  if (!report.ok()) {
    return Fail(checks, "report.structure", std::string(report.status().message()));
  }
  // A DER endorsement is looked up by its hash before any X.509 parsing: the warm path.
  bool pem = AsString(endorsement).find("-----BEGIN") != std::string_view::npos;
  if (cache != nullptr && !pem) {
    std::string context = TrustContext(options);
    auto e = CacheAccess::Lookup(*cache, CacheKey(Sha256(endorsement)), context, options.time);
    if (e && CrlStillCurrent(*e, options)) {
      checks.Pass("report.structure", absl::StrCat("version ", report->version, ", ",
                                                   kReportSize, " bytes"));
      TWI_RETURN_IF_ERROR(CheckSigningKeyPresent(*report, checks));
      ReplayCached(*e, checks);
      return Finish(*report, *e, options, checks, /*hit=*/true);
    }
  }
  auto cert = Certificate::Parse(endorsement);
  if (!cert.ok()) {
    return Fail(checks, "cert.chain",
                absl::StrCat("endorsement certificate: ", cert.status().message()));
  }
  return VerifyReport(*report, *cert, chain, options, checks, cache);
}

}  // namespace twi::sevsnp
