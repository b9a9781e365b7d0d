// The Google Cloud collector of `twi collect`: what the agent plugin's gcp block sends
// (attestors/gcp/collect.h, the same code), written in the files `twi verify --type gcp` takes:
//   ak_cert.der       the Google-issued AK certificate from vTPM NV 0x01C10000
//   quote.bin         TPMS_ATTEST of the first PCR bank (qualifying data = the nonce, byte for byte)
//   signature.bin     TPMT_SIGNATURE by the AK
//   pcrs.json         {"sha256": {"0": "<hex>", ...}}: the PCR values the quote covers
//   report.bin        SEV-SNP: the report over the nonce (zero-filled to 64 bytes)
//   vcek.pem          SEV-SNP: the VCEK, ASK and ARK of the host's certificate table, when it has them
//   td_quote.bin, collateral.json   TDX: the quote over the nonce and its DCAP collateral
//   ca_bundle.pem     the CA certificates of --ca, or with --simulate gcp the simulated CA's
// `twi verify --type gcp` checks one vTPM quote: quote.bin is the first bank of --pcr-banks
// (the agent sends one per bank), and the summary says which.
// With --simulate gcp the TPM at --tpm (swtpm) is first provisioned as a GCE vTPM by the
// simulated Google CA (kept in --hierarchy-dir, default OUT/sim-gce); the hardware is none, or
// with --tee sev-snp|tdx the SEV-SNP or TDX simulator (hierarchy kept in OUT/sim-amd or
// OUT/sim-intel), and then only, ark.pem or root.pem and policy.hcl trust its root for
// `twi verify --type gcp --policy`.
#include <memory>

#include "attestors/appraisal/protocol.h"
#include "attestors/core/file.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/gcp/collect.h"
#include "attestors/gcp/sim_vtpm.h"
#include "attestors/sevsnp/abi.h"
#include "attestors/sevsnp/node.h"
#include "attestors/sevsnp/sim.h"
#include "attestors/tdx/node.h"
#include "attestors/tdx/sim.h"
#include "attestors/tpm/abi.h"
#include "attestors/core/x509_mint.h"
#include "cli/collect.h"
#include "nlohmann/json.hpp"

namespace twi::cli {
namespace {

// The guest's TEE as the agent opens it: SEV-SNP, else TDX, else none.
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> OpenTee(const CollectRequest& r) {
  auto snp = sevsnp::OpenSnpDevice(r.snp_devices);
  if (snp.ok()) return std::unique_ptr<appraisal::EvidenceCollector>(
      std::make_unique<sevsnp::SnpCollector>(*std::move(snp), 0));
  auto tdx = tdx::OpenTdxDevice(r.tdx_configfs);
  if (tdx.ok()) return std::unique_ptr<appraisal::EvidenceCollector>(
      std::make_unique<tdx::TdxCollector>(*std::move(tdx), tdx::CcelPaths{}));
  return std::unique_ptr<appraisal::EvidenceCollector>();
}

// The simulated hardware beside the simulated vTPM (--tee), and what trusts its root.
struct SimTee {
  std::unique_ptr<appraisal::EvidenceCollector> collector;
  std::string ark_pem;                // sev-snp
  std::string root_pem, collateral;   // tdx
};

absl::StatusOr<SimTee> OpenSimTee(const CollectRequest& r) {
  SimTee t;
  if (r.sim_tee == "sev-snp") {
    sevsnp::SimHierarchyOptions ho;
    ho.rsa_bits = r.sim_rsa_bits;
    ho.dir = (r.out / "sim-amd").string();
    TWI_ASSIGN_OR_RETURN(auto hierarchy, sevsnp::SimHierarchy::Create(ho));
    t.ark_pem = hierarchy->ark_pem();
    sevsnp::SimOptions so;
    so.hierarchy = std::move(hierarchy);
    so.fast_for_tests = false;
    TWI_ASSIGN_OR_RETURN(std::shared_ptr<const sevsnp::SnpSimulator> sim,
                         sevsnp::SnpSimulator::Create(std::move(so)));
    t.collector = std::make_unique<sevsnp::SnpCollector>(std::make_unique<sevsnp::SimulatedSnpDevice>(sim), 0);
  } else if (r.sim_tee == "tdx") {
    tdx::SimOptions so;
    so.dir = (r.out / "sim-intel").string();
    TWI_ASSIGN_OR_RETURN(std::shared_ptr<const tdx::TdxSimulator> sim, tdx::TdxSimulator::Create(std::move(so)));
    t.root_pem = sim->root_pem();
    t.collateral = sim->collateral_json();
    // No CCEL: the simulated TD publishes no event log (the host's is not this TD's).
    t.collector = std::make_unique<tdx::TdxCollector>(std::make_unique<tdx::SimulatedTdxDevice>(sim),
                                                      tdx::CcelPaths{"", ""});
  }
  return t;
}

}  // namespace

absl::StatusOr<Collected> CollectGcp(const CollectRequest& r) {
  if (r.nonce.size() > 64) return absl::InvalidArgumentError("the nonce is longer than REPORT_DATA (64 bytes)");
  Collected c;
  std::string ca_pem;
  std::unique_ptr<appraisal::EvidenceCollector> tee;
  SimTee sim_tee;
  if (r.simulate) {
    gcp::SimCaOptions co;
    co.dir = r.sim_dir.empty() ? (r.out / "sim-gce").string() : r.sim_dir;
    TWI_ASSIGN_OR_RETURN(auto ca, gcp::SimCa::Create(co));
    gcp::SimVtpmOptions so;
    so.tcti = r.tpm.tcti;
    so.ca = ca;
    so.cert.instance = gcp::SimInstanceInfo();
    auto v = gcp::ProvisionSimVtpm(so);
    if (!v.ok()) return Annotate(v.status(), twi::StrCat("provisioning ", r.tpm.tcti, " as a GCE vTPM"));
    ca_pem = ca->BundlePem();
    TWI_ASSIGN_OR_RETURN(sim_tee, OpenSimTee(r));
    tee = std::move(sim_tee.collector);
  } else {
    TWI_ASSIGN_OR_RETURN(tee, OpenTee(r));
    if (!r.gcp_ca_file.empty()) {
      TWI_ASSIGN_OR_RETURN(ca_pem, ReadFileToString(r.gcp_ca_file));
    }
  }
  TWI_ASSIGN_OR_RETURN(std::unique_ptr<tpm::TpmCollector> vtpm,
                       tpm::TpmCollector::Open(gcp::VtpmOptions(r.tpm.tcti, tpm::KeyAlg::kRsa2048)));
  gcp::CollectOptions o;
  o.banks = {r.tpm_pcrs.front()};  // twi verify checks one quote
  o.event_log_path = "";
  Bytes report_data(64, 0);
  std::copy(r.nonce.begin(), r.nonce.end(), report_data.begin());
  TWI_ASSIGN_OR_RETURN(twi::v1::GcpEvidence ev, gcp::Collect(*vtpm, tee.get(), r.nonce, report_data, o));
  c.device = tee ? twi::StrCat(r.tpm.tcti, " and ", appraisal::KindName(tee->kind()),
                               r.simulate ? " (simulated)" : "")
                 : r.tpm.tcti;
  c.note = twi::StrCat("quote.bin quotes the ", tpm::AlgName(o.banks.front().hash_alg),
                       " bank (twi verify --type gcp checks one quote: the first of --pcr-banks)");

  auto write = [&](const char* name, std::string_view data) -> absl::Status {
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / name, data));
    c.files.push_back(name);
    return absl::OkStatus();
  };
  const auto& q = ev.quotes(0);
  TWI_RETURN_IF_ERROR(write("ak_cert.der", ev.ak_certificate()));
  TWI_RETURN_IF_ERROR(write("quote.bin", q.attest()));
  TWI_RETURN_IF_ERROR(write("signature.bin", q.signature()));
  nlohmann::ordered_json pcrs = nlohmann::ordered_json::object();
  for (uint32_t i = 0; i < 32; ++i) {  // indices ascending
    auto it = q.pcrs().find(i);
    if (it != q.pcrs().end()) pcrs[tpm::AlgName(q.hash_alg())][std::to_string(i)] = HexEncode(AsBytes(it->second));
  }
  TWI_RETURN_IF_ERROR(write("pcrs.json", pcrs.dump(2) + "\n"));
  c.verify_args = {"--type", "gcp", "--ak-cert", "ak_cert.der", "--quote", "quote.bin",
                   "--signature", "signature.bin", "--pcrs", "pcrs.json", "--nonce", HexEncode(r.nonce)};
  if (!ca_pem.empty()) {
    TWI_RETURN_IF_ERROR(write("ca_bundle.pem", ca_pem));
    c.verify_args.insert(c.verify_args.end(), {"--ca", "ca_bundle.pem"});
  }
  if (r.simulate) c.verify_args.push_back("--insecure-simulation-roots");
  if (ev.has_sev_snp()) {
    TWI_RETURN_IF_ERROR(write("report.bin", ev.sev_snp().report()));
    c.verify_args.insert(c.verify_args.end(), {"--report", "report.bin"});
    auto table = sevsnp::ParseCertTable(AsBytes(ev.sev_snp().cert_table()));
    if (!table.ok()) return Annotate(table.status(), "the host's certificate table");
    std::string chain;
    for (const auto* guid : {&sevsnp::kGuidVcek, &sevsnp::kGuidAsk, &sevsnp::kGuidArk}) {
      const sevsnp::CertTableEntry* e = sevsnp::FindCert(*table, *guid);
      if (e == nullptr) continue;
      TWI_ASSIGN_OR_RETURN(Certificate cert, Certificate::FromDer(e->data));
      chain += X509Pem(cert.get());
    }
    // GCE's hosts may supply no VCEK: verify.sh then needs --vcek FILE from AMD KDS.
    if (!chain.empty()) {
      TWI_RETURN_IF_ERROR(write("vcek.pem", chain));
      c.verify_args.insert(c.verify_args.end(), {"--vcek", "vcek.pem"});
    }
    if (!sim_tee.ark_pem.empty()) TWI_RETURN_IF_ERROR(WriteSimSnpTrust(r, sim_tee.ark_pem, &c));
  } else if (ev.has_tdx()) {
    TWI_RETURN_IF_ERROR(write("td_quote.bin", ev.tdx().quote()));
    auto bundle = sim_tee.root_pem.empty() ? FetchTdxCollateral(r, AsBytes(ev.tdx().quote()))
                                           : absl::StatusOr<std::string>(sim_tee.collateral);
    if (!bundle.ok()) {
      return Annotate(bundle.status(), "td_quote.bin written, but its collateral could not be had "
                                       "(--collateral-url URL or --collateral-offline PATH choose the source)");
    }
    TWI_RETURN_IF_ERROR(write("collateral.json", *bundle));
    c.verify_args.insert(c.verify_args.end(), {"--td-quote", "td_quote.bin", "--collateral", "collateral.json"});
    if (!sim_tee.root_pem.empty()) TWI_RETURN_IF_ERROR(WriteSimTdxTrust(r, sim_tee.root_pem, &c));
  }
  return c;
}

}  // namespace twi::cli
