// TDX in the twi/v1 node attestation flow: the agent's evidence collector and the server's
// appraiser (collateral -> verify -> bind -> CCEL replay -> appraise -> selectors), shaped like
// sevsnp/node.h.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attestors/appraisal/evidence.h"
#include "attestors/collateral/dcap_source.h"
#include "attestors/core/clock.h"
#include "attestors/tdx/collect.h"
#include "attestors/tdx/policy.h"
#include "attestors/tdx/verify.h"

namespace twi::tdx {

// Agent side: a quote from `device` over the challenge's report data, with the CCEL when the
// TD publishes one.
class TdxCollector final : public appraisal::EvidenceCollector {
 public:
  TdxCollector(std::unique_ptr<TdxDevice> device, CcelPaths ccel)
      : device_(std::move(device)), ccel_(std::move(ccel)) {}
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TDX; }
  absl::StatusOr<twi::v1::Evidence> Collect(ByteView report_data) override;
  const TdxDevice& device() const { return *device_; }

 private:
  std::mutex mu_;  // one quote request at a time per device
  std::unique_ptr<TdxDevice> device_;
  CcelPaths ccel_;
};

struct TdxAppraiserOptions {
  TdxPolicy policy;
  // Roots beside the Intel SGX Root CA, from configuration (the simulator's root.pem). Used only
  // with allow_simulation: a root the evidence carries is never trusted.
  std::vector<Certificate> extra_roots;
  // Accept evidence from the software simulator (it must still chain to one of extra_roots).
  bool allow_simulation = false;
  bool allow_missing_crls = false;  // revocation unchecked when the bundle has no CRLs
  // Where collateral comes from; may be null, then every TDX attestation is UNAVAILABLE with
  // `collateral_error` (e.g. the source could not be created).
  collateral::DcapCollateralSource* collateral = nullptr;
  std::string collateral_error = "no tdx collateral source is configured";
  const Clock* clock = nullptr;  // null: system clock
};

// Server side. Thread-safe; keeps a verification cache across attestations.
class TdxAppraiser final : public appraisal::EvidenceAppraiser {
 public:
  explicit TdxAppraiser(TdxAppraiserOptions options);
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TDX; }
  // Checks, in order (each recorded in `checks`): evidence.simulated, quote.structure,
  // collateral.fetch, the verifier's checks (verify.h), quote.report_data, ccel.replay, then
  // policy (policy.h). A CCEL that does not replay to the quote's RTMR0-2 is refused naming
  // the first RTMR that differs; no CCEL means no event-log facts, not a refusal.
  absl::StatusOr<appraisal::EvidenceResult> Appraise(const twi::v1::Evidence& evidence,
                                                     ByteView expected_report_data,
                                                     CheckList* checks) const override;
  const TdxPolicy& policy() const { return options_.policy; }
  const TdxAppraiserOptions& options() const { return options_; }

  // For appraisers that verify a TD quote inside other evidence (Azure TDX), the steps Appraise
  // takes: the quote's collateral from the configured source (records collateral.fetch when it
  // is had; an error, not recorded, when not), the verifier options at this instant (roots,
  // simulation opt-in, CRLs), and the cache.
  absl::StatusOr<std::shared_ptr<const collateral::DcapCollateral>> FetchCollateral(
      const Quote& quote, CheckList* checks) const;
  VerifyOptions VerifyOptionsNow() const;
  VerificationCache* cache() const { return &cache_; }

 private:
  TdxAppraiserOptions options_;
  SystemClock system_clock_;
  const Clock* clock_;
  mutable VerificationCache cache_;
};

struct LocalTdxOptions {
  std::string simulate;  // "" or "tdx"
  std::string configfs_path = tsm::kDefaultTsmRoot;
  CcelPaths ccel;
  // Simulation: where the simulated Intel hierarchy is kept ("" = in memory). The simulator's
  // collateral bundle is (re)written there as collateral.json for a server's
  // collateral_offline_path. When a CCEL is present, the simulated TD's RTMR0-2 are its replay,
  // as if the firmware had measured that log.
  std::string sim_dir;
  std::optional<Mr> sim_mrtd;
  bool sim_debug = false;  // TDATTRIBUTES.DEBUG
};

// The TDX device this machine offers: the simulator when asked, else configfs-tsm with the
// tdx_guest provider. nullptr (with OK) when there is none.
absl::StatusOr<std::unique_ptr<TdxDevice>> OpenLocalTdxDevice(const LocalTdxOptions& options);

// Selector values describing the local TD, from a fresh quote of `device`: tee:tdx and the
// MRTD, RTMR0-3, MRCONFIGID and debug selectors. The quote is not verified (it comes from this
// machine's own TDX module); the workload attestor uses this.
absl::StatusOr<std::vector<std::string>> LocalContextSelectors(TdxDevice& device);

// What a verified TD quote adds to an appraisal result: the policy's selectors (policy.h) plus
// tdx:root:<intel|extra> and, for simulated evidence, tdx:simulated:true; the tdx.* agent ID
// fields; the normalized claims below.
void AddVerifiedQuote(const VerifiedQuote& v, bool simulated, appraisal::EvidenceResult* out);

// The claims of a verified TD quote in the normalized vocabulary (claims_vocabulary.h): tee,
// debug, simulated, tdx_mrtd, tdx_rtmr0-3, tdx_mrconfigid, tdx_mrowner, tdx_mrownerconfig,
// tdx_tcb_status, tdx_fmspc, tdx_tee_tcb_svn, tdx_xfam, tdx_td_attributes. (The appraiser adds
// tdx_secure_boot and tdx_boot_loader from a CCEL that replayed to the quote.)
appraisal::Claims NormalizedClaims(const VerifiedQuote& quote, bool simulated);

}  // namespace twi::tdx
