// The TEE this agent runs in, as workload selectors (tee:sev-snp, sev-snp:measurement:...),
// read at Configure and refreshed every tee_refresh_seconds on a background thread, so that
// Attest (the hot path) only copies a cached vector.
//
// These values are the agent's local view of its VM, the same for every process on it and
// not verified per process (issue 15, item 9): they say where a workload runs, never which
// workload it is, so an entry must never rely on them alone. Under `simulate` every value is
// prefixed "simulated-" (tee:simulated-sev-snp, simulated-sev-snp:measurement:...). A TDX guest
// gives tee:tdx and its MRTD, RTMRs, MRCONFIGID and debug bit from a fresh local quote.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <functional>

#include "absl/status/statusor.h"
#include "plugin/config/configs.h"

namespace twi::workload {

class TeeContext {
 public:
  static absl::StatusOr<std::unique_ptr<TeeContext>> Create(const config::WorkloadConfig& cfg);
  ~TeeContext();

  std::vector<std::string> Selectors() const;

 private:
  TeeContext() = default;
  void Refresh();
  std::vector<std::string> Mark(std::vector<std::string> sel) const;
  void Loop(int64_t seconds);

  // Reads the selectors from the local device (owned by the closure).
  std::function<absl::StatusOr<std::vector<std::string>>()> read_;
  std::string device_name_;
  bool simulated_ = false;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::string> selectors_;
  std::thread thread_;
};

}  // namespace twi::workload
