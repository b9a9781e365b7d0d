// Typed, immutable configurations of the three plugins, each built by one pure function that
// both Configure and Validate call, reporting every problem at once (INVALID_ARGUMENT).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "plugin/config/azure_config.h"
#include "plugin/config/claims_config.h"
#include "plugin/config/keybinding_config.h"
#include "plugin/config/kinds.h"
#include "plugin/config/gcp_config.h"
#include "plugin/config/snp_config.h"
#include "plugin/config/tdx_config.h"
#include "plugin/config/tpm_config.h"
#include "plugin/hcl/hcl.h"

namespace twi::config {

// Fields common to every plugin.
struct Common {
  std::string trust_domain;      // from SPIRE's core configuration
  std::string log_level = "info";
  std::vector<std::string> warnings;  // insecure settings etc., logged at Configure
};

struct AgentConfig : Common {
  std::string state_dir = "/var/lib/twi-attestor/agent";
  std::string simulate;  // "" (real devices), "sev-snp" or "tdx"
  std::string simulate_measurement;  // simulator's launch MEASUREMENT (96 hex), "" = default
  std::string simulate_mrtd;         // simulated TD's MRTD (96 hex), "" = default
  bool simulate_debug_td = false;    // the simulated TD sets TDATTRIBUTES.DEBUG
  // Simulated AMD (sev-snp) or Intel (tdx) hierarchy, "" = state_dir/sim-amd or sim-intel.
  std::string simulation_dir;
  std::string snp_configfs_path = "/sys/kernel/config/tsm/report";
  std::string snp_device_path = "/dev/sev-guest";
  int snp_vmpl = 0;
  std::string tdx_configfs_path = "/sys/kernel/config/tsm/report";
  std::string tdx_ccel_table_path = "/sys/firmware/acpi/tables/CCEL";
  std::string tdx_ccel_data_path = "/sys/firmware/acpi/tables/data/CCEL";
  // The simulation directory in effect for `simulate`.
  std::string EffectiveSimulationDir() const;
  TpmAgentSettings tpm;
  // key_binding.keymanager_socket: bind the twi KeyManager's pending SVID key; "" = unbound.
  std::string keymanager_socket;
  AzureAgentSettings azure;
  GcpAgentSettings gcp;
};

struct ServerConfig : Common {
  std::string agent_path_template = "{instance_key_hash}";
  bool insecure_allow_no_tee = false;
  bool insecure_simulation_roots = false;
  SnpSettings sev_snp;
  TdxSettings tdx;
  TpmServerSettings tpm;  // verified only when the block is present
  AzureServerSettings azure;  // Azure CVMs accepted only when the block is present
  GcpServerSettings gcp;  // verified only when the block is present
  ClaimsSettings claims;  // claims_mapper block and attestation-result keys
  ServerKeyBinding key_binding;  // key_binding block (issue 14)
};

struct WorkloadConfig : Common {
  std::string proc_root = "/proc";
  bool hash_executables = true;
  int64_t max_executable_bytes = int64_t{256} << 20;
  std::string ima_path = "/sys/kernel/security/ima/binary_runtime_measurements";
  std::string proc_sys_root = "/proc/sys";
  int64_t max_concurrent_hashes = 2;
  int64_t hash_timeout_ms = 10000;
  int64_t hash_budget_bytes_per_uid = int64_t{4} << 30;
  int64_t tee_refresh_seconds = 300;
  std::string simulate;  // "", "sev-snp" or "tdx"
  std::string snp_configfs_path = "/sys/kernel/config/tsm/report";
  std::string snp_device_path = "/dev/sev-guest";
  std::string tdx_configfs_path = "/sys/kernel/config/tsm/report";
};

absl::StatusOr<AgentConfig> BuildAgentConfig(std::string_view hcl, std::string_view trust_domain);
// The same builders over an already parsed plugin_data tree (e.g. from an example agent.conf).
// Settings of an evidence kind not in `built` (TWI_KINDS) are problems naming the build; tests
// pass a narrower set than this binary's to see those refusals.
absl::StatusOr<AgentConfig> BuildAgentConfig(const hcl::Value& root, std::string_view trust_domain,
                                             const BuiltKinds& built = kBuiltKinds);
absl::StatusOr<ServerConfig> BuildServerConfig(const hcl::Value& root, std::string_view trust_domain,
                                               const BuiltKinds& built = kBuiltKinds);
absl::StatusOr<WorkloadConfig> BuildWorkloadConfig(const hcl::Value& root, std::string_view trust_domain,
                                                   const BuiltKinds& built = kBuiltKinds);
absl::StatusOr<ServerConfig> BuildServerConfig(std::string_view hcl, std::string_view trust_domain);

absl::StatusOr<WorkloadConfig> BuildWorkloadConfig(std::string_view hcl, std::string_view trust_domain);

// The effective configuration of `side` ("agent", "server", "workload") as indented JSON,
// or the builder's error (for `twi check-config`).
absl::StatusOr<std::string> EffectiveConfigJson(std::string_view side, std::string_view hcl,
                                                std::string_view trust_domain);

// Checks a trust domain name as SPIRE passes it (bare name, no scheme).
bool ValidTrustDomain(std::string_view td);

}  // namespace twi::config
