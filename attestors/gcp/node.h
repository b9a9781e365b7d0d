// Google Cloud confidential VMs in the twi/v1 node attestation flow: the agent's collector and
// the server's appraiser for EVIDENCE_KIND_GCP.
//
//   payload    the instance key (as for every kind); nothing GCP-specific
//   challenge  nothing added; each stream remembers TpmQualifyingData(nonce, payload): the
//              instance key and, when key-bound, the SVID key
//   response   GcpEvidence (collect.h): AK public area + Google AK certificate, one quote per
//              PCR bank over that qualifying data, the event log, and the SEV-SNP report or TDX
//              quote whose REPORT_DATA is the stream's report data
//
// Server checks, in order (each recorded): evidence.simulated, the AK certificate's chain to
// gcp.ca_bundle and its instance information (gcp/verify.h VerifyAkCertificate),
// gcp.project (allow-list), ak.public_match (the sent AK public area holds the certificate's
// key), the quotes by that AK over this stream's qualifying data, the event log and the PCR
// policy (tpm/node.h AppraiseQuotes), then the hardware evidence the configuration requires
// (hw.required) through the server's own SEV-SNP or TDX appraiser: its verification, report
// data binding, sev_snp / tdx policy, selectors and claims, exactly as for a bare report.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "attestors/appraisal/evidence.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/core/clock.h"
#include "attestors/gcp/collect.h"
#include "attestors/gcp/verify.h"
#include "attestors/tpm/policy.h"

namespace twi::gcp {

// Agent side. Thread-safe (one vTPM command sequence and one report at a time).
class GcpCollector final : public appraisal::EvidenceCollector {
 public:
  // `tee`: the SEV-SNP or TDX collector whose evidence rides along; null for none.
  GcpCollector(std::unique_ptr<tpm::TpmCollector> vtpm,
               std::unique_ptr<appraisal::EvidenceCollector> tee, CollectOptions options)
      : vtpm_(std::move(vtpm)), tee_(std::move(tee)), options_(std::move(options)) {}
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_GCP; }
  // The quotes need the challenge's nonce: Collect alone is refused.
  absl::StatusOr<twi::v1::Evidence> Collect(ByteView report_data) override;
  absl::Status AddToPayload(twi::v1::Payload* payload) override;
  absl::StatusOr<twi::v1::Evidence> Answer(ByteView report_data,
                                           const twi::v1::Challenge& challenge) override;
  // "sev-snp", "tdx" or "none": what the evidence carries besides the vTPM.
  std::string tee_name() const;

 private:
  std::mutex mu_;
  std::unique_ptr<tpm::TpmCollector> vtpm_;
  std::unique_ptr<appraisal::EvidenceCollector> tee_;
  CollectOptions options_;
  appraisal::BoundKeys bound_keys_;  // the payload's keys (instance, SVID): the qualifying data binds them
};

struct GcpAppraiserOptions {
  CaSet cas;  // the GCE vTPM CAs (gcp.ca_bundle); at least one root
  Hardware require_tee = Hardware::kSevSnp;
  // The server's SEV-SNP and TDX appraisers (sev_snp / tdx blocks): the hardware evidence is
  // theirs to verify and appraise. Not owned; must outlive this appraiser. The one
  // require_tee names must be set.
  const appraisal::EvidenceAppraiser* sev_snp = nullptr;
  const appraisal::EvidenceAppraiser* tdx = nullptr;
  // Evidence the agent marks simulated (simulated CA, simulated TEE), and AK certificates
  // chaining to the simulated CA (gcp/sim.h), are refused unless set.
  bool allow_simulation = false;
  bool allow_non_production = false;  // gcp/verify.h instance_info.production
  std::vector<std::string> allowed_project_ids;  // empty: any project
  tpm::TpmPolicy policy;                         // PCR policy for the vTPM quotes
  std::vector<uint32_t> selector_pcrs;           // tpm:pcr selectors beside the policy's
  const Clock* clock = nullptr;                  // null: system clock
};

// Server side. Thread-safe (no mutable state of its own).
class GcpAppraiser final : public appraisal::EvidenceAppraiser {
 public:
  explicit GcpAppraiser(GcpAppraiserOptions options);
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_GCP; }
  // Without this stream's qualifying data the quotes prove no freshness: refused.
  absl::StatusOr<appraisal::EvidenceResult> Appraise(const twi::v1::Evidence& evidence,
                                                     ByteView expected_report_data,
                                                     CheckList* checks) const override;
  absl::StatusOr<std::any> Challenge(const twi::v1::Payload& payload,
                                     twi::v1::Challenge* challenge,
                                     CheckList* checks) const override;
  absl::StatusOr<appraisal::EvidenceResult> AppraiseResponse(const twi::v1::Evidence& evidence,
                                                             ByteView expected_report_data,
                                                             const std::any& stream_state,
                                                             CheckList* checks) const override;
  const GcpAppraiserOptions& options() const { return options_; }

 private:
  // hw.required and the hardware appraiser's result (empty for require_tee none).
  absl::StatusOr<appraisal::EvidenceResult> AppraiseHardware(const twi::v1::GcpEvidence& gcp,
                                                             ByteView expected_report_data,
                                                             CheckList* checks) const;

  GcpAppraiserOptions options_;
  SystemClock system_clock_;
  const Clock* clock_;
};

}  // namespace twi::gcp
