// Azure TDX confidential VMs in the twi/v1 node attestation flow (EVIDENCE_KIND_AZURE_TDX),
// beside the SEV-SNP ones (node.h), sharing their vTPM half:
//
//   agent    the HCL report, AK and quotes from the vTPM (collect.h), and the TD quote of the
//            HCL report's TDREPORT from the host's quoting service (imds_tdquote.h), in
//            AzureEvidence.td_quote
//   server   VerifyAzureTdx (verify_tdx.h) with the tdx appraiser's trust configuration and
//            collateral source (the server's tdx block: roots, simulation opt-in, CRLs, PCS /
//            PCCS / offline collateral), the tdx policy, then AppraiseVtpm (node.h)
//
// Selectors: the TD quote's (tdx/node.h AddVerifiedQuote: tdx:mrtd, tdx:rtmr0-3, tdx:tcb-status,
// tdx:root, ...), platform:azure, azure:vm-id:<id>, tpm:pcr for the PCRs the azure policy names.
// Missing collateral is UNAVAILABLE (collateral.missing), after every other check.
#pragma once

#include <memory>
#include <string>

#include "attestors/azure/node.h"
#include "attestors/collateral/http.h"
#include "attestors/tdx/node.h"

namespace twi::azure {

struct AzureTdxCollectOptions {
  VtpmOptions vtpm;
  std::string imds_url = kDefaultImdsUrl;
};

// Agent side, TDX CVMs. Thread-safe (the base serializes).
class AzureTdxCollector final : public VtpmCollectorBase {
 public:
  // `http` (required) posts to IMDS.
  AzureTdxCollector(std::unique_ptr<AzureVtpm> vtpm, AzureTdxCollectOptions options,
                    std::unique_ptr<collateral::HttpGetter> http)
      : VtpmCollectorBase(std::move(vtpm)), options_(std::move(options)), http_(std::move(http)) {}
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_AZURE_TDX; }

 private:
  // The TD quote of the HCL report's TDREPORT (the report the base has just put in `out`).
  absl::Status AddHardware(twi::v1::AzureEvidence* out) override;
  AzureTdxCollectOptions options_;
  std::unique_ptr<collateral::HttpGetter> http_;
};

struct AzureTdxAppraiserOptions {
  tdx::TdxAppraiserOptions tdx;  // the tdx block: policy, roots, collateral source
  AzureAppraiserOptions vtpm;    // the azure block: PCR policy, selector PCRs
};

// Server side, TDX CVMs. Thread-safe; keeps the TDX verification cache across attestations.
class AzureTdxAppraiser final : public VtpmAppraiserBase {
 public:
  explicit AzureTdxAppraiser(AzureTdxAppraiserOptions options)
      : VtpmAppraiserBase(std::move(options.vtpm)), tdx_(std::move(options.tdx)) {}
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_AZURE_TDX; }
  absl::StatusOr<appraisal::EvidenceResult> AppraiseResponse(const twi::v1::Evidence& evidence,
                                                             ByteView expected_report_data,
                                                             const std::any& stream_state,
                                                             CheckList* checks) const override;

 private:
  tdx::TdxAppraiser tdx_;
};

}  // namespace twi::azure
