#include "attestors/core/str.h"
#include "plugin/config/configs.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "attestors/appraisal/agent_id.h"
#include "attestors/core/bytes.h"
#include "plugin/config/keymanager_config.h"
#include "plugin/config/reader.h"

namespace twi::config {
namespace {

constexpr std::array<std::string_view, 5> kLogLevels = {"trace", "debug", "info", "warn", "error"};

void ReadCommon(Reader& r, std::string_view trust_domain, Common* c) {
  if (!ValidTrustDomain(trust_domain)) {
    r.problems()->Add(twi::StrCat("trust domain \"", trust_domain,
                                   "\" is not valid (SPIRE passes a bare name such as example.org)"));
  }
  c->trust_domain = std::string(trust_domain);
  if (auto v = r.String("log_level")) {
    if (std::find(kLogLevels.begin(), kLogLevels.end(), *v) == kLogLevels.end()) {
      r.Problem("log_level", twi::StrCat("\"log_level\" must be one of trace, debug, info, warn, error; got \"",
                                     *v, "\""));
    } else {
      c->log_level = *v;
    }
  }
}

// Defaults that accept more than most deployments want. They stay open so a first setup
// works, but Configure and Validate say so (README "Open defaults").
void AddOpenDefaultWarnings(const SnpSettings& s, std::vector<std::string>* warnings) {
  const sevsnp::SnpPolicy& p = s.policy;
  if (p.measurements.empty() && p.host_data.empty() && p.id_key_digests.empty()) {
    warnings->push_back(
        "sev_snp: no measurements, host_data or id_key_digests allow-list is set: any genuine "
        "SEV-SNP guest of any cloud tenant is accepted (registration entries must then select "
        "on sev-snp:measurement); pin the images you run");
  }
  if (p.min_tcb.empty()) {
    warnings->push_back(
        "sev_snp.min_tcb is not set: reports at any TCB are accepted, including firmware and "
        "microcode with known vulnerabilities; set the minimum your fleet runs");
  }
  for (const auto& f : s.extra_root_files) {
    warnings->push_back(twi::StrCat(
        "sev_snp.extra_roots: \"", f.Entry(), "\" is trusted besides AMD's roots, for the product "
        "its ARK names and ", f.key == sevsnp::SigningKey::kVlek ? "vlek" : "vcek",
        "-signed evidence only; evidence it verifies carries the selector sev-snp:root:extra"));
  }
}

void AddOpenDefaultWarnings(const TdxSettings& s, std::vector<std::string>* warnings) {
  if (s.policy.pins_nothing()) {
    warnings->push_back(
        "tdx: no mrtd or rtmr0-3 allow-list is set: any genuine TD of any cloud tenant is "
        "accepted (registration entries must then select on tdx:mrtd); pin the images you run");
  }
  for (const auto& f : s.extra_root_files) {
    warnings->push_back(twi::StrCat(
        "tdx.extra_roots: \"", f, "\" is trusted besides the Intel SGX Root CA, for simulated "
        "evidence only (insecure_simulation_roots); evidence it verifies carries the selector "
        "tdx:root:extra"));
  }
}

// TEE device settings shared by the agent and workload plugins.
struct TeeDevices {
  std::string* simulate;
  std::string* snp_configfs;
  std::string* snp_device;
  int* vmpl;  // agent only
  std::string* tdx_configfs;
  std::string* ccel_table;  // agent only
  std::string* ccel_data;   // agent only
};

// simulate_measurement / simulate_mrtd: the simulated guest's launch measurement (SEV-SNP) or
// MRTD (TDX), 48 bytes, so demos and tests can show an image update.
void ReadSimulatedImage(Reader& r, std::string_view key, std::string_view kind,
                        const std::string& simulate, std::string* out,
                        std::vector<std::string>* warnings) {
  auto v = r.String(key);
  if (!v) return;
  auto b = HexDecode(*v);
  if (!b.ok() || b->size() != 48) {
    r.Problem(key, twi::StrCat("\"", key, "\" must be 96 hex digits, got \"", v->substr(0, 100), "\""));
  } else if (simulate != kind) {
    warnings->push_back(twi::StrCat(key, " has no effect without simulate = \"", kind, "\""));
  } else {
    *out = HexEncode(*b);
  }
}

// `key` belongs to an evidence kind: when `built` lacks the kind and the key is set, a problem
// naming `what` and the build. A setting silently ignored would let the operator believe it
// applies (a policy block) or that the agent offers that evidence.
void RefuseNotBuilt(Reader& r, std::string_view key, std::string_view what, std::string_view kind,
                    const BuiltKinds& built) {
  if (r.Has(key)) r.Problem(key, NotBuilt(what, kind, built));
}

// The registration seam of the kinds' config blocks: `read` (a per-kind reader, compiled and
// linked only with the kind: kCompiled) reads block `key` when the kind is built in; otherwise
// the block is refused.
template <bool kCompiled, typename Read>
void ReadKindBlock(Reader& r, std::string_view key, std::string_view kind, const BuiltKinds& built,
                   Read read) {
  if constexpr (kCompiled) {
    if (built.Has(kind)) {
      Reader block = r.Block(key);
      read(block);
      return;
    }
  }
  RefuseNotBuilt(r, key, twi::StrCat("the ", key, " block"), kind, built);
}

}  // namespace

void ReadTeeDevices(Reader& r, const TeeDevices& d, const BuiltKinds& built,
                    std::vector<std::string>* warnings);

std::string AgentConfig::EffectiveSimulationDir() const {
  if (!simulation_dir.empty()) return simulation_dir;
  return state_dir + (simulate == "tdx" ? "/sim-intel" : "/sim-amd");
}

bool ValidTrustDomain(std::string_view td) {
  if (td.empty() || td.size() > 255) return false;
  for (char c : td) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<AgentConfig> BuildAgentConfig(std::string_view hcl, std::string_view trust_domain) {
  Problems problems;
  hcl::Value root = ParseOrRecord(hcl, &problems);
  if (!problems.empty()) return problems.ToStatus();
  return BuildAgentConfig(root, trust_domain);
}

absl::StatusOr<AgentConfig> BuildAgentConfig(const hcl::Value& root, std::string_view trust_domain,
                                             const BuiltKinds& built) {
  Problems problems;
  Reader r(&root, "", &problems);
  AgentConfig c;
  ReadCommon(r, trust_domain, &c);
  if (auto v = r.String("state_dir")) {
    if (v->empty() || (*v)[0] != '/') {
      r.Problem("state_dir", twi::StrCat("\"state_dir\" must be an absolute path, got \"", *v, "\""));
    } else {
      c.state_dir = *v;
    }
  }
  ReadTeeDevices(r, {&c.simulate, &c.snp_configfs_path, &c.snp_device_path, &c.snp_vmpl,
                     &c.tdx_configfs_path, &c.tdx_ccel_table_path, &c.tdx_ccel_data_path},
                 built, &c.warnings);
  ReadSimulatedImage(r, "simulate_measurement", "sev-snp", c.simulate, &c.simulate_measurement, &c.warnings);
  if (built.Has("tdx")) {
    ReadSimulatedImage(r, "simulate_mrtd", "tdx", c.simulate, &c.simulate_mrtd, &c.warnings);
    if (auto v = r.Bool("simulate_debug_td")) {
      c.simulate_debug_td = *v;
      if (*v && c.simulate != "tdx") c.warnings.push_back("simulate_debug_td has no effect without simulate = \"tdx\"");
    }
  } else {
    RefuseNotBuilt(r, "simulate_mrtd", "simulate_mrtd", "tdx", built);
    RefuseNotBuilt(r, "simulate_debug_td", "simulate_debug_td", "tdx", built);
  }
  if (auto v = r.String("simulation_dir")) {
    if (v->empty() || (*v)[0] != '/') {
      r.Problem("simulation_dir", twi::StrCat("\"simulation_dir\" must be an absolute path, got \"", v->substr(0, 100), "\""));
    } else {
      c.simulation_dir = *v;
    }
  }
  ReadKindBlock<kBuiltKinds.tpm>(r, "tpm", "tpm", built,
                                 [&](Reader& b) { ReadTpmAgentSettings(b, &c.tpm); });
  ReadAgentKeyBinding(r, &c.keymanager_socket);
  ReadKindBlock<kBuiltKinds.azure>(r, "azure", "azure", built, [&](Reader& b) {
    ReadAzureAgentSettings(b, &c.azure, &c.warnings);
  });
  ReadKindBlock<kBuiltKinds.gcp>(r, "gcp", "gcp", built,
                                 [&](Reader& b) { ReadGcpAgentSettings(b, &c.gcp); });
  if (!c.simulation_dir.empty() && c.simulate.empty() && !c.azure.simulate) {
    c.warnings.push_back(
        "simulation_dir has no effect without simulate = \"sev-snp\" or \"tdx\" or azure.simulate = true");
  }
  r.Finish();
  absl::Status s = problems.ToStatus();
  if (!s.ok()) return s;
  return c;
}

// `simulate` and the sev_snp and tdx device paths, shared by the agent and workload plugins.
void ReadTeeDevices(Reader& r, const TeeDevices& d, const BuiltKinds& built,
                    std::vector<std::string>* warnings) {
  if (auto v = r.String("simulate")) {
    if (*v != "" && *v != "sev-snp" && *v != "tdx") {
      r.Problem("simulate", twi::StrCat("\"simulate\" must be \"\", \"sev-snp\" or \"tdx\", got \"", v->substr(0, 100), "\""));
    } else if (!built.Has(*v) && !v->empty()) {
      r.Problem("simulate", NotBuilt(twi::StrCat("simulate = \"", *v, "\""), *v, built));
    } else {
      *d.simulate = *v;
      if (!v->empty()) {
        warnings->push_back(twi::StrCat("simulate = \"", *v,
                                        "\": evidence comes from a software TEE, not hardware"));
      }
    }
  }
  Reader snp = r.Block("sev_snp");
  if (auto v = snp.String("configfs_path")) *d.snp_configfs = *v;
  if (auto v = snp.String("device_path")) *d.snp_device = *v;
  if (d.vmpl != nullptr) {
    if (auto v = snp.Int("vmpl", 0, 3)) *d.vmpl = static_cast<int>(*v);
  }
  snp.Finish();
  if (!built.Has("tdx")) {
    RefuseNotBuilt(r, "tdx", "the tdx block", "tdx", built);
    return;
  }
  Reader tdx = r.Block("tdx");
  if (auto v = tdx.String("configfs_path")) *d.tdx_configfs = *v;
  if (d.ccel_table != nullptr) {
    if (auto v = tdx.String("ccel_table_path")) *d.ccel_table = *v;
    if (auto v = tdx.String("ccel_data_path")) *d.ccel_data = *v;
  }
  tdx.Finish();
}

absl::StatusOr<KeyManagerConfig> BuildKeyManagerConfig(std::string_view hcl,
                                                       std::string_view trust_domain) {
  Problems problems;
  hcl::Value root = ParseOrRecord(hcl, &problems);
  if (!problems.empty()) return problems.ToStatus();
  Reader r(&root, "", &problems);
  KeyManagerConfig c;
  ReadCommon(r, trust_domain, &c);
  if (!ReadSocketPath(r, "socket_path", &c.socket_path)) {
    problems.Add("\"socket_path\" is required: the agent NodeAttestor reads the pending key there");
  }
  r.Finish();
  absl::Status s = problems.ToStatus();
  if (!s.ok()) return s;
  return c;
}

absl::StatusOr<WorkloadConfig> BuildWorkloadConfig(std::string_view hcl, std::string_view trust_domain) {
  Problems problems;
  hcl::Value root = ParseOrRecord(hcl, &problems);
  if (!problems.empty()) return problems.ToStatus();
  return BuildWorkloadConfig(root, trust_domain);
}

absl::StatusOr<WorkloadConfig> BuildWorkloadConfig(const hcl::Value& root, std::string_view trust_domain,
                                                   const BuiltKinds& built) {
  Problems problems;
  Reader r(&root, "", &problems);
  WorkloadConfig c;
  ReadCommon(r, trust_domain, &c);
  if (auto v = r.String("proc_root")) c.proc_root = *v;
  if (auto v = r.Bool("hash_executables")) c.hash_executables = *v;
  if (auto v = r.Int("max_executable_bytes", 1, int64_t{1} << 40)) c.max_executable_bytes = *v;
  if (auto v = r.String("ima_path")) c.ima_path = *v;
  if (auto v = r.String("proc_sys_root")) c.proc_sys_root = *v;
  if (auto v = r.Int("max_concurrent_hashes", 1, 64)) c.max_concurrent_hashes = *v;
  if (auto v = r.Int("hash_timeout_ms", 1, 3600000)) c.hash_timeout_ms = *v;
  if (auto v = r.Int("hash_budget_bytes_per_uid", 0, int64_t{1} << 50)) {
    c.hash_budget_bytes_per_uid = *v;
  }
  if (auto v = r.Int("tee_refresh_seconds", 0, 86400)) c.tee_refresh_seconds = *v;
  ReadTeeDevices(r, {&c.simulate, &c.snp_configfs_path, &c.snp_device_path, nullptr,
                     &c.tdx_configfs_path, nullptr, nullptr},
                 built, &c.warnings);
  r.Finish();
  absl::Status s = problems.ToStatus();
  if (!s.ok()) return s;
  return c;
}

absl::StatusOr<ServerConfig> BuildServerConfig(std::string_view hcl, std::string_view trust_domain) {
  Problems problems;
  hcl::Value root = ParseOrRecord(hcl, &problems);
  if (!problems.empty()) return problems.ToStatus();
  return BuildServerConfig(root, trust_domain);
}

absl::StatusOr<ServerConfig> BuildServerConfig(const hcl::Value& root, std::string_view trust_domain,
                                               const BuiltKinds& built) {
  Problems problems;
  Reader r(&root, "", &problems);
  ServerConfig c;
  ReadCommon(r, trust_domain, &c);
  if (auto v = r.String("agent_path_template")) {
    absl::Status s = appraisal::ValidateAgentPathTemplate(*v);
    if (!s.ok()) {
      r.Problem("agent_path_template", twi::StrCat("\"agent_path_template\": ", s.message()));
    } else {
      c.agent_path_template = *v;
    }
  }
  if (auto v = r.Bool("insecure_allow_no_tee")) c.insecure_allow_no_tee = *v;
  if (auto v = r.Bool("insecure_simulation_roots")) c.insecure_simulation_roots = *v;
  Reader snp = r.Block("sev_snp");
  ReadSnpSettings(snp, &c.sev_snp);
  ReadKindBlock<kBuiltKinds.tdx>(r, "tdx", "tdx", built, [&](Reader& b) { ReadTdxSettings(b, &c.tdx); });
  ReadKindBlock<kBuiltKinds.tpm>(r, "tpm", "tpm", built, [&](Reader& b) {
    ReadTpmServerSettings(b, &c.tpm, &c.warnings);
  });
  ReadKindBlock<kBuiltKinds.azure>(r, "azure", "azure", built, [&](Reader& b) {
    ReadAzureServerSettings(b, &c.azure, &c.warnings);
  });
  ReadKindBlock<kBuiltKinds.gcp>(r, "gcp", "gcp", built, [&](Reader& b) {
    ReadGcpServerSettings(b, &c.gcp, &c.warnings);
  });
  ReadClaimsSettings(r, std::chrono::system_clock::now(), &c.claims, &c.warnings);
  Reader kb = r.Block("key_binding");
  c.key_binding.enabled = kb.pos().line != 0;
  ReadServerKeyBinding(kb, &c.key_binding);
  if (c.sev_snp.policy.allow_debug) {
    c.warnings.push_back("sev_snp.allow_debug = true: guests whose memory the host can read are accepted");
  }
  if (c.tdx.policy.allow_debug) {
    c.warnings.push_back("tdx.allow_debug = true: debug TDs, whose memory the host can read, are accepted");
  }
  if (c.insecure_allow_no_tee) {
    c.warnings.push_back(
        "insecure_allow_no_tee = true: agents without TEE evidence are accepted; their identity "
        "proves nothing about the machine");
  }
  if (c.insecure_simulation_roots && c.sev_snp.extra_root_files.empty() &&
      c.tdx.extra_root_files.empty()) {
    // A root the agent's evidence carries proves nothing (anyone can mint one): simulated
    // evidence is accepted only when it chains to a root file the operator configured.
    r.Problem("insecure_simulation_roots",
                 "insecure_simulation_roots = true needs the simulator's root pinned: add "
                 "sev_snp { extra_roots = [\"vcek:DIR/ark.pem\"] }, where DIR is the simulated "
                 "agent's simulation_dir (default: its state_dir/sim-amd, written on first "
                 "start); `twi sim sev-snp --out OUT` creates one in OUT/sim-amd to share. For "
                 "TDX: tdx { extra_roots = [\"DIR/root.pem\"] } (simulation_dir default "
                 "state_dir/sim-intel; `twi sim tdx --out OUT` makes OUT/sim-intel)");
  } else if (c.insecure_simulation_roots) {
    c.warnings.push_back(
        "insecure_simulation_roots = true: evidence signed by the software simulator is "
        "accepted when it chains to a root in sev_snp.extra_roots or tdx.extra_roots");
  }
  AddOpenDefaultWarnings(c.sev_snp, &c.warnings);
  if constexpr (kBuiltKinds.tdx) {
    // Without TDX no TD is accepted: the open-default warning would be false.
    if (built.Has("tdx")) AddOpenDefaultWarnings(c.tdx, &c.warnings);
  }
  if (!c.insecure_simulation_roots && !c.tdx.extra_root_files.empty()) {
    c.warnings.push_back(
        "tdx.extra_roots has no effect without insecure_simulation_roots = true: only the Intel "
        "SGX Root CA verifies TDX quotes");
  }
  r.Finish();
  absl::Status s = problems.ToStatus();
  if (!s.ok()) return s;
  return c;
}

}  // namespace twi::config
