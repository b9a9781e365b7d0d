// `twi check-config`: the effective configuration as JSON.
#include "nlohmann/json.hpp"
#include "plugin/config/configs.h"

namespace twi::config {
namespace {

nlohmann::ordered_json CommonJson(const Common& c) {
  return {{"trust_domain", c.trust_domain}, {"log_level", c.log_level}};
}

}  // namespace

absl::StatusOr<std::string> EffectiveConfigJson(std::string_view side, std::string_view hcl,
                                                std::string_view td) {
  nlohmann::ordered_json j;
  std::vector<std::string> warnings;
  if (side == "agent") {
    auto c = BuildAgentConfig(hcl, td);
    if (!c.ok()) return c.status();
    j = CommonJson(*c);
    j["state_dir"] = c->state_dir;
    j["simulate"] = c->simulate;
    j["sev_snp"] = {{"configfs_path", c->snp_configfs_path},
                    {"device_path", c->snp_device_path},
                    {"vmpl", c->snp_vmpl}};
    warnings = c->warnings;
  } else if (side == "server") {
    auto c = BuildServerConfig(hcl, td);
    if (!c.ok()) return c.status();
    j = CommonJson(*c);
    j["agent_path_template"] = c->agent_path_template;
    j["insecure_allow_no_tee"] = c->insecure_allow_no_tee;
    j["insecure_simulation_roots"] = c->insecure_simulation_roots;
    warnings = c->warnings;
  } else if (side == "workload") {
    auto c = BuildWorkloadConfig(hcl, td);
    if (!c.ok()) return c.status();
    j = CommonJson(*c);
    j["proc_root"] = c->proc_root;
    j["hash_executables"] = c->hash_executables;
    j["max_executable_bytes"] = c->max_executable_bytes;
    j["ima_path"] = c->ima_path;
    j["tee_refresh_seconds"] = c->tee_refresh_seconds;
    j["simulate"] = c->simulate;
    j["sev_snp"] = {{"configfs_path", c->snp_configfs_path}, {"device_path", c->snp_device_path}};
    warnings = c->warnings;
  } else {
    return absl::InvalidArgumentError("side must be agent, server or workload");
  }
  j["warnings"] = warnings;
  return j.dump(2);
}

}  // namespace twi::config
