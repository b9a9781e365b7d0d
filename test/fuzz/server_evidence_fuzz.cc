// Fuzzes what the server does with attacker bytes in node attestation: the twi/v1 Payload
// (NodeSession::HandlePayload, size limit and bounded echo included) and a twi/v1 Evidence
// message through the SEV-SNP appraiser (certificate table, X.509, chain building, report
// verification, policy) and the TDX appraiser (quote, PCK chain and extensions, DCAP
// verification against a simulated root's in-memory collateral, REPORTDATA, CCEL, policy), with
// simulated evidence allowed so that self-issued chains in the input are exercised too. No
// network: nothing leaves the process.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "attestors/appraisal/node_verifier.h"
#include "attestors/sevsnp/node.h"
#include "attestors/tdx/node.h"
#include "attestors/tdx/sim.h"

namespace {

// One simulated platform's collateral for every FMSPC, so fuzzed quotes reach the verifier.
class FixedSource final : public twi::collateral::DcapCollateralSource {
 public:
  explicit FixedSource(std::shared_ptr<const twi::collateral::DcapCollateral> c) : c_(std::move(c)) {}
  absl::StatusOr<std::shared_ptr<const twi::collateral::DcapCollateral>> Get(
      twi::collateral::DcapTee, twi::ByteView, twi::collateral::PckCa) override {
    return c_;
  }

 private:
  std::shared_ptr<const twi::collateral::DcapCollateral> c_;
};

std::unique_ptr<twi::appraisal::EvidenceAppraiser> TdxAppraiser() {
  static auto sim = std::shared_ptr<twi::tdx::TdxSimulator>(*twi::tdx::TdxSimulator::Create({}));
  static FixedSource source(std::make_shared<const twi::collateral::DcapCollateral>(*sim->Collateral()));
  twi::tdx::TdxAppraiserOptions o;
  o.allow_simulation = true;
  o.extra_roots = {sim->root()};
  o.collateral = &source;
  return std::make_unique<twi::tdx::TdxAppraiser>(std::move(o));
}

std::shared_ptr<const twi::appraisal::NodeVerifier> Verifier() {
  static auto v = [] {
    std::vector<std::unique_ptr<twi::appraisal::EvidenceAppraiser>> a;
    twi::sevsnp::SnpAppraiserOptions o;
    o.allow_simulation = true;
    o.crl = twi::sevsnp::CrlMode::kIfAvailable;
    a.push_back(std::make_unique<twi::sevsnp::SnpAppraiser>(std::move(o)));
    a.push_back(TdxAppraiser());
    twi::appraisal::VerifierOptions vo;
    vo.trust_domain = "example.org";
    return std::make_shared<const twi::appraisal::NodeVerifier>(std::move(vo), std::move(a));
  }();
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::ByteView in(data, size);
  twi::appraisal::NodeSession session(Verifier());
  (void)session.HandlePayload(in);
  twi::v1::Evidence evidence;
  if (evidence.ParseFromArray(data, static_cast<int>(size))) {
    twi::CheckList checks;
    // The body decides nothing: each appraiser refuses the other kind's body itself.
    (void)Verifier()->Find(twi::v1::EVIDENCE_KIND_SEV_SNP)->Appraise(evidence, twi::Bytes(64, 0), &checks);
    twi::CheckList tdx_checks;
    (void)Verifier()->Find(twi::v1::EVIDENCE_KIND_TDX)->Appraise(evidence, twi::Bytes(64, 0), &tdx_checks);
  }
  return 0;
}
