// The TEE this agent runs in, as workload selectors (tee:sev-snp, sev-snp:measurement:...),
// read at Configure and refreshed every tee_refresh_seconds on a background thread, so that
// Attest (the hot path) only copies a cached vector.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/sevsnp/collect.h"
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
  void Loop(int64_t seconds);

  std::unique_ptr<sevsnp::SnpDevice> device_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::string> selectors_;
  std::thread thread_;
};

}  // namespace twi::workload
