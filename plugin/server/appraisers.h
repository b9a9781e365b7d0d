// Which evidence kinds the server verifies, and with which policy, from its configuration.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/appraisal/evidence.h"
#include "attestors/sevsnp/node.h"
#include "attestors/tdx/node.h"
#include "plugin/config/configs.h"

namespace twi::server {

// SEV-SNP appraiser options from the sev_snp settings (reads extra_roots files); no KDS client.
absl::StatusOr<sevsnp::SnpAppraiserOptions> SnpOptionsFromSettings(const config::SnpSettings& s,
                                                                   bool allow_simulation);
// A KDS client for the settings; `http` may be null in offline mode.
absl::StatusOr<std::unique_ptr<collateral::KdsClient>> MakeKdsClient(const config::SnpSettings& s,
                                                                     collateral::HttpGetter* http);

// The SEV-SNP appraiser for `settings`.
absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeSnpAppraiser(
    const config::SnpSettings& settings, bool allow_simulation);

// TDX appraiser options from the tdx settings (reads extra_roots files); no collateral source.
absl::StatusOr<tdx::TdxAppraiserOptions> TdxOptionsFromSettings(const config::TdxSettings& s,
                                                                bool allow_simulation);

// The TDX appraiser for `settings`, with its collateral source (MakeDcapCollateralSource).
absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeTdxAppraiser(
    const config::TdxSettings& settings, bool allow_simulation);
// Azure TDX CVMs (azure block: PCR policy) with the tdx block's trust configuration, policy and
// collateral source (its own instance of the source).
absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeAzureTdxAppraiser(
    const config::AzureServerSettings& azure, const config::TdxSettings& tdx, bool allow_simulation);
// The TPM appraiser for the tpm block (reads the CA files).
absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeTpmAppraiser(
    const config::TpmServerSettings& settings);

// The Azure SEV-SNP appraiser: the azure block's vTPM policy, the SNP report verified and
// appraised with a SEV-SNP appraiser of its own made from the sev_snp settings.
absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeAzureSnpAppraiser(
    const config::AzureServerSettings& azure, const config::SnpSettings& snp, bool allow_simulation);
// The GCP appraiser for the gcp block (reads ca_bundle), verifying hardware evidence with
// `sev_snp` / `tdx` (not owned). A simulated CA in the bundle is refused unless
// `allow_simulation`.
absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeGcpAppraiser(
    const config::GcpServerSettings& settings, bool allow_simulation,
    const appraisal::EvidenceAppraiser* sev_snp, const appraisal::EvidenceAppraiser* tdx);

// The TDX, TPM, Azure and GCP factories above exist only when TWI_KINDS has their kind
// (config::kBuiltKinds).
// MakeAppraisers registers the built kinds' appraisers the configuration asks for.
absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceAppraiser>>> MakeAppraisers(
    const config::ServerConfig& cfg);

// Why each evidence kind `built` lacks is not verified (config::NotBuilt), for
// VerifierOptions::unverified_kinds.
std::map<twi::v1::EvidenceKind, std::string> KindsNotBuilt(
    const config::BuiltKinds& built = config::kBuiltKinds);

}  // namespace twi::server
