// twi verify --type azure-tdx --hcl-report FILE --td-quote FILE [--collateral FILE] --quote FILE
//            --signature FILE --pcrs FILE --nonce HEX [--at RFC3339] [--policy FILE] [--json]
//
// Verifies an Azure TDX confidential VM's evidence with the server's verifier
// (attestors/azure/verify_tdx.h): the HCL report and the binding of its runtime claims, the TD
// quote of its TDREPORT (the host's quoting service's, IMDS /acc/tdquote) by the TDX verifier,
// the TDREPORT against the quote field by field, and the vTPM quote signed by the claims'
// HCLAkPub key; then the tdx policy of --policy (the server's `tdx` block keys, as for --type
// tdx, including extra_roots and insecure_simulation_roots for simulated evidence).
// --quote, --signature, --pcrs and --nonce are as for --type azure-sev-snp; --collateral is
// the nine-key DCAP bundle, as for --type tdx.
//
// Without --collateral every check that needs none still runs and the claims are printed, then
// the evidence is refused by collateral.missing. Without --td-quote the HCL report is checked
// and refused by td_quote.structure: a TDREPORT cannot be authenticated off the platform.
#include <cstdio>
#include <filesystem>
#include <map>

#include "attestors/azure/verify_tdx.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "attestors/core/str.h"
#include "attestors/tdx/policy.h"
#include "cli/input.h"
#include "cli/outcome.h"
#include "cli/verify_azure.h"
#include "cli/verify_tdx.h"
#include "cli/verify_tpm.h"

namespace twi::cli {
namespace {

constexpr char kAzureTdxType[] = "azure-tdx";

int AzureTdxVerifyUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi verify: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi verify --type azure-tdx --hcl-report FILE --td-quote FILE\n"
               "                  [--collateral FILE] --quote FILE --signature FILE --pcrs FILE\n"
               "                  --nonce HEX [--at RFC3339] [--policy FILE] [--json]\n");
  return 2;
}

}  // namespace

int VerifyAzureTdx(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  bool json = false, have_nonce = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if ((a == "--type" || a == "--hcl-report" || a == "--td-quote" || a == "--collateral" ||
                a == "--quote" || a == "--signature" || a == "--pcrs" || a == "--nonce" ||
                a == "--at" || a == "--policy") && i + 1 < args.size()) {
      if (opt.count(a) != 0) return AzureTdxVerifyUsage(StrCat(a, " given twice"));
      opt[a] = args[++i];
      have_nonce = have_nonce || a == "--nonce";
    } else {
      return AzureTdxVerifyUsage(StrCat("unexpected argument \"", a.substr(0, 60), "\""));
    }
  }
  AzureFiles files;
  if (std::string why = ReadAzureFiles(opt, have_nonce, &files); !why.empty()) return AzureTdxVerifyUsage(why);
  azure::TdxVerifyOptions options;
  options.tdx.time = std::chrono::system_clock::now();
  if (!opt["--at"].empty()) {
    auto t = ParseRfc3339(opt["--at"]);
    if (!t.ok()) return AzureTdxVerifyUsage(std::string(t.status().message()));
    options.tdx.time = *t;
  }
  TdxSettings settings;
  if (!opt["--policy"].empty()) {
    auto text = ReadFileToString(opt["--policy"]);
    if (!text.ok()) return AzureTdxVerifyUsage(std::string(text.status().message()));
    auto s = ReadTdxSettings(*text, std::filesystem::path(opt["--policy"]).parent_path());
    if (!s.ok()) return AzureTdxVerifyUsage(StrCat(opt["--policy"], ": ", s.status().message()));
    settings = *std::move(s);
  }
  options.tdx.allow_missing_crls = settings.allow_missing_crls;
  options.tdx.extra_trusted_roots = settings.extra_roots;
  options.tdx.allow_simulation_roots = settings.insecure_simulation_roots;
  options.nonce = files.nonce;
  options.allow_empty_nonce = files.nonce.empty();

  Bytes td_quote;
  if (!opt["--td-quote"].empty()) {
    auto q = ReadDcapQuote(opt["--td-quote"]);
    if (!q.ok() && IsUsageError(q.status())) return AzureTdxVerifyUsage(std::string(q.status().message()));
    if (q.ok()) td_quote = *std::move(q);
  }
  std::optional<absl::StatusOr<collateral::DcapCollateral>> bundle;
  if (!opt["--collateral"].empty()) {
    bundle = ReadCollateralBundle(opt["--collateral"]);
    if (!bundle->ok() && IsUsageError(bundle->status())) {
      return AzureTdxVerifyUsage(std::string(bundle->status().message()));
    }
  }
  VerifyOutcome out;
  if (bundle && !bundle->ok()) {
    return PrintRefusal(out, "collateral.bundle", bundle->status(), kAzureTdxType, json);
  }
  auto pcrs = ParsePcrsJson(files.pcrs_text);
  if (!pcrs.ok()) return PrintRefusal(out, "pcr.values", pcrs.status(), kAzureTdxType, json);

  azure::TdxEvidence evidence;
  evidence.hcl_report = files.hcl_report;
  evidence.td_quote = td_quote;
  evidence.collateral = bundle ? &**bundle : nullptr;
  evidence.collateral_error = "no --collateral given";
  evidence.quote = files.quote;
  evidence.signature = files.signature;
  evidence.pcrs = *std::move(pcrs);
  azure::VerifiedAzureTdx verified;
  absl::Status s = azure::VerifyAzureTdx(evidence, options, out.checks, &verified);
  out.claims = azure::Claims(verified);
  if (s.ok()) s = tdx::Appraise(verified.td_quote, settings.policy, out.checks);
  if (!s.ok()) {
    out.error = std::string(s.message()) + ExtraRootsHint(settings, settings.insecure_simulation_roots);
    return PrintOutcome(out, kAzureTdxType, json);
  }
  out.selectors = tdx::Selectors(verified.td_quote);
  out.selectors.push_back("platform:azure");
  if (verified.claims.vm_unique_id) {
    out.selectors.push_back(StrCat("azure:vm-id:", *verified.claims.vm_unique_id));
  }
  out.verified = true;
  return PrintOutcome(out, kAzureTdxType, json);
}

}  // namespace twi::cli
