// Which evidence kinds the server verifies, and with which policy, from its configuration.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/appraisal/evidence.h"
#include "plugin/config/configs.h"

namespace twi::server {

// The SEV-SNP appraiser for `settings` (also used by `twi verify`).
absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeSnpAppraiser(
    const config::SnpSettings& settings, bool allow_simulation);

absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceAppraiser>>> MakeAppraisers(
    const config::ServerConfig& cfg);

}  // namespace twi::server
