#include "plugin/workload/tee_context.h"

#include "absl/strings/str_join.h"
#include "attestors/core/str.h"
#include "attestors/sevsnp/node.h"
#include "plugin/runtime/log.h"

namespace twi::workload {

absl::StatusOr<std::unique_ptr<TeeContext>> TeeContext::Create(const config::WorkloadConfig& cfg) {
  std::unique_ptr<TeeContext> t(new TeeContext());
  sevsnp::LocalDeviceOptions o;
  o.simulate = cfg.simulate;
  o.configfs_path = cfg.snp_configfs_path;
  o.device_path = cfg.snp_device_path;
  o.sim_rsa_bits = 2048;  // only the report's fields are used here, never its chain
  auto device = sevsnp::OpenLocalDevice(o);
  if (!device.ok()) return device.status();
  t->device_ = *std::move(device);
  if (!t->device_) {
    log::Info("no TEE device found: workloads get no TEE selectors");
    return t;
  }
  auto sel = sevsnp::LocalContextSelectors(*t->device_);
  if (!sel.ok()) {
    return absl::FailedPreconditionError(twi::StrCat("reading the TEE context from ", t->device_->name(),
                                                     ": ", sel.status().message()));
  }
  t->simulated_ = !cfg.simulate.empty();
  t->selectors_ = t->Mark(*std::move(sel));
  if (cfg.tee_refresh_seconds > 0) {
    t->thread_ = std::thread(&TeeContext::Loop, t.get(), cfg.tee_refresh_seconds);
  }
  return t;
}

TeeContext::~TeeContext() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> TeeContext::Selectors() const {
  std::lock_guard<std::mutex> l(mu_);
  return selectors_;
}

void TeeContext::Loop(int64_t seconds) {
  std::unique_lock<std::mutex> l(mu_);
  while (!cv_.wait_for(l, std::chrono::seconds(seconds), [&] { return stop_; })) {
    l.unlock();
    Refresh();
    l.lock();
  }
}

std::vector<std::string> TeeContext::Mark(std::vector<std::string> sel) const {
  if (!simulated_) return sel;
  // "tee:sev-snp" -> "tee:simulated-sev-snp", "sev-snp:x" -> "simulated-sev-snp:x": an entry
  // written for real hardware can never match a simulated agent.
  for (std::string& s : sel) {
    if (s.rfind("tee:", 0) == 0) {
      s.insert(4, "simulated-");
    } else {
      s.insert(0, "simulated-");
    }
  }
  return sel;
}

void TeeContext::Refresh() {
  auto sel = sevsnp::LocalContextSelectors(*device_);
  if (sel.ok()) sel = Mark(*std::move(sel));
  std::lock_guard<std::mutex> l(mu_);
  if (!sel.ok()) {
    // Fail closed: a TEE context that can no longer be read is not claimed.
    log::Error("reading the TEE context failed; TEE selectors withdrawn",
               {{"error", std::string(sel.status().message())}});
    selectors_.clear();
    return;
  }
  if (*sel != selectors_) {
    log::Warn("TEE context changed", {{"selectors", absl::StrJoin(*sel, ",")}});
  }
  selectors_ = *std::move(sel);
}

}  // namespace twi::workload
