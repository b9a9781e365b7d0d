// A simulated Azure confidential VM on a software TPM (swtpm), for tests, demos and
// `twi sim azure`: what Azure's paravisor (HCL) provisions in a CVM's vTPM, made with the
// SEV-SNP simulator (sevsnp/sim.h) instead of AMD firmware.
//
//   AK         RSA-2048 RSASSA-SHA256 restricted signing key (as Azure's), persisted at
//              0x81000003 (made under the EK by the TPM layer; kept when already there)
//   claims     runtime-claims JSON: the AK as the `HCLAkPub` JWK, `vm-configuration` with
//              `vmUniqueId`
//   HCL report an SNP report signed by the simulator at VMPL 0 whose REPORT_DATA is
//              SHA-256(claims) || 32 zero bytes, wrapped as spec 4.1 lays out, written to NV
//              0x01400001 (owner read/write)
//   VCEK, ASK  the simulator's VCEK and ASK (DER), in NV kSimVcekNvIndex and kSimAskNvIndex: the
//              simulated host's stand-in for THIM (which serves both), since a simulated VCEK
//              exists nowhere else
//
// Evidence from such a vTPM is marked simulated; a server accepts it only with
// insecure_simulation_roots and the simulator's ark.pem pinned in sev_snp.extra_roots.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/sevsnp/sim.h"

namespace twi::azure {

// Not an Azure index: where the simulated host keeps the VCEK (a real one serves it by THIM).
inline constexpr uint32_t kSimVcekNvIndex = 0x0140FF01;
inline constexpr uint32_t kSimAskNvIndex = 0x0140FF02;

struct SimAzureOptions {
  // The simulated AMD hierarchy (e.g. SimHierarchy::Create with the agent's simulation_dir);
  // null: SharedForTests (RSA-2048, in memory).
  std::shared_ptr<const sevsnp::SimHierarchy> hierarchy;
  std::string vm_id = "00000000-0000-4000-8000-00000000a2e0";
  std::optional<Bytes> measurement;  // 48 bytes; default the simulator's
  uint32_t vmpl = 0;                 // the paravisor asks at VMPL 0; tests set others
  uint64_t policy = 0x3001F;         // Azure's CVM policy (debug off)
  const Clock* clock = nullptr;
};

struct SimAzureVm {
  Bytes hcl_report;
  Bytes runtime_claims;
  Bytes vcek;       // DER
  Bytes ask;        // DER
  Bytes ak_public;  // TPMT_PUBLIC
};

// Runtime-claims JSON with `ak_public` (an RSA TPMT_PUBLIC) as the HCLAkPub JWK.
absl::StatusOr<Bytes> SimRuntimeClaims(ByteView ak_public, const std::string& vm_id);

// Provisions the vTPM at `tcti` as described above (the AK is reused when present, the NV
// indices are (re)defined) and returns what it wrote.
absl::StatusOr<SimAzureVm> ProvisionSimAzureVm(const std::string& tcti,
                                               const SimAzureOptions& options);

// Replaces the contents of owner-authorized NV index `index` with `data` (defines it at that
// size, undefining an existing one first). Tests use it to swap the HCL report.
absl::Status WriteOwnerNv(const std::string& tcti, uint32_t index, ByteView data);

}  // namespace twi::azure
