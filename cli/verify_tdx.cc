// twi verify --type tdx --quote FILE --collateral FILE [--at RFC3339] [--policy FILE] [--json]
//
// Verifies a TDX (or SGX) DCAP quote offline with the same verifier and policy the server
// uses, and prints every check. --collateral is the nine-key JSON bundle (collateral/
// dcap_bundle.h); --quote is raw bytes or hex text. --policy holds the keys of the server's
// `tdx` block at top level (HCL or JSON; read by the same code, plugin/config/tdx_config.h):
//
//   allowed_tcb_statuses = ["UpToDate"]      allowed_advisory_ids = []
//   allow_debug = false                       require_sept_ve_disable = true
//   mrtd = ["<96 hex>"]  rtmr0 .. rtmr3, mrconfigid, mrowner, mrownerconfig (lists of hex)
//   xfam = ["0x602e7"]   td_attributes_mask = "0x..."  td_attributes = "0x..."
//   min_tee_tcb_svn = "<32 hex>"  min_qe_svn = 4  allow_missing_crls = false
//   extra_roots = ["root.pem"]  insecure_simulation_roots = false
//
// extra_roots (PEM files, relative to the policy file) are trusted beside the Intel SGX Root CA
// only with insecure_simulation_roots = true or --insecure-simulation-roots: they exist for the
// simulator (`twi sim tdx`), whose quotes must never pass for Intel-rooted evidence by accident.
//
// Output: the same shape as the SEV-SNP verifier's, evidence_type "tdx"; claims are filled as
// far as verification got, also when policy refuses the quote.
#include "cli/verify_tdx.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>

#include "attestors/collateral/dcap_bundle.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tdx/policy.h"
#include "attestors/tdx/verify.h"
#include "cli/input.h"
#include "cli/outcome.h"
#include "nlohmann/json.hpp"
#include "plugin/config/tdx_config.h"

namespace twi::cli {
namespace {

int TdxVerifyUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi verify: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi verify --type tdx --quote FILE --collateral FILE [--at RFC3339]\n"
               "                  [--policy FILE] [--insecure-simulation-roots] [--json]\n");
  return 2;
}

}  // namespace

absl::StatusOr<TdxSettings> ReadTdxSettings(const std::string& text, const std::filesystem::path& base) {
  TWI_ASSIGN_OR_RETURN(config::TdxPolicyFile f, config::BuildTdxPolicyFile(text));
  if (f.settings.collateral_configured) {
    return absl::InvalidArgumentError(
        "the collateral_* and pccs_allow_self_signed_tls keys are server keys; twi verify reads "
        "the collateral given with --collateral");
  }
  TdxSettings s;
  s.policy = std::move(f.settings.policy);
  s.allow_missing_crls = f.settings.allow_missing_crls;
  s.insecure_simulation_roots = f.insecure_simulation_roots;
  for (const std::string& p : f.settings.extra_root_files) {
    std::filesystem::path path = base / p;  // an absolute p replaces base
    TWI_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(path.string()));
    auto certs = ParsePemBundle(pem);
    if (!certs.ok()) return Annotate(certs.status(), StrCat("extra_roots: ", p));
    s.extra_roots.insert(s.extra_roots.end(), certs->begin(), certs->end());
  }
  return s;
}

// Not ReadBlob: a binary quote embeds its PCK chain as PEM, which must not be mistaken for a
// PEM file.
absl::StatusOr<Bytes> ReadDcapQuote(const std::string& path) {
  TWI_ASSIGN_OR_RETURN(Bytes raw, ReadFileBytes(path));
  std::string hex;
  size_t start = raw.size() >= 2 && raw[0] == '0' && (raw[1] == 'x' || raw[1] == 'X') ? 2 : 0;
  for (uint8_t c : ByteView(raw).subspan(start)) {
    if (std::isspace(c)) continue;
    if (!std::isxdigit(c)) return raw;
    hex.push_back(static_cast<char>(c));
  }
  if (hex.empty()) return raw;
  return HexDecode(hex);
}

absl::StatusOr<collateral::DcapCollateral> ReadCollateralBundle(const std::string& path) {
  TWI_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return collateral::ParseDcapBundle(text);
}

std::string ExtraRootsHint(const TdxSettings& settings, bool trusted) {
  if (settings.extra_roots.empty() || trusted) return "";
  return " (extra_roots are trusted only with insecure_simulation_roots = true or "
         "--insecure-simulation-roots, for simulated evidence)";
}

int VerifyTdx(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  bool json = false, insecure_simulation_roots = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--insecure-simulation-roots") {
      insecure_simulation_roots = true;
    } else if ((a == "--type" || a == "--quote" || a == "--collateral" || a == "--at" ||
                a == "--policy") && i + 1 < args.size()) {
      opt[a] = args[++i];
    } else {
      return TdxVerifyUsage(StrCat("unexpected argument \"", a, "\""));
    }
  }
  if (opt["--quote"].empty()) return TdxVerifyUsage("--quote is required");
  if (opt["--collateral"].empty()) return TdxVerifyUsage("--collateral is required");
  TdxSettings settings;
  if (!opt["--policy"].empty()) {
    auto text = ReadFileToString(opt["--policy"]);
    if (!text.ok()) return TdxVerifyUsage(std::string(text.status().message()));
    auto s = ReadTdxSettings(*text, std::filesystem::path(opt["--policy"]).parent_path());
    if (!s.ok()) return TdxVerifyUsage(StrCat(opt["--policy"], ": ", s.status().message()));
    settings = *std::move(s);
  }
  tdx::VerifyOptions options;
  options.time = std::chrono::system_clock::now();
  options.allow_missing_crls = settings.allow_missing_crls;
  options.extra_trusted_roots = settings.extra_roots;
  options.allow_simulation_roots = settings.insecure_simulation_roots || insecure_simulation_roots;
  if (!opt["--at"].empty()) {
    auto t = ParseRfc3339(opt["--at"]);
    if (!t.ok()) return TdxVerifyUsage(std::string(t.status().message()));
    options.time = *t;
  }
  auto quote = ReadDcapQuote(opt["--quote"]);
  if (!quote.ok() && IsUsageError(quote.status())) return TdxVerifyUsage(std::string(quote.status().message()));
  auto bundle = ReadCollateralBundle(opt["--collateral"]);
  if (!bundle.ok() && IsUsageError(bundle.status())) {
    return TdxVerifyUsage(std::string(bundle.status().message()));
  }

  VerifyOutcome out;
  if (!quote.ok()) return PrintRefusal(out, "quote.structure", quote.status(), "tdx", json);
  if (!bundle.ok()) return PrintRefusal(out, "collateral.bundle", bundle.status(), "tdx", json);
  tdx::VerifiedQuote verified;
  absl::Status s = tdx::VerifyQuoteBytes(*quote, *bundle, options, out.checks, &verified);
  out.claims = tdx::Claims(verified);
  if (s.ok()) s = tdx::Appraise(verified, settings.policy, out.checks);
  if (!s.ok()) {
    out.error = std::string(s.message()) + ExtraRootsHint(settings, options.allow_simulation_roots);
    return PrintOutcome(out, "tdx", json);
  }
  out.selectors = tdx::Selectors(verified);
  out.verified = true;
  return PrintOutcome(out, "tdx", json);
}

}  // namespace twi::cli
