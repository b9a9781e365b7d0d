// Linux configfs-tsm (kernel >= 6.7, Documentation/ABI/testing/configfs-tsm): the one report
// interface SEV-SNP and TDX guests share. A report is an entry directory under the root: write
// `inblob` (the 64 report-data bytes) and, for SEV-SNP, `privlevel`; read `outblob` (the
// provider's report or quote), `auxblob` (SEV-SNP certificates) and `provider`; `generation`
// read before and after detects another writer racing on the same entry.
//
// What this does not do: know any TEE's report format. Callers (sevsnp/collect.h,
// tdx/collect.h) name the provider they want and check the outblob themselves.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"

namespace twi::tsm {

inline constexpr char kDefaultTsmRoot[] = "/sys/kernel/config/tsm/report";

// What the kernel does by itself inside a configfs-tsm entry (creating attribute files, bumping
// `generation` on writes, producing `outblob` when it is read, dropping the files on rmdir).
// Production code leaves it unset; tests implement it to run the real file protocol over an
// ordinary temporary directory.
class TsmKernelHooks {
 public:
  virtual ~TsmKernelHooks() = default;
  virtual void Created(const std::string& entry_dir) {}
  virtual void Written(const std::string& entry_dir, std::string_view attribute) {}
  virtual void Reading(const std::string& entry_dir, std::string_view attribute) {}
  virtual void Removing(const std::string& entry_dir) {}
};

struct ConfigfsTsmOptions {
  std::string root = kDefaultTsmRoot;
  // Attempts when `generation` changes under us (another writer raced on the entry).
  int max_attempts = 3;
  std::shared_ptr<TsmKernelHooks> kernel;  // tests only
};

struct TsmRequest {
  ByteView inblob;                    // the report data
  std::optional<uint32_t> privlevel;  // SEV-SNP's VMPL; TDX has no privilege levels
  std::string_view provider;          // the provider the caller can use: "sev_guest", "tdx_guest"
};

struct TsmReport {
  Bytes outblob;
  Bytes auxblob;  // empty when the provider (or kernel) has none
  std::string provider;
};

class ConfigfsTsm {
 public:
  explicit ConfigfsTsm(ConfigfsTsmOptions options) : options_(std::move(options)) {}
  // mkdir a uniquely named entry, write inblob (and privlevel), read generation, outblob,
  // auxblob, provider and generation again; retry on a generation change; rmdir the entry.
  // Errors: NOT_FOUND (no root), FAILED_PRECONDITION (permissions, another provider),
  // INVALID_ARGUMENT (privlevel below privlevel_floor), ABORTED (raced on every attempt),
  // UNAVAILABLE (the kernel refused a read or write).
  absl::StatusOr<TsmReport> GetReport(const TsmRequest& request);
  // The `provider` of a throwaway entry ("sev_guest", "tdx_guest"), without generating a report.
  absl::StatusOr<std::string> Probe();
  const std::string& root() const { return options_.root; }

 private:
  absl::StatusOr<std::string> CreateEntry();
  void RemoveEntry(const std::string& entry);

  ConfigfsTsmOptions options_;
};

// True when `root` is a directory (configfs mounted and the tsm report interface built in).
bool TsmRootPresent(const std::string& root);

// Maps an errno from a device operation: missing -> NOT_FOUND, not allowed ->
// FAILED_PRECONDITION (the agent needs more privileges), anything else -> UNAVAILABLE.
absl::Status ErrnoStatus(int err, const std::string& what);

}  // namespace twi::tsm
