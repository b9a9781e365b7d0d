// twi sim gcp --tpm TCTI --out DIR [--ak rsa|ecc]
//
// Provisions the TPM at TCTI (a swtpm: never a real TPM, whose NV it would rewrite) as a
// simulated Google Cloud vTPM (attestors/gcp/sim_vtpm.h): GCE's AK template in NV, the AK made
// from it, and its AK certificate (instance information of SimInstanceInfo) from a simulated
// Google CA kept in DIR/sim-gce (created there once, reused after). Writes DIR/ca_bundle.pem
// for the server's gcp.ca_bundle (with insecure_simulation_roots = true) and DIR/ak_cert.der.
// An agent with gcp { tcti = TCTI } then attests as that VM.
#include "cli/sim_gcp.h"

#include <cstdio>
#include <filesystem>
#include <map>

#include "attestors/core/str.h"
#include "attestors/gcp/sim_vtpm.h"
#include "cli/sim_tdx.h"

namespace twi::cli {
namespace {

int GcpSimUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi sim gcp: %s\n", why.c_str());
  std::fprintf(stderr, "usage: twi sim gcp --tpm TCTI --out DIR [--ak rsa|ecc]\n");
  return 2;
}

}  // namespace

int SimGcp(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--tpm" || a == "--out" || a == "--ak") && i + 1 < args.size()) {
      opt[a] = args[++i];
    } else {
      return GcpSimUsage(twi::StrCat("unexpected argument \"", a.substr(0, 60), "\""));
    }
  }
  if (opt["--tpm"].empty()) return GcpSimUsage("--tpm is required (e.g. swtpm:port=2321)");
  if (opt["--out"].empty()) return GcpSimUsage("--out is required");
  if (!opt["--ak"].empty() && opt["--ak"] != "rsa" && opt["--ak"] != "ecc") return GcpSimUsage("--ak must be rsa or ecc");
  const std::filesystem::path out = std::filesystem::absolute(opt["--out"]);
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  gcp::SimCaOptions co;
  co.dir = (out / "sim-gce").string();
  auto ca = gcp::SimCa::Create(co);
  if (!ca.ok()) {
    std::fprintf(stderr, "twi sim gcp: %s\n", std::string(ca.status().message()).c_str());
    return 1;
  }
  gcp::SimVtpmOptions o;
  o.tcti = opt["--tpm"];
  o.ak_alg = opt["--ak"] == "ecc" ? tpm::KeyAlg::kEccP256 : tpm::KeyAlg::kRsa2048;
  o.ca = *ca;
  o.cert.instance = gcp::SimInstanceInfo();
  auto v = gcp::ProvisionSimVtpm(o);
  if (!v.ok()) {
    std::fprintf(stderr, "twi sim gcp: %s\n", std::string(v.status().message()).c_str());
    return 1;
  }
  if (!WriteOutput(out / "ca_bundle.pem", (*ca)->BundlePem()) ||
      !WriteOutput(out / "ak_cert.der", AsString(v->ak_cert))) {
    std::fprintf(stderr, "twi sim gcp: cannot write into %s\n", out.c_str());
    return 1;
  }
  const gcp::InstanceInfo& i = o.cert.instance;
  std::printf("provisioned %s as a simulated GCE vTPM (%s AK): project %s, zone %s, instance %s (%llu)\n"
              "wrote %s/{ca_bundle.pem,ak_cert.der,sim-gce/}\n"
              "server: insecure_simulation_roots = true and gcp { ca_bundle = [\"%s/ca_bundle.pem\"] ... }\n",
              o.tcti.c_str(), o.ak_alg == tpm::KeyAlg::kEccP256 ? "ecc" : "rsa", i.project_id.c_str(),
              i.zone.c_str(), i.instance_name.c_str(), static_cast<unsigned long long>(i.instance_id),
              out.c_str(), out.c_str());
  return 0;
}

}  // namespace twi::cli
