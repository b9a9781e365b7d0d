#include "attestors/core/str.h"
#include "plugin/agent/collectors.h"

namespace twi::agent {

absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceCollector>>> MakeCollectors(
    const config::AgentConfig& cfg) {
  std::vector<std::unique_ptr<appraisal::EvidenceCollector>> out;
  return out;
}

}  // namespace twi::agent
