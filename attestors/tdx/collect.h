// Agent-side access to a TDX guest: a DCAP quote over caller-chosen REPORTDATA, and the TD's CC
// event log (CCEL) when the firmware published one.
//
// Devices share one interface:
//   * ConfigfsTdxDevice: Linux configfs-tsm with provider "tdx_guest" (kernel >= 6.7); the
//     outblob is the quote (the kernel asks the host's quoting service for it). TDX has no
//     privilege levels, so `privlevel` is never written.
//   * SimulatedTdxDevice: wraps TdxSimulator for demos and CI without hardware.
// The legacy /dev/tdx_guest ioctl path is not implemented: configfs-tsm is the interface on
// every kernel that can produce v4/v5 quotes through the host's QGS.
//
// What this does not do: parse or verify the quote (abi.h, verify.h) or the event log
// (ccel.h). The only check here is that the outblob is long enough to be a quote header.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/tsm/configfs_tsm.h"

namespace twi::tdx {

class TdxSimulator;

using ReportData = std::array<uint8_t, 64>;

struct TdxDeviceQuote {
  Bytes quote;
  std::string provider;  // "tdx_guest", or kSimulatedProvider
};

class TdxDevice {
 public:
  virtual ~TdxDevice() = default;
  // "configfs-tsm", "simulated": for logs.
  virtual std::string name() const = 0;
  virtual absl::StatusOr<TdxDeviceQuote> GetQuote(const ReportData& report_data) = 0;
};

class ConfigfsTdxDevice final : public TdxDevice {
 public:
  explicit ConfigfsTdxDevice(tsm::ConfigfsTsmOptions options) : tsm_(std::move(options)) {}
  std::string name() const override { return "configfs-tsm"; }
  // Errors as tsm::ConfigfsTsm::GetReport; INTERNAL when the outblob is shorter than a quote
  // header (the kernel or the host's quoting service returned no quote).
  absl::StatusOr<TdxDeviceQuote> GetQuote(const ReportData& report_data) override;

 private:
  tsm::ConfigfsTsm tsm_;
};

inline constexpr char kSimulatedProvider[] = "twi_simulated";

class SimulatedTdxDevice final : public TdxDevice {
 public:
  explicit SimulatedTdxDevice(std::shared_ptr<const TdxSimulator> sim) : sim_(std::move(sim)) {}
  std::string name() const override { return "simulated"; }
  absl::StatusOr<TdxDeviceQuote> GetQuote(const ReportData& report_data) override;

 private:
  std::shared_ptr<const TdxSimulator> sim_;
};

// configfs-tsm when its root exists and its provider is tdx_guest. NOT_FOUND when there is no
// root or another TEE's provider (this is not a TDX guest); FAILED_PRECONDITION when the root
// exists but cannot be used (e.g. permission denied).
absl::StatusOr<std::unique_ptr<TdxDevice>> OpenTdxDevice(const tsm::ConfigfsTsmOptions& options);

// ---- CC event log ----

inline constexpr char kDefaultCcelTablePath[] = "/sys/firmware/acpi/tables/CCEL";
inline constexpr char kDefaultCcelDataPath[] = "/sys/firmware/acpi/tables/data/CCEL";
// The log area is 64 KiB on current firmware (256 KiB seen); anything past this is refused
// rather than buffered.
inline constexpr size_t kMaxCcelBytes = 4 << 20;

struct CcelPaths {
  std::string table = kDefaultCcelTablePath;
  std::string data = kDefaultCcelDataPath;
};

struct CcelFiles {
  Bytes table;  // both empty when the TD publishes no CCEL
  Bytes data;
  bool present() const { return !table.empty(); }
};

// Both files, or neither when the table does not exist (firmware without CCEL). A table
// without its log area, an unreadable file, or a file over kMaxCcelBytes is an error
// (FAILED_PRECONDITION naming the path): sending half a log would only earn a refusal.
absl::StatusOr<CcelFiles> ReadCcel(const CcelPaths& paths);

}  // namespace twi::tdx
