// The Azure SEV-SNP collector of `twi collect --kind azure`: what the agent plugin reads from
// an Azure CVM's vTPM (same code, attestors/azure/collect.h), written as
//   hcl_report.bin  the HCL report from NV 0x01400001
//   quote.bin       TPMS_ATTEST by the AK at 0x81000003 (qualifying data = the nonce)
//   signature.bin   TPMT_SIGNATURE
//   pcrs.json       {"sha256": {"0": "<hex>", ...}}: the PCR values the quote covers
//   ak_pub.bin      the AK's TPMT_PUBLIC (the runtime claims' HCLAkPub must be this key)
//   vcek.pem        the VCEK and its chain from THIM (or the simulated host), when fetched
// for `twi verify --type azure-sev-snp`. With --simulate azure the TPM at --tcti (a swtpm) is
// first provisioned as a simulated CVM (attestors/azure/sim.h), and ark.pem + policy.hcl trust
// the simulated root for that verification only.
#include <cstdio>

#include "attestors/azure/collect.h"
#include "attestors/azure/sim.h"
#include "attestors/azure/thim.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/core/x509.h"
#include "attestors/core/x509_mint.h"
#include "attestors/tpm/abi.h"
#include "cli/collect.h"
#include "nlohmann/json.hpp"

namespace twi::cli {
namespace {

absl::StatusOr<std::string> PemOf(ByteView der) {
  TWI_ASSIGN_OR_RETURN(Certificate c, Certificate::FromDer(der));
  std::string pem = X509Pem(c.get());
  if (pem.empty()) return absl::InternalError("cannot write a certificate as PEM");
  return pem;
}

}  // namespace

absl::StatusOr<Collected> CollectAzure(const CollectRequest& r) {
  std::shared_ptr<const sevsnp::SimHierarchy> hierarchy;
  if (r.simulate) {
    if (r.tpm.tcti == tpm::kDefaultTcti) {
      return absl::InvalidArgumentError(
          "--simulate azure provisions a software TPM: run swtpm and pass --tcti swtpm:port=P");
    }
    sevsnp::SimHierarchyOptions ho;
    ho.dir = r.sim_dir;
    ho.rsa_bits = r.sim_rsa_bits;
    TWI_ASSIGN_OR_RETURN(hierarchy, sevsnp::SimHierarchy::Create(ho));
    azure::SimAzureOptions so;
    so.hierarchy = hierarchy;
    TWI_RETURN_IF_ERROR(azure::ProvisionSimAzureVm(r.tpm.tcti, so).status());
  }
  azure::VtpmOptions vo;
  vo.tcti = r.tpm.tcti;
  vo.banks = r.tpm_pcrs;
  vo.event_log_path = "";
  TWI_ASSIGN_OR_RETURN(std::unique_ptr<azure::AzureVtpm> vtpm, azure::AzureVtpm::Open(vo));
  TWI_ASSIGN_OR_RETURN(Bytes hcl, vtpm->ReadHclReport());
  // One quote over every selected bank: `twi verify` checks one quote.
  TWI_ASSIGN_OR_RETURN(tpm::TpmQuote quote, vtpm->tpm().Quote(r.tpm_pcrs, r.nonce));

  std::string vcek_pem;
  if (r.simulate) {
    TWI_ASSIGN_OR_RETURN(Bytes vcek, vtpm->tpm().ReadNv(azure::kSimVcekNvIndex));
    TWI_ASSIGN_OR_RETURN(Bytes ask, vtpm->tpm().ReadNv(azure::kSimAskNvIndex));
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

  Collected c;
  c.device = r.tpm.tcti;
  auto write = [&](const char* name, ByteView data) -> absl::Status {
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / name, AsString(data)));
    c.files.push_back(name);
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
  TWI_RETURN_IF_ERROR(write("ak_pub.bin", vtpm->ak().public_area));
  c.verify_args = {"--type", "azure-sev-snp", "--hcl-report", "hcl_report.bin", "--quote",
                   "quote.bin", "--signature", "signature.bin", "--pcrs", "pcrs.json",
                   "--nonce", HexEncode(r.nonce)};
  if (!vcek_pem.empty()) {
    TWI_RETURN_IF_ERROR(write("vcek.pem", AsBytes(vcek_pem)));
    c.verify_args.insert(c.verify_args.end(), {"--vcek", "vcek.pem"});
  }
  if (hierarchy) {
    TWI_RETURN_IF_ERROR(write("ark.pem", AsBytes(hierarchy->ark_pem())));
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(
        r.out / "policy.hcl",
        twi::StrCat("# trusts the simulated ARK written beside this file (simulated evidence only)\n"
                    "extra_roots = [\"vcek:", (r.out / "ark.pem").string(), "\"]\n")));
    c.files.push_back("policy.hcl");
    c.verify_args.insert(c.verify_args.end(), {"--policy", "policy.hcl"});
  }
  return c;
}

}  // namespace twi::cli
