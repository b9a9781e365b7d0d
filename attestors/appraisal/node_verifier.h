// Server side of twi/v1 node attestation: one NodeSession per SPIRE Attest stream.
//
// HandlePayload checks the agent's payload and returns the challenge (a fresh nonce and the
// evidence kinds wanted). HandleChallengeResponse checks the echoed nonce, the instance-key
// signature over the transcript, and every requested evidence item through its appraiser,
// then builds the agent ID and selectors. A session accepts exactly one payload and one
// response, in that order, so a nonce can never be answered twice.
#pragma once

#include <any>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/appraisal/claims_mapper.h"
#include "attestors/appraisal/ear.h"
#include "attestors/appraisal/evidence.h"
#include "attestors/core/bytes.h"
#include "attestors/core/checks.h"
#include "attestors/core/crypto.h"

namespace twi::appraisal {

struct VerifierOptions {
  std::string trust_domain;
  std::string agent_path_template = "{instance_key_hash}";
  bool insecure_allow_no_tee = false;
  // Key binding: refuse payloads without an SVID key (agents without the twi KeyManager).
  bool require_svid_key = false;
  // Maps verified claims to claim: selectors after the evidence appraisers; null = none.
  std::shared_ptr<const ClaimsPolicy> claims_policy;
  // Receives every attestation's result (EAR); may be null.
  std::shared_ptr<const EarSink> ear_sink;
  std::string verifier_build = "twi-attestor";
  // Why kinds this server has no appraiser for are never verified (e.g. built without them:
  // TWI_KINDS), added to the refusal of an agent that offers nothing else.
  std::map<twi::v1::EvidenceKind, std::string> unverified_kinds;
  const Clock* clock = nullptr;  // null: system clock (claims validity windows, EAR iat)
};

struct AgentAttributes {
  std::string spiffe_id;
  std::vector<std::string> selectors;
  bool can_reattest = true;
  std::vector<Check> checks;
  std::string claims_warning;  // set when the claims policy accepted with status "warning"
  // The verified fields of every evidence item (e.g. "sev_snp.root"), for the log.
  std::map<std::string, std::string> fields;
  // Key binding: set only when the payload carried an SVID key, the evidence bound it and its
  // proof of possession verified. Lowercase hex SHA-256 of its SPKI (keybinding::SvidKeyHash),
  // the SPKI itself and the KeyManager's generation.
  std::string svid_key_hash;
  Bytes svid_key_spki;
  uint64_t svid_key_generation = 0;
};

class NodeVerifier {
 public:
  NodeVerifier(VerifierOptions options,
               std::vector<std::unique_ptr<EvidenceAppraiser>> appraisers);
  const VerifierOptions& options() const { return options_; }
  const EvidenceAppraiser* Find(twi::v1::EvidenceKind kind) const;

 private:
  VerifierOptions options_;
  std::vector<std::unique_ptr<EvidenceAppraiser>> appraisers_;
};

class NodeSession {
 public:
  explicit NodeSession(std::shared_ptr<const NodeVerifier> verifier);

  absl::StatusOr<Bytes> HandlePayload(ByteView payload);
  absl::StatusOr<AgentAttributes> HandleChallengeResponse(ByteView response);

 private:
  absl::StatusOr<Bytes> Payload(ByteView payload);
  absl::StatusOr<AgentAttributes> Response(ByteView response);
  // Hands the result of this attestation to the options' EAR sink.
  void Record(const absl::Status& status, const AgentAttributes* attrs);
  TimePoint Now() const;

  enum class State { kWantPayload, kWantResponse, kDone };
  std::shared_ptr<const NodeVerifier> verifier_;
  State state_ = State::kWantPayload;
  Bytes payload_;
  twi::v1::Payload payload_msg_;  // parsed payload_: its keys decide the report data
  Bytes spki_;
  EvpPkeyPtr key_;  // parsed from spki_ at the payload
  Bytes nonce_;
  std::vector<twi::v1::EvidenceKind> wanted_;
  // What each wanted kind's appraiser remembered at the challenge (same order as wanted_).
  std::vector<std::any> stream_state_;
  CheckList checks_;
  // For the attestation result: where a refusal happened and what the claims policy said.
  std::string stage_ = "instance-identity";
  bool tee_evidence_ = false;
  std::optional<Evaluation> evaluation_;
};

}  // namespace twi::appraisal
