// SEV-SNP in the twi/v1 node attestation flow: the agent's evidence collector and the server's
// appraiser (verify -> bind -> appraise -> selectors).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "attestors/appraisal/evidence.h"
#include "attestors/collateral/kds.h"
#include "attestors/core/clock.h"
#include "attestors/sevsnp/collect.h"
#include "attestors/sevsnp/policy.h"
#include "attestors/sevsnp/sim.h"
#include "attestors/sevsnp/verify.h"

namespace twi::sevsnp {

// Agent side: a report from `device` over the challenge's report data, with the host's
// certificate table.
class SnpCollector final : public appraisal::EvidenceCollector {
 public:
  SnpCollector(std::unique_ptr<SnpDevice> device, uint32_t vmpl)
      : device_(std::move(device)), vmpl_(vmpl) {}
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_SEV_SNP; }
  absl::StatusOr<twi::v1::Evidence> Collect(ByteView report_data) override;
  const SnpDevice& device() const { return *device_; }

 private:
  std::mutex mu_;  // one report request at a time per device
  std::unique_ptr<SnpDevice> device_;
  uint32_t vmpl_;
};

enum class CrlMode { kOff, kIfAvailable, kRequire };

struct SnpAppraiserOptions {
  SnpPolicy policy;
  Product product = Product::kUnknown;  // for v2 reports, when the fleet is known
  // Roots beside AMD's, from configuration (e.g. a new product line before a release, or the
  // simulator's ARK), each scoped to its product and one key type.
  std::vector<ExtraRoot> extra_roots;
  // Accept evidence from the software simulator. It must still chain to one of extra_roots:
  // a root the evidence carries is never trusted. Development only.
  bool allow_simulation = false;
  CrlMode crl = CrlMode::kIfAvailable;
  // Source of VCEKs missing from the evidence, chains and CRLs; may be null (evidence only).
  collateral::KdsClient* kds = nullptr;
  const Clock* clock = nullptr;  // null: system clock
};

// Server side. Thread-safe; keeps a verification cache across attestations.
class SnpAppraiser final : public appraisal::EvidenceAppraiser {
 public:
  explicit SnpAppraiser(SnpAppraiserOptions options);
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_SEV_SNP; }
  absl::StatusOr<appraisal::EvidenceResult> Appraise(const twi::v1::Evidence& evidence,
                                                     ByteView expected_report_data,
                                                     CheckList* checks) const override;

  // Verification without the report-data binding or the policy (`twi verify` adds the policy
  // itself). The endorsement (VCEK/VLEK) is `endorsement` when given, else the certificate
  // table's, else (VCEK) fetched from KDS; `chain` adds ASK/ASVK/ARK certificates.
  absl::StatusOr<VerifiedReport> Verify(ByteView report, ByteView cert_table,
                                        const std::optional<Certificate>& endorsement,
                                        std::span<const Certificate> chain, bool simulated,
                                        CheckList* checks) const;
  const SnpPolicy& policy() const { return options_.policy; }
  const SnpAppraiserOptions& options() const { return options_; }

  // For evidence that wraps an SNP report (Azure's HCL report): the verification options this
  // appraiser applies (time, product, extra roots, CRL source; none for simulated evidence),
  // the VCEK from KDS when the evidence has none, and the verification cache.
  VerifyOptions VerifyOptionsFor(bool simulated) const;
  // The VCEK from KDS for the report's chip and REPORTED_TCB (check collateral.vcek);
  // INVALID_ARGUMENT when no KDS client is configured.
  absl::StatusOr<Certificate> FetchVcek(const AttestationReport& report, CheckList* checks) const;
  VerificationCache* cache() const { return &cache_; }

 private:
  // The CRL for a verified root's product and intermediate kind (see VerifyOptions).
  std::optional<Crl> FetchCrl(Product product, SigningKey key, std::string* why) const;

  SnpAppraiserOptions options_;
  SystemClock system_clock_;
  const Clock* clock_;
  mutable VerificationCache cache_;
  mutable std::mutex crl_mu_;
  // After a failed CRL fetch, when to try again, per (product, signing key) of the verified
  // chain: a failure for one never makes another skip its check.
  mutable std::map<std::pair<Product, SigningKey>, std::chrono::steady_clock::time_point>
      crl_retry_after_;
  // Parsed CRLs by (product, signing key), kept until their nextUpdate so the hot path does
  // not parse the same DER on every attestation.
  mutable std::map<std::pair<Product, SigningKey>, Crl> crls_;
};

struct LocalDeviceOptions {
  std::string simulate;  // "" or "sev-snp"
  std::string configfs_path = kDefaultTsmRoot;
  std::string device_path = "/dev/sev-guest";
  // Simulation: where the simulated AMD hierarchy is kept ("" = in memory), and its RSA size.
  std::string sim_dir;
  int sim_rsa_bits = 4096;
  // Simulation: the launch MEASUREMENT to report (48 bytes), so demos can show an image update.
  std::optional<Bytes> sim_measurement;
};

// The SEV-SNP device this machine offers: the simulator when asked, else configfs-tsm or
// /dev/sev-guest. nullptr (with OK) when there is none.
absl::StatusOr<std::unique_ptr<SnpDevice>> OpenLocalDevice(const LocalDeviceOptions& options);

// Selector values describing the local TEE, from a fresh report of `device`: tee:sev-snp and
// the measurement, host data, policy-debug and VMPL selectors. The report is not verified (it
// comes from this machine's own firmware); the workload attestor uses this.
absl::StatusOr<std::vector<std::string>> LocalContextSelectors(SnpDevice& device);

// The claims of a verified report in the normalized vocabulary (claims_vocabulary.h): tee,
// platform, debug, simulated, sev_snp_measurement, sev_snp_host_data, sev_snp_report_id,
// sev_snp_vmpl, sev_snp_guest_svn, sev_snp_signing_key, the REPORTED_TCB components
// (sev_snp_tcb_*), and when set sev_snp_id_key_digest, sev_snp_author_key_digest,
// sev_snp_family_id, sev_snp_image_id, sev_snp_chip_id.
appraisal::Claims NormalizedClaims(const AttestationReport& report, bool simulated);

}  // namespace twi::sevsnp
