#include "attestors/appraisal/ear.h"

#include <openssl/ec.h>
#include <openssl/pem.h>

#include "absl/strings/escaping.h"
#include "attestors/appraisal/claims_mapper.h"
#include "attestors/core/file.h"
#include "attestors/core/str.h"

namespace twi::appraisal {
namespace {

std::string B64Url(std::string_view s) {
  std::string out;
  absl::WebSafeBase64Escape(twi::ToAbsl(s), &out);
  return out;
}

constexpr size_t kCoordBytes = 32;  // P-256

}  // namespace

std::map<std::string, int> TrustworthinessVector(const EarFacts& f) {
  std::map<std::string, int> v;
  if (f.failed_at == "instance-identity") {
    v["instance-identity"] = 97;  // not recognized: the key or the transcript did not check out
    return v;
  }
  v["instance-identity"] = 2;
  if (f.failed_at == "hardware") {
    v["hardware"] = 97;  // evidence did not verify, or its TEE policy refused it
    return v;
  }
  if (f.tee_evidence) {
    v["hardware"] = 2;
    v["runtime-opaque"] = 2;  // memory encrypted inside a verified TEE
  } else {
    v["runtime-opaque"] = 32;  // no TEE evidence (insecure_allow_no_tee): memory not shown opaque
  }
  if (f.claims_policy) {
    if (f.failed_at == "executables") {
      v["executables"] = 96;  // the claims policy recognizes none of it: refused
    } else if (!f.claims_recognized) {
      v["executables"] = 33;  // unrecognized, accepted by on_no_rule_match = "accept"
    } else {
      v["executables"] = f.status == kWarning ? 32 : 2;  // 32: deprecated reference values
      v["configuration"] = 2;
    }
  }
  return v;
}

nlohmann::ordered_json BuildEar(const EarFacts& f) {
  nlohmann::ordered_json sub;
  sub["ear.status"] = f.status;
  sub["ear.trustworthiness-vector"] = TrustworthinessVector(f);
  sub["ear.appraisal-policy-id"] = f.policy_id.empty() ? "twi:no-claims-policy" : f.policy_id;
  if (!f.agent_id.empty()) sub["twi.agent-id"] = f.agent_id;
  sub["twi.evidence-kinds"] = f.evidence_kinds;
  if (!f.selectors.empty()) sub["twi.selectors"] = f.selectors;
  if (!f.error.empty()) sub["twi.error"] = f.error;
  if (!f.trace.is_null()) sub["twi.claims-trace"] = f.trace;
  nlohmann::ordered_json ear;
  ear["eat_profile"] = kEarProfile;
  ear["iat"] = static_cast<int64_t>(ToTimeT(f.iat));
  ear["ear.verifier-id"] = {{"developer", "twi-attestor"}, {"build", f.verifier_build}};
  ear["submods"] = {{"twi-node", std::move(sub)}};
  return ear;
}

absl::StatusOr<std::string> SignEarJwt(const nlohmann::ordered_json& ear, EVP_PKEY* key) {
  std::string input = twi::StrCat(B64Url(R"({"alg":"ES256","typ":"JWT"})"), ".", B64Url(ear.dump()));
  auto der = SignSha256(key, AsBytes(input));
  if (!der.ok()) return der.status();
  // JWS wants R || S (32 bytes each), not DER.
  auto raw = EcdsaDerToRaw(*der, kCoordBytes);
  if (!raw.ok()) return raw.status();
  return twi::StrCat(input, ".", B64Url(AsString(*raw)));
}

absl::StatusOr<nlohmann::json> VerifyEarJwt(std::string_view jwt, EVP_PKEY* key) {
  size_t a = jwt.find('.'), b = jwt.rfind('.');
  if (a == std::string_view::npos || a == b) return absl::InvalidArgumentError("not a compact JWS");
  std::string header, payload, raw;
  if (!absl::WebSafeBase64Unescape(twi::ToAbsl(jwt.substr(0, a)), &header) ||
      !absl::WebSafeBase64Unescape(twi::ToAbsl(jwt.substr(a + 1, b - a - 1)), &payload) ||
      !absl::WebSafeBase64Unescape(twi::ToAbsl(jwt.substr(b + 1)), &raw) || raw.size() != 2 * kCoordBytes) {
    return absl::InvalidArgumentError("malformed JWS");
  }
  auto h = nlohmann::json::parse(header, nullptr, false);
  if (h.is_discarded() || !h.is_object() || h.value("alg", "") != "ES256") {
    return absl::InvalidArgumentError("JWS header must say alg ES256");
  }
  auto d = EcdsaRawToDer(AsBytes(raw));
  if (!d.ok()) return d.status();
  absl::Status v = VerifySha256(key, AsBytes(jwt.substr(0, b)), *d);
  if (!v.ok()) return v;
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded()) return absl::InvalidArgumentError("JWS payload is not JSON");
  return j;
}

absl::StatusOr<EvpPkeyPtr> LoadEarSigningKey(const std::string& path) {
  auto pem = ReadFileToString(path);
  if (!pem.ok()) return pem.status();
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return OpenSslError(twi::StrCat("\"", path, "\" holds no PEM private key"), absl::StatusCode::kInvalidArgument);
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC || EVP_PKEY_get_bits(key.get()) != 256) {
    return absl::InvalidArgumentError(twi::StrCat("\"", path, "\": the EAR signing key must be ECDSA P-256 (ES256)"));
  }
  return key;
}

}  // namespace twi::appraisal
