#include "plugin/workload/tee_context.h"

#include "absl/strings/str_join.h"
#include "attestors/core/str.h"
#include "attestors/sevsnp/node.h"
#include "plugin/runtime/log.h"
#if TWI_WITH_TDX  // TDX only when TWI_KINDS has it (cmake/Kinds.cmake)
#include "attestors/tdx/node.h"
#endif

namespace twi::workload {

namespace {

using Reader = std::function<absl::StatusOr<std::vector<std::string>>()>;

// The local TEE's selector reader and device name: TDX first (a TDX guest is never an SEV-SNP
// guest), then SEV-SNP; an empty reader when there is neither. Only the kinds built in
// (TWI_KINDS) are looked for; the config builder refused the others' settings.
absl::StatusOr<std::pair<Reader, std::string>> OpenReader(const config::WorkloadConfig& cfg) {
#if TWI_WITH_TDX
  if (cfg.simulate.empty() || cfg.simulate == "tdx") {
    tdx::LocalTdxOptions o;
    o.simulate = cfg.simulate;
    o.configfs_path = cfg.tdx_configfs_path;
    o.ccel = {"", ""};  // only the quote's fields are used here
    auto device = tdx::OpenLocalTdxDevice(o);
    if (!device.ok()) return device.status();
    if (*device) {
      std::shared_ptr<tdx::TdxDevice> d(*std::move(device));
      std::string name = d->name();
      return std::make_pair(Reader([d] { return tdx::LocalContextSelectors(*d); }), name);
    }
  }
#endif
  if (cfg.simulate.empty() || cfg.simulate == "sev-snp") {
    sevsnp::LocalDeviceOptions o;
    o.simulate = cfg.simulate;
    o.configfs_path = cfg.snp_configfs_path;
    o.device_path = cfg.snp_device_path;
    o.sim_rsa_bits = 2048;  // only the report's fields are used here, never its chain
    auto device = sevsnp::OpenLocalDevice(o);
    if (!device.ok()) return device.status();
    if (*device) {
      std::shared_ptr<sevsnp::SnpDevice> d(*std::move(device));
      std::string name = d->name();
      return std::make_pair(Reader([d] { return sevsnp::LocalContextSelectors(*d); }), name);
    }
  }
  return std::make_pair(Reader(), std::string());
}

}  // namespace

absl::StatusOr<std::unique_ptr<TeeContext>> TeeContext::Create(const config::WorkloadConfig& cfg) {
  std::unique_ptr<TeeContext> t(new TeeContext());
  auto reader = OpenReader(cfg);
  if (!reader.ok()) return reader.status();
  t->read_ = std::move(reader->first);
  t->device_name_ = std::move(reader->second);
  if (!t->read_) {
    log::Info("no TEE device found: workloads get no TEE selectors");
    return t;
  }
  auto sel = t->read_();
  if (!sel.ok()) {
    return absl::FailedPreconditionError(twi::StrCat("reading the TEE context from ", t->device_name_,
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
  // "tee:sev-snp" -> "tee:simulated-sev-snp", "sev-snp:x" -> "simulated-sev-snp:x" (tdx alike): an entry
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
  auto sel = read_();
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
