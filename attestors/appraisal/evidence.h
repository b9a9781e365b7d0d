// Seams between the node attestation flow and each evidence kind. The agent side asks a
// Collector for evidence bound to given report data; the server side asks an Appraiser to
// verify evidence against that binding and its policy, and to map it to selectors.
#pragma once

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
};

}  // namespace twi::appraisal
