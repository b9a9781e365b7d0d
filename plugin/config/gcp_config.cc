#include "plugin/config/gcp_config.h"

#include "attestors/core/str.h"
#include "plugin/config/tpm_config.h"

namespace twi::config {
namespace {

// `key` must be one of `allowed` (listed in the message as written).
std::optional<std::string> OneOf(Reader& r, std::string_view key,
                                 std::initializer_list<std::string_view> allowed,
                                 std::string_view listed) {
  auto v = r.String(key);
  if (!v) return std::nullopt;
  for (std::string_view a : allowed) {
    if (*v == a) return v;
  }
  r.Problem(key, twi::StrCat("\"", r.Path(key), "\" must be ", listed, ", got \"",
                             v->substr(0, 40), "\""));
  return std::nullopt;
}

}  // namespace

void ReadGcpAgentSettings(Reader& r, GcpAgentSettings* out) {
  if (auto v = r.String("tcti")) out->tcti = *v;
  if (auto v = OneOf(r, "ak", {"rsa", "ecc"}, "\"rsa\" or \"ecc\"")) out->ak = *v;
  ReadPcrBanks(r, &out->pcr_banks);
  out->pcrs = PcrList(r, "pcrs", out->pcrs);
  if (out->pcrs.empty()) r.Problem("pcrs", twi::StrCat("\"", r.Path("pcrs"), "\" must not be empty"));
  if (auto v = OneOf(r, "tee", {"auto", "sev-snp", "tdx", "none"},
                     "\"auto\", \"sev-snp\", \"tdx\" or \"none\"")) {
    out->tee = *v;
  }
  if (auto v = r.String("event_log_path")) out->event_log_path = *v;
  r.Finish();
}

void ReadGcpServerSettings(Reader& r, GcpServerSettings* out, std::vector<std::string>* warnings) {
  out->enabled = r.pos().line != 0 || !r.Members().empty();
  if (auto v = r.StringList("ca_bundle")) out->ca_bundle = *v;
  if (auto v = OneOf(r, "require_tee", {"sev-snp", "tdx", "none"},
                     "\"sev-snp\", \"tdx\" or \"none\"")) {
    out->require_tee = *v;
  }
  if (auto v = r.StringList("allowed_project_ids")) out->allowed_project_ids = *v;
  if (auto v = r.Bool("allow_non_production")) out->allow_non_production = *v;
  ReadTpmPolicy(r, &out->policy);
  out->selector_pcrs = PcrList(r, "selector_pcrs", {});
  if (out->enabled) {
    if (out->ca_bundle.empty()) {
      r.problems()->Add(r.pos(), twi::StrCat(
          "the gcp block needs \"", r.Path("ca_bundle"),
          "\": the GCE vTPM CA certificates (examples/gcp/vtpm-ca-bundle.pem) that vouch for "
          "AK certificates"));
    }
    if (out->require_tee.empty()) {
      r.problems()->Add(r.pos(), twi::StrCat(
          "the gcp block needs \"", r.Path("require_tee"),
          "\": \"sev-snp\" or \"tdx\" (the confidential VM type you run, verified with the "
          "sev_snp / tdx block), or \"none\" (Shielded VMs: the vTPM alone)"));
    } else if (out->require_tee == "none") {
      warnings->push_back(
          "gcp.require_tee = \"none\": GCP agents need no SEV-SNP or TDX evidence; Google's "
          "vTPM and CA alone vouch for the VM (the host is trusted)");
    }
    if (out->allowed_project_ids.empty()) {
      warnings->push_back(
          "gcp: no allowed_project_ids is set: a VM of any Google Cloud customer's project is "
          "accepted (registration entries must then select on gcp:project-id); list your "
          "projects");
    }
    if (out->allow_non_production) {
      warnings->push_back(
          "gcp.allow_non_production = true: AK certificates without isProduction are accepted");
    }
    absl::Status s = tpm::ValidatePolicy(out->policy);
    if (!s.ok()) r.problems()->Add(r.pos(), twi::StrCat("gcp policy: ", s.message()));
    if (out->policy.allow_sha1_signatures) {
      warnings->push_back("gcp.allow_sha1_signatures = true: quotes signed over SHA-1 are accepted");
    }
  }
  r.Finish();
}

}  // namespace twi::config
