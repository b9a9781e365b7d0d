#include "attestors/azure/verify.h"

#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/sevsnp/policy.h"

namespace twi::azure {
namespace {

constexpr char kAkKid[] = "HCLAkPub";

// Records a parser's "<name>: <detail>" status under `name` (without repeating the prefix).
absl::Status FailFrom(CheckList& checks, const std::string& name, const absl::Status& s) {
  std::string_view msg = ToStd(s.message());
  const std::string prefix = name + ": ";
  if (msg.substr(0, prefix.size()) == prefix) msg.remove_prefix(prefix.size());
  return checks.Fail(name, std::string(msg), absl::StatusCode::kInvalidArgument);
}

absl::Status Fail(CheckList& checks, std::string name, std::string detail) {
  return checks.Fail(std::move(name), std::move(detail), absl::StatusCode::kInvalidArgument);
}

// v2 semantics: the hex user-data starts with the expected bytes (case-insensitive hex).
absl::Status CheckUserData(const RuntimeClaims& claims, const Bytes& expected, CheckList& checks) {
  if (!claims.user_data) return Fail(checks, "user_data", "runtime claims have no user-data");
  auto got = HexDecode(*claims.user_data);
  if (!got.ok()) return Fail(checks, "user_data", "user-data is not hex");
  if (got->size() < expected.size() ||
      !ConstantTimeEqual(ByteView(got->data(), expected.size()), expected)) {
    return Fail(checks, "user_data",
                StrCat("got ", ShortHex(*got), ", want prefix ", ShortHex(expected)));
  }
  checks.Pass("user_data", StrCat("starts with ", ShortHex(expected)));
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckBinding(const HclReport& hcl, CheckList& checks, Bytes* digest) {
  auto d = HashRuntimeClaims(hcl.hash_type, hcl.runtime_claims);
  if (!d.ok()) return FailFrom(checks, "hcl.binding", d.status());
  ByteView rd = hcl.report_data();
  if (!ConstantTimeEqual(rd.subspan(0, d->size()), *d)) {
    return Fail(checks, "hcl.binding",
                StrCat("report_data got ", ShortHex(rd.subspan(0, d->size())),
                       ", want the runtime claims' digest ", ShortHex(*d)));
  }
  if (!IsAllZero(rd.subspan(d->size()))) {
    return Fail(checks, "hcl.binding",
                StrCat("report_data after the digest got ", ShortHex(rd.subspan(d->size())),
                       ", want zeros"));
  }
  checks.Pass("hcl.binding", StrCat("report_data = digest of ", hcl.runtime_claims.size(),
                                    " bytes of runtime claims: ", ShortHex(*d)));
  if (digest != nullptr) *digest = *std::move(d);
  return absl::OkStatus();
}

absl::Status VerifyHclClaims(ByteView hcl_report, ReportType want,
                             const std::optional<Bytes>& expected_user_data, CheckList& checks,
                             HclReport* hcl, RuntimeClaims* claims, Bytes* binding) {
  auto parsed = ParseHclReport(hcl_report);
  if (!parsed.ok()) return FailFrom(checks, "hcl.structure", parsed.status());
  *hcl = *std::move(parsed);
  checks.Pass("hcl.structure", StrCat("version ", hcl->version, ", ",
                                      hcl->runtime_claims.size(), " bytes of runtime claims"));
  const char* want_name = want == ReportType::kTdx ? "tdx" : "snp";
  if (hcl->report_type != static_cast<uint32_t>(want)) {
    return Fail(checks, "hcl.report_type",
                StrCat("got ", hcl->report_type, ", want ", static_cast<uint32_t>(want), " (",
                       want_name, ")"));
  }
  checks.Pass("hcl.report_type", want_name);

  auto c = ParseRuntimeClaims(hcl->runtime_claims);
  if (!c.ok()) return FailFrom(checks, "runtime_claims.structure", c.status());
  *claims = *std::move(c);
  checks.Pass("runtime_claims.structure", StrCat(claims->keys.size(), " RSA keys"));

  if (absl::Status s = CheckBinding(*hcl, checks, binding); !s.ok()) return s;
  if (expected_user_data) return CheckUserData(*claims, *expected_user_data, checks);
  return absl::OkStatus();
}

absl::Status VerifyHclAkQuote(const RuntimeClaims& claims, const HclQuote& q, CheckList& checks,
                              tpm::VerifiedQuote* out, Bytes* ak_spki_sha256) {
  const Jwk* jwk = claims.FindKey(kAkKid);
  if (jwk == nullptr) return Fail(checks, "ak.hcl_key", "runtime claims have no \"HCLAkPub\" RSA key");
  const std::string ak_note = StrCat("HCLAkPub, spki sha256 ", ShortHex(Sha256(jwk->spki)));

  // The HCL gives the AK as a bare RSA key: its attributes are unknown, but the hardware report
  // (by the binding) vouches that this key is the paravisor's vTPM AK. A sent public area is
  // used instead when it is the same key, so its attributes are checked too.
  tpm::VerifyOptions quote_options;
  quote_options.nonce.assign(q.nonce.begin(), q.nonce.end());
  quote_options.allow_empty_nonce = q.allow_empty_nonce;
  absl::StatusOr<tpm::AkKey> ak = absl::InternalError("unset");
  if (q.ak_public != nullptr && q.ak_public->has_value()) {
    const tpm::Public& pub = **q.ak_public;
    auto spki = tpm::PublicSpki(pub);
    if (!spki.ok()) return FailFrom(checks, "ak.public_match", spki.status());
    if (*spki != jwk->spki) {
      return Fail(checks, "ak.public_match",
                  StrCat("ak public area spki sha256 got ", ShortHex(Sha256(*spki)),
                         ", want HCLAkPub's ", ShortHex(Sha256(jwk->spki))));
    }
    ak = tpm::AkKey::FromPublic(pub);
    if (!ak.ok()) return FailFrom(checks, "ak.public_match", ak.status());
    checks.Pass("ak.hcl_key", ak_note);
    checks.Pass("ak.public_match", "the sent AK public area is HCLAkPub");
  } else {
    tpm::AkKey from_jwk;  // the key and SPKI the claims parser built, not parsed again
    from_jwk.key = jwk->key;
    from_jwk.spki = jwk->spki;
    from_jwk.spki_sha256 = Sha256(jwk->spki);
    ak = std::move(from_jwk);
    quote_options.allow_ak_without_attributes = true;
    checks.Pass("ak.hcl_key",
                StrCat(ak_note, "; quote verified with allow_ak_without_attributes: the JWK has "
                                "no TPMT_PUBLIC, the HCL binding vouches for the key"));
  }
  *ak_spki_sha256 = ak->spki_sha256;
  return tpm::VerifyQuote(*ak, q.quote, q.signature, *q.pcrs, quote_options, checks, out);
}

absl::Status VerifyAzureSnp(const Evidence& evidence, const VerifyOptions& options,
                            CheckList& checks, VerifiedAzureSnp* out,
                            sevsnp::VerificationCache* cache) {
  TWI_RETURN_IF_ERROR(VerifyHclClaims(evidence.hcl_report, ReportType::kSnp,
                                      options.expected_user_data, checks, &out->hcl, &out->claims,
                                      &out->binding));
  auto snp = sevsnp::VerifyReportBytes(ByteView(out->hcl.hw_report), evidence.vcek, evidence.chain,
                                       options.snp, checks, cache);
  if (!snp.ok()) return snp.status();
  out->snp = *std::move(snp);
  if (out->snp.report.vmpl != 0) {
    return Fail(checks, "snp.vmpl", StrCat("got ", out->snp.report.vmpl, ", want 0 (the HCL)"));
  }
  checks.Pass("snp.vmpl", "0");
  HclQuote q{evidence.quote, evidence.signature, &evidence.pcrs, &evidence.ak_public,
             options.nonce, options.allow_empty_nonce};
  return VerifyHclAkQuote(out->claims, q, checks, &out->quote, &out->ak_spki_sha256);
}

std::map<std::string, std::string> Claims(const VerifiedAzureSnp& v) {
  std::map<std::string, std::string> c = sevsnp::Claims(v.snp.report);
  c["platform"] = "azure";
  c["measurement"] = HexEncode(v.snp.report.measurement);
  c["vm_id"] = v.claims.vm_unique_id.value_or("");
  c["ak_pub_sha256"] = HexEncode(v.ak_spki_sha256);
  c["report_data_binding"] = HexEncode(v.binding);
  return c;
}

}  // namespace twi::azure
