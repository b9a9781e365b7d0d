#include "attestors/tdx/collect.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "attestors/core/file.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tdx/abi.h"
#include "attestors/tdx/sim.h"

namespace twi::tdx {

absl::StatusOr<TdxDeviceQuote> ConfigfsTdxDevice::GetQuote(const ReportData& report_data) {
  TWI_ASSIGN_OR_RETURN(tsm::TsmReport r,
                       tsm_.GetReport({ByteView(report_data), std::nullopt, "tdx_guest"}));
  if (r.outblob.size() < kHeaderSize) {
    return absl::InternalError(StrCat("configfs-tsm: outblob has ", r.outblob.size(),
                                      " bytes, want a quote (at least ", kHeaderSize, ")"));
  }
  return TdxDeviceQuote{std::move(r.outblob), std::move(r.provider)};
}

absl::StatusOr<TdxDeviceQuote> SimulatedTdxDevice::GetQuote(const ReportData& report_data) {
  TWI_ASSIGN_OR_RETURN(Bytes quote, sim_->GetQuote(ByteView(report_data)));
  return TdxDeviceQuote{std::move(quote), kSimulatedProvider};
}

absl::StatusOr<std::unique_ptr<TdxDevice>> OpenTdxDevice(const tsm::ConfigfsTsmOptions& options) {
  if (!tsm::TsmRootPresent(options.root)) {
    return absl::NotFoundError(StrCat("configfs-tsm at ", options.root, ": not present"));
  }
  auto device = std::make_unique<ConfigfsTdxDevice>(options);
  tsm::ConfigfsTsm probe(options);
  TWI_ASSIGN_OR_RETURN(std::string provider, probe.Probe());
  if (provider != "tdx_guest") {
    return absl::NotFoundError(StrCat("configfs-tsm at ", options.root, ": provider is \"",
                                      provider.substr(0, 64), "\", not \"tdx_guest\""));
  }
  return std::unique_ptr<TdxDevice>(std::move(device));
}

namespace {

// 0 and the bytes, or the errno; files over kMaxCcelBytes are E2BIG.
int ReadBounded(const std::string& path, Bytes* out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return errno;
  // sysfs reports the ACPI tables' real sizes, so the bound is checked before reading.
  if (st.st_size > static_cast<off_t>(kMaxCcelBytes)) return E2BIG;
  int err = ReadFileErrno(path, out);
  if (err == 0 && out->size() > kMaxCcelBytes) return E2BIG;
  return err;
}

}  // namespace

absl::StatusOr<CcelFiles> ReadCcel(const CcelPaths& paths) {
  CcelFiles out;
  int err = ReadBounded(paths.table, &out.table);
  if (err == ENOENT) return CcelFiles{};
  auto failed = [](int e, const std::string& path) {
    return absl::FailedPreconditionError(
        StrCat("ccel: reading ", path, ": ",
               e == E2BIG ? StrCat("larger than ", kMaxCcelBytes, " bytes") : std::strerror(e)));
  };
  if (err != 0) return failed(err, paths.table);
  err = ReadBounded(paths.data, &out.data);
  if (err != 0) return failed(err, paths.data);
  if (out.table.empty()) return absl::FailedPreconditionError(StrCat("ccel: ", paths.table, " is empty"));
  return out;
}

}  // namespace twi::tdx
