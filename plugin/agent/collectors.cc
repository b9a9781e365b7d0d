#include "plugin/agent/collectors.h"

#include "attestors/sevsnp/node.h"
#include "plugin/runtime/log.h"

namespace twi::agent {

absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceCollector>>> MakeCollectors(
    const config::AgentConfig& cfg) {
  std::vector<std::unique_ptr<appraisal::EvidenceCollector>> out;
  sevsnp::LocalDeviceOptions o;
  o.simulate = cfg.simulate;
  o.configfs_path = cfg.snp_configfs_path;
  o.device_path = cfg.snp_device_path;
  o.sim_dir = cfg.simulation_dir.empty() ? cfg.state_dir + "/sim-amd" : cfg.simulation_dir;
  if (!cfg.simulate_measurement.empty()) {
    auto m = HexDecode(cfg.simulate_measurement);  // checked by the config builder
    if (m.ok()) o.sim_measurement = *std::move(m);
  }
  auto device = sevsnp::OpenLocalDevice(o);
  if (!device.ok()) return device.status();
  if (*device) {
    log::Info("SEV-SNP evidence available", {{"device", (*device)->name()}});
    out.push_back(std::make_unique<sevsnp::SnpCollector>(*std::move(device), cfg.snp_vmpl));
  } else {
    log::Info("no TEE device found (tried configfs-tsm and /dev/sev-guest)",
              {{"configfs_path", cfg.snp_configfs_path}, {"device_path", cfg.snp_device_path}});
  }
  return out;
}

}  // namespace twi::agent
