// Azure confidential VMs in the twi/v1 node attestation flow: the agent's collector and the
// server's appraiser for EVIDENCE_KIND_AZURE_SEV_SNP.
//
//   payload    the instance key and, when key-bound, the SVID key (kept: the qualifying data
//              binds them)
//   challenge  the nonce; the server remembers TpmQualifyingData(nonce, payload)
//   response   AzureEvidence: the HCL report from the vTPM, the AK public area (+ certificate),
//              one quote per PCR bank over that qualifying data, the event log, the VCEK when
//              the agent got one (THIM, or the simulated host)
//
// The paravisor's SNP report vouches (REPORT_DATA = hash of the runtime claims) for the AK in
// the claims; that AK's quote proves freshness and the instance key. The vTPM part (collect.h,
// VerifyVtpm below) is shared with Azure TDX, whose collector and appraiser sit beside these.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attestors/appraisal/evidence.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/azure/collect.h"
#include "attestors/azure/thim.h"
#include "attestors/azure/verify.h"
#include "attestors/sevsnp/node.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/policy.h"

namespace twi::azure {

enum class VcekSource {
  kNone,       // the server fetches it from AMD KDS
  kImds,       // THIM at the instance metadata service
  kSimulated,  // the simulated host's NV index (sim.h); marks evidence simulated
};

struct AzureCollectOptions {
  VtpmOptions vtpm;
  VcekSource vcek_source = VcekSource::kImds;
  std::string imds_url = kDefaultImdsUrl;
};

// The vTPM part of Azure evidence shared by the SNP and TDX collectors: the instance key from
// the payload and the vTPM evidence over the challenge's qualifying data.
class VtpmCollectorBase : public appraisal::EvidenceCollector {
 public:
  explicit VtpmCollectorBase(std::unique_ptr<AzureVtpm> vtpm) : vtpm_(std::move(vtpm)) {}
  // Azure evidence answers the challenge nonce: Collect alone is refused.
  absl::StatusOr<twi::v1::Evidence> Collect(ByteView report_data) override;
  absl::Status AddToPayload(twi::v1::Payload* payload) override;
  absl::StatusOr<twi::v1::Evidence> Answer(ByteView report_data,
                                           const twi::v1::Challenge& challenge) override;

 protected:
  // Adds the hardware part (VCEK, TD quote) to `out`; called with the lock held.
  virtual absl::Status AddHardware(twi::v1::AzureEvidence* out) = 0;
  AzureVtpm& vtpm() { return *vtpm_; }

 private:
  std::mutex mu_;
  std::unique_ptr<AzureVtpm> vtpm_;
  appraisal::BoundKeys bound_keys_;  // the instance key and SVID key the quotes bind
};

// Agent side, SEV-SNP CVMs. Thread-safe.
class AzureSnpCollector final : public VtpmCollectorBase {
 public:
  // `http`: for THIM (may be null unless vcek_source is kImds).
  AzureSnpCollector(std::unique_ptr<AzureVtpm> vtpm, AzureCollectOptions options,
                    std::unique_ptr<collateral::HttpGetter> http)
      : VtpmCollectorBase(std::move(vtpm)), options_(std::move(options)), http_(std::move(http)) {}
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_AZURE_SEV_SNP; }

 private:
  absl::Status AddHardware(twi::v1::AzureEvidence* out) override;
  AzureCollectOptions options_;
  std::unique_ptr<collateral::HttpGetter> http_;
  std::optional<ThimCertification> vcek_;  // fetched once: it changes only with the TCB
};

struct AzureAppraiserOptions {
  tpm::TpmPolicy pcr_policy;
  std::vector<uint32_t> selector_pcrs;  // reported as tpm:pcr selectors besides the policy's
};

// The vTPM half of the server side (shared with Azure TDX): every quote by the AK (the first
// already verified by the hardware-specific verifier, in `merged`), the event log replay, the
// PCR policy; selectors tpm:pcr for named PCRs and azure:vm-id; claims tpm_* and azure_vm_id.
absl::Status AppraiseVtpm(const twi::v1::AzureEvidence& az, const tpm::AkKey& ak,
                          ByteView qualifying_data, const RuntimeClaims& claims,
                          const AzureAppraiserOptions& options, CheckList& checks,
                          tpm::VerifiedQuote* merged, appraisal::EvidenceResult* out);

// What the SEV-SNP and TDX appraisers share: the refusal without a challenge, the challenge
// (the qualifying data of the payload's keys), the response's first checks, and the vTPM tail.
class VtpmAppraiserBase : public appraisal::EvidenceAppraiser {
 public:
  // Without a challenge there is no nonce for the quote: refused.
  absl::StatusOr<appraisal::EvidenceResult> Appraise(const twi::v1::Evidence& evidence,
                                                     ByteView expected_report_data,
                                                     CheckList* checks) const override;
  absl::StatusOr<std::any> Challenge(const twi::v1::Payload& payload,
                                     twi::v1::Challenge* challenge,
                                     CheckList* checks) const override;

 protected:
  explicit VtpmAppraiserBase(AzureAppraiserOptions options) : options_(std::move(options)) {}

  // The response's parts every Azure kind checks first, before its hardware verifier.
  struct Response {
    const twi::v1::AzureEvidence* az = nullptr;
    const appraisal::QuoteStreamState* state = nullptr;
    tpm::Public ak_public;
    const twi::v1::TpmQuote* q0 = nullptr;  // the first quote, verified by the hardware verifier
    uint16_t bank0 = 0;                     // its PCR bank
  };
  // The stream state, the Azure body (evidence.kind), the simulation opt-in (evidence.simulated,
  // refused with `simulated_refusal` unless `allow_simulation`), the quote count (quote.count),
  // the AK public area (ak.public) and the first quote's bank (quote.bank).
  absl::StatusOr<Response> CheckResponse(const twi::v1::Evidence& evidence,
                                         const std::any& stream_state, bool allow_simulation,
                                         std::string_view simulated_refusal,
                                         CheckList* checks) const;
  // After the hardware verifier: the AK (ak.public), its first quote merged, then AppraiseVtpm.
  absl::Status FinishVtpm(const Response& r, tpm::VerifiedQuote first_quote,
                          const RuntimeClaims& claims, CheckList* checks,
                          appraisal::EvidenceResult* out) const;

 private:
  AzureAppraiserOptions options_;
};

// Server side, SEV-SNP CVMs: VerifyAzureSnp with the SEV-SNP appraiser's trust configuration
// (roots, simulation opt-in, KDS for a VCEK the agent did not send, CRLs, cache), VMPL 0, the
// sev_snp policy, then AppraiseVtpm. Thread-safe.
class AzureSnpAppraiser final : public VtpmAppraiserBase {
 public:
  // `snp` (required, not owned) outlives this appraiser.
  AzureSnpAppraiser(const sevsnp::SnpAppraiser* snp, AzureAppraiserOptions options)
      : VtpmAppraiserBase(std::move(options)), snp_(snp) {}
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_AZURE_SEV_SNP; }
  absl::StatusOr<appraisal::EvidenceResult> AppraiseResponse(const twi::v1::Evidence& evidence,
                                                             ByteView expected_report_data,
                                                             const std::any& stream_state,
                                                             CheckList* checks) const override;

 private:
  const sevsnp::SnpAppraiser* snp_;
};

}  // namespace twi::azure
