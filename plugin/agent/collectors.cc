#include "plugin/agent/collectors.h"

#include "attestors/sevsnp/node.h"
#include "attestors/tdx/node.h"
#include "plugin/runtime/log.h"

namespace twi::agent {
namespace {

// A TDX guest is never an SEV-SNP guest: when TDX is offered, SEV-SNP is not looked for (its
// probe would find configfs-tsm with the tdx_guest provider and call it unusable).
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> TdxCollector(
    const config::AgentConfig& cfg) {
  if (!cfg.simulate.empty() && cfg.simulate != "tdx") return nullptr;
  tdx::LocalTdxOptions o;
  o.simulate = cfg.simulate;
  o.configfs_path = cfg.tdx_configfs_path;
  o.ccel.table = cfg.tdx_ccel_table_path;
  o.ccel.data = cfg.tdx_ccel_data_path;
  o.sim_dir = cfg.EffectiveSimulationDir();
  o.sim_debug = cfg.simulate_debug_td;
  if (!cfg.simulate_mrtd.empty()) {
    auto m = HexDecode(cfg.simulate_mrtd);  // checked by the config builder
    if (m.ok() && m->size() == 48) {
      o.sim_mrtd.emplace();
      std::copy(m->begin(), m->end(), o.sim_mrtd->begin());
    }
  }
  auto device = tdx::OpenLocalTdxDevice(o);
  if (!device.ok()) return device.status();
  if (!*device) return nullptr;
  log::Info("TDX evidence available", {{"device", (*device)->name()}});
  return std::make_unique<tdx::TdxCollector>(*std::move(device), o.ccel);
}

absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> SnpCollector(
    const config::AgentConfig& cfg) {
  if (!cfg.simulate.empty() && cfg.simulate != "sev-snp") return nullptr;
  sevsnp::LocalDeviceOptions o;
  o.simulate = cfg.simulate;
  o.configfs_path = cfg.snp_configfs_path;
  o.device_path = cfg.snp_device_path;
  o.sim_dir = cfg.EffectiveSimulationDir();
  if (!cfg.simulate_measurement.empty()) {
    auto m = HexDecode(cfg.simulate_measurement);  // checked by the config builder
    if (m.ok()) o.sim_measurement = *std::move(m);
  }
  auto device = sevsnp::OpenLocalDevice(o);
  if (!device.ok()) return device.status();
  if (!*device) return nullptr;
  log::Info("SEV-SNP evidence available", {{"device", (*device)->name()}});
  return std::make_unique<sevsnp::SnpCollector>(*std::move(device), cfg.snp_vmpl);
}

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceCollector>>> MakeCollectors(
    const config::AgentConfig& cfg) {
  std::vector<std::unique_ptr<appraisal::EvidenceCollector>> out;
  auto tdx = TdxCollector(cfg);
  if (!tdx.ok()) return tdx.status();
  if (*tdx) {
    out.push_back(*std::move(tdx));
    return out;
  }
  auto snp = SnpCollector(cfg);
  if (!snp.ok()) return snp.status();
  if (*snp) {
    out.push_back(*std::move(snp));
  } else {
    log::Info("no TEE device found (tried configfs-tsm for tdx_guest and sev_guest, and /dev/sev-guest)",
              {{"configfs_path", cfg.snp_configfs_path}, {"device_path", cfg.snp_device_path}});
  }
  return out;
}

}  // namespace twi::agent
