// twi verify --type azure-sev-snp --hcl-report FILE --quote FILE --signature FILE --pcrs FILE
//            --nonce HEX [--vcek FILE] [--at RFC3339] [--policy FILE] [--json]
//
// Verifies an Azure SEV-SNP confidential VM's evidence with the server's verifier
// (attestors/azure/verify.h): the HCL report's SNP report (VCEK <- ASK <- ARK, VMPL 0), the
// binding of the runtime claims to REPORT_DATA, and the vTPM quote signed by the claims'
// HCLAkPub key (nonce, pcrDigest); then the sev_snp policy of --policy (the server's sev_snp
// block, as for --type sev-snp) on the SNP report. --quote, --signature, --pcrs and --nonce
// are as for --type tpm-quote. --vcek holds the VCEK, optionally followed by its ASK and ARK
// (built-in AMD ones otherwise); Azure does not put it in the HCL report, and this command
// does not fetch it.
#include "cli/verify_azure.h"

#include <cstdio>
#include <map>

#include "attestors/azure/verify.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "attestors/core/str.h"
#include "attestors/sevsnp/policy.h"
#include "cli/input.h"
#include "cli/outcome.h"
#include "cli/verify_tpm.h"
#include "plugin/config/snp_config.h"
#include "plugin/server/appraisers.h"

namespace twi::cli {
namespace {

constexpr char kAzureType[] = "azure-sev-snp";

int AzureVerifyUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi verify: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi verify --type azure-sev-snp --hcl-report FILE --quote FILE --signature FILE\n"
               "                  --pcrs FILE --nonce HEX [--vcek FILE] [--at RFC3339]\n"
               "                  [--policy FILE] [--json]\n");
  return 2;
}

}  // namespace

std::string ReadAzureFiles(std::map<std::string, std::string>& opt, bool have_nonce,
                          AzureFiles* out) {
  for (const char* required : {"--hcl-report", "--quote", "--signature", "--pcrs"}) {
    if (opt[required].empty()) return twi::StrCat(required, " is required");
  }
  if (!have_nonce) return "--nonce is required (the expected qualifying data, hex)";
  auto nonce = HexDecode(opt["--nonce"]);
  if (!nonce.ok()) return twi::StrCat("--nonce: ", nonce.status().message());
  out->nonce = *std::move(nonce);
  if (out->nonce.empty()) {
    std::fprintf(stderr, "twi verify: warning: --nonce \"\": a quote without qualifying data "
                         "proves no freshness\n");
  }
  // Files that cannot be read are usage errors; their contents are evidence (exit 1).
  for (auto [flag, dst] : {std::pair{"--hcl-report", &out->hcl_report},
                           std::pair{"--quote", &out->quote},
                           std::pair{"--signature", &out->signature}}) {
    auto b = ReadBlob(opt[flag]);
    if (!b.ok() && IsUsageError(b.status())) return std::string(b.status().message());
    *dst = b.ok() ? *std::move(b) : Bytes();
  }
  auto pcrs_text = ReadFileToString(opt["--pcrs"]);
  if (!pcrs_text.ok()) return std::string(pcrs_text.status().message());
  out->pcrs_text = *std::move(pcrs_text);
  return "";
}

int VerifyAzureSnp(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  bool json = false;
  bool have_nonce = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if ((a == "--type" || a == "--hcl-report" || a == "--quote" || a == "--signature" ||
                a == "--pcrs" || a == "--nonce" || a == "--vcek" || a == "--at" ||
                a == "--policy") && i + 1 < args.size()) {
      if (opt.count(a) != 0) return AzureVerifyUsage(twi::StrCat(a, " given twice"));
      opt[a] = args[++i];
      have_nonce = have_nonce || a == "--nonce";
    } else {
      return AzureVerifyUsage(twi::StrCat("unexpected argument \"", a.substr(0, 60), "\""));
    }
  }
  AzureFiles files;
  if (std::string why = ReadAzureFiles(opt, have_nonce, &files); !why.empty()) return AzureVerifyUsage(why);
  TimePoint at = std::chrono::system_clock::now();
  if (!opt["--at"].empty()) {
    auto t = ParseRfc3339(opt["--at"]);
    if (!t.ok()) return AzureVerifyUsage(std::string(t.status().message()));
    at = *t;
  }
  config::SnpSettings settings;
  if (!opt["--policy"].empty()) {
    auto s = config::ReadSnpSettingsFile(opt["--policy"]);
    if (!s.ok()) return AzureVerifyUsage(std::string(s.status().message()));
    settings = *std::move(s);
  }
  auto snp_options = server::SnpOptionsFromSettings(settings, /*allow_simulation=*/false);
  if (!snp_options.ok()) return AzureVerifyUsage(std::string(snp_options.status().message()));

  std::vector<Certificate> vcek_certs;
  VerifyOutcome out;
  auto fail = [&](const std::string& check, const absl::Status& s) {
    return PrintRefusal(out, check, s, kAzureType, json);
  };
  if (opt["--vcek"].empty()) {
    return fail("evidence.endorsement",
                absl::InvalidArgumentError("no --vcek: the HCL report carries no VCEK"));
  }
  auto certs = ReadCertificates(opt["--vcek"]);
  if (!certs.ok() && IsUsageError(certs.status())) {
    return AzureVerifyUsage(std::string(certs.status().message()));
  }
  if (!certs.ok() || certs->empty()) {
    return fail("evidence.endorsement",
                certs.ok() ? absl::InvalidArgumentError("no certificate in --vcek") : certs.status());
  }
  auto pcrs = ParsePcrsJson(files.pcrs_text);
  if (!pcrs.ok()) return fail("pcr.values", pcrs.status());

  std::vector<Certificate> chain(certs->begin() + 1, certs->end());
  azure::Evidence evidence;
  evidence.hcl_report = files.hcl_report;
  evidence.vcek = (*certs)[0].der();
  evidence.chain = chain;
  evidence.quote = files.quote;
  evidence.signature = files.signature;
  evidence.pcrs = *std::move(pcrs);
  azure::VerifyOptions options;
  options.snp.time = at;
  options.snp.product = snp_options->product;
  // --policy's sev_snp extra_roots (e.g. `twi collect --simulate azure`'s policy.hcl trusting
  // the simulated ARK), each for its product and key type, as the server applies them.
  options.snp.extra_trusted_roots = snp_options->extra_roots;
  options.snp.allow_simulation_roots = !snp_options->extra_roots.empty();
  options.nonce = files.nonce;
  options.allow_empty_nonce = files.nonce.empty();
  azure::VerifiedAzureSnp verified;
  absl::Status s = azure::VerifyAzureSnp(evidence, options, out.checks, &verified);
  bool snp_verified = false;
  for (const auto& c : out.checks.checks()) snp_verified = snp_verified || (c.name == "snp.vmpl" && c.passed);
  if (snp_verified) out.claims = azure::Claims(verified);
  if (!s.ok()) {
    out.error = std::string(s.message());
    return PrintOutcome(out, kAzureType, json);
  }
  absl::Status policy = sevsnp::Appraise(verified.snp.report, snp_options->policy, out.checks);
  if (!policy.ok()) {
    out.error = std::string(policy.message());
    return PrintOutcome(out, kAzureType, json);
  }
  out.selectors = sevsnp::Selectors(verified.snp.report);
  out.selectors.push_back("platform:azure");
  if (verified.claims.vm_unique_id) {
    out.selectors.push_back(twi::StrCat("azure:vm-id:", *verified.claims.vm_unique_id));
  }
  out.verified = true;
  return PrintOutcome(out, kAzureType, json);
}

}  // namespace twi::cli
