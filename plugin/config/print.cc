// `twi check-config`: the effective configuration as JSON.
#include "attestors/core/str.h"
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
    j["simulate_measurement"] = c->simulate_measurement;
    j["simulate_mrtd"] = c->simulate_mrtd;
    j["simulate_debug_td"] = c->simulate_debug_td;
    j["simulation_dir"] = c->simulation_dir;
    j["sev_snp"] = {{"configfs_path", c->snp_configfs_path},
                    {"device_path", c->snp_device_path},
                    {"vmpl", c->snp_vmpl}};
    j["tdx"] = {{"configfs_path", c->tdx_configfs_path},
                {"ccel_table_path", c->tdx_ccel_table_path},
                {"ccel_data_path", c->tdx_ccel_data_path}};
    const auto& t = c->tpm;
    j["tpm"] = {{"tcti", t.tcti},           {"pcr_banks", t.pcr_banks},
                {"pcrs", t.pcrs},           {"ek_alg", t.ek_alg},
                {"ek_handle", t.ek_handle}, {"ak_handle", t.ak_handle},
                {"ak_cert_nv_index", t.ak_cert_nv_index},
                {"event_log_path", t.event_log_path}};
    j["key_binding"] = {{"keymanager_socket", c->keymanager_socket}};
    if (c->azure.enabled) {
      const auto& a = c->azure;
      j["azure"] = {{"tcti", a.tcti},           {"pcr_banks", a.pcr_banks},
                    {"pcrs", a.pcrs},           {"event_log_path", a.event_log_path},
                    {"vcek_source", a.vcek_source}, {"imds_url", a.imds_url},
                    {"simulate", a.simulate}};
    }
    const auto& g = c->gcp;
    j["gcp"] = {{"tcti", g.tcti}, {"ak", g.ak}, {"pcr_banks", g.pcr_banks}, {"pcrs", g.pcrs},
                {"tee", g.tee}, {"event_log_path", g.event_log_path}};
    warnings = c->warnings;
  } else if (side == "server") {
    auto c = BuildServerConfig(hcl, td);
    if (!c.ok()) return c.status();
    j = CommonJson(*c);
    j["agent_path_template"] = c->agent_path_template;
    j["insecure_allow_no_tee"] = c->insecure_allow_no_tee;
    j["insecure_simulation_roots"] = c->insecure_simulation_roots;
    if (c->key_binding.enabled) {
      j["key_binding"] = {{"mode", c->key_binding.mode},
                          {"records_socket", c->key_binding.records_socket},
                          {"record_ttl_seconds", c->key_binding.record_ttl_seconds}};
    }
    const auto& p = c->sev_snp.policy;
    auto hexes = [](const std::vector<Bytes>& v) {
      std::vector<std::string> out;
      for (const auto& b : v) out.push_back(HexEncode(b));
      return out;
    };
    auto opt = [](const std::optional<uint8_t>& v) -> nlohmann::ordered_json {
      return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
    };
    std::vector<std::string> extra_roots;
    for (const auto& f : c->sev_snp.extra_root_files) extra_roots.push_back(f.Entry());
    j["sev_snp"] = {
        {"allow_debug", p.allow_debug},
        {"allow_smt", p.allow_smt},
        {"allow_migration_agent", p.allow_migration_agent},
        {"allowed_vmpls", p.allowed_vmpls},
        {"signing_key", p.signing_key == sevsnp::SigningKeyPolicy::kBoth ? "both"
                        : p.signing_key == sevsnp::SigningKeyPolicy::kVcekOnly ? "vcek" : "vlek"},
        {"min_tcb", {{"bootloader", opt(p.min_tcb.bootloader)}, {"tee", opt(p.min_tcb.tee)},
                     {"snp", opt(p.min_tcb.snp)}, {"microcode", opt(p.min_tcb.microcode)},
                     {"fmc", opt(p.min_tcb.fmc)}}},
        {"min_firmware", p.min_firmware ? twi::StrCat(p.min_firmware->major, ".", p.min_firmware->minor,
                                                      p.min_firmware->build ? twi::StrCat(".", *p.min_firmware->build) : "")
                                        : ""},
        {"measurements", hexes(p.measurements)},
        {"host_data", hexes(p.host_data)},
        {"id_key_digests", hexes(p.id_key_digests)},
        {"author_key_digests", hexes(p.author_key_digests)},
        {"product", c->sev_snp.product == sevsnp::Product::kUnknown ? "" : sevsnp::ProductName(c->sev_snp.product)},
        {"extra_roots", extra_roots},
        {"crl", c->sev_snp.crl},
        {"kds_base_url", c->sev_snp.kds_base_url},
        {"kds_cache_dir", c->sev_snp.kds_cache_dir},
        {"kds_offline_dir", c->sev_snp.kds_offline_dir}};
    const auto& t = c->tdx.policy;
    auto hex64 = [](uint64_t v) { return twi::StrCat("0x", absl::Hex(v)); };
    std::vector<std::string> xfams;
    for (uint64_t x : t.xfams) xfams.push_back(hex64(x));
    j["tdx"] = {
        {"allowed_tcb_statuses", t.allowed_tcb_statuses},
        {"allowed_advisory_ids", t.allowed_advisory_ids},
        {"allow_debug", t.allow_debug},
        {"require_sept_ve_disable", t.require_sept_ve_disable},
        {"mrtd", hexes(t.mrtds)},
        {"rtmr0", hexes(t.rtmrs[0])},
        {"rtmr1", hexes(t.rtmrs[1])},
        {"rtmr2", hexes(t.rtmrs[2])},
        {"rtmr3", hexes(t.rtmrs[3])},
        {"mrconfigid", hexes(t.mrconfigids)},
        {"mrowner", hexes(t.mrowners)},
        {"mrownerconfig", hexes(t.mrownerconfigs)},
        {"xfam", xfams},
        {"td_attributes_mask", hex64(t.td_attributes_mask)},
        {"td_attributes", hex64(t.td_attributes_value)},
        {"min_tee_tcb_svn", t.min_tee_tcb_svn ? HexEncode(*t.min_tee_tcb_svn) : ""},
        {"min_qe_svn", t.min_qe_svn ? nlohmann::ordered_json(*t.min_qe_svn) : nlohmann::ordered_json(nullptr)},
        {"allow_missing_crls", c->tdx.allow_missing_crls},
        {"extra_roots", c->tdx.extra_root_files},
        {"collateral_base_url", c->tdx.collateral.base_url},
        {"collateral_offline_path", c->tdx.collateral.offline_path},
        {"pccs_allow_self_signed_tls", c->tdx.collateral.allow_self_signed_tls},
        {"collateral_tls_ca_file", c->tdx.collateral.tls_ca_file},
        {"collateral_cache_dir", c->tdx.collateral.cache_dir}};
    if (c->tpm.enabled) {
      const auto& t = c->tpm;
      nlohmann::ordered_json pcrs = nlohmann::ordered_json::object();
      for (const auto& rule : t.policy.pcrs) pcrs[tpm::PcrKey(rule.bank, rule.index)] = hexes(rule.values);
      j["tpm"] = {{"ek_ca_files", t.ek_ca_files},
                  {"ek_hashes", hexes(t.ek_hashes)},
                  {"ak_ca_files", t.ak_ca_files},
                  {"pcrs", pcrs},
                  {"require_secure_boot", t.policy.require_secure_boot},
                  {"boot_loader_digests", hexes(t.policy.boot_loader_digests)},
                  {"allow_sha1_signatures", t.policy.allow_sha1_signatures},
                  {"selector_pcrs", t.selector_pcrs}};
    }
    if (c->azure.enabled) {
      const auto& a = c->azure;
      nlohmann::ordered_json pcrs = nlohmann::ordered_json::object();
      for (const auto& rule : a.policy.pcrs) pcrs[tpm::PcrKey(rule.bank, rule.index)] = hexes(rule.values);
      j["azure"] = {{"accept_sev_snp", a.accept_sev_snp},
                    {"accept_tdx", a.accept_tdx},
                    {"pcrs", pcrs},
                    {"require_secure_boot", a.policy.require_secure_boot},
                    {"boot_loader_digests", hexes(a.policy.boot_loader_digests)},
                    {"allow_sha1_signatures", a.policy.allow_sha1_signatures},
                    {"selector_pcrs", a.selector_pcrs}};
    }
    if (c->gcp.enabled) {
      const auto& g = c->gcp;
      nlohmann::ordered_json pcrs = nlohmann::ordered_json::object();
      for (const auto& rule : g.policy.pcrs) pcrs[tpm::PcrKey(rule.bank, rule.index)] = hexes(rule.values);
      j["gcp"] = {{"ca_bundle", g.ca_bundle},
                  {"require_tee", g.require_tee},
                  {"allowed_project_ids", g.allowed_project_ids},
                  {"allow_non_production", g.allow_non_production},
                  {"pcrs", pcrs},
                  {"require_secure_boot", g.policy.require_secure_boot},
                  {"boot_loader_digests", hexes(g.policy.boot_loader_digests)},
                  {"allow_sha1_signatures", g.policy.allow_sha1_signatures},
                  {"selector_pcrs", g.selector_pcrs}};
    }
    AddClaimsSettingsJson(c->claims, &j);
    warnings = c->warnings;
  } else if (side == "workload") {
    auto c = BuildWorkloadConfig(hcl, td);
    if (!c.ok()) return c.status();
    j = CommonJson(*c);
    j["proc_root"] = c->proc_root;
    j["hash_executables"] = c->hash_executables;
    j["max_executable_bytes"] = c->max_executable_bytes;
    j["ima_path"] = c->ima_path;
    j["proc_sys_root"] = c->proc_sys_root;
    j["max_concurrent_hashes"] = c->max_concurrent_hashes;
    j["hash_timeout_ms"] = c->hash_timeout_ms;
    j["hash_budget_bytes_per_uid"] = c->hash_budget_bytes_per_uid;
    j["tee_refresh_seconds"] = c->tee_refresh_seconds;
    j["simulate"] = c->simulate;
    j["sev_snp"] = {{"configfs_path", c->snp_configfs_path}, {"device_path", c->snp_device_path}};
    j["tdx"] = {{"configfs_path", c->tdx_configfs_path}};
    warnings = c->warnings;
  } else {
    return absl::InvalidArgumentError("side must be agent, server or workload");
  }
  j["warnings"] = warnings;
  return j.dump(2);
}

}  // namespace twi::config
