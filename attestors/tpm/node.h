// TPM 2.0 in the twi/v1 node attestation flow (issue 8): the agent's collector and the server's
// appraiser, with credential activation as the challenge step.
//
//   payload    TpmIdentity: EK public area (+ certificate), AK public area (+ certificate)
//   challenge  TpmCredential: MakeCredential(EK, Name(AK), fresh 32-byte secret), per stream
//   response   TpmEvidence: the activated secret, one quote per PCR bank over
//              TpmQualifyingData(nonce, instance key), the TCG event log when present
//
// The server trusts the AK only when the secret comes back (the AK lives in the TPM of the EK)
// and the EK (or the AK itself) is trusted by a configured route (ek_trust.h). Each stream's
// secret lives in that stream's state only: a secret activated for another stream fails.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attestors/appraisal/evidence.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/core/clock.h"
#include "attestors/tpm/collect.h"
#include "attestors/tpm/ek_trust.h"
#include "attestors/tpm/policy.h"

namespace twi::tpm {

struct TpmNodeCollectOptions {
  std::vector<PcrBankSelection> banks;  // one quote per bank
  std::string event_log_path = kDefaultEventLogPath;  // "" = never send a log
};

// Agent side. Thread-safe (one TPM command sequence at a time).
class TpmNodeCollector final : public appraisal::EvidenceCollector {
 public:
  TpmNodeCollector(std::unique_ptr<TpmCollector> tpm, TpmNodeCollectOptions options)
      : tpm_(std::move(tpm)), options_(std::move(options)) {}
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TPM; }
  // TPM evidence needs the challenge's credential: Collect alone is refused.
  absl::StatusOr<twi::v1::Evidence> Collect(ByteView report_data) override;
  absl::Status AddToPayload(twi::v1::Payload* payload) override;
  absl::StatusOr<twi::v1::Evidence> Answer(ByteView report_data,
                                           const twi::v1::Challenge& challenge) override;

 private:
  std::mutex mu_;
  std::unique_ptr<TpmCollector> tpm_;
  TpmNodeCollectOptions options_;
  // The payload's keys (instance key, SVID key when key-bound): the qualifying data binds them.
  appraisal::BoundKeys bound_keys_;
};

// One TpmQuote per bank of `banks` (TPM2_Quote over `qualifying_data`), appended to `out`.
absl::Status QuoteBanks(TpmCollector& tpm, const std::vector<PcrBankSelection>& banks,
                        ByteView qualifying_data,
                        google::protobuf::RepeatedPtrField<twi::v1::TpmQuote>* out);

struct TpmAppraiserOptions {
  TrustAnchors anchors;  // at least one route (Configure checks)
  TpmPolicy policy;
  // PCRs (of every quoted bank) reported as tpm:pcr selectors besides those the policy names.
  std::vector<uint32_t> selector_pcrs;
  const Clock* clock = nullptr;  // null: system clock (certificate validity)
};

// What one stream's challenge remembers for its response.
struct TpmStreamState {
  Bytes secret;
  Bytes qualifying_data;
  AkKey ak;
  TpmIdentity identity;
};

// Server side. Thread-safe (no mutable state).
class TpmAppraiser final : public appraisal::EvidenceAppraiser {
 public:
  explicit TpmAppraiser(TpmAppraiserOptions options);
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TPM; }
  // Without a challenge there is no credential to check: refused.
  absl::StatusOr<appraisal::EvidenceResult> Appraise(const twi::v1::Evidence& evidence,
                                                     ByteView expected_report_data,
                                                     CheckList* checks) const override;
  absl::StatusOr<std::any> Challenge(const twi::v1::Payload& payload,
                                     twi::v1::Challenge* challenge,
                                     CheckList* checks) const override;
  absl::StatusOr<appraisal::EvidenceResult> AppraiseResponse(const twi::v1::Evidence& evidence,
                                                             ByteView expected_report_data,
                                                             const std::any& stream_state,
                                                             CheckList* checks) const override;
  const TpmAppraiserOptions& options() const { return options_; }

 private:
  // The EK (or AK) trust route that holds for this identity; PERMISSION_DENIED naming every
  // configured route's refusal otherwise.
  absl::Status Trust(const twi::v1::TpmIdentity& id, const Public& ek, const AkKey& ak,
                     CheckList* checks, TpmIdentity* out) const;

  TpmAppraiserOptions options_;
  SystemClock system_clock_;
  const Clock* clock_;
};

// Verifies quotes[first..] (one per bank; 1..8 quotes in all) by `ak` over `qualifying_data`
// and merges their authenticated PCRs into `merged` (which may hold quotes verified before,
// e.g. the one Azure's verifier checks). Shared by every kind that sends TpmQuotes.
absl::Status VerifyQuotes(const AkKey& ak,
                          const google::protobuf::RepeatedPtrField<twi::v1::TpmQuote>& quotes,
                          int first, ByteView qualifying_data, CheckList& checks,
                          VerifiedQuote* merged);
// Adds one verified quote of `bank` to `merged` (quote.bank / quote.signature on conflicts).
absl::Status MergeQuote(VerifiedQuote v, uint16_t bank, CheckList& checks, VerifiedQuote* merged);

// Selectors of policy.h's Selectors, keeping tpm:pcr ones only for PCRs the policy or
// `selector_pcrs` names.
std::vector<std::string> NamedSelectors(const VerifiedQuote& quote, const EventLogFacts* log,
                                        const TpmPolicy& policy,
                                        const std::vector<uint32_t>& selector_pcrs);

// The claims of a verified TPM attestation in the normalized vocabulary: tee = "tpm",
// tpm_pcr_<bank>_<n> of authenticated PCRs, tpm_ek_hash, tpm_manufacturer, tpm_trust_route,
// tpm_ak_pub_sha256, tpm_secure_boot (with a replayed log).
appraisal::Claims NormalizedClaims(const VerifiedQuote& quote, const EventLogFacts* log,
                                   const TpmIdentity& identity);

}  // namespace twi::tpm
