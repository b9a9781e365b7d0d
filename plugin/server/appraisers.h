// Which evidence kinds the server verifies, and with which policy, from its configuration.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/appraisal/evidence.h"
#include "plugin/config/configs.h"

namespace twi::server {

absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceAppraiser>>> MakeAppraisers(
    const config::ServerConfig& cfg);

}  // namespace twi::server
