#include "attestors/azure/verify.h"

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

absl::Status VerifyAzureSnp(const Evidence& evidence, const VerifyOptions& options,
                            CheckList& checks, VerifiedAzureSnp* out,
                            sevsnp::VerificationCache* cache) {
  auto hcl = ParseHclReport(evidence.hcl_report);
  if (!hcl.ok()) return FailFrom(checks, "hcl.structure", hcl.status());
  out->hcl = *std::move(hcl);
  checks.Pass("hcl.structure", StrCat("version ", out->hcl.version, ", ",
                                      out->hcl.runtime_claims.size(), " bytes of runtime claims"));
  if (!out->hcl.is_snp()) {
    return Fail(checks, "hcl.report_type",
                StrCat("got ", out->hcl.report_type, ", want 2 (snp)"));
  }
  checks.Pass("hcl.report_type", "snp");

  auto claims = ParseRuntimeClaims(out->hcl.runtime_claims);
  if (!claims.ok()) return FailFrom(checks, "runtime_claims.structure", claims.status());
  out->claims = *std::move(claims);
  checks.Pass("runtime_claims.structure", StrCat(out->claims.keys.size(), " RSA keys"));

  if (absl::Status s = CheckBinding(out->hcl, checks, &out->binding); !s.ok()) return s;
  if (options.expected_user_data) {
    if (absl::Status s = CheckUserData(out->claims, *options.expected_user_data, checks); !s.ok()) {
      return s;
    }
  }

  auto snp = sevsnp::VerifyReportBytes(ByteView(out->hcl.hw_report), evidence.vcek, evidence.chain,
                                       options.snp, checks, cache);
  if (!snp.ok()) return snp.status();
  out->snp = *std::move(snp);
  if (out->snp.report.vmpl != 0) {
    return Fail(checks, "snp.vmpl", StrCat("got ", out->snp.report.vmpl, ", want 0 (the HCL)"));
  }
  checks.Pass("snp.vmpl", "0");

  const Jwk* jwk = out->claims.FindKey(kAkKid);
  if (jwk == nullptr) return Fail(checks, "ak.hcl_key", "runtime claims have no \"HCLAkPub\" RSA key");
  const std::string ak_note = StrCat("HCLAkPub, spki sha256 ", ShortHex(Sha256(jwk->spki)));

  // The HCL gives the AK as a bare RSA key: its attributes are unknown, but the SNP report (by
  // the binding) vouches that this key is the paravisor's vTPM AK. A sent public area is used
  // instead when it is the same key, so its attributes are checked too.
  tpm::VerifyOptions quote_options;
  quote_options.nonce = options.nonce;
  quote_options.allow_empty_nonce = options.allow_empty_nonce;
  absl::StatusOr<tpm::AkKey> ak = absl::InternalError("unset");
  if (evidence.ak_public) {
    auto spki = tpm::PublicSpki(*evidence.ak_public);
    if (!spki.ok()) return FailFrom(checks, "ak.public_match", spki.status());
    if (*spki != jwk->spki) {
      return Fail(checks, "ak.public_match",
                  StrCat("ak public area spki sha256 got ", ShortHex(Sha256(*spki)),
                         ", want HCLAkPub's ", ShortHex(Sha256(jwk->spki))));
    }
    ak = tpm::AkKey::FromPublic(*evidence.ak_public);
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
  out->ak_spki_sha256 = ak->spki_sha256;
  return tpm::VerifyQuote(*ak, evidence.quote, evidence.signature, evidence.pcrs, quote_options,
                          checks, &out->quote);
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
