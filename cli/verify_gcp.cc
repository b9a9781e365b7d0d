// twi verify --type gcp --ak-cert FILE --ca FILE... --quote FILE --signature FILE --pcrs FILE
//            --nonce HEX [--report FILE --vcek FILE | --td-quote FILE --collateral FILE]
//            [--at RFC3339] [--insecure-simulation-roots] [--policy FILE] [--json]
//
// Verifies a Google Cloud VM's evidence with the server's verifier (attestors/gcp/verify.h):
// the AK certificate (--ak-cert, DER or PEM, as read from vTPM NV 0x01C10000) chains to the
// CAs of --ca (repeatable; each file may hold several PEM certificates: self-signed ones are
// roots, the others intermediates; examples/gcp/vtpm-ca-bundle.pem holds Google's), carries
// the instance-information extension, and its key signed the quote (--quote, --signature,
// --pcrs, --nonce as for --type tpm-quote). With --report (+ --vcek: the VCEK, optionally
// followed by its ASK and ARK) the SEV-SNP report, with --td-quote (+ --collateral, the DCAP
// bundle of --type tdx) the TDX quote must verify and carry the nonce, zero-filled to 64
// bytes, as REPORT_DATA. Hardware flags are the operator's choice: given, they are required.
// A --ca that is the simulated CA (`O=twi-attestor simulated Google`) is refused unless
// --insecure-simulation-roots (development only). --policy takes the hardware's block of the
// server's configuration, as --type sev-snp and --type tdx read it: with --report the
// `sev_snp` keys, with --td-quote the `tdx` keys; its roots (extra_roots, for a simulated
// SEV-SNP or TDX beside the vTPM) are trusted and its policy is applied to the verified report.
#include "cli/verify_gcp.h"

#include <cstdio>
#include <map>
#include <optional>

#include "attestors/collateral/dcap_bundle.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "attestors/core/str.h"
#include "attestors/gcp/verify.h"
#include "attestors/sevsnp/policy.h"
#include "attestors/tdx/policy.h"
#include "cli/input.h"
#include "cli/outcome.h"
#include "cli/verify_tdx.h"
#include "cli/verify_tpm.h"
#include "plugin/config/snp_config.h"
#include "plugin/server/appraisers.h"

namespace twi::cli {
namespace {

constexpr char kGcpType[] = "gcp";

int GcpVerifyUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi verify: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi verify --type gcp --ak-cert FILE --ca FILE... --quote FILE --signature FILE\n"
               "                  --pcrs FILE --nonce HEX [--report FILE --vcek FILE |\n"
               "                  --td-quote FILE --collateral FILE] [--at RFC3339]\n"
               "                  [--insecure-simulation-roots] [--policy FILE] [--json]\n");
  return 2;
}

bool Unreadable(const absl::Status& s) { return absl::IsNotFound(s) || absl::IsPermissionDenied(s); }

}  // namespace

int VerifyGcp(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  std::vector<std::string> ca_files;
  bool json = false, simulation = false, have_nonce = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--insecure-simulation-roots") {
      simulation = true;
    } else if (a == "--ca" && i + 1 < args.size()) {
      ca_files.push_back(args[++i]);
    } else if ((a == "--type" || a == "--ak-cert" || a == "--quote" || a == "--signature" ||
                a == "--pcrs" || a == "--nonce" || a == "--report" || a == "--vcek" ||
                a == "--td-quote" || a == "--collateral" || a == "--at" || a == "--policy") &&
               i + 1 < args.size()) {
      if (opt.count(a) != 0) return GcpVerifyUsage(StrCat(a, " given twice"));
      opt[a] = args[++i];
      have_nonce = have_nonce || a == "--nonce";
    } else {
      return GcpVerifyUsage(StrCat("unexpected argument \"", a.substr(0, 60), "\""));
    }
  }
  for (const char* required : {"--ak-cert", "--quote", "--signature", "--pcrs"}) {
    if (opt[required].empty()) return GcpVerifyUsage(StrCat(required, " is required"));
  }
  if (ca_files.empty()) return GcpVerifyUsage("--ca is required (the gce vtpm ca certificates, pem)");
  if (!have_nonce) return GcpVerifyUsage("--nonce is required (the expected qualifying data, hex)");
  const bool snp = !opt["--report"].empty() || !opt["--vcek"].empty();
  const bool tdx = !opt["--td-quote"].empty() || !opt["--collateral"].empty();
  if (snp && tdx) return GcpVerifyUsage("--report/--vcek and --td-quote/--collateral exclude each other");
  auto nonce = HexDecode(opt["--nonce"]);
  if (!nonce.ok()) return GcpVerifyUsage(StrCat("--nonce: ", nonce.status().message()));
  if (nonce->size() > 64 && (snp || tdx)) {
    return GcpVerifyUsage("--nonce: a hardware report carries at most 64 bytes of report data");
  }
  TimePoint at = std::chrono::system_clock::now();
  if (!opt["--at"].empty()) {
    auto t = ParseRfc3339(opt["--at"]);
    if (!t.ok()) return GcpVerifyUsage(std::string(t.status().message()));
    at = *t;
  }
  // The CA set is configuration: any problem with it is a usage error.
  std::vector<Certificate> cas;
  for (const std::string& f : ca_files) {
    auto certs = ReadCertificates(f);
    if (!certs.ok()) return GcpVerifyUsage(StrCat("--ca ", f, ": ", certs.status().message()));
    cas.insert(cas.end(), certs->begin(), certs->end());
  }
  // --policy: the hardware's trust and policy, as the server's sev_snp or tdx block.
  std::optional<sevsnp::SnpAppraiserOptions> snp_settings;
  std::optional<TdxSettings> tdx_settings;
  if (!opt["--policy"].empty()) {
    if (!snp && !tdx) return GcpVerifyUsage("--policy applies to the hardware report: give --report or --td-quote");
    const std::string& path = opt["--policy"];
    if (snp) {
      auto s = config::ReadSnpSettingsFile(path);
      if (!s.ok()) return GcpVerifyUsage(std::string(s.status().message()));
      auto o = server::SnpOptionsFromSettings(*s, /*allow_simulation=*/false);
      if (!o.ok()) return GcpVerifyUsage(StrCat(path, ": ", o.status().message()));
      snp_settings = *std::move(o);
    } else {
      auto text = ReadFileToString(path);
      if (!text.ok()) return GcpVerifyUsage(std::string(text.status().message()));
      auto s = ReadTdxSettings(*text, std::filesystem::path(path).parent_path());
      if (!s.ok()) return GcpVerifyUsage(StrCat(path, ": ", s.status().message()));
      tdx_settings = *std::move(s);
    }
  }
  // Files that cannot be read are usage errors; their contents are evidence (exit 1).
  std::map<std::string, Bytes> files;
  for (const char* f : {"--ak-cert", "--quote", "--signature", "--report", "--vcek", "--td-quote",
                        "--collateral"}) {
    if (opt[f].empty()) continue;
    // A TD quote carries its PCK chain as PEM text: read as --type tdx does, never through
    // the PEM-armour decoding of ReadBlob, which would take that chain for the file.
    const std::string flag = f;
    auto b = (flag == "--ak-cert" || flag == "--vcek" || flag == "--collateral") ? ReadFileBytes(opt[f])
             : flag == "--td-quote"                                               ? ReadDcapQuote(opt[f])
                                                                                  : ReadBlob(opt[f]);
    if (!b.ok() && Unreadable(b.status())) return GcpVerifyUsage(std::string(b.status().message()));
    files[f] = b.ok() ? *std::move(b) : Bytes();
  }
  auto pcrs_text = ReadFileToString(opt["--pcrs"]);
  if (!pcrs_text.ok()) return GcpVerifyUsage(std::string(pcrs_text.status().message()));

  VerifyOutcome out;
  auto fail = [&](const std::string& check, const absl::Status& s) {
    out.error = StrCat(check, ": ", s.message());
    (void)out.checks.Fail(check, std::string(s.message()), absl::StatusCode::kInvalidArgument);
    return PrintOutcome(out, kGcpType, json);
  };
  auto pcrs = ParsePcrsJson(*pcrs_text);
  if (!pcrs.ok()) return fail("pcr.values", pcrs.status());

  gcp::Evidence evidence;
  evidence.ak_cert = files["--ak-cert"];
  evidence.quote = files["--quote"];
  evidence.signature = files["--signature"];
  evidence.pcrs = *std::move(pcrs);
  gcp::VerifyOptions options;
  options.time = at;
  options.cas = gcp::CaSet::FromCertificates(cas);
  options.allow_simulated_ca = simulation;
  options.nonce = *nonce;
  options.allow_empty_nonce = nonce->empty();
  if (nonce->empty()) {
    std::fprintf(stderr, "twi verify: warning: --nonce \"\": a quote without qualifying data "
                         "proves no freshness\n");
  }
  options.expected_report_data = *nonce;
  if (snp_settings) {
    // As the server's SEV-SNP appraiser: its extra roots are the only non-AMD roots trusted.
    options.snp.product = snp_settings->product;
    options.snp.extra_trusted_roots = snp_settings->extra_roots;
    options.snp.allow_simulation_roots = !snp_settings->extra_roots.empty();
  }
  if (tdx_settings) {
    options.tdx.extra_trusted_roots = tdx_settings->extra_roots;
    options.tdx.allow_simulation_roots = tdx_settings->insecure_simulation_roots;
    options.tdx.allow_missing_crls = tdx_settings->allow_missing_crls;
  }
  std::vector<Certificate> snp_chain;
  Bytes vcek_der;
  std::optional<collateral::DcapCollateral> dcap;
  if (snp) {
    options.hardware = gcp::Hardware::kSevSnp;
    evidence.snp_report = files["--report"];
    if (!files["--vcek"].empty()) {
      auto certs = ParseCertificates(files["--vcek"]);
      if (!certs.ok()) return fail("hw.required", certs.status());
      vcek_der = (*certs)[0].der();
      evidence.vcek = vcek_der;
      snp_chain.assign(certs->begin() + 1, certs->end());
      evidence.snp_chain = snp_chain;
    }
  } else if (tdx) {
    options.hardware = gcp::Hardware::kTdx;
    evidence.td_quote = files["--td-quote"];
    if (!files["--collateral"].empty()) {
      auto bundle = collateral::ParseDcapBundle(AsString(files["--collateral"]));
      if (!bundle.ok()) return fail("hw.required", bundle.status());
      dcap = *std::move(bundle);
      evidence.tdx_collateral = &*dcap;
    }
  }
  gcp::VerifiedGcp verified;
  absl::Status s = gcp::VerifyGcp(evidence, options, out.checks, &verified);
  out.claims = gcp::Claims(verified);
  if (s.ok() && snp_settings && verified.snp) {
    s = sevsnp::Appraise(verified.snp->report, snp_settings->policy, out.checks);
  }
  if (s.ok() && tdx_settings && verified.tdx) s = tdx::Appraise(*verified.tdx, tdx_settings->policy, out.checks);
  if (!s.ok()) {
    out.error = std::string(s.message());
    return PrintOutcome(out, kGcpType, json);
  }
  out.selectors = gcp::Selectors(verified);
  if (verified.snp) {
    for (auto& sel : sevsnp::Selectors(verified.snp->report)) out.selectors.push_back(sel);
  }
  if (verified.tdx) {
    for (auto& sel : tdx::Selectors(*verified.tdx)) out.selectors.push_back(sel);
  }
  out.verified = true;
  return PrintOutcome(out, kGcpType, json);
}

}  // namespace twi::cli
