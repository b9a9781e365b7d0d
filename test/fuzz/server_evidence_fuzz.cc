// Fuzzes what the server does with attacker bytes in node attestation: the twi/v1 Payload
// (NodeSession::HandlePayload, size limit and bounded echo included) and a twi/v1 Evidence
// message through the SEV-SNP appraiser (certificate table, X.509, chain building, report
// verification, policy), with simulated evidence allowed so that self-issued chains in the
// input are exercised too. No collateral source: nothing leaves the process.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "attestors/appraisal/node_verifier.h"
#include "attestors/sevsnp/node.h"

namespace {

std::shared_ptr<const twi::appraisal::NodeVerifier> Verifier() {
  static auto v = [] {
    std::vector<std::unique_ptr<twi::appraisal::EvidenceAppraiser>> a;
    twi::sevsnp::SnpAppraiserOptions o;
    o.allow_simulation = true;
    o.crl = twi::sevsnp::CrlMode::kIfAvailable;
    a.push_back(std::make_unique<twi::sevsnp::SnpAppraiser>(std::move(o)));
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
    (void)Verifier()->Find(twi::v1::EVIDENCE_KIND_SEV_SNP)->Appraise(evidence, twi::Bytes(64, 0), &checks);
  }
  return 0;
}
