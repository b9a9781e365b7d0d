// Which evidence the agent can produce, from its configuration and the devices present.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/appraisal/evidence.h"
#include "plugin/config/configs.h"

namespace twi::agent {

// The collectors of the kinds built in (TWI_KINDS) that this VM and the configuration offer.
absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceCollector>>> MakeCollectors(
    const config::AgentConfig& cfg);

// The factories below exist only when TWI_KINDS has their kind (config::kBuiltKinds).

// The TDX collector when a TDX device answers (or simulate = "tdx"), nullptr otherwise.
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> MakeTdxCollector(
    const config::AgentConfig& cfg);

// The TPM collector when the configured TCTI answers (its EK and AK made), nullptr when no TPM
// answers or the tcti is "".
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> MakeTpmCollector(
    const config::TpmAgentSettings& settings);

// The Azure SEV-SNP collector when the azure block is set and its vTPM holds the HCL report
// and the AK (with azure.simulate, a fresh vTPM is provisioned first); nullptr otherwise.
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> MakeAzureCollector(
    const config::AgentConfig& cfg);
// The GCP collector for the gcp block's vTPM (its AK and certificate read now), taking the
// TEE collector from `tee` unless gcp.tee = "none"; FAILED_PRECONDITION when gcp.tee names
// another TEE than the one found, or the vTPM has no AK certificate.
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> MakeGcpCollector(
    const config::AgentConfig& cfg, std::unique_ptr<appraisal::EvidenceCollector>* tee);

}  // namespace twi::agent
