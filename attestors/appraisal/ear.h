// Attestation results in the shape of draft-ietf-rats-ear (EAT Attestation Results) with an
// AR4SI trustworthiness vector: one JSON object per attestation, optionally signed as an
// ES256 JWT. The server logs every one and may append it to an audit file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/clock.h"
#include "attestors/core/crypto.h"
#include "nlohmann/json.hpp"

namespace twi::appraisal {

inline constexpr char kEarProfile[] = "tag:github.com,2023:veraison/ear";

// What the node flow knows about one attestation when it ends.
struct EarFacts {
  TimePoint iat;
  std::string verifier_build;   // e.g. "twi-server-nodeattestor 0.4.0"
  std::string policy_id;        // claims policy ("" without one)
  std::string status;           // kAffirming, kWarning or kContraindicated
  // Where it ended: "instance-identity" (payload, nonce, signature), "hardware" (evidence
  // verification or TEE policy), "executables" (claims policy), "agent-id" (the agent ID
  // template), "" (accepted).
  std::string failed_at;
  bool tee_evidence = false;    // verified TEE evidence was presented
  bool claims_policy = false;   // a claims policy was evaluated
  bool claims_recognized = false;  // a rule fired
  std::string agent_id;
  std::vector<std::string> selectors;
  std::vector<std::string> evidence_kinds;
  std::string error;            // the refusal, bounded by the caller
  nlohmann::ordered_json trace;  // claims trace (null without a policy)
};

// AR4SI claims (instance-identity, hardware, runtime-opaque, executables, configuration)
// for `f`; values per draft-ietf-rats-ar4si: 2 affirming, 32/33 warning, 96/97 contraindicated.
std::map<std::string, int> TrustworthinessVector(const EarFacts& f);

// The EAR object: eat_profile, iat, ear.verifier-id, submods.twi-node with ear.status,
// ear.trustworthiness-vector, ear.appraisal-policy-id and twi.* extensions.
nlohmann::ordered_json BuildEar(const EarFacts& f);

// ES256 JWT (compact serialization) of `ear`, signed by a P-256 key.
absl::StatusOr<std::string> SignEarJwt(const nlohmann::ordered_json& ear, EVP_PKEY* key);
// Checks an ES256 JWT from SignEarJwt and returns its payload (tests, audits).
absl::StatusOr<nlohmann::json> VerifyEarJwt(std::string_view jwt, EVP_PKEY* key);
// A P-256 private key from a PEM file (PKCS#8 or SEC1).
absl::StatusOr<EvpPkeyPtr> LoadEarSigningKey(const std::string& path);

// Receives every attestation's facts (the server logs, signs and appends them).
class EarSink {
 public:
  virtual ~EarSink() = default;
  virtual void Record(const EarFacts& facts) const = 0;
};

}  // namespace twi::appraisal
