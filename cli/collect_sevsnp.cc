// The SEV-SNP collector of `twi collect`: one report from the guest device (configfs-tsm or
// /dev/sev-guest, as the agent plugin opens them) or from the simulator, written as
//   report.bin        the 1184-byte ATTESTATION_REPORT over the nonce
//   vcek.der          the VCEK (or VLEK) from the host's certificate table, when there is one
//   cert_chain.pem    ASK (or ASVK) then ARK from that table, when the host supplies them
//   ark.pem, policy.hcl  simulation only: the simulated root and a policy trusting it
// The report is neither parsed nor verified here: that is `twi verify`'s job, on any machine.
#include <openssl/pem.h>

#include <algorithm>

#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/core/x509.h"
#include "attestors/sevsnp/abi.h"
#include "attestors/sevsnp/sim.h"
#include "cli/collect.h"

namespace twi::cli {
namespace {

absl::StatusOr<std::string> Pem(ByteView der) {
  TWI_ASSIGN_OR_RETURN(Certificate c, Certificate::FromDer(der));
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return absl::ResourceExhaustedError("out of memory");
  std::string out;
  if (PEM_write_bio_X509(bio, c.get()) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  if (out.empty()) return absl::InternalError("cannot PEM-encode a certificate");
  return out;
}

struct Device {
  std::unique_ptr<sevsnp::SnpDevice> device;
  std::shared_ptr<const sevsnp::SnpSimulator> sim;  // set when simulating
};

absl::StatusOr<Device> Open(const CollectRequest& r) {
  Device d;
  if (r.simulate) {
    sevsnp::SimHierarchyOptions ho;
    ho.rsa_bits = r.sim_rsa_bits;
    ho.dir = r.sim_dir;
    TWI_ASSIGN_OR_RETURN(auto hierarchy, sevsnp::SimHierarchy::Create(ho));
    sevsnp::SimOptions so;
    so.hierarchy = std::move(hierarchy);
    so.fast_for_tests = false;
    TWI_ASSIGN_OR_RETURN(std::unique_ptr<sevsnp::SnpSimulator> sim, sevsnp::SnpSimulator::Create(std::move(so)));
    d.sim = std::move(sim);
    d.device = std::make_unique<sevsnp::SimulatedSnpDevice>(d.sim);
    return d;
  }
  auto dev = sevsnp::OpenSnpDevice(r.snp_devices);
  if (!dev.ok()) {
    return absl::Status(dev.status().code(),
                        twi::StrCat("no usable SEV-SNP device (", dev.status().message(),
                                    "); use --simulate sev-snp to try the flow without one"));
  }
  d.device = *std::move(dev);
  return d;
}

}  // namespace

absl::StatusOr<Collected> CollectSevSnp(const CollectRequest& r) {
  if (r.nonce.size() > 64) return absl::InvalidArgumentError("the nonce is longer than REPORT_DATA (64 bytes)");
  TWI_ASSIGN_OR_RETURN(Device d, Open(r));
  sevsnp::ReportData report_data{};
  std::copy(r.nonce.begin(), r.nonce.end(), report_data.begin());
  auto got = d.device->GetReport(report_data, 0);
  if (!got.ok()) return Annotate(got.status(), twi::StrCat(d.device->name(), " report"));

  Collected c;
  c.device = d.device->name();
  c.verify_args = {"--type", "sev-snp", "--report", "report.bin"};
  TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "report.bin", AsString(got->report)));
  c.files.push_back("report.bin");

  // The certificate table is copied as the host supplied it; an unreadable one is reported
  // rather than dropped, since the server would see the same table.
  auto table = sevsnp::ParseCertTable(got->cert_table);
  if (!table.ok()) return Annotate(table.status(), "the host's certificate table");
  const sevsnp::CertTableEntry* key = sevsnp::FindCert(*table, sevsnp::kGuidVcek);
  if (key == nullptr) key = sevsnp::FindCert(*table, sevsnp::kGuidVlek);
  if (key != nullptr) {
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "vcek.der", AsString(key->data)));
    c.files.push_back("vcek.der");
    c.verify_args.insert(c.verify_args.end(), {"--vcek", "vcek.der"});
  }
  std::string chain;
  for (const auto* guid : {&sevsnp::kGuidAsk, &sevsnp::kGuidArk}) {
    const sevsnp::CertTableEntry* e = sevsnp::FindCert(*table, *guid);
    if (e == nullptr) continue;
    TWI_ASSIGN_OR_RETURN(std::string pem, Pem(e->data));
    chain += pem;
  }
  if (!chain.empty()) {
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "cert_chain.pem", chain));
    c.files.push_back("cert_chain.pem");
    c.verify_args.insert(c.verify_args.end(), {"--cert-chain", "cert_chain.pem"});
  }
  if (key == nullptr || chain.empty()) {
    // The host supplied no VCEK or chain: the verifier fetches them from AMD KDS, as the
    // server plugin does.
    c.verify_args.push_back("--fetch");
  }
  if (d.sim) TWI_RETURN_IF_ERROR(WriteSimSnpTrust(r, d.sim->hierarchy().ark_pem(), &c));
  return c;
}

absl::Status WriteSimSnpTrust(const CollectRequest& r, const std::string& ark_pem, Collected* c) {
  // Only simulated evidence gets a policy trusting the simulated root; real evidence is
  // checked against AMD's roots alone.
  TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "ark.pem", ark_pem));
  TWI_RETURN_IF_ERROR(WriteEvidenceFile(
      r.out / "policy.hcl",
      twi::StrCat("# trusts the simulated ARK written beside this file (simulated evidence only)\n"
                  "extra_roots = [\"vcek:", (r.out / "ark.pem").string(), "\"]\n")));
  c->files.insert(c->files.end(), {"ark.pem", "policy.hcl"});
  c->verify_args.insert(c->verify_args.end(), {"--policy", "policy.hcl"});
  return absl::OkStatus();
}

}  // namespace twi::cli
