// Agent-side access to an SEV-SNP guest device: asks the firmware for an ATTESTATION_REPORT over
// caller-chosen REPORT_DATA and returns it with the host-provided certificate table.
//
// Three devices share one interface (spec 1.10):
//   * ConfigfsTsmDevice: Linux configfs-tsm (kernel >= 6.7), the preferred path.
//   * SevGuestDevice: the /dev/sev-guest SNP_GET_EXT_REPORT ioctl, for older kernels. The
//     system calls go through SevGuestIo so tests substitute a fake firmware.
//   * SimulatedSnpDevice: wraps SnpSimulator for demos and CI without hardware.
// OpenSnpDevice picks the first usable one of configfs-tsm and /dev/sev-guest.
//
// What this does not do: parse or verify the report (abi.h, verify.h). The only bytes looked at
// here are the ioctl response header and the certificate table's entry list, to cut the
// page-sized certificate buffer down to what the host filled in.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/tsm/configfs_tsm.h"

namespace twi::sevsnp {

class SnpSimulator;

using ReportData = std::array<uint8_t, 64>;

struct SnpDeviceReport {
  Bytes report;          // the 1184-byte ATTESTATION_REPORT
  Bytes cert_table;      // auxblob / extended-report certificates; may be empty
  std::string provider;  // configfs-tsm "provider" ("sev_guest"), or the device's own label
};

class SnpDevice {
 public:
  virtual ~SnpDevice() = default;
  // "configfs-tsm", "sev-guest", "simulated": for logs and `twi diagnose`.
  virtual std::string name() const = 0;
  // A fresh report for `report_data`, requested at `vmpl` (0-3).
  virtual absl::StatusOr<SnpDeviceReport> GetReport(const ReportData& report_data,
                                                    uint32_t vmpl) = 0;
};

// ---- configfs-tsm (attestors/tsm/configfs_tsm.h) ----

using tsm::ConfigfsTsmOptions;
using tsm::kDefaultTsmRoot;
using tsm::TsmKernelHooks;

class ConfigfsTsmDevice final : public SnpDevice {
 public:
  explicit ConfigfsTsmDevice(ConfigfsTsmOptions options) : tsm_(std::move(options)) {}
  std::string name() const override { return "configfs-tsm"; }
  // mkdir a uniquely named entry, write inblob and privlevel, read generation, outblob,
  // auxblob, provider and generation again; retry on a generation change; rmdir the entry.
  // Errors: NOT_FOUND (no root), FAILED_PRECONDITION (permissions, provider not sev_guest),
  // INVALID_ARGUMENT (vmpl below privlevel_floor), ABORTED (raced on every attempt),
  // UNAVAILABLE (the kernel refused a read or write).
  absl::StatusOr<SnpDeviceReport> GetReport(const ReportData& report_data, uint32_t vmpl) override;
  // The `provider` of a throwaway entry ("sev_guest", "tdx_guest"), without generating a report.
  absl::StatusOr<std::string> Probe() { return tsm_.Probe(); }

 private:
  tsm::ConfigfsTsm tsm_;
};

// ---- /dev/sev-guest ----

// The system calls the ioctl path makes, so tests can fake the firmware. Errors are returned as
// errno values, as the kernel reports them.
class SevGuestIo {
 public:
  virtual ~SevGuestIo() = default;
  // A file descriptor >= 0, or -errno.
  virtual int Open(const std::string& path) = 0;
  // 0, or -errno. `arg` points to the 32-byte snp_guest_request_ioctl.
  virtual int Ioctl(int fd, unsigned long request, void* arg) = 0;
  virtual void Close(int fd) = 0;
};
std::shared_ptr<SevGuestIo> LinuxSevGuestIo();

// Kernel ABI (include/uapi/linux/sev-guest.h), kept here so builds do not need kernel headers
// and tests can play the firmware's part.
inline constexpr unsigned long kSnpGetExtReport = 0xC0205302;  // _IOWR('S', 2, 32 bytes)
inline constexpr uint32_t kSnpVmmErrInvalidLen = 1;
struct SnpGuestRequestIoctl {
  uint8_t msg_version;
  uint64_t req_data;   // -> SnpExtReportReq
  uint64_t resp_data;  // -> SnpReportResp
  uint64_t exitinfo2;  // low 32 bits firmware error, high 32 bits VMM error
};
struct SnpReportReq {
  uint8_t user_data[64];
  uint32_t vmpl;
  uint8_t rsvd[28];
};
struct SnpExtReportReq {
  SnpReportReq data;
  uint64_t certs_address;
  uint32_t certs_len;
};
struct SnpReportResp {
  uint8_t data[4000];  // MSG_REPORT_RSP: status, report_size, reserved, report at 0x20
};
static_assert(sizeof(SnpGuestRequestIoctl) == 32);
static_assert(sizeof(SnpReportReq) == 96);
static_assert(offsetof(SnpExtReportReq, certs_address) == 96);
static_assert(offsetof(SnpExtReportReq, certs_len) == 104);

struct SevGuestOptions {
  std::string path = "/dev/sev-guest";
  std::shared_ptr<SevGuestIo> io;  // null: the real system calls
  // The first certificate buffer; grown to what the firmware asks for, up to the maximum.
  uint32_t initial_certs_len = 4 * 4096;
  uint32_t max_certs_len = 1 << 20;
};

class SevGuestDevice final : public SnpDevice {
 public:
  explicit SevGuestDevice(SevGuestOptions options);
  std::string name() const override { return "sev-guest"; }
  // SNP_GET_EXT_REPORT; when the firmware answers "invalid length" it has written the size it
  // needs into certs_len, and the call is repeated once with a buffer that large.
  absl::StatusOr<SnpDeviceReport> GetReport(const ReportData& report_data, uint32_t vmpl) override;

 private:
  SevGuestOptions options_;
};

// Bytes of a certificate buffer actually used by the table in it: the entry list with its
// terminator and every blob it points to. 0 when the first entry is the terminator (no
// certificates). INVALID_ARGUMENT when entries run past the buffer or no terminator is found.
absl::StatusOr<size_t> CertTableExtent(ByteView buffer);

// ---- simulation ----

class SimulatedSnpDevice final : public SnpDevice {
 public:
  explicit SimulatedSnpDevice(std::shared_ptr<const SnpSimulator> sim) : sim_(std::move(sim)) {}
  std::string name() const override { return "simulated"; }
  absl::StatusOr<SnpDeviceReport> GetReport(const ReportData& report_data, uint32_t vmpl) override;

 private:
  std::shared_ptr<const SnpSimulator> sim_;
};
inline constexpr char kSimulatedProvider[] = "twi_simulated";

// ---- selection ----

struct SnpDeviceOptions {
  ConfigfsTsmOptions configfs;
  SevGuestOptions sev_guest;
};

// configfs-tsm when its root exists and its provider is sev_guest, else /dev/sev-guest when it
// opens. Otherwise NOT_FOUND (nothing there) or FAILED_PRECONDITION (something there but
// unusable, e.g. permission denied or a TDX provider), the message listing every attempt.
absl::StatusOr<std::unique_ptr<SnpDevice>> OpenSnpDevice(const SnpDeviceOptions& options);
bool SnpDevicePresent(const SnpDeviceOptions& options);

}  // namespace twi::sevsnp
