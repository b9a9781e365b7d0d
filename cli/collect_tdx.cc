// The TDX collector of `twi collect`: one quote from configfs-tsm (provider tdx_guest, as the
// agent plugin opens it) or from the simulator, and the collateral that verifies it, written as
//   quote.bin          the DCAP quote over the nonce (PCK chain inside)
//   collateral.json    the nine-key bundle for the quote's FMSPC: from Intel PCS / a PCCS (as
//                      the server plugin fetches it), or the simulator's
//   root.pem, policy.hcl  simulation only: the simulated root and a policy trusting it
// The quote is only parsed far enough to name its FMSPC; verifying it is `twi verify`'s job.
#include <openssl/x509.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "attestors/collateral/dcap_source.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/core/x509_mint.h"
#include "attestors/tdx/abi.h"
#include "attestors/tdx/collect.h"
#include "attestors/tdx/sim.h"
#include "cli/collect.h"
#include "nlohmann/json.hpp"

namespace twi::cli {
namespace {

std::string ChainPem(const std::vector<Certificate>& chain) {
  std::string out;
  for (const Certificate& c : chain) out += X509Pem(c.get());
  return out;
}

std::string CrlHex(const std::optional<Crl>& crl) {
  if (!crl) return "";
  unsigned char* der = nullptr;
  int len = i2d_X509_CRL(crl->get(), &der);
  if (len <= 0) return "";
  std::string hex = HexEncode(ByteView(der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  return hex;
}

// The nine-key bundle (collateral/dcap_bundle.h) as `twi verify --collateral` reads it; the
// signed texts are copied byte-exact.
std::string BundleJson(const collateral::DcapCollateral& c) {
  nlohmann::ordered_json j = {{"pck_crl_issuer_chain", ChainPem(c.pck_crl_issuer_chain)},
                              {"root_ca_crl", CrlHex(c.root_ca_crl)},
                              {"pck_crl", CrlHex(c.pck_crl)},
                              {"tcb_info_issuer_chain", ChainPem(c.tcb_info_issuer_chain)},
                              {"tcb_info", c.tcb_info},
                              {"tcb_info_signature", HexEncode(c.tcb_info_signature)},
                              {"qe_identity_issuer_chain", ChainPem(c.qe_identity_issuer_chain)},
                              {"qe_identity", c.qe_identity},
                              {"qe_identity_signature", HexEncode(c.qe_identity_signature)}};
  return j.dump(2);
}

// The bundle for the quote's platform, from the same source the server uses.
}  // namespace

absl::StatusOr<std::string> FetchTdxCollateral(const CollectRequest& r, ByteView quote_bytes) {
  TWI_ASSIGN_OR_RETURN(tdx::Quote quote, tdx::ParseQuote(quote_bytes));
  TWI_ASSIGN_OR_RETURN(auto chain, ParsePemBundle(AsString(quote.qe.pck_chain)));
  TWI_ASSIGN_OR_RETURN(tdx::PckExtensions ext, tdx::ParsePckExtensions(chain.front()));
  const auto ca = absl::StrContains(chain.front().issuer(), "PCK Processor CA")
                      ? collateral::PckCa::kProcessor
                      : collateral::PckCa::kPlatform;
  // The source makes its own HTTP getter from the TLS options, as the server's does.
  static const SystemClock kClock;
  TWI_ASSIGN_OR_RETURN(auto source, collateral::MakeDcapCollateralSource(r.dcap, nullptr, &kClock));
  TWI_ASSIGN_OR_RETURN(auto bundle, source->Get(collateral::DcapTee::kTdx, ext.fmspc, ca));
  return BundleJson(*bundle);
}

absl::Status WriteSimTdxTrust(const CollectRequest& r, const std::string& root_pem, Collected* c) {
  // Only simulated evidence gets a policy trusting the simulated root; real quotes are checked
  // against the Intel SGX Root CA alone.
  TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "root.pem", root_pem));
  TWI_RETURN_IF_ERROR(WriteEvidenceFile(
      r.out / "policy.hcl",
      twi::StrCat("# trusts the simulated root written beside this file (simulated evidence only)\n"
                  "insecure_simulation_roots = true\n"
                  "extra_roots = [\"", (r.out / "root.pem").string(), "\"]\n")));
  c->files.insert(c->files.end(), {"root.pem", "policy.hcl"});
  c->verify_args.insert(c->verify_args.end(), {"--policy", "policy.hcl"});
  return absl::OkStatus();
}

absl::StatusOr<Collected> CollectTdx(const CollectRequest& r) {
  if (r.nonce.size() > 64) return absl::InvalidArgumentError("the nonce is longer than REPORTDATA (64 bytes)");
  tdx::ReportData report_data{};
  std::copy(r.nonce.begin(), r.nonce.end(), report_data.begin());
  Collected c;
  c.verify_args = {"--type", "tdx", "--quote", "quote.bin", "--collateral", "collateral.json"};
  if (r.simulate) {
    tdx::SimOptions so;
    so.dir = r.sim_dir;
    TWI_ASSIGN_OR_RETURN(std::shared_ptr<const tdx::TdxSimulator> sim,
                         tdx::TdxSimulator::Create(std::move(so)));
    tdx::SimulatedTdxDevice device(sim);
    TWI_ASSIGN_OR_RETURN(tdx::TdxDeviceQuote q, device.GetQuote(report_data));
    c.device = device.name();
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "quote.bin", AsString(q.quote)));
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "collateral.json", sim->collateral_json()));
    c.files = {"quote.bin", "collateral.json"};
    TWI_RETURN_IF_ERROR(WriteSimTdxTrust(r, sim->root_pem(), &c));
    return c;
  }
  auto dev = tdx::OpenTdxDevice(r.tdx_configfs);
  if (!dev.ok()) {
    return absl::Status(dev.status().code(),
                        twi::StrCat("no usable TDX device (", dev.status().message(),
                                    "); use --simulate tdx to try the flow without one"));
  }
  c.device = (*dev)->name();
  auto q = (*dev)->GetQuote(report_data);
  if (!q.ok()) return Annotate(q.status(), twi::StrCat(c.device, " quote"));
  TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "quote.bin", AsString(q->quote)));
  c.files.push_back("quote.bin");
  auto bundle = FetchTdxCollateral(r, q->quote);
  if (!bundle.ok()) {
    return Annotate(bundle.status(), "quote.bin written, but its collateral could not be had "
                                     "(--collateral-url URL or --collateral-offline PATH choose the source)");
  }
  TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "collateral.json", *bundle));
  c.files.push_back("collateral.json");
  return c;
}

}  // namespace twi::cli
