#include "attestors/core/str.h"
#include "plugin/config/configs.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "attestors/appraisal/agent_id.h"
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
      r.problems()->Add(twi::StrCat("\"log_level\" must be one of trace, debug, info, warn, error; got \"",
                                     *v, "\""));
    } else {
      c->log_level = *v;
    }
  }
}

}  // namespace

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
  Reader r(&root, "", &problems);
  AgentConfig c;
  ReadCommon(r, trust_domain, &c);
  if (auto v = r.String("state_dir")) {
    if (v->empty() || (*v)[0] != '/') {
      problems.Add(twi::StrCat("\"state_dir\" must be an absolute path, got \"", *v, "\""));
    } else {
      c.state_dir = *v;
    }
  }
  if (auto v = r.String("simulate")) {
    if (*v != "" && *v != "sev-snp") {
      problems.Add(twi::StrCat("\"simulate\" must be \"\" or \"sev-snp\", got \"", *v, "\""));
    } else {
      c.simulate = *v;
      if (!v->empty()) {
        c.warnings.push_back(twi::StrCat("simulate = \"", *v,
                                          "\": evidence comes from a software TEE, not hardware"));
      }
    }
  }
  Reader snp = r.Block("sev_snp");
  if (auto v = snp.String("configfs_path")) c.snp_configfs_path = *v;
  if (auto v = snp.String("device_path")) c.snp_device_path = *v;
  if (auto v = snp.Int("vmpl", 0, 3)) c.snp_vmpl = static_cast<int>(*v);
  snp.Finish();
  r.Finish();
  absl::Status s = problems.ToStatus();
  if (!s.ok()) return s;
  return c;
}

absl::StatusOr<ServerConfig> BuildServerConfig(std::string_view hcl, std::string_view trust_domain) {
  Problems problems;
  hcl::Value root = ParseOrRecord(hcl, &problems);
  Reader r(&root, "", &problems);
  ServerConfig c;
  ReadCommon(r, trust_domain, &c);
  if (auto v = r.String("agent_path_template")) {
    absl::Status s = appraisal::ValidateAgentPathTemplate(*v);
    if (!s.ok()) {
      problems.Add(twi::StrCat("\"agent_path_template\": ", s.message()));
    } else {
      c.agent_path_template = *v;
    }
  }
  if (auto v = r.Bool("insecure_allow_no_tee")) c.insecure_allow_no_tee = *v;
  if (auto v = r.Bool("insecure_simulation_roots")) c.insecure_simulation_roots = *v;
  if (c.insecure_allow_no_tee) {
    c.warnings.push_back(
        "insecure_allow_no_tee = true: agents without TEE evidence are accepted; their identity "
        "proves nothing about the machine");
  }
  if (c.insecure_simulation_roots) {
    c.warnings.push_back(
        "insecure_simulation_roots = true: evidence signed by the software simulator is accepted");
  }
  r.Finish();
  absl::Status s = problems.ToStatus();
  if (!s.ok()) return s;
  return c;
}

}  // namespace twi::config
