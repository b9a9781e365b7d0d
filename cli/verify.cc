// twi verify --type sev-snp --report FILE [--vcek FILE] [--cert-chain FILE] [--at RFC3339]
//            [--policy FILE] [--claims-policy FILE] [--fetch] [--json]
//
// Verifies evidence offline exactly as the server plugin does (same verifier, same policy
// keys as the server's sev_snp block), and prints every check. Exit 0 verified, 1 rejected
// (including malformed evidence), 2 usage errors.
#include <cstdio>
#include <map>
#include <optional>

#include "attestors/collateral/http.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "attestors/core/str.h"
#include "attestors/sevsnp/node.h"
#include "cli/claims_report.h"
#include "cli/commands.h"
#include "cli/outcome.h"
#include "cli/input.h"
#include "cli/verify_azure.h"
#include "cli/verify_gcp.h"
#include "cli/verify_tdx.h"
#include "cli/verify_tpm.h"
#include "nlohmann/json.hpp"
#include "plugin/config/claims_config.h"
#include "plugin/config/snp_config.h"
#include "plugin/server/appraisers.h"

namespace twi::cli {
namespace {

int VerifyUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi verify: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi verify --type sev-snp --report FILE [--vcek FILE] [--cert-chain FILE]\n"
               "                  [--at RFC3339] [--policy FILE] [--claims-policy FILE] [--fetch] [--json]\n");
  return 2;
}

}  // namespace

int Verify(const std::vector<std::string>& args) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--type" && args[i + 1] == "tdx") return VerifyTdx(args);
    if (args[i] == "--type" && args[i + 1] == "tpm-quote") return VerifyTpmQuote(args);
    if (args[i] == "--type" && args[i + 1] == "azure-sev-snp") return VerifyAzureSnp(args);
    if (args[i] == "--type" && args[i + 1] == "gcp") return VerifyGcp(args);
    if (args[i] == "--type" && args[i + 1] == "azure-tdx") return VerifyAzureTdx(args);
  }
  std::map<std::string, std::string> opt;
  bool json = false, fetch = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--fetch") {
      fetch = true;
    } else if ((a == "--type" || a == "--report" || a == "--vcek" || a == "--cert-chain" || a == "--at" ||
                a == "--policy" || a == "--claims-policy") && i + 1 < args.size()) {
      opt[a] = args[++i];
    } else {
      return VerifyUsage(twi::StrCat("unexpected argument \"", a, "\""));
    }
  }
  if (opt["--type"] != "sev-snp") return VerifyUsage("--type must be sev-snp, tdx, tpm-quote, azure-sev-snp, azure-tdx or gcp");
  if (opt["--report"].empty()) return VerifyUsage("--report is required");

  config::SnpSettings settings;
  if (!opt["--policy"].empty()) {
    auto s = config::ReadSnpSettingsFile(opt["--policy"]);
    if (!s.ok()) return VerifyUsage(std::string(s.status().message()));
    settings = *std::move(s);
  }
  TimePoint at = std::chrono::system_clock::now();
  if (!opt["--at"].empty()) {
    auto t = ParseRfc3339(opt["--at"]);
    if (!t.ok()) return VerifyUsage(std::string(t.status().message()));
    at = *t;
  }
  VerifyOutcome out;
  out.claims_report.at = at;
  if (!opt["--claims-policy"].empty()) {
    auto text = ReadFileToString(opt["--claims-policy"]);
    if (!text.ok()) return VerifyUsage(std::string(text.status().message()));
    std::vector<std::string> warnings;
    auto p = config::BuildClaimsPolicyFile(*text, at, &warnings);
    if (!p.ok()) return VerifyUsage(twi::StrCat(opt["--claims-policy"], ": ", p.status().message()));
    for (const auto& w : warnings) std::fprintf(stderr, "twi verify: warning: %s\n", w.c_str());
    out.claims_report.policy = *std::move(p);
  }
  auto options = server::SnpOptionsFromSettings(settings, /*allow_simulation=*/false);
  if (!options.ok()) return VerifyUsage(std::string(options.status().message()));
  FixedClock clock(at);
  options->clock = &clock;
  // Offline unless --fetch: a debugging tool must not reach out to the network by surprise.
  std::unique_ptr<collateral::CurlHttpGetter> http;
  std::unique_ptr<collateral::KdsClient> kds;
  if (fetch || !settings.kds_offline_dir.empty()) {
    if (settings.kds_offline_dir.empty()) http = std::make_unique<collateral::CurlHttpGetter>();
    auto k = server::MakeKdsClient(settings, http.get());
    if (!k.ok()) return VerifyUsage(std::string(k.status().message()));
    kds = *std::move(k);
    options->kds = kds.get();
  }

  auto report = ReadBlob(opt["--report"]);
  if (!report.ok()) {
    if (absl::IsNotFound(report.status()) || absl::IsPermissionDenied(report.status())) {
      return VerifyUsage(std::string(report.status().message()));
    }
    out.error = std::string(report.status().message());
    (void)out.checks.Fail("report.structure", out.error, absl::StatusCode::kInvalidArgument);
    return PrintOutcome(out, "sev-snp", json);
  }
  std::optional<Certificate> vcek;
  std::vector<Certificate> chain;
  if (!opt["--vcek"].empty()) {
    auto c = ReadCertificates(opt["--vcek"]);
    if (!c.ok() && (absl::IsNotFound(c.status()) || absl::IsPermissionDenied(c.status()))) {
      return VerifyUsage(std::string(c.status().message()));
    }
    if (!c.ok() || c->size() != 1) {
      out.error = c.ok() ? "--vcek must hold exactly one certificate" : std::string(c.status().message());
      (void)out.checks.Fail("evidence.endorsement", out.error, absl::StatusCode::kInvalidArgument);
      return PrintOutcome(out, "sev-snp", json);
    }
    vcek = (*c)[0];
  }
  if (!opt["--cert-chain"].empty()) {
    auto c = ReadCertificates(opt["--cert-chain"]);
    if (!c.ok() && (absl::IsNotFound(c.status()) || absl::IsPermissionDenied(c.status()))) {
      return VerifyUsage(std::string(c.status().message()));
    }
    if (!c.ok()) {
      out.error = std::string(c.status().message());
      (void)out.checks.Fail("evidence.cert_chain", out.error, absl::StatusCode::kInvalidArgument);
      return PrintOutcome(out, "sev-snp", json);
    }
    chain = *std::move(c);
  }
  sevsnp::SnpAppraiser appraiser(*std::move(options));
  auto verified = appraiser.Verify(*report, {}, vcek, chain, false, &out.checks);
  if (!verified.ok()) {
    out.error = std::string(verified.status().message());
    return PrintOutcome(out, "sev-snp", json);
  }
  out.claims = sevsnp::Claims(verified->report);
  absl::Status policy = sevsnp::Appraise(verified->report, appraiser.policy(), out.checks);
  if (!policy.ok()) {
    out.error = std::string(policy.message());
    return PrintOutcome(out, "sev-snp", json);
  }
  out.selectors = sevsnp::Selectors(verified->report);
  if (const auto& policy = out.claims_report.policy) {
    auto& e = out.claims_report.evaluation;
    e = appraisal::Evaluate(*policy, sevsnp::NormalizedClaims(verified->report, false), at);
    absl::Status denied = appraisal::DenialStatus(*policy, *e);
    if (!denied.ok()) {
      out.error = std::string(denied.message());
      return PrintOutcome(out, "sev-snp", json);
    }
  }
  out.verified = true;
  return PrintOutcome(out, "sev-snp", json);
}

}  // namespace twi::cli
