#include "attestors/core/str.h"
#include "attestors/appraisal/agent_id.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace twi::appraisal {
namespace {

constexpr std::array<std::string_view, 16> kPlaceholders = {
    "instance_key_hash", "sev_snp.chip_id",    "sev_snp.measurement", "sev_snp.host_data",
    "sev_snp.report_id", "tdx.mrtd",           "tdx.mrconfigid",      "tdx.fmspc",
    "tdx.tcb_status",    "tpm.ek_hash",        "azure.vm_id",         "gcp.project_id",
    "gcp.project_number", "gcp.zone",          "gcp.instance_id",     "gcp.instance_name"};

// The instance key is generated in the agent's state_dir; REPORT_ID is chosen by the AMD
// firmware for each guest at launch. Neither is shared between VMs nor chosen by the host.
// TDX has no such value: MRTD names an image, MRCONFIGID is the host's choice, FMSPC and the
// TCB status a platform type, so every TDX template needs {instance_key_hash}.
// The EK hash names one TPM, hence one machine: credential activation proves the agent holds
// that EK, and it is set only when a configured route trusts the EK.
// Azure's vmUniqueId is assigned per VM by Azure and reaches the server inside the runtime
// claims the paravisor's SNP report binds: trusting it trusts Azure not to give two VMs one
// ID, as SPIRE's own Azure attestors do (README "Azure confidential VMs").
// A GCE instance ID is assigned by Google to one VM and never reused; the AK certificate that
// names it is Google's, for the key that signed this attestation's quotes. Project, zone and
// instance name are shared or reusable (a name comes back after the VM is deleted).
constexpr std::array<std::string_view, 5> kPerInstance = {
    "instance_key_hash", "sev_snp.report_id", "tpm.ek_hash", "azure.vm_id", "gcp.instance_id"};

bool PathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

// Splits the template into literal text and placeholder names; calls `on_literal` and
// `on_field` in order. Returns an error for unbalanced braces.
template <typename L, typename F>
absl::Status Walk(std::string_view tmpl, L on_literal, F on_field) {
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    size_t close = tmpl.find('}', i);
    if (close < open) {
      return absl::InvalidArgumentError(twi::StrCat("unbalanced '}' at offset ", close));
    }
    if (open == std::string_view::npos) {
      on_literal(tmpl.substr(i));
      break;
    }
    on_literal(tmpl.substr(i, open - i));
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(twi::StrCat("unterminated '{' at offset ", open));
    }
    std::string_view name = tmpl.substr(open + 1, close - open - 1);
    absl::Status s = on_field(name);
    if (!s.ok()) return s;
    i = close + 1;
  }
  return absl::OkStatus();
}

absl::Status CheckPath(std::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("agent path is empty");
  for (char c : path) {
    if (!PathChar(c)) {
      return absl::InvalidArgumentError(
          twi::StrCat("agent path \"", path, "\" contains '", std::string(1, c),
                       "' (allowed: letters, digits, '.', '_', '-', '/')"));
    }
  }
  for (absl::string_view seg : absl::StrSplit(ToAbsl(path), '/')) {
    if (seg.empty() || seg == "." || seg == "..") {
      return absl::InvalidArgumentError(
          twi::StrCat("agent path \"", path, "\" has an empty, '.' or '..' segment"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::span<const std::string_view> AgentPathPlaceholders() { return kPlaceholders; }
std::span<const std::string_view> PerInstancePlaceholders() { return kPerInstance; }

absl::Status ValidateAgentPathTemplate(std::string_view tmpl) {
  std::string sample;
  bool per_instance = false;
  absl::Status s = Walk(
      tmpl, [&](std::string_view lit) { sample += lit; },
      [&](std::string_view name) -> absl::Status {
        if (std::find(kPlaceholders.begin(), kPlaceholders.end(), name) == kPlaceholders.end()) {
          return absl::InvalidArgumentError(
              twi::StrCat("unknown placeholder {", name, "} (known: {",
                           absl::StrJoin(kPlaceholders.begin(), kPlaceholders.end(), "}, {", [](std::string* out, std::string_view p) { out->append(p); }), "})"));
        }
        sample += "x";
        per_instance = per_instance || std::find(kPerInstance.begin(), kPerInstance.end(),
                                                 name) != kPerInstance.end();
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  s = CheckPath(sample);
  if (!s.ok()) return s;
  if (!per_instance) {
    return absl::InvalidArgumentError(twi::StrCat(
        "\"", tmpl, "\" has no per-instance field; add {instance_key_hash}, "
        "{sev_snp.report_id}, {tpm.ek_hash} or {azure.vm_id} (or {gcp.instance_id} on Google "
        "Cloud). {sev_snp.chip_id}, {sev_snp.measurement}, {sev_snp.host_data}, the {tdx.*} "
        "fields and the other {gcp.*} fields are shared by every VM on a chip, of an image, of "
        "a platform type, of a project or zone, or of a host's choosing, so with them "
        "alone two agents would get one ID and a malicious host could take over another "
        "agent's ID and its workload entries"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RenderAgentId(std::string_view trust_domain, std::string_view tmpl,
                                          const std::map<std::string, std::string>& fields) {
  std::string path;
  absl::Status s = Walk(
      tmpl, [&](std::string_view lit) { path += lit; },
      [&](std::string_view name) -> absl::Status {
        auto it = fields.find(std::string(name));
        if (it == fields.end() || it->second.empty()) {
          return absl::FailedPreconditionError(twi::StrCat(
              "agent_path_template uses {", name, "}, which this attestation did not provide"));
        }
        path += it->second;
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  s = CheckPath(path);
  if (!s.ok()) return absl::InternalError(s.message());
  return twi::StrCat("spiffe://", trust_domain, "/spire/agent/twi/", path);
}

}  // namespace twi::appraisal
