#include "attestors/gcp/verify.h"

#include <openssl/x509v3.h>

#include <algorithm>

#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/sevsnp/policy.h"
#include "attestors/tdx/policy.h"

namespace twi::gcp {
namespace {

// Chains are short (Google's: AK <- intermediate <- root); a longer path is refused.
constexpr size_t kMaxChainDepth = 4;

absl::Status Fail(CheckList& checks, std::string name, std::string detail) {
  return checks.Fail(std::move(name), std::move(detail), absl::StatusCode::kInvalidArgument);
}

// Records a parser's "<name>: <detail>" status under `name` (without repeating the prefix).
absl::Status FailFrom(CheckList& checks, const std::string& name, const absl::Status& s) {
  std::string_view msg = ToStd(s.message());
  const std::string prefix = name + ": ";
  if (msg.substr(0, prefix.size()) == prefix) msg.remove_prefix(prefix.size());
  return Fail(checks, name, std::string(msg));
}

bool IsSimulatedCa(const Certificate& cert) {
  char org[128] = {};
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_organizationName, org,
                                    sizeof(org));
  return n > 0 && std::string_view(org, static_cast<size_t>(n)) == kSimulatedCaOrganization;
}

const Certificate* FindIssuer(const Certificate& child, std::span<const Certificate> pool,
                              const std::vector<Certificate>& path) {
  for (const Certificate& c : pool) {
    const bool used = std::any_of(path.begin(), path.end(), [&](const Certificate& p) {
      return p.sha256() == c.sha256();
    });
    if (!used && child.IssuedBy(c) && VerifySignedBy(child, c).ok()) return &c;
  }
  return nullptr;
}

// ak_cert.chain: a path leaf <- intermediates (configured or sent, by name and signature) <-
// a configured root, then every link, CA flag and validity window by core VerifyChain.
absl::Status CheckChain(const Certificate& leaf, std::span<const Certificate> sent,
                        const VerifyOptions& options, CheckList& checks, VerifiedGcp* out) {
  if (options.cas.roots.empty()) {
    return Fail(checks, "ak_cert.chain", "no gce vtpm root ca configured");
  }
  std::vector<Certificate> pool = options.cas.intermediates;
  pool.insert(pool.end(), sent.begin(), sent.end());
  std::vector<Certificate> path;
  const Certificate* child = &leaf;
  for (size_t depth = 0; depth <= kMaxChainDepth; ++depth) {
    if (const Certificate* root = FindIssuer(*child, options.cas.roots, {}); root != nullptr) {
      if (IsSimulatedCa(*root) && !options.allow_simulated_ca) {
        return Fail(checks, "ak_cert.chain",
                    StrCat("anchored in ", root->label(), ", a simulated gce ca (O=",
                           kSimulatedCaOrganization, "); refused unless allow_simulated_ca "
                           "(development only)"));
      }
      absl::Status s = VerifyChain(leaf, path, *root, options.time);
      if (!s.ok()) return FailFrom(checks, "ak_cert.chain", s);
      TimePoint until = std::min(leaf.not_after(), root->not_after());
      for (const Certificate& c : path) until = std::min(until, c.not_after());
      out->chain = path;
      out->chain.push_back(*root);
      out->chain_valid_until = until;
      checks.Pass("ak_cert.chain", StrCat(leaf.label(), " <- ", path.size(),
                                          " intermediate(s) <- ", root->label(), " (sha256 ",
                                          root->fingerprint_hex().substr(0, 16), ")"));
      return absl::OkStatus();
    }
    if (depth == kMaxChainDepth) break;
    const Certificate* next = FindIssuer(*child, pool, path);
    if (next == nullptr) {
      return Fail(checks, "ak_cert.chain",
                  StrCat("no configured root or intermediate issued ", child->label(),
                         " (issuer ", child->issuer(), ")"));
    }
    path.push_back(*next);
    child = &path.back();
  }
  return Fail(checks, "ak_cert.chain",
              StrCat("no configured root within ", kMaxChainDepth, " intermediates"));
}

// ak_cert.usage: an end-entity certificate whose key may sign; a CA certificate is refused
// (its key could have issued the AK certificate itself).
absl::Status CheckUsage(const Certificate& cert, CheckList& checks) {
  X509* x = cert.get();
  const uint32_t flags = X509_get_extension_flags(x);
  if ((flags & EXFLAG_CA) != 0) {
    return Fail(checks, "ak_cert.usage", "the ak certificate is a ca certificate, want end entity");
  }
  if ((flags & EXFLAG_KUSAGE) != 0) {
    const uint32_t ku = X509_get_key_usage(x);
    if ((ku & KU_DIGITAL_SIGNATURE) == 0 || (ku & KU_KEY_CERT_SIGN) != 0) {
      return Fail(checks, "ak_cert.usage",
                  StrCat("key usage got 0x", absl::Hex(ku),
                         ", want digitalSignature and not keyCertSign"));
    }
  }
  checks.Pass("ak_cert.usage", "end entity, may sign");
  return absl::OkStatus();
}

absl::Status CheckReportData(ByteView got, const Bytes& expected, CheckList& checks) {
  if (expected.size() > 64) {
    return Fail(checks, "hw.report_data",
                StrCat("expected report data has ", expected.size(), " bytes, want <= 64"));
  }
  Bytes want(64, 0);
  std::copy(expected.begin(), expected.end(), want.begin());
  if (!ConstantTimeEqual(got, want)) {
    return Fail(checks, "hw.report_data",
                StrCat("got ", ShortHex(got), ", want ", ShortHex(want)));
  }
  checks.Pass("hw.report_data", StrCat("= ", ShortHex(want)));
  return absl::OkStatus();
}

absl::Status VerifySnp(const Evidence& evidence, const VerifyOptions& options, CheckList& checks,
                       VerifiedGcp* out, sevsnp::VerificationCache* cache) {
  if (evidence.snp_report.empty()) {
    return Fail(checks, "hw.required", "options require sev-snp; the evidence has no report");
  }
  std::vector<Certificate> chain(evidence.snp_chain.begin(), evidence.snp_chain.end());
  ByteView vcek = evidence.vcek;
  Bytes table_vcek;
  if (!evidence.snp_cert_table.empty()) {
    auto entries = sevsnp::ParseCertTable(evidence.snp_cert_table);
    if (!entries.ok()) return FailFrom(checks, "hw.required", entries.status());
    for (const auto& e : *entries) {
      if (e.guid == sevsnp::kGuidVcek && vcek.empty()) table_vcek = e.data;
      if (e.guid != sevsnp::kGuidAsk && e.guid != sevsnp::kGuidArk) continue;
      auto cert = Certificate::Parse(e.data);
      if (!cert.ok()) return FailFrom(checks, "hw.required", cert.status());
      chain.push_back(*std::move(cert));
    }
    if (vcek.empty()) vcek = table_vcek;
  }
  if (vcek.empty()) {
    return Fail(checks, "hw.required",
                "options require sev-snp; the evidence has no vcek (neither given nor in the "
                "certificate table)");
  }
  checks.Pass("hw.required", "sev-snp report and vcek present");
  sevsnp::VerifyOptions snp = options.snp;
  snp.time = options.time;
  auto verified = sevsnp::VerifyReportBytes(evidence.snp_report, vcek, chain, snp, checks, cache);
  if (!verified.ok()) return verified.status();
  out->snp = *std::move(verified);
  return CheckReportData(out->snp->report.report_data, options.expected_report_data, checks);
}

absl::Status VerifyTdx(const Evidence& evidence, const VerifyOptions& options, CheckList& checks,
                       VerifiedGcp* out, tdx::VerificationCache* cache) {
  if (evidence.td_quote.empty()) {
    return Fail(checks, "hw.required", "options require tdx; the evidence has no td quote");
  }
  if (evidence.tdx_collateral == nullptr) {
    return Fail(checks, "hw.required", "options require tdx; no dcap collateral for the quote");
  }
  checks.Pass("hw.required", "td quote and collateral present");
  tdx::VerifyOptions tdx = options.tdx;
  tdx.time = options.time;
  out->tdx.emplace();
  absl::Status s = tdx::VerifyQuoteBytes(evidence.td_quote, *evidence.tdx_collateral, tdx, checks,
                                         &*out->tdx, cache);
  if (!s.ok()) return s;
  if (!out->tdx->quote.td) return Fail(checks, "hw.report_data", "the quote has no td report");
  return CheckReportData(out->tdx->quote.td->report_data, options.expected_report_data, checks);
}

}  // namespace

const char* HardwareName(Hardware h) {
  switch (h) {
    case Hardware::kNone: return "none";
    case Hardware::kSevSnp: return "sev-snp";
    case Hardware::kTdx: return "tdx";
  }
  return "unknown";
}

absl::StatusOr<Hardware> ParseHardware(std::string_view name) {
  for (Hardware h : {Hardware::kNone, Hardware::kSevSnp, Hardware::kTdx}) {
    if (name == HardwareName(h)) return h;
  }
  return absl::InvalidArgumentError(
      StrCat("hardware: got \"", name.substr(0, 32), "\", want none, sev-snp or tdx"));
}

CaSet CaSet::FromCertificates(std::span<const Certificate> certs) {
  CaSet set;
  for (const Certificate& c : certs) {
    (c.IsSelfIssued() ? set.roots : set.intermediates).push_back(c);
  }
  return set;
}

absl::Status VerifyAkCertificate(ByteView ak_cert, std::span<const Certificate> intermediates,
                                 const VerifyOptions& options, CheckList& checks,
                                 VerifiedGcp* out) {
  auto cert = Certificate::Parse(ak_cert);
  if (!cert.ok()) return FailFrom(checks, "ak_cert.structure", cert.status());
  out->ak_cert = *cert;
  auto spki = PublicKeyToSpki(cert->public_key());
  if (!spki.ok()) return FailFrom(checks, "ak_cert.structure", spki.status());
  out->ak_spki_sha256 = Sha256(*spki);
  checks.Pass("ak_cert.structure", StrCat(cert->label(), ", ak spki sha256 ",
                                          ShortHex(out->ak_spki_sha256)));
  TWI_RETURN_IF_ERROR(CheckChain(*cert, intermediates, options, checks, out));
  TWI_RETURN_IF_ERROR(CheckUsage(*cert, checks));

  auto info = InstanceInfoFromCertificate(*cert);
  if (!info.ok()) return FailFrom(checks, "instance_info.structure", info.status());
  out->instance = *std::move(info);
  out->has_instance = true;
  const InstanceInfo& i = out->instance;
  checks.Pass("instance_info.structure",
              StrCat("project ", i.project_id, " (", i.project_number, "), zone ", i.zone,
                     ", instance ", i.instance_name, " (", i.instance_id, ")"));
  if (!i.is_production && !options.allow_non_production) {
    return Fail(checks, "instance_info.production",
                "isProduction is not set (a non-production gce instance); refused unless "
                "allow_non_production");
  }
  checks.Pass("instance_info.production",
              i.is_production ? "production" : "not production, allowed by allow_non_production");
  return absl::OkStatus();
}

absl::Status VerifyGcp(const Evidence& evidence, const VerifyOptions& options, CheckList& checks,
                       VerifiedGcp* out, Caches caches) {
  out->hardware = options.hardware;
  TWI_RETURN_IF_ERROR(
      VerifyAkCertificate(evidence.ak_cert, evidence.intermediates, options, checks, out));

  // The certificate names the AK by its public key; a sent public area must be that key.
  auto cert_spki = PublicKeyToSpki(out->ak_cert->public_key());
  if (!cert_spki.ok()) return FailFrom(checks, "ak.public_match", cert_spki.status());
  tpm::VerifyOptions quote_options;
  quote_options.nonce = options.nonce;
  quote_options.allow_empty_nonce = options.allow_empty_nonce;
  absl::StatusOr<tpm::AkKey> ak = absl::InternalError("unset");
  if (!evidence.ak_public.empty()) {
    auto pub = tpm::ParsePublicAny(evidence.ak_public);
    if (!pub.ok()) return FailFrom(checks, "ak.public_match", pub.status());
    auto spki = tpm::PublicSpki(*pub);
    if (!spki.ok()) return FailFrom(checks, "ak.public_match", spki.status());
    if (*spki != *cert_spki) {
      return Fail(checks, "ak.public_match",
                  StrCat("ak public area spki sha256 got ", ShortHex(Sha256(*spki)),
                         ", want the ak certificate's ", ShortHex(out->ak_spki_sha256)));
    }
    ak = tpm::AkKey::FromPublic(*pub);
    if (!ak.ok()) return FailFrom(checks, "ak.public_match", ak.status());
    checks.Pass("ak.public_match", "the sent ak public area holds the certificate's key");
  } else {
    ak = tpm::AkKey::FromSpki(*cert_spki);
    if (!ak.ok()) return FailFrom(checks, "ak.public_match", ak.status());
    quote_options.allow_ak_without_attributes = true;
    checks.Pass("ak.public_match",
                "no ak public area sent: the certificate's key verifies the quote (the gce ca "
                "vouches for it; allow_ak_without_attributes)");
  }
  TWI_RETURN_IF_ERROR(tpm::VerifyQuote(*ak, evidence.quote, evidence.signature, evidence.pcrs,
                                       quote_options, checks, &out->quote));
  switch (options.hardware) {
    case Hardware::kNone: return absl::OkStatus();
    case Hardware::kSevSnp: return VerifySnp(evidence, options, checks, out, caches.snp);
    case Hardware::kTdx: return VerifyTdx(evidence, options, checks, out, caches.tdx);
  }
  return Fail(checks, "hw.required", "unknown hardware option");
}

std::map<std::string, std::string> Claims(const VerifiedGcp& v) {
  std::map<std::string, std::string> c;
  if (v.snp) c = sevsnp::Claims(v.snp->report);
  if (v.tdx && v.tdx->has_quote) c = tdx::Claims(*v.tdx);
  if (v.snp) c["measurement"] = HexEncode(v.snp->report.measurement);
  c["platform"] = "gcp";
  c["hardware"] = HardwareName(v.hardware);
  if (v.has_instance) {
    c["project_id"] = v.instance.project_id;
    c["project_number"] = StrCat(v.instance.project_number);
    c["zone"] = v.instance.zone;
    c["instance_id"] = StrCat(v.instance.instance_id);
    c["instance_name"] = v.instance.instance_name;
    c["security_version"] = StrCat(v.instance.security_version);
    c["is_production"] = v.instance.is_production ? "true" : "false";
  }
  if (!v.ak_spki_sha256.empty()) c["ak_pub_sha256"] = HexEncode(v.ak_spki_sha256);
  if (v.ak_cert) c["ak_cert_sha256"] = v.ak_cert->fingerprint_hex();
  return c;
}

std::vector<std::string> Selectors(const VerifiedGcp& v) {
  if (!v.has_instance) return {};
  const InstanceInfo& i = v.instance;
  return {"platform:gcp",
          StrCat("gcp:project-id:", i.project_id),
          StrCat("gcp:project-number:", i.project_number),
          StrCat("gcp:zone:", i.zone),
          StrCat("gcp:instance-id:", i.instance_id),
          StrCat("gcp:instance-name:", i.instance_name)};
}

}  // namespace twi::gcp
