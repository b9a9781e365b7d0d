#include "attestors/core/str.h"
#include "plugin/server/appraisers.h"

namespace twi::server {

absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceAppraiser>>> MakeAppraisers(
    const config::ServerConfig& cfg) {
  std::vector<std::unique_ptr<appraisal::EvidenceAppraiser>> out;
  return out;
}

}  // namespace twi::server
