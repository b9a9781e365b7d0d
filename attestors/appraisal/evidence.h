// Seams between the node attestation flow and each evidence kind. The agent side asks a
// Collector for evidence bound to given report data; the server side asks an Appraiser to
// verify evidence against that binding and its policy, and to map it to selectors.
#pragma once

#include <any>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/appraisal/claims_vocabulary.h"
#include "attestors/core/bytes.h"
#include "attestors/core/checks.h"
#include "twi/v1/attestation.pb.h"

namespace twi::appraisal {

class EvidenceCollector {
 public:
  virtual ~EvidenceCollector() = default;
  virtual twi::v1::EvidenceKind kind() const = 0;
  // Produces evidence whose report data equals `report_data` (64 bytes).
  virtual absl::StatusOr<twi::v1::Evidence> Collect(ByteView report_data) = 0;

  // Kinds with a challenge step (TPM credential activation) first put their identity keys in
  // the payload, then answer the server's challenge; the default is neither.
  virtual absl::Status AddToPayload(twi::v1::Payload* payload) { return absl::OkStatus(); }
  virtual absl::StatusOr<twi::v1::Evidence> Answer(ByteView report_data,
                                                   const twi::v1::Challenge& challenge) {
    return Collect(report_data);
  }
};

struct EvidenceResult {
  std::vector<std::string> selectors;
  // Verified fields usable in agent_path_template, e.g. "sev_snp.chip_id".
  std::map<std::string, std::string> fields;
  // Verified claims in the normalized vocabulary (claims_vocabulary.h), the claims mapper's
  // only input. A new evidence kind plugs into claims policies by filling this.
  Claims claims;
};

class EvidenceAppraiser {
 public:
  virtual ~EvidenceAppraiser() = default;
  virtual twi::v1::EvidenceKind kind() const = 0;
  // Verifies `evidence` (signatures, chains, report data == `expected_report_data`) and
  // appraises it against policy. Records every check in `checks`. Policy refusals are
  // PERMISSION_DENIED, malformed evidence INVALID_ARGUMENT, unreachable collateral UNAVAILABLE.
  virtual absl::StatusOr<EvidenceResult> Appraise(const twi::v1::Evidence& evidence,
                                                  ByteView expected_report_data,
                                                  CheckList* checks) const = 0;

  // Kinds with a challenge step: called once per attestation stream, after the payload was
  // accepted and before the challenge is sent. May add to `challenge` (e.g. a TPM credential)
  // and returns what this stream must remember for the response (e.g. the credential's
  // secret); refusing the payload's identity keys fails the attestation here. The default
  // adds nothing and remembers nothing.
  virtual absl::StatusOr<std::any> Challenge(const twi::v1::Payload& payload,
                                             twi::v1::Challenge* challenge,
                                             CheckList* checks) const {
    return std::any();
  }
  // Appraise with what Challenge remembered for this stream (default: ignores it).
  virtual absl::StatusOr<EvidenceResult> AppraiseResponse(const twi::v1::Evidence& evidence,
                                                          ByteView expected_report_data,
                                                          const std::any& stream_state,
                                                          CheckList* checks) const {
    return Appraise(evidence, expected_report_data, checks);
  }
};

}  // namespace twi::appraisal
