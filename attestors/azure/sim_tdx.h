// A simulated Azure TDX confidential VM, for tests, demos and CI: the paravisor's HCL report
// (runtime claims naming the vTPM AK as HCLAkPub, REPORTDATA binding them, the TDREPORT), the
// host's quoting service (the TD quote of a TDREPORT, by the TDX simulator, tdx/sim.h), and a
// software vTPM AK that quotes given PCR values.
//
// The TDREPORT and the TD quote carry the same fields (the TDX simulator's body for that
// REPORTDATA). What this does not do: compute a real MAC (the simulated quoting service, unlike
// Intel's QE, does not check one; it is a fixed label hash) or measure anything.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "attestors/azure/hcl_builder.h"
#include "attestors/tdx/sim.h"
#include "attestors/tpm/verify.h"

namespace twi::azure {

struct AzureTdxSimOptions {
  tdx::SimOptions tdx;
  std::string vm_id = "6C1E3F5A-2B7D-4E19-9C0A-7D3B5E8F1A24";
};

class AzureTdxSimulator {
 public:
  static absl::StatusOr<std::unique_ptr<AzureTdxSimulator>> Create(AzureTdxSimOptions options);

  // The runtime claims (`ak` as HCLAkPub, the VM id), their TDREPORT and the HCL report
  // wrapping both (not padded to Azure's 2600-byte index: a swtpm's NV indices hold at most
  // 2048 bytes).
  struct Hcl {
    std::string runtime_claims;
    Bytes td_report;
    Bytes hcl_report;
  };
  absl::StatusOr<Hcl> HclReport(const JwkSpec& ak) const;

  // What Azure's host quoting service (IMDS /acc/tdquote) returns for a TDREPORT: a TD quote
  // carrying its fields. INVALID_ARGUMENT when it is not a TDREPORT.
  absl::StatusOr<Bytes> QuoteTdReport(ByteView td_report) const;

  const tdx::TdxSimulator& tdx() const { return *tdx_; }
  const AzureTdxSimOptions& options() const { return options_; }

 private:
  AzureTdxSimOptions options_;
  std::unique_ptr<tdx::TdxSimulator> tdx_;
};

// Provisions the vTPM at `tcti` (a swtpm) as the simulated Azure TDX CVM's: the AK at
// 0x81000003 (made under the EK, kept when already there) and the HCL report naming it in NV
// 0x01400001 (sim.h WriteOwnerNv). The returned TDREPORT is what a fake IMDS must quote.
absl::StatusOr<AzureTdxSimulator::Hcl> ProvisionSimAzureTdxVm(const std::string& tcti,
                                                             const AzureTdxSimulator& sim);

// A vTPM attestation key in software (RSA-2048, RSASSA-SHA256), quoting the PCR values it is
// given: for tests and tools where no TPM runs (the e2e tests use swtpm).
class SoftwareAk {
 public:
  static absl::StatusOr<SoftwareAk> Create();
  // As the runtime claims carry it: kid HCLAkPub, key_ops ["sign"].
  absl::StatusOr<JwkSpec> Jwk() const;
  EVP_PKEY* key() const { return key_.get(); }
  // TPMS_ATTEST (quote of every PCR in `pcrs`, extraData = nonce) and its TPMT_SIGNATURE.
  absl::StatusOr<std::pair<Bytes, Bytes>> Quote(const tpm::PcrBanks& pcrs, ByteView nonce) const;

 private:
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace twi::azure
