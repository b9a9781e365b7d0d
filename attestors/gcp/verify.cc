#include "attestors/gcp/verify.h"

#include <openssl/x509v3.h>

#include <algorithm>

#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/sevsnp/policy.h"
#include "attestors/tdx/policy.h"
#include "attestors/tpm/ek_trust.h"

namespace twi::gcp {
namespace {

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

// ak_cert.chain: the path the TPM trust routes use (tpm/ek_trust.h: by name and signature
// through sent or configured intermediates to a configured root, CA flags, validity, understood
// critical extensions: Google's AK certificates carry a critical subjectAltName), then the
// simulated-CA rule.
absl::Status CheckChain(const Certificate& leaf, std::span<const Certificate> sent,
                        const VerifyOptions& options, CheckList& checks, VerifiedGcp* out) {
  if (options.cas.roots.empty()) {
    return Fail(checks, "ak_cert.chain", "no gce vtpm root ca configured");
  }
  auto path = tpm::VerifyCertPath(leaf, sent, options.cas.intermediates, options.cas.roots,
                                  options.time);
  if (!path.ok()) return FailFrom(checks, "ak_cert.chain", path.status());
  const Certificate& root = *path->root;
  if (IsSimulatedCa(root) && !options.allow_simulated_ca) {
    return Fail(checks, "ak_cert.chain",
                StrCat("anchored in ", root.label(), ", a simulated gce ca (O=",
                       kSimulatedCaOrganization, "); refused unless allow_simulated_ca "
                       "(development only)"));
  }
  TimePoint until = std::min(leaf.not_after(), root.not_after());
  for (const Certificate& c : path->chain) until = std::min(until, c.not_after());
  out->chain = path->chain;
  out->chain.push_back(root);
  out->chain_valid_until = until;
  checks.Pass("ak_cert.chain", tpm::CertPathLabel(leaf, *path));
  return absl::OkStatus();
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
    // The VCEK, else a VLEK; the SEV-SNP verifier checks it is the key the report names.
    Bytes table_vlek;
    for (const auto& e : *entries) {
      if (e.guid == sevsnp::kGuidVcek) table_vcek = e.data;
      if (e.guid == sevsnp::kGuidVlek) table_vlek = e.data;
      if (e.guid != sevsnp::kGuidAsk && e.guid != sevsnp::kGuidArk) continue;
      auto cert = Certificate::Parse(e.data);
      if (!cert.ok()) return FailFrom(checks, "hw.required", cert.status());
      chain.push_back(*std::move(cert));
    }
    if (table_vcek.empty()) table_vcek = std::move(table_vlek);
    if (vcek.empty()) vcek = table_vcek;
  }
  if (vcek.empty()) {
    return Fail(checks, "hw.required",
                "options require sev-snp; the evidence has no vcek (neither given nor a vcek or "
                "vlek in the certificate table)");
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

struct AkCertEntry {
  TimePoint valid_from{}, valid_until{};
  std::optional<Certificate> cert;
  std::vector<Certificate> chain;
  InstanceInfo instance;
  Bytes spki, spki_sha256;
  std::vector<Check> checks;  // the cold path's passed checks, replayed on a hit
};

namespace {

// Everything a cached result depends on besides the certificate: the CA set and the flag.
std::string CacheKey(ByteView ak_cert, const VerifyOptions& options) {
  Bytes config;
  for (const auto* set : {&options.cas.roots, &options.cas.intermediates}) {
    for (const Certificate& c : *set) config.insert(config.end(), c.sha256().begin(), c.sha256().end());
    config.push_back(0xff);
  }
  config.push_back(options.allow_simulated_ca ? 1 : 0);
  return StrCat(HexEncode(Sha256(ak_cert)), "/", HexEncode(Sha256(config)));
}

absl::Status CheckProduction(const InstanceInfo& i, const VerifyOptions& options,
                             CheckList& checks) {
  if (!i.is_production && !options.allow_non_production) {
    return Fail(checks, "instance_info.production",
                "isProduction is not set (a non-production gce instance); refused unless "
                "allow_non_production");
  }
  checks.Pass("instance_info.production",
              i.is_production ? "production" : "not production, allowed by allow_non_production");
  return absl::OkStatus();
}

}  // namespace

absl::Status VerifyAkCertificate(ByteView ak_cert, std::span<const Certificate> intermediates,
                                 const VerifyOptions& options, CheckList& checks,
                                 VerifiedGcp* out, AkCertCache* cache) {
  std::string key;
  if (cache != nullptr) {
    key = CacheKey(ak_cert, options);
    if (auto e = cache->Lookup(key, options.time); e != nullptr) {
      for (const Check& c : e->checks) checks.Pass(c.name, c.detail);
      out->ak_cert = e->cert;
      out->chain = e->chain;
      out->chain_valid_until = e->valid_until;
      out->instance = e->instance;
      out->has_instance = true;
      out->ak_spki = e->spki;
      out->ak_spki_sha256 = e->spki_sha256;
      return CheckProduction(out->instance, options, checks);
    }
  }
  const size_t first_check = checks.checks().size();
  auto cert = Certificate::Parse(ak_cert);
  if (!cert.ok()) return FailFrom(checks, "ak_cert.structure", cert.status());
  out->ak_cert = *cert;
  // The SPKI as the certificate holds it (re-encoding the EVP_PKEY through OpenSSL 3's
  // encoders costs more than an RSA verification).
  unsigned char* spki = nullptr;
  const int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert->get()), &spki);
  if (spki_len <= 0) {
    OpenSslErrors();
    return Fail(checks, "ak_cert.structure", "the subject public key does not encode");
  }
  out->ak_spki.assign(spki, spki + spki_len);
  OPENSSL_free(spki);
  out->ak_spki_sha256 = Sha256(out->ak_spki);
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
  if (cache != nullptr) {
    auto e = std::make_shared<AkCertEntry>();
    e->valid_from = cert->not_before();
    for (const Certificate& c : out->chain) e->valid_from = std::max(e->valid_from, c.not_before());
    e->valid_until = out->chain_valid_until;
    e->cert = out->ak_cert;
    e->chain = out->chain;
    e->instance = out->instance;
    e->spki = out->ak_spki;
    e->spki_sha256 = out->ak_spki_sha256;
    e->checks.assign(checks.checks().begin() + static_cast<std::ptrdiff_t>(first_check),
                     checks.checks().end());
    cache->Insert(key, std::move(e), options.time);
  }
  return CheckProduction(i, options, checks);
}

absl::StatusOr<tpm::AkKey> MatchAkPublic(ByteView ak_public, const VerifiedGcp& cert,
                                          CheckList& checks) {
  auto pub = tpm::ParsePublicAny(ak_public);
  if (!pub.ok()) return FailFrom(checks, "ak.public_match", pub.status());
  auto ak = tpm::AkKey::FromPublic(*pub);
  if (!ak.ok()) return FailFrom(checks, "ak.public_match", ak.status());
  if (ak->spki != cert.ak_spki) {
    return Fail(checks, "ak.public_match",
                StrCat("ak public area spki sha256 got ", ShortHex(ak->spki_sha256),
                       ", want the ak certificate's ", ShortHex(cert.ak_spki_sha256)));
  }
  checks.Pass("ak.public_match", "the sent ak public area holds the certificate's key");
  return ak;
}

absl::Status VerifyGcp(const Evidence& evidence, const VerifyOptions& options, CheckList& checks,
                       VerifiedGcp* out, Caches caches) {
  out->hardware = options.hardware;
  TWI_RETURN_IF_ERROR(VerifyAkCertificate(evidence.ak_cert, evidence.intermediates, options,
                                          checks, out, caches.ak_cert));

  // The certificate names the AK by its public key; a sent public area must be that key.
  tpm::VerifyOptions quote_options;
  quote_options.nonce = options.nonce;
  quote_options.allow_empty_nonce = options.allow_empty_nonce;
  absl::StatusOr<tpm::AkKey> ak = absl::InternalError("unset");
  if (!evidence.ak_public.empty()) {
    ak = MatchAkPublic(evidence.ak_public, *out, checks);
    if (!ak.ok()) return ak.status();
  } else {
    // The key OpenSSL parsed with the certificate (shared by cached copies): importing it again
    // from the SPKI costs more than the quote's signature check.
    EVP_PKEY* key = out->ak_cert->public_key();
    if (key == nullptr || EVP_PKEY_up_ref(key) != 1) {
      return Fail(checks, "ak.public_match", "the ak certificate has no usable public key");
    }
    tpm::AkKey from_cert;
    from_cert.key = std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
    from_cert.spki = out->ak_spki;
    from_cert.spki_sha256 = out->ak_spki_sha256;
    ak = std::move(from_cert);
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
