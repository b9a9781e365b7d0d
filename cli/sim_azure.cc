// twi sim azure --tpm TCTI --out DIR [--vm-id ID] [--rsa-bits 2048|4096] [--hierarchy-dir H]
//
// Provisions the (software) TPM at TCTI as a simulated Azure SEV-SNP confidential VM
// (attestors/azure/sim.h): the AK at 0x81000003, an HCL report signed by the SEV-SNP simulator
// in NV 0x01400001, the simulated host's VCEK and ASK. An agent with
// azure { tcti = TCTI, simulate = true } then attests with it. Writes
//   DIR/hcl_report.bin  the HCL report, as `twi inspect` and `twi verify` read it
//   DIR/vcek.pem        VCEK, then ASK
//   DIR/ark.pem         the simulated ARK, for the server's sev_snp.extra_roots
// The hierarchy stays in H (default DIR/sim-amd), which can be an agent's simulation_dir.
#include <cstdio>
#include <filesystem>
#include <map>

#include "attestors/azure/sim.h"
#include "attestors/core/str.h"
#include "attestors/core/x509.h"
#include "attestors/core/x509_mint.h"
#include "cli/sim_tdx.h"

namespace twi::cli {
namespace {

int AzureSimUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi sim: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi sim azure --tpm TCTI --out DIR [--vm-id ID] [--rsa-bits 2048|4096]\n"
               "                     [--hierarchy-dir DIR]\n");
  return 2;
}

std::string Pem(ByteView der) {
  auto c = Certificate::FromDer(der);
  return c.ok() ? X509Pem(c->get()) : "";
}

}  // namespace

int SimAzure(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--tpm" || a == "--out" || a == "--vm-id" || a == "--rsa-bits" ||
         a == "--hierarchy-dir") && i + 1 < args.size()) {
      opt[a] = args[++i];
    } else {
      return AzureSimUsage(twi::StrCat("unexpected argument \"", a.substr(0, 60), "\""));
    }
  }
  if (opt["--tpm"].empty()) return AzureSimUsage("--tpm is required (e.g. swtpm:port=2321)");
  if (opt["--out"].empty()) return AzureSimUsage("--out is required");
  const std::filesystem::path out(opt["--out"]);
  sevsnp::SimHierarchyOptions ho;
  ho.dir = opt["--hierarchy-dir"].empty() ? (out / "sim-amd").string() : opt["--hierarchy-dir"];
  if (!opt["--rsa-bits"].empty()) {
    ho.rsa_bits = std::atoi(opt["--rsa-bits"].c_str());
    if (ho.rsa_bits != 2048 && ho.rsa_bits != 4096) return AzureSimUsage("--rsa-bits must be 2048 or 4096");
  }
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  auto h = sevsnp::SimHierarchy::Create(ho);
  if (!h.ok()) {
    std::fprintf(stderr, "twi sim: %s\n", std::string(h.status().message()).c_str());
    return 1;
  }
  azure::SimAzureOptions so;
  so.hierarchy = *h;
  if (!opt["--vm-id"].empty()) so.vm_id = opt["--vm-id"];
  auto vm = azure::ProvisionSimAzureVm(opt["--tpm"], so);
  if (!vm.ok()) {
    std::fprintf(stderr, "twi sim: %s\n", std::string(vm.status().message()).c_str());
    return 1;
  }
  if (!WriteOutput(out / "hcl_report.bin", AsString(vm->hcl_report)) ||
      !WriteOutput(out / "vcek.pem", Pem(vm->vcek) + Pem(vm->ask)) ||
      !WriteOutput(out / "ark.pem", (*h)->ark_pem())) {
    std::fprintf(stderr, "twi sim: cannot write into %s\n", out.string().c_str());
    return 1;
  }
  std::printf("provisioned %s as a simulated Azure CVM (vm id %s)\nwrote %s/{hcl_report.bin,vcek.pem,ark.pem}\n"
              "server: insecure_simulation_roots = true, sev_snp { extra_roots = [\"vcek:%s\"] }, azure {}\n",
              opt["--tpm"].c_str(), so.vm_id.c_str(), out.string().c_str(),
              std::filesystem::absolute(out / "ark.pem").string().c_str());
  return 0;
}

}  // namespace twi::cli
