// twi verify --type gcp --ak-cert FILE --ca FILE... --quote FILE --signature FILE --pcrs FILE
//            --nonce HEX [--report FILE --vcek FILE | --td-quote FILE --collateral FILE]
//            [--at RFC3339] [--insecure-simulation-roots] [--json]
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
// --insecure-simulation-roots (development only).
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
#include "cli/verify_tpm.h"

namespace twi::cli {
namespace {

constexpr char kGcpType[] = "gcp";

int GcpVerifyUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi verify: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi verify --type gcp --ak-cert FILE --ca FILE... --quote FILE --signature FILE\n"
               "                  --pcrs FILE --nonce HEX [--report FILE --vcek FILE |\n"
               "                  --td-quote FILE --collateral FILE] [--at RFC3339]\n"
               "                  [--insecure-simulation-roots] [--json]\n");
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
                a == "--td-quote" || a == "--collateral" || a == "--at") &&
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
  // Files that cannot be read are usage errors; their contents are evidence (exit 1).
  std::map<std::string, Bytes> files;
  for (const char* f : {"--ak-cert", "--quote", "--signature", "--report", "--vcek", "--td-quote",
                        "--collateral"}) {
    if (opt[f].empty()) continue;
    auto b = (std::string(f) == "--ak-cert" || std::string(f) == "--vcek" ||
              std::string(f) == "--collateral")
                 ? ReadFileBytes(opt[f])
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
