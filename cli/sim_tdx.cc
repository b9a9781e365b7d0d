// twi sim tdx --report-data HEX --out DIR [--version 4|5] [--debug] [--hierarchy-dir DIR]
//
// Writes a TDX quote from the software quoting stack (attestors/tdx/sim.h) and what verifies it:
//   DIR/quote.bin        the v4 (default) or v5 quote
//   DIR/collateral.json  its nine-key collateral bundle, signed under the simulated root
//   DIR/root.pem         the simulated root (O=twi-attestor simulated Intel)
//   DIR/policy.hcl       a `twi verify --type tdx --policy` file trusting that root
//                        (insecure_simulation_roots = true) and pinning the quote's MRTD
// The simulated root, PCK CA and TCB Signing keys are kept in DIR/sim-intel (or
// --hierarchy-dir), created on the first run, so an agent whose simulation_dir is that
// directory and a server pinning its root.pem share this root; DIR/sim-intel/collateral.json
// is the same bundle, for a server's tdx.collateral_offline_path.
#include <cstdio>
#include <filesystem>
#include <map>

#include "attestors/core/str.h"
#include "attestors/tdx/sim.h"
#include "cli/sim_tdx.h"

namespace twi::cli {
namespace {

int TdxSimUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi sim: %s\n", why.c_str());
  std::fprintf(stderr, "usage: twi sim tdx --report-data HEX --out DIR [--version 4|5] [--debug]\n"
                       "                   [--hierarchy-dir DIR]\n");
  return 2;
}

}  // namespace

int SimTdx(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  tdx::SimOptions so;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--debug") {
      so.td_attributes |= tdx::kTdAttrDebug;
    } else if ((a == "--report-data" || a == "--out" || a == "--version" || a == "--hierarchy-dir") &&
               i + 1 < args.size()) {
      opt[a] = args[++i];
    } else {
      return TdxSimUsage(StrCat("unexpected argument \"", a, "\""));
    }
  }
  if (opt["--out"].empty()) return TdxSimUsage("--out is required");
  auto report_data = HexDecode(opt["--report-data"]);
  if (!report_data.ok() || report_data->size() > 64) {
    return TdxSimUsage("--report-data must be up to 64 bytes of hex");
  }
  const std::string version = opt.count("--version") ? opt["--version"] : "4";
  if (version != "4" && version != "5") return TdxSimUsage("--version must be 4 or 5");
  so.version = version == "5" ? 5 : 4;
  so.dir = opt.count("--hierarchy-dir") ? opt["--hierarchy-dir"]
                                        : (std::filesystem::path(opt["--out"]) / "sim-intel").string();
  auto sim = tdx::TdxSimulator::Create(so);
  auto quote = sim.ok() ? (*sim)->GetQuote(*report_data) : sim.status();
  if (!quote.ok()) {
    std::fprintf(stderr, "twi sim: %s\n", std::string(quote.status().message()).c_str());
    return 1;
  }
  auto parsed = tdx::ParseQuote(*quote);
  if (!parsed.ok() || !parsed->td) {
    std::fprintf(stderr, "twi sim: the simulator produced an unparsable quote\n");
    return 1;
  }
  const tdx::Mr mrtd = parsed->td->mr_td;
  std::filesystem::path out(opt["--out"]);
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  std::string policy = StrCat(
      "# Trusts the SIMULATED root written beside this file: development and tests only.\n"
      "insecure_simulation_roots = true\n"
      "extra_roots = [\"", std::filesystem::absolute(out / "root.pem").string(), "\"]\n",
      "mrtd = [\"", HexEncode(mrtd), "\"]\n", (so.td_attributes & tdx::kTdAttrDebug) != 0
                                                 ? "allow_debug = true\n"
                                                 : "");
  if (!WriteOutput(out / "quote.bin", AsString(*quote)) ||
      !WriteOutput(out / "collateral.json", (*sim)->collateral_json()) ||
      !WriteOutput(out / "root.pem", (*sim)->root_pem()) || !WriteOutput(out / "policy.hcl", policy) ||
      !WriteOutput(std::filesystem::path(so.dir) / "collateral.json", (*sim)->collateral_json())) {
    std::fprintf(stderr, "twi sim: cannot write into %s\n", out.string().c_str());
    return 1;
  }
  std::printf("wrote %s/{quote.bin,collateral.json,root.pem,policy.hcl}\n", out.string().c_str());
  return 0;
}

}  // namespace twi::cli
