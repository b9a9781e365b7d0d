// `twi collect --kind azure`: what the agent plugin reads from an Azure CVM's vTPM (same code,
// attestors/azure/collect.h), written for `twi verify`. Every CVM gives
//   hcl_report.bin  the HCL report from NV 0x01400001
//   quote.bin       TPMS_ATTEST by the AK at 0x81000003 (qualifying data = the nonce)
//   signature.bin   TPMT_SIGNATURE
//   pcrs.json       {"sha256": {"0": "<hex>", ...}}: the PCR values the quote covers
//   ak_pub.bin      the AK's TPMT_PUBLIC (the runtime claims' HCLAkPub must be this key)
// and the HCL report's type says which hardware report it carries, as it does for the agent
// (the only source on the VM; the choice is printed and kept in verify.sh):
//   2 (SEV-SNP)  vcek.pem: the VCEK and its chain from THIM (or the simulated host), when
//                fetched, for `twi verify --type azure-sev-snp`
//   4 (TDX)      the TD quote of its TDREPORT and its collateral (collect_azure_tdx.cc), for
//                `twi verify --type azure-tdx`
// With --simulate azure the TPM at --tcti (a swtpm) is first provisioned as a simulated CVM
// (--tee sev-snp, attestors/azure/sim.h; --tee tdx, sim_tdx.h), and the files trusting the
// simulated root (ark.pem or root.pem, policy.hcl) are written for that verification only.
#include <cstdio>

#include "attestors/azure/sim.h"
#include "attestors/azure/thim.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/core/x509.h"
#include "attestors/core/x509_mint.h"
#include "attestors/tpm/abi.h"
#include "cli/collect_azure.h"
#include "nlohmann/json.hpp"

namespace twi::cli {
namespace {

absl::StatusOr<std::string> PemOf(ByteView der) {
  TWI_ASSIGN_OR_RETURN(Certificate c, Certificate::FromDer(der));
  std::string pem = X509Pem(c.get());
  if (pem.empty()) return absl::InternalError("cannot write a certificate as PEM");
  return pem;
}

// The SEV-SNP half: the VCEK chain (from the simulated host's NV indices when `hierarchy` is
// the simulation's, else THIM) and, when simulating, the policy trusting the simulated ARK.
absl::Status AddAzureVcek(const CollectRequest& r, azure::AzureVtpm& vtpm,
                          const std::shared_ptr<const sevsnp::SimHierarchy>& hierarchy, Collected* c) {
  std::string vcek_pem;
  if (hierarchy) {
    TWI_ASSIGN_OR_RETURN(Bytes vcek, vtpm.tpm().ReadNv(azure::kSimVcekNvIndex));
    TWI_ASSIGN_OR_RETURN(Bytes ask, vtpm.tpm().ReadNv(azure::kSimAskNvIndex));
    for (const Bytes* der : {&vcek, &ask}) {
      TWI_ASSIGN_OR_RETURN(std::string pem, PemOf(*der));
      vcek_pem += pem;
    }
  } else {
    collateral::CurlHttpGetter http(azure::ImdsCurlOptions());
    auto thim = azure::FetchThim(http, r.imds_url);
    if (thim.ok()) {
      TWI_ASSIGN_OR_RETURN(vcek_pem, PemOf(thim->vcek));
      for (const Bytes& der : thim->chain) {
        TWI_ASSIGN_OR_RETURN(std::string pem, PemOf(der));
        vcek_pem += pem;
      }
    } else {
      std::fprintf(stderr, "twi collect: no VCEK (%s); verify.sh needs one in vcek.pem\n",
                   std::string(thim.status().message()).c_str());
    }
  }
  if (!vcek_pem.empty()) {
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "vcek.pem", vcek_pem));
    c->files.push_back("vcek.pem");
    c->verify_args.insert(c->verify_args.end(), {"--vcek", "vcek.pem"});
  }
  if (hierarchy) TWI_RETURN_IF_ERROR(WriteSimSnpTrust(r, hierarchy->ark_pem(), c));
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteAzureVtpmFiles(const CollectRequest& r, azure::AzureVtpm& vtpm, ByteView hcl,
                                 const std::string& type, Collected* c) {
  TWI_ASSIGN_OR_RETURN(tpm::TpmQuote quote, vtpm.tpm().Quote(r.tpm_pcrs, r.nonce));
  auto write = [&](const char* name, ByteView data) -> absl::Status {
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / name, AsString(data)));
    c->files.push_back(name);
    return absl::OkStatus();
  };
  TWI_RETURN_IF_ERROR(write("hcl_report.bin", hcl));
  TWI_RETURN_IF_ERROR(write("quote.bin", quote.attest));
  TWI_RETURN_IF_ERROR(write("signature.bin", quote.signature));
  nlohmann::ordered_json pcrs = nlohmann::ordered_json::object();
  for (const tpm::PcrValue& v : quote.pcrs) {
    pcrs[tpm::AlgName(v.hash_alg)][std::to_string(v.index)] = HexEncode(v.digest);
  }
  TWI_RETURN_IF_ERROR(write("pcrs.json", AsBytes(pcrs.dump(2) + "\n")));
  TWI_RETURN_IF_ERROR(write("ak_pub.bin", vtpm.ak().public_area));
  c->verify_args = {"--type", type, "--hcl-report", "hcl_report.bin", "--quote", "quote.bin",
                    "--signature", "signature.bin", "--pcrs", "pcrs.json", "--nonce", HexEncode(r.nonce)};
  return absl::OkStatus();
}

absl::StatusOr<Collected> CollectAzure(const CollectRequest& r) {
  std::shared_ptr<const sevsnp::SimHierarchy> hierarchy;
  std::unique_ptr<azure::AzureTdxSimulator> tdx_sim;
  if (r.simulate) {
    if (r.tpm.tcti == tpm::kDefaultTcti) {
      return absl::InvalidArgumentError(
          "--simulate azure provisions a software TPM: run swtpm and pass --tcti swtpm:port=P");
    }
    if (r.sim_tee == "tdx") {
      azure::AzureTdxSimOptions so;
      so.tdx.dir = r.sim_dir;
      TWI_ASSIGN_OR_RETURN(tdx_sim, azure::AzureTdxSimulator::Create(so));
      TWI_RETURN_IF_ERROR(azure::ProvisionSimAzureTdxVm(r.tpm.tcti, *tdx_sim).status());
    } else {
      sevsnp::SimHierarchyOptions ho;
      ho.dir = r.sim_dir;
      ho.rsa_bits = r.sim_rsa_bits;
      TWI_ASSIGN_OR_RETURN(hierarchy, sevsnp::SimHierarchy::Create(ho));
      azure::SimAzureOptions so;
      so.hierarchy = hierarchy;
      TWI_RETURN_IF_ERROR(azure::ProvisionSimAzureVm(r.tpm.tcti, so).status());
    }
  }
  azure::VtpmOptions vo;
  vo.tcti = r.tpm.tcti;
  vo.banks = r.tpm_pcrs;
  vo.event_log_path = "";
  TWI_ASSIGN_OR_RETURN(std::unique_ptr<azure::AzureVtpm> vtpm, azure::AzureVtpm::Open(vo));
  TWI_ASSIGN_OR_RETURN(Bytes hcl, vtpm->ReadHclReport());
  // The report's type is what the paravisor says the hardware is; the parse only checks the
  // declared lengths and that the type is 2 (SEV-SNP) or 4 (TDX), nothing is trusted (verify
  // checks the binding and the hardware report).
  auto parsed = azure::ParseHclReport(hcl);
  if (!parsed.ok()) return Annotate(parsed.status(), "the vTPM's HCL report (NV 0x01400001)");

  Collected c;
  c.device = r.tpm.tcti;
  if (parsed->is_tdx()) {
    c.note = "the HCL report's type is 4 (tdx): an Azure TDX CVM, verified as azure-tdx";
    TWI_RETURN_IF_ERROR(WriteAzureVtpmFiles(r, *vtpm, hcl, "azure-tdx", &c));
    TWI_RETURN_IF_ERROR(AddAzureTdQuote(r, *parsed, tdx_sim.get(), &c));
    return c;
  }
  c.note = "the HCL report's type is 2 (sev-snp): an Azure SEV-SNP CVM, verified as azure-sev-snp";
  TWI_RETURN_IF_ERROR(WriteAzureVtpmFiles(r, *vtpm, hcl, "azure-sev-snp", &c));
  TWI_RETURN_IF_ERROR(AddAzureVcek(r, *vtpm, hierarchy, &c));
  return c;
}

}  // namespace twi::cli
