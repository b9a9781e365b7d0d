// Agent side of an Azure confidential VM: what the paravisor's vTPM holds, read through the TPM
// layer (tpm/collect.h, a TCTI string). Shared by SEV-SNP and TDX CVMs: the HCL report (NV
// 0x01400001, owner-read, read in chunks of the TPM's NV buffer), the AK the paravisor made
// (persistent 0x81000003) and its certificate when Azure provisioned one (NV 0x01C101D0), one
// quote per configured PCR bank by that AK over the caller's qualifying data, and the TCG event
// log when the VM exposes it. Evidence formats: spec/evidence-formats.md section 4.
//
// What this does not do: anything with the hardware report's VCEK (thim.h) or TD quote, or
// create keys: on Azure the AK is the paravisor's, so a TPM without it is not an Azure CVM.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/tpm/collect.h"
#include "twi/v1/attestation.pb.h"

namespace twi::azure {

inline constexpr uint32_t kHclReportNvIndex = 0x01400001;
inline constexpr uint32_t kAkHandle = 0x81000003;
inline constexpr uint32_t kAkCertNvIndex = 0x01C101D0;

struct VtpmOptions {
  std::string tcti = tpm::kDefaultTcti;
  std::vector<tpm::PcrBankSelection> banks;  // one quote per bank; at least one
  std::string event_log_path = tpm::kDefaultEventLogPath;  // "" = never send a log
  std::string owner_auth = "";  // the HCL report index is owner-read; empty on Azure
  uint16_t nv_chunk_size = 0;   // 0: the TPM's TPM_PT_NV_BUFFER_MAX (tests set it small)
};

// One Azure vTPM connection. Not thread-safe (callers serialize, as for TpmCollector).
class AzureVtpm {
 public:
  // UNAVAILABLE when no TPM answers at the TCTI; NOT_FOUND naming what is missing when the TPM
  // has no HCL report index or no AK at 0x81000003 (not an Azure CVM); FAILED_PRECONDITION
  // when the handle holds something other than a restricted signing key.
  static absl::StatusOr<std::unique_ptr<AzureVtpm>> Open(VtpmOptions options);

  const VtpmOptions& options() const { return options_; }
  // The AK's TPMT_PUBLIC and its certificate (empty when NV 0x01C101D0 is not defined).
  const tpm::TpmKeyInfo& ak() const { return ak_; }
  // The HCL report as stored (the paravisor pads the index; the parser ignores the tail).
  absl::StatusOr<Bytes> ReadHclReport();
  // Quotes (one per bank) over `qualifying_data` with the AK.
  absl::StatusOr<std::vector<tpm::TpmQuote>> Quotes(ByteView qualifying_data);
  // hcl_report, ak_public, ak_certificate, quotes and event_log of `out`.
  absl::Status Collect(ByteView qualifying_data, twi::v1::AzureEvidence* out);

  tpm::TpmCollector& tpm() { return *tpm_; }

 private:
  AzureVtpm(VtpmOptions options, std::unique_ptr<tpm::TpmCollector> tpm, tpm::TpmKeyInfo ak)
      : options_(std::move(options)), tpm_(std::move(tpm)), ak_(std::move(ak)) {}

  VtpmOptions options_;
  std::unique_ptr<tpm::TpmCollector> tpm_;
  tpm::TpmKeyInfo ak_;
};

}  // namespace twi::azure
