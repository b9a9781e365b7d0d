// twi sim sev-snp --out DIR [--report-data HEX] [--product milan|genoa|turin] [--debug]
//                 [--rsa-bits N] [--hierarchy-dir DIR]
//
// Writes a simulated SEV-SNP report signed by a simulated AMD hierarchy:
//   DIR/report.bin      the 1184-byte report
//   DIR/vcek.der        its VCEK
//   DIR/cert_chain.pem  ASK, then ARK (as AMD KDS serves it)
//   DIR/ark.pem         the simulated ARK
//   DIR/policy.hcl      a `twi verify --policy` file trusting that ARK
// `twi sim tdx` is in sim_tdx.cc, `twi sim gcp` (a simulated GCE vTPM on swtpm) in sim_gcp.cc.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "attestors/core/str.h"
#include "attestors/core/x509.h"
#include "attestors/sevsnp/abi.h"
#include "attestors/sevsnp/sim.h"
#include "cli/commands.h"
#include "cli/sim_gcp.h"
#include "cli/sim_tdx.h"
#include "plugin/config/kinds.h"

namespace twi::cli {
namespace {

int SimUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi sim: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi sim sev-snp --out DIR [--report-data HEX] [--product milan|genoa|turin]\n"
               "                       [--debug] [--rsa-bits 2048|4096] [--hierarchy-dir DIR]\n"
               "       twi sim tdx --report-data HEX --out DIR [--version 4|5] [--debug]\n"
               "       twi sim azure --tpm TCTI --out DIR [--tee sev-snp|tdx] [--vm-id ID] [--rsa-bits 2048|4096]\n"
               "       twi sim gcp --tpm TCTI --out DIR [--ak rsa|ecc]\n");
  return 2;
}

}  // namespace

bool WriteOutput(const std::filesystem::path& p, std::string_view data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(f);
}

int Sim(const std::vector<std::string>& args) {
  const std::string kind = args.empty() ? "" : args[0];
  if (kind == "tdx" || kind == "azure" || kind == "gcp") {
    // Only the kinds in TWI_KINDS are linked in (cmake/Kinds.cmake).
    if (std::string why = config::NotBuilt(twi::StrCat("twi sim ", kind), kind); !why.empty()) {
      std::fprintf(stderr, "twi sim: %s\n", why.c_str());
      return 2;
    }
    if constexpr (config::kBuiltKinds.tdx) {
      if (kind == "tdx") return SimTdx(args);
    }
    if constexpr (config::kBuiltKinds.azure) {
      if (kind == "azure") return SimAzure(args);
    }
    if constexpr (config::kBuiltKinds.gcp) {
      if (kind == "gcp") return SimGcp(args);
    }
  }
  if (kind != "sev-snp") return SimUsage("the simulated TEEs are sev-snp, tdx and azure (and gcp: a vTPM)");
  std::map<std::string, std::string> opt;
  bool debug = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--debug") {
      debug = true;
    } else if ((a == "--report-data" || a == "--out" || a == "--product" || a == "--rsa-bits" ||
                a == "--hierarchy-dir") && i + 1 < args.size()) {
      opt[a] = args[++i];
    } else {
      return SimUsage(twi::StrCat("unexpected argument \"", a, "\""));
    }
  }
  if (opt["--out"].empty()) return SimUsage("--out is required");
  auto report_data = HexDecode(opt["--report-data"]);
  if (!report_data.ok() || report_data->size() > 64) {
    return SimUsage("--report-data must be up to 64 bytes of hex");
  }
  sevsnp::SimHierarchyOptions ho;
  std::string product = opt.count("--product") ? opt["--product"] : "milan";
  if (product == "milan") {
    ho.product = sevsnp::SimProduct::kMilan;
  } else if (product == "genoa") {
    ho.product = sevsnp::SimProduct::kGenoa;
  } else if (product == "turin") {
    ho.product = sevsnp::SimProduct::kTurin;
  } else {
    return SimUsage("--product must be milan, genoa or turin");
  }
  ho.rsa_bits = opt.count("--rsa-bits") ? std::atoi(opt["--rsa-bits"].c_str()) : 4096;
  if (ho.rsa_bits != 2048 && ho.rsa_bits != 4096) return SimUsage("--rsa-bits must be 2048 or 4096");
  // Kept on disk (OUT/sim-amd by default) so that an agent's simulation_dir can use the same
  // hierarchy and a server can pin its ark.pem.
  ho.dir = opt.count("--hierarchy-dir") ? opt["--hierarchy-dir"]
                                        : (std::filesystem::path(opt["--out"]) / "sim-amd").string();
  std::error_code ec;
  std::filesystem::create_directories(opt["--out"], ec);
  auto hierarchy = sevsnp::SimHierarchy::Create(ho);
  if (!hierarchy.ok()) {
    std::fprintf(stderr, "twi sim: %s\n", std::string(hierarchy.status().message()).c_str());
    return 1;
  }
  sevsnp::SimOptions so;
  so.hierarchy = *hierarchy;
  so.fast_for_tests = false;
  if (debug) so.policy |= uint64_t{1} << 19;
  auto sim = sevsnp::SnpSimulator::Create(std::move(so));
  if (!sim.ok()) {
    std::fprintf(stderr, "twi sim: %s\n", std::string(sim.status().message()).c_str());
    return 1;
  }
  auto ev = (*sim)->GetReport(*report_data);
  if (!ev.ok()) {
    std::fprintf(stderr, "twi sim: %s\n", std::string(ev.status().message()).c_str());
    return 1;
  }
  auto table = sevsnp::ParseCertTable(ev->cert_table);
  const sevsnp::CertTableEntry* vcek = table.ok() ? sevsnp::FindCert(*table, sevsnp::kGuidVcek) : nullptr;
  if (vcek == nullptr) {
    std::fprintf(stderr, "twi sim: the simulator produced no VCEK\n");
    return 1;
  }
  std::filesystem::path out(opt["--out"]);
  const auto& h = (*sim)->hierarchy();
  std::string policy = twi::StrCat("# trusts the simulated ARK written beside this file\nextra_roots = [\"vcek:",
                                   std::filesystem::absolute(out / "ark.pem").string(), "\"]\n");
  if (!WriteOutput(out / "report.bin", AsString(ev->report)) || !WriteOutput(out / "vcek.der", AsString(vcek->data)) ||
      !WriteOutput(out / "cert_chain.pem", h.VcekCertChainPem()) || !WriteOutput(out / "ark.pem", h.ark_pem()) ||
      !WriteOutput(out / "policy.hcl", policy)) {
    std::fprintf(stderr, "twi sim: cannot write into %s\n", out.string().c_str());
    return 1;
  }
  std::printf("wrote %s/{report.bin,vcek.der,cert_chain.pem,ark.pem,policy.hcl}\n", out.string().c_str());
  return 0;
}

int RunExtra(const std::string& cmd, const std::vector<std::string>& args) {
  if (cmd == "verify") return Verify(args);
  if (cmd == "sim") return Sim(args);
  if (cmd == "collect") return Collect(args);
  if (cmd == "inspect") return Inspect(args);
  if (cmd == "tpm") return Tpm(args);
  return -1;
}

std::string ExtraUsage() {
  return "  verify --type sev-snp --report FILE [--vcek FILE] [--cert-chain FILE] [--at RFC3339]\n"
         "         [--policy FILE] [--fetch] [--json]\n"
         "                                            verify evidence offline, as the server does\n"
         "  sim sev-snp --out DIR [--report-data HEX] [--product P] [--debug] [--hierarchy-dir H]\n"
         "                                            write a simulated report, VCEK, chain and ark.pem;\n"
         "                                            the hierarchy (H, default DIR/sim-amd) can be an\n"
         "                                            agent's simulation_dir\n"
         "  verify --type tdx --quote FILE --collateral FILE [--at RFC3339] [--policy FILE]\n"
         "         [--insecure-simulation-roots] [--json]\n"
         "                                            verify a TDX quote offline\n"
         "  sim tdx --report-data HEX --out DIR [--version 4|5] [--debug]\n"
         "                                            write a simulated quote, collateral, policy\n"
         "  sim azure --tpm TCTI --out DIR [--tee sev-snp|tdx] [--vm-id ID]\n"
         "                                            provision a swtpm as a simulated Azure CVM\n"
         "  collect [--kind K] [--simulate K] [--nonce HEX] --out DIR\n"
         "                                            capture this VM's evidence for twi verify\n"
         "  inspect FILE [--json]                     decode an evidence file into named fields\n"
         "  tpm info [--tcti T] [--ek rsa|ecc] [--ek-handle H] [--ak-handle H] [--json]\n"
         "                                            this VM's TPM: EK, certificate, banks, handles\n";
}

}  // namespace twi::cli
