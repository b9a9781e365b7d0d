#include "attestors/core/str.h"
#include "plugin/config/schema.h"

#include <array>

namespace twi::config {
namespace {

constexpr KeyDoc kLogLevel{"log_level", "string", "\"info\"", "\"debug\"",
                           "Log level of the plugin's stderr log: trace, debug, info, warn or error."};

constexpr std::array kAgent = {
    kLogLevel,
    KeyDoc{"state_dir", "string", "\"/var/lib/twi-attestor/agent\"", "\"/var/lib/spire/agent/twi\"",
           "Directory for the agent's instance key (created 0700; the key file is 0600 and reused "
           "across restarts)."},
    KeyDoc{"simulate", "string", "\"\"", "\"sev-snp\"",
           "Use a software TEE instead of the device: \"sev-snp\". For demos and tests; the server "
           "refuses simulated evidence unless insecure_simulation_roots = true."},
    KeyDoc{"sev_snp.configfs_path", "string", "\"/sys/kernel/config/tsm/report\"",
           "\"/sys/kernel/config/tsm/report\"", "configfs-tsm report directory (tried first)."},
    KeyDoc{"sev_snp.device_path", "string", "\"/dev/sev-guest\"", "\"/dev/sev-guest\"",
           "sev-guest device for the extended-report ioctl (fallback)."},
    KeyDoc{"sev_snp.vmpl", "integer", "0", "0", "VMPL requested for the report (0-3)."},
};

constexpr std::array kServer = {
    kLogLevel,
    KeyDoc{"agent_path_template", "string", "\"{instance_key_hash}\"",
           "\"{instance_key_hash}\"",
           "Suffix of the agent ID after spiffe://<trust domain>/spire/agent/twi/. Placeholders: "
           "{instance_key_hash}, {sev_snp.chip_id}, {sev_snp.measurement}, {sev_snp.host_data}, "
           "{sev_snp.report_id}."},
    KeyDoc{"insecure_allow_no_tee", "bool", "false", "false",
           "Accept agents that present no TEE evidence (instance key only). Proves nothing about "
           "the machine: for development only."},
    KeyDoc{"insecure_simulation_roots", "bool", "false", "false",
           "Trust the software simulator's roots (evidence from `simulate` agents). Never in "
           "production."},
};

constexpr std::array kWorkload = {
    kLogLevel,
    KeyDoc{"proc_root", "string", "\"/proc\"", "\"/proc\"",
           "procfs mount to read processes from (the host's /proc when the agent runs in a "
           "container with hostPID)."},
    KeyDoc{"hash_executables", "bool", "true", "true",
           "Emit sha256:<hex> of each workload's executable (read through /proc/<pid>/exe, cached "
           "by device, inode, size, mtime and ctime)."},
    KeyDoc{"max_executable_bytes", "integer", "268435456", "268435456",
           "Executables larger than this get no sha256 selector."},
    KeyDoc{"ima_path", "string", "\"/sys/kernel/security/ima/ascii_runtime_measurements\"",
           "\"/sys/kernel/security/ima/ascii_runtime_measurements\"",
           "IMA measurement list for ima:measured selectors; \"\" disables them."},
    KeyDoc{"tee_refresh_seconds", "integer", "300", "300",
           "How often the TEE context (tee: and measurement selectors) is re-read; 0 = only at "
           "Configure."},
    KeyDoc{"simulate", "string", "\"\"", "\"sev-snp\"",
           "Read the TEE context from the software simulator instead of the device."},
    KeyDoc{"sev_snp.configfs_path", "string", "\"/sys/kernel/config/tsm/report\"",
           "\"/sys/kernel/config/tsm/report\"", "configfs-tsm report directory (tried first)."},
    KeyDoc{"sev_snp.device_path", "string", "\"/dev/sev-guest\"", "\"/dev/sev-guest\"",
           "sev-guest device (fallback)."},
};

}  // namespace

std::span<const KeyDoc> AgentSchema() { return kAgent; }
std::span<const KeyDoc> ServerSchema() { return kServer; }
std::span<const KeyDoc> WorkloadSchema() { return kWorkload; }

}  // namespace twi::config
