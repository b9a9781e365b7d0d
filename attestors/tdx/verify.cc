#include "attestors/tdx/verify.h"

#include <openssl/evp.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "attestors/tdx/roots.h"

namespace twi::tdx {

using collateral::DcapCollateral;
using collateral::EnclaveIdentity;
using collateral::TcbInfo;

// What the cold path established for one (PCK chain, collateral, trust configuration).
// Immutable once built; shared between concurrent verifications.
struct PlatformEntry {
  EvpPkeyPtr pck_key;
  PckExtensions pck;
  std::string pck_ca;
  TcbInfo tcb_info;
  EnclaveIdentity qe_identity;
  bool builtin_root = false;
  TimePoint valid_from{}, valid_until{};
  // The checks the cold path recorded, replayed (marked cached) on hits.
  std::vector<Check> checks;
  // The last attestation key seen with this PCK, decoded: a QE keeps its key across quotes and
  // decoding a point costs about as much as half a verification. Keyed by the exact 64 bytes.
  mutable std::mutex att_mu;
  mutable std::array<uint8_t, 64> att_xy{};
  mutable std::shared_ptr<EVP_PKEY> att_key;
};

namespace {

using Entry = PlatformEntry;

// Records every check in the caller's list and, for the cold path, in the entry for replay.
class Recorder {
 public:
  Recorder(CheckList& checks, Entry* entry) : checks_(checks), entry_(entry) {}
  void Pass(std::string name, std::string detail) {
    if (entry_ != nullptr) entry_->checks.push_back({name, true, detail});
    checks_.Pass(std::move(name), std::move(detail));
  }
  absl::Status Fail(std::string name, std::string detail) {
    return checks_.Fail(std::move(name), std::move(detail), absl::StatusCode::kInvalidArgument);
  }

 private:
  CheckList& checks_;
  Entry* entry_;
};

std::string FpLabel(const Certificate& c) {
  return StrCat(c.label(), " (sha256 ", ShortHex(c.sha256()), ")");
}

std::string CacheKey(const Quote& q, const DcapCollateral& c, const VerifyOptions& o) {
  std::string key(AsString(Sha256(q.qe.pck_chain)));
  key.append(AsString(c.digest));
  key.append(o.allow_missing_crls ? "crl-optional:" : "crl-required:");
  if (o.allow_simulation_roots) {
    key.append("sim:");
    for (const Certificate& r : o.extra_trusted_roots) key.append(AsString(r.sha256()));
  }
  return key;
}

struct Anchor {
  const Certificate* cert;
  bool builtin;
};

// The trusted root that issued `inter` (signature checked), or an error naming why none did.
absl::StatusOr<Anchor> FindRoot(const Certificate& inter, const VerifyOptions& o) {
  std::vector<Anchor> roots;
  if (const Certificate* intel = IntelSgxRootCa()) roots.push_back({intel, true});
  if (o.allow_simulation_roots) {
    for (const Certificate& r : o.extra_trusted_roots) roots.push_back({&r, false});
  }
  absl::Status first = absl::InvalidArgumentError(
      StrCat("no trusted root named \"", inter.issuer(), "\" (issuer of ", inter.label(), ")",
             o.extra_trusted_roots.empty() || o.allow_simulation_roots
                 ? ""
                 : "; extra roots are configured but allow_simulation_roots is false"));
  for (const Anchor& r : roots) {
    if (!inter.IssuedBy(*r.cert)) continue;
    absl::Status s = CheckIsCa(*r.cert);
    if (s.ok()) s = VerifySignedBy(inter, *r.cert);
    if (s.ok()) s = VerifySignedBy(*r.cert, *r.cert);
    if (s.ok()) return r;
    first = s;
  }
  return first;
}

absl::Status VerifyEcdsaP256(EVP_PKEY* key, ByteView message, ByteView rs) {
  TWI_ASSIGN_OR_RETURN(Bytes der, RawSignatureToDer(rs));
  return VerifySha256(key, message, der);
}

bool IsP256(EVP_PKEY* key) {
  char group[64] = {};
  size_t len = 0;
  bool ok = key != nullptr && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
            EVP_PKEY_get_group_name(key, group, sizeof(group), &len) == 1 &&
            std::string_view(group, len) == "prime256v1";
  if (!ok) OpenSslErrors();
  return ok;
}

void Narrow(Entry& e, TimePoint from, TimePoint until) {
  e.valid_from = std::max(e.valid_from, from);
  e.valid_until = std::min(e.valid_until, until);
}

// PCK chain from the quote (leaf, PCK CA, root) to a pinned root; records pck.chain and
// pck.validity. Returns the chain [leaf, intermediate, root].
absl::StatusOr<std::vector<Certificate>> VerifyPckChain(const Quote& q, const VerifyOptions& o,
                                                        Entry& e, Recorder& rec) {
  auto certs = ParsePemBundle(AsString(q.qe.pck_chain));
  if (!certs.ok()) {
    return rec.Fail("pck.chain", StrCat("certification data type 5: ", certs.status().message()));
  }
  if (certs->size() < 2) {
    return rec.Fail("pck.chain", StrCat("certification data holds ", certs->size(),
                                        " certificate(s), want pck leaf and pck ca (and root)"));
  }
  const Certificate& leaf = (*certs)[0];
  const Certificate& inter = (*certs)[1];
  if (!absl::StrContains(leaf.subject_cn(), "SGX PCK Certificate")) {
    return rec.Fail("pck.chain", StrCat("leaf cn \"", leaf.subject_cn().substr(0, 64),
                                        "\", want \"Intel SGX PCK Certificate\""));
  }
  std::string cn = inter.subject_cn();
  if (absl::StrContains(cn, "PCK Platform CA")) {
    e.pck_ca = "platform";
  } else if (absl::StrContains(cn, "PCK Processor CA")) {
    e.pck_ca = "processor";
  } else {
    return rec.Fail("pck.chain", StrCat("pck ca cn \"", cn.substr(0, 64),
                                        "\", want an Intel SGX PCK Platform or Processor CA"));
  }
  absl::Status s = CheckIsCa(inter);
  if (s.ok()) s = VerifySignedBy(leaf, inter);
  if (!s.ok()) return rec.Fail("pck.chain", std::string(s.message()));
  auto root = FindRoot(inter, o);
  if (!root.ok()) return rec.Fail("pck.chain", std::string(root.status().message()));
  e.builtin_root = root->builtin;
  rec.Pass("pck.chain", StrCat("pck ", FpLabel(leaf), " <- ", e.pck_ca, " ca ", FpLabel(inter),
                               " <- ", root->builtin ? "pinned intel root " : "extra root ",
                               FpLabel(*root->cert)));
  std::vector<Certificate> chain = {leaf, inter, *root->cert};
  for (auto [cert, role] : {std::pair{&chain[0], "pck"}, std::pair{&chain[1], "pck ca"},
                            std::pair{&chain[2], "root"}}) {
    absl::Status v = CheckValidity(*cert, o.time, role);
    if (!v.ok()) return rec.Fail("pck.validity", std::string(v.message()));
    Narrow(e, cert->not_before(), cert->not_after());
  }
  rec.Pass("pck.validity", StrCat("pck chain valid at ", FormatRfc3339(o.time)));
  if (!IsP256(leaf.public_key())) return rec.Fail("pck.chain", "pck key is not ec p-256");
  EVP_PKEY_up_ref(leaf.public_key());
  e.pck_key.reset(leaf.public_key());
  return chain;
}

absl::Status CheckOneCrl(const std::optional<Crl>& crl, const Certificate& issuer,
                         std::vector<Certificate> subjects, std::string_view name,
                         std::string_view key, const VerifyOptions& o, Entry& e, Recorder& rec) {
  if (!crl.has_value()) {
    if (!o.allow_missing_crls) {
      return rec.Fail(std::string(name), StrCat("collateral has no ", key,
                                                "; revocation can only be skipped with "
                                                "allow_missing_crls"));
    }
    rec.Pass(std::string(name), StrCat("skipped: no ", key, " (allow_missing_crls)"));
    return absl::OkStatus();
  }
  absl::Status s = CheckCrl(*crl, issuer, subjects, o.time);
  if (!s.ok()) return rec.Fail(std::string(name), StrCat(key, ": ", s.message()));
  Narrow(e, crl->this_update(), crl->next_update().value_or(TimePoint::max()));
  std::vector<std::string> labels;
  for (const Certificate& c : subjects) labels.push_back(c.label());
  rec.Pass(std::string(name), StrCat(key, " of ", issuer.label(), " (sha256 ",
                                     ShortHex(crl->sha256()), ") current, does not list ",
                                     absl::StrJoin(labels, ", ")));
  return absl::OkStatus();
}

// A collateral issuer chain: its first certificate is the TCB Signing certificate, issued by
// a trusted root and valid now.
absl::StatusOr<Certificate> VerifySigningChain(const std::vector<Certificate>& chain,
                                               std::string_view key, const VerifyOptions& o,
                                               Entry& e, Recorder& rec) {
  if (chain.empty()) return rec.Fail("tcb_signing.chain", StrCat(key, " is empty"));
  const Certificate& signer = chain[0];
  if (!absl::StrContains(signer.subject_cn(), "TCB Signing")) {
    return rec.Fail("tcb_signing.chain",
                    StrCat(key, ": first certificate cn \"", signer.subject_cn().substr(0, 64),
                           "\", want \"Intel SGX TCB Signing\""));
  }
  auto root = FindRoot(signer, o);
  if (!root.ok()) {
    return rec.Fail("tcb_signing.chain", StrCat(key, ": ", root.status().message()));
  }
  for (const Certificate* c : {&signer, root->cert}) {
    absl::Status v = CheckValidity(*c, o.time, "tcb signing");
    if (!v.ok()) return rec.Fail("tcb_signing.chain", StrCat(key, ": ", v.message()));
    Narrow(e, c->not_before(), c->not_after());
  }
  if (!IsP256(signer.public_key())) {
    return rec.Fail("tcb_signing.chain", StrCat(key, ": signing key is not ec p-256"));
  }
  return signer;
}

absl::Status CheckSignedText(const Certificate& signer, std::string_view text, ByteView sig,
                             std::string_view what, Recorder& rec) {
  absl::Status s = VerifyEcdsaP256(signer.public_key(), AsBytes(text), sig);
  if (!s.ok()) {
    return rec.Fail(StrCat(what, ".signature"),
                    StrCat("ecdsa p-256 signature over the ", text.size(), "-byte ", what,
                           " text does not verify with ", FpLabel(signer)));
  }
  rec.Pass(StrCat(what, ".signature"), StrCat("signed by ", FpLabel(signer)));
  return absl::OkStatus();
}

absl::Status CheckWindow(TimePoint issue, TimePoint next, std::string_view what,
                         const VerifyOptions& o, Entry& e, Recorder& rec) {
  if (o.time < issue || o.time > next) {
    return rec.Fail(StrCat(what, ".validity"),
                    StrCat(o.time < issue ? "not yet valid" : "expired", ": issueDate ",
                           FormatRfc3339(issue), ", nextUpdate ", FormatRfc3339(next),
                           ", verification time ", FormatRfc3339(o.time)));
  }
  Narrow(e, issue, next);
  rec.Pass(StrCat(what, ".validity"), StrCat("issueDate ", FormatRfc3339(issue), " <= ",
                                             FormatRfc3339(o.time), " <= nextUpdate ",
                                             FormatRfc3339(next)));
  return absl::OkStatus();
}

// The cold path: chain, CRLs, collateral signatures and windows, PCK extensions, FMSPC/PCEID.
absl::StatusOr<std::shared_ptr<const Entry>> VerifyPlatform(const Quote& q,
                                                             const DcapCollateral& c,
                                                             const VerifyOptions& o,
                                                             CheckList& checks) {
  auto e = std::make_shared<Entry>();
  e->valid_from = TimePoint::min();
  e->valid_until = TimePoint::max();
  Recorder rec(checks, e.get());
  TWI_ASSIGN_OR_RETURN(std::vector<Certificate> chain, VerifyPckChain(q, o, *e, rec));
  const Certificate& signer_for_root_crl = chain[2];
  TWI_ASSIGN_OR_RETURN(Certificate tcb_signer,
                       VerifySigningChain(c.tcb_info_issuer_chain, "tcb_info_issuer_chain", o,
                                          *e, rec));
  TWI_ASSIGN_OR_RETURN(Certificate qe_signer,
                       VerifySigningChain(c.qe_identity_issuer_chain, "qe_identity_issuer_chain",
                                          o, *e, rec));
  rec.Pass("tcb_signing.chain",
           StrCat(FpLabel(tcb_signer),
                  tcb_signer.sha256() == qe_signer.sha256()
                      ? ""
                      : StrCat(" and ", FpLabel(qe_signer)),
                  " issued by the trusted root, valid at ", FormatRfc3339(o.time)));
  // The Root CA CRL speaks for the PCK CA and the TCB Signing certificates.
  std::vector<Certificate> under_root = {chain[1], tcb_signer};
  if (qe_signer.sha256() != tcb_signer.sha256()) under_root.push_back(qe_signer);
  TWI_RETURN_IF_ERROR(CheckOneCrl(c.root_ca_crl, signer_for_root_crl, under_root, "crl.root_ca",
                                  "root_ca_crl", o, *e, rec));
  TWI_RETURN_IF_ERROR(CheckOneCrl(c.pck_crl, chain[1], {chain[0]}, "crl.pck",
                                  StrCat("pck_crl (", e->pck_ca, " ca)"), o, *e, rec));

  TWI_RETURN_IF_ERROR(CheckSignedText(tcb_signer, c.tcb_info, c.tcb_info_signature,
                                      "tcb_info", rec));
  auto tcb = collateral::ParseTcbInfo(c.tcb_info);
  if (!tcb.ok()) return rec.Fail("tcb_info.structure", std::string(tcb.status().message()));
  e->tcb_info = *std::move(tcb);
  rec.Pass("tcb_info.structure",
           StrCat(e->tcb_info.id, " tcb info v", e->tcb_info.version, ", fmspc ",
                  HexEncode(e->tcb_info.fmspc), ", evaluation data number ",
                  e->tcb_info.tcb_evaluation_data_number, ", ", e->tcb_info.levels.size(),
                  " levels"));
  TWI_RETURN_IF_ERROR(CheckWindow(e->tcb_info.issue_date, e->tcb_info.next_update, "tcb_info",
                                  o, *e, rec));

  TWI_RETURN_IF_ERROR(CheckSignedText(qe_signer, c.qe_identity, c.qe_identity_signature,
                                      "qe_identity", rec));
  auto qe = collateral::ParseEnclaveIdentity(c.qe_identity);
  if (!qe.ok()) return rec.Fail("qe_identity.structure", std::string(qe.status().message()));
  e->qe_identity = *std::move(qe);
  rec.Pass("qe_identity.structure",
           StrCat(e->qe_identity.id, " identity v", e->qe_identity.version,
                  ", evaluation data number ", e->qe_identity.tcb_evaluation_data_number));
  TWI_RETURN_IF_ERROR(CheckWindow(e->qe_identity.issue_date, e->qe_identity.next_update,
                                  "qe_identity", o, *e, rec));

  auto pck = ParsePckExtensions(chain[0]);
  if (!pck.ok()) return rec.Fail("pck.extensions", std::string(pck.status().message()));
  e->pck = *std::move(pck);
  rec.Pass("pck.extensions", StrCat("fmspc ", HexEncode(e->pck.fmspc), ", pceid ",
                                    HexEncode(e->pck.pce_id), ", pcesvn ", e->pck.pce_svn));
  return std::shared_ptr<const Entry>(std::move(e));
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> AttestationKey(const Entry& e,
                                                          const std::array<uint8_t, 64>& xy) {
  {
    std::lock_guard<std::mutex> lock(e.att_mu);
    if (e.att_key && e.att_xy == xy) return e.att_key;
  }
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr key, P256KeyFromXy(xy));
  std::shared_ptr<EVP_PKEY> shared(key.release(), EVP_PKEY_free);
  std::lock_guard<std::mutex> lock(e.att_mu);
  e.att_xy = xy;
  e.att_key = shared;
  return shared;
}

// The QE report signed by the PCK key, and its REPORTDATA binding the attestation key.
absl::Status CheckQeReport(const Quote& q, EVP_PKEY* pck_key, Recorder& rec) {
  absl::Status s = VerifyEcdsaP256(pck_key, q.qe.qe_report.raw, q.qe.qe_report_signature);
  if (!s.ok()) {
    return rec.Fail("qe_report.signature",
                    "ecdsa p-256 signature over the 384-byte qe report does not verify with the "
                    "pck key");
  }
  rec.Pass("qe_report.signature", "qe report signed by the pck key");

  Bytes bound(q.attestation_key.begin(), q.attestation_key.end());
  bound.insert(bound.end(), q.qe.qe_auth_data.begin(), q.qe.qe_auth_data.end());
  Bytes want = Sha256(bound);
  ByteView rd(q.qe.qe_report.report_data);
  if (!ConstantTimeEqual(rd.first(32), want) || !IsAllZero(rd.subspan(32))) {
    return rec.Fail("qe_report.binding",
                    StrCat("qe REPORTDATA ", ShortHex(rd), " != sha256(attestation key || qe "
                           "auth data) ", ShortHex(want), " followed by 32 zero bytes"));
  }
  rec.Pass("qe_report.binding", "qe REPORTDATA = sha256(attestation key || qe auth data)");
  return absl::OkStatus();
}

// The quote's header and body signed by the attestation key (decoded, or why not).
absl::Status CheckQuoteSignature(const Quote& q, const absl::StatusOr<std::shared_ptr<EVP_PKEY>>& key,
                                 Recorder& rec) {
  absl::Status s = key.ok() ? VerifyEcdsaP256(key->get(), q.signed_region, q.signature) : key.status();
  if (!s.ok()) {
    return rec.Fail("quote.signature",
                    StrCat("ecdsa p-256 signature over the ", q.signed_region.size(),
                           "-byte header and body does not verify with the attestation key ",
                           ShortHex(q.attestation_key)));
  }
  rec.Pass("quote.signature", "quote signed by the attestation key the qe vouches for");
  return absl::OkStatus();
}

// Per-quote checks against a verified platform entry.
absl::Status CheckQuote(const Quote& q, const Entry& e, CheckList& checks, VerifiedQuote* out) {
  Recorder rec(checks, nullptr);
  out->pck = e.pck;
  out->has_pck = true;
  out->pck_ca = e.pck_ca;
  out->builtin_root = e.builtin_root;
  out->valid_until = e.valid_until;
  const TcbInfo& t = e.tcb_info;
  const EnclaveIdentity& qi = e.qe_identity;

  const bool tdx = q.is_tdx();
  const std::string want_id = tdx ? "TDX" : "SGX";
  const std::string want_qe = tdx ? "TD_QE" : "QE";
  if (t.id != want_id) {
    return rec.Fail("tcb_info.match", StrCat("tcb info id ", t.id, ", want ", want_id,
                                             " for tee type ", q.header.tee_type));
  }
  if (t.fmspc != e.pck.fmspc) {
    return rec.Fail("tcb_info.match", StrCat("tcb info fmspc ", HexEncode(t.fmspc),
                                             " != pck fmspc ", HexEncode(e.pck.fmspc)));
  }
  if (t.pce_id != e.pck.pce_id) {
    return rec.Fail("tcb_info.match", StrCat("tcb info pceId ", HexEncode(t.pce_id),
                                             " != pck pceid ", HexEncode(e.pck.pce_id)));
  }
  rec.Pass("tcb_info.match", StrCat(want_id, " tcb info for fmspc ", HexEncode(t.fmspc),
                                    ", pceid ", HexEncode(t.pce_id)));

  if (tdx) {
    const TdReport& td = *q.td;
    const collateral::TdxModule* module = t.tdx_module ? &*t.tdx_module : nullptr;
    std::string source = "tdxModule";
    if (td.tee_tcb_svn[1] > 0 && !t.tdx_module_identities.empty()) {
      module = nullptr;
      std::string want = absl::StrFormat("TDX_%02X", td.tee_tcb_svn[1]);
      for (const auto& m : t.tdx_module_identities) {
        if (absl::EqualsIgnoreCase(m.id, want)) module = &m.module, source = m.id;
      }
      if (module == nullptr) {
        return rec.Fail("tdx_module.identity",
                        StrCat("no tdxModuleIdentities entry ", want, " for TEE_TCB_SVN[1] ",
                               td.tee_tcb_svn[1]));
      }
    }
    if (module == nullptr) return rec.Fail("tdx_module.identity", "tcb info has no tdxModule");
    if (!ConstantTimeEqual(module->mrsigner, td.mr_signer_seam)) {
      return rec.Fail("tdx_module.identity",
                      StrCat("MRSIGNERSEAM ", ShortHex(td.mr_signer_seam), " != ", source,
                             " mrsigner ", ShortHex(module->mrsigner)));
    }
    for (size_t i = 0; i < 8; ++i) {
      if ((td.seam_attributes[i] & module->attributes_mask[i]) != module->attributes[i]) {
        return rec.Fail("tdx_module.identity",
                        StrCat("SEAMATTRIBUTES ", HexEncode(td.seam_attributes), " masked by ",
                               HexEncode(module->attributes_mask), " != ", source,
                               " attributes ", HexEncode(module->attributes)));
      }
    }
    rec.Pass("tdx_module.identity", StrCat("MRSIGNERSEAM and SEAMATTRIBUTES match ", source));
  }

  TWI_RETURN_IF_ERROR(CheckQeReport(q, e.pck_key.get(), rec));

  const EnclaveReport& qr = q.qe.qe_report;
  std::string mismatch;
  if (qi.id != want_qe) {
    mismatch = StrCat("identity id ", qi.id, ", want ", want_qe);
  } else if (!ConstantTimeEqual(qi.mrsigner, qr.mr_signer)) {
    mismatch = StrCat("qe MRSIGNER ", ShortHex(qr.mr_signer), " != ", ShortHex(qi.mrsigner));
  } else if (qr.isv_prod_id != qi.isvprodid) {
    mismatch = StrCat("qe ISVPRODID ", qr.isv_prod_id, " != ", qi.isvprodid);
  } else if ((qr.misc_select & qi.miscselect_mask) != qi.miscselect) {
    mismatch = absl::StrFormat("qe MISCSELECT 0x%08x masked by 0x%08x != 0x%08x", qr.misc_select,
                               qi.miscselect_mask, qi.miscselect);
  } else {
    for (size_t i = 0; i < 16 && mismatch.empty(); ++i) {
      if ((qr.attributes[i] & qi.attributes_mask[i]) != qi.attributes[i]) {
        mismatch = StrCat("qe ATTRIBUTES ", HexEncode(qr.attributes), " masked by ",
                          HexEncode(qi.attributes_mask), " != ", HexEncode(qi.attributes));
      }
    }
  }
  if (!mismatch.empty()) return rec.Fail("qe_identity.match", mismatch);
  const collateral::IdentityTcbLevel* qe_level = nullptr;
  for (const auto& l : qi.levels) {
    if (qr.isv_svn >= l.isvsvn) {
      qe_level = &l;
      break;
    }
  }
  if (qe_level == nullptr) {
    return rec.Fail("qe_identity.match", StrCat("tcb not supported: qe ISVSVN ", qr.isv_svn,
                                                " is below every ", qi.id, " identity level"));
  }
  rec.Pass("qe_identity.match", StrCat(qi.id, " identity matches; ISVSVN ", qr.isv_svn, " ",
                                       qe_level->status));

  TWI_RETURN_IF_ERROR(CheckQuoteSignature(q, AttestationKey(e, q.attestation_key), rec));

  auto ev = EvaluateTcb(q, e.pck, t, *qe_level);
  if (!ev.ok()) return rec.Fail("tcb.level", std::string(ev.status().message()));
  out->tcb = *std::move(ev);
  out->has_tcb = true;
  std::string detail = StrCat("status ", out->tcb.status, " (platform ", out->tcb.platform_status,
                              tdx ? StrCat(", module ", out->tcb.module_status) : "", ", qe ",
                              out->tcb.qe_status, "), tcb date ",
                              FormatRfc3339(out->tcb.tcb_date), ", advisories [",
                              absl::StrJoin(out->tcb.advisory_ids, ","), "]");
  if (out->tcb.status == "Revoked") return rec.Fail("tcb.level", detail);
  rec.Pass("tcb.level", detail);
  return absl::OkStatus();
}

void PassStructure(const Quote& quote, CheckList& checks, VerifiedQuote* out) {
  out->quote = quote;
  out->has_quote = true;
  checks.Pass("quote.structure",
              StrCat("v", quote.header.version, " ", BodyTypeName(quote.body_type), ", ",
                     quote.declared_size, " bytes by declared lengths"));
  checks.Pass("quote.trailing_bytes",
              quote.trailing_bytes == 0
                  ? std::string("none")
                  : StrCat("note: ", quote.trailing_bytes,
                           " bytes after the declared signature data were ignored"));
}

void ReplayCached(const Entry& e, CheckList& checks) {
  for (const Check& c : e.checks) checks.Pass(c.name, StrCat(c.detail, " (cached)"));
}

}  // namespace

absl::Status VerifyQuote(const Quote& quote, const DcapCollateral& collateral,
                         const VerifyOptions& options, CheckList& checks, VerifiedQuote* out,
                         VerificationCache* cache) {
  PassStructure(quote, checks, out);
  std::string key;
  if (cache != nullptr) {
    key = CacheKey(quote, collateral, options);
    if (auto e = cache->Lookup(key, options.time)) {
      ReplayCached(*e, checks);
      out->cache_hit = true;
      return CheckQuote(quote, *e, checks, out);
    }
  }
  TWI_ASSIGN_OR_RETURN(auto e, VerifyPlatform(quote, collateral, options, checks));
  if (cache != nullptr) cache->Insert(key, e, options.time);
  return CheckQuote(quote, *e, checks, out);
}

absl::Status VerifyQuoteSignatures(const Quote& quote, const VerifyOptions& options,
                                   CheckList& checks, VerifiedQuote* out) {
  PassStructure(quote, checks, out);
  Entry e;
  e.valid_from = TimePoint::min();
  e.valid_until = TimePoint::max();
  Recorder rec(checks, nullptr);
  TWI_ASSIGN_OR_RETURN(std::vector<Certificate> chain, VerifyPckChain(quote, options, e, rec));
  auto pck = ParsePckExtensions(chain[0]);
  if (!pck.ok()) return rec.Fail("pck.extensions", std::string(pck.status().message()));
  out->pck = *std::move(pck);
  out->has_pck = true;
  out->pck_ca = e.pck_ca;
  out->builtin_root = e.builtin_root;
  out->valid_until = e.valid_until;
  rec.Pass("pck.extensions", StrCat("fmspc ", HexEncode(out->pck.fmspc), ", pceid ",
                                    HexEncode(out->pck.pce_id), ", pcesvn ", out->pck.pce_svn));
  TWI_RETURN_IF_ERROR(CheckQeReport(quote, e.pck_key.get(), rec));
  auto key = P256KeyFromXy(quote.attestation_key);
  absl::StatusOr<std::shared_ptr<EVP_PKEY>> shared =
      key.ok() ? absl::StatusOr<std::shared_ptr<EVP_PKEY>>(
                     std::shared_ptr<EVP_PKEY>(key->release(), EVP_PKEY_free))
               : key.status();
  return CheckQuoteSignature(quote, shared, rec);
}

absl::Status VerifyQuoteBytes(ByteView bytes, const DcapCollateral& collateral,
                              const VerifyOptions& options, CheckList& checks, VerifiedQuote* out,
                              VerificationCache* cache) {
  auto quote = ParseQuote(bytes);
  if (!quote.ok()) {
    return checks.Fail("quote.structure", std::string(quote.status().message()),
                       absl::StatusCode::kInvalidArgument);
  }
  return VerifyQuote(*quote, collateral, options, checks, out, cache);
}

}  // namespace twi::tdx
