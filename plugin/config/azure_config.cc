#include "plugin/config/azure_config.h"

#include "attestors/core/str.h"
#include "plugin/config/tpm_config.h"

namespace twi::config {

void ReadAzureAgentSettings(Reader& r, AzureAgentSettings* out, std::vector<std::string>* warnings) {
  out->enabled = r.pos().line != 0 || !r.Members().empty();
  if (auto v = r.String("tcti")) out->tcti = *v;
  ReadPcrBanks(r, &out->pcr_banks);
  out->pcrs = PcrList(r, "pcrs", out->pcrs);
  if (out->pcrs.empty()) r.Problem("pcrs", twi::StrCat("\"", r.Path("pcrs"), "\" must not be empty"));
  if (auto v = r.String("event_log_path")) out->event_log_path = *v;
  if (auto v = r.String("vcek_source")) {
    if (*v != "imds" && *v != "none") {
      r.Problem("vcek_source", twi::StrCat("\"", r.Path("vcek_source"),
                                           "\" must be \"imds\" or \"none\", got \"", v->substr(0, 40), "\""));
    } else {
      out->vcek_source = *v;
    }
  }
  if (auto v = r.String("imds_url")) {
    if (v->rfind("http://", 0) != 0 && v->rfind("https://", 0) != 0) {
      r.Problem("imds_url", twi::StrCat("\"", r.Path("imds_url"), "\" must be an http(s) URL, got \"",
                                        v->substr(0, 100), "\""));
    } else {
      out->imds_url = *v;
    }
  }
  if (auto v = r.Bool("simulate")) {
    out->simulate = *v;
    if (*v) {
      warnings->push_back("azure.simulate = true: the Azure CVM is simulated on a software TPM, "
                          "its SEV-SNP report signed by the software simulator");
    }
  }
  r.Finish();
}

void ReadAzureServerSettings(Reader& r, AzureServerSettings* out, std::vector<std::string>* warnings) {
  out->enabled = r.pos().line != 0 || !r.Members().empty();
  if (auto v = r.Bool("accept_sev_snp")) out->accept_sev_snp = *v;
  ReadTpmPolicy(r, &out->policy);
  out->selector_pcrs = PcrList(r, "selector_pcrs", {});
  if (out->enabled) {
    absl::Status s = tpm::ValidatePolicy(out->policy);
    if (!s.ok()) r.problems()->Add(r.pos(), twi::StrCat("azure policy: ", s.message()));
    if (out->policy.allow_sha1_signatures) {
      warnings->push_back("azure.allow_sha1_signatures = true: quotes signed over SHA-1 are accepted");
    }
  }
  r.Finish();
}

}  // namespace twi::config
