// Fuzzes what the server does with attacker bytes in node attestation: the twi/v1 Payload
// (NodeSession::HandlePayload, size limit and bounded echo included) and a twi/v1 Evidence
// message through the SEV-SNP appraiser (certificate table, X.509, chain building, report
// verification, policy) and the TDX appraiser (quote, PCK chain and extensions, DCAP
// verification against a simulated root's in-memory collateral, REPORTDATA, CCEL, policy), with
// simulated evidence allowed so that self-issued chains in the input are exercised too; and the
// TPM appraiser: a payload's TPM identity through the challenge step (EK/AK parsing, attributes,
// trust route, MakeCredential) and TPM evidence through the response step against one fixed
// stream (seeds payload_tpm_swtpm.bin / evidence_tpm_swtpm.bin: that stream's swtpm EK, AK and
// activated secret), so quotes and event logs reach the verifier. No network: nothing leaves the
// process.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "attestors/appraisal/node_verifier.h"
#include "attestors/sevsnp/node.h"
#include "attestors/tdx/node.h"
#include "attestors/tdx/sim.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/tpm/node.h"

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

// The stream the TPM seeds were recorded on (test cache swtpm state; nonce 'n' x 32, instance
// key "k").
constexpr char kSeedEkHash[] = "8153571e4e0d6772280b45fee359fb5d730237e78518547c1e91f09f631a515e";
constexpr char kSeedAkPublic[] =
    "0001000b00050072000000100014000b0800000000000100fa0ccd54565112f1079c53679a90a7047780c7861bf3"
    "bb2093d49e2c73177fded2a9ab97bd80279c7e2bf8cb6053b1db989c756d6a350c518281380e33aaf80606b50653"
    "2772250fa186f5658012309cef7ade4a4585ea51d4d734cc63c51cbcce58c048cf16c9a0148c87f771ec80b4527b"
    "949404cfd8d1113bf2e983db9921c8dcab1011b7985a1bae84222d751f18a4885e9a10e35be84c5f605b80f96853"
    "776aa7baaad5e91b7a548e180505cd98e9b37fdf50cb413a868c6a9645e87cbf265f7cb7be15ec68eaa802f86414"
    "c2eaf3713f3a6214560b9230053d6180aff7219e0e5de7eff762f3074492f8825c70b3945e5a585ca9c84ae161b8"
    "c5bacc21";
constexpr char kSeedSecret[] = "56f4cd32e870a05b0fa783f48800889be1491c9c8fb21072aabdf76ccf23d216";

std::unique_ptr<twi::appraisal::EvidenceAppraiser> TpmAppraiser() {
  twi::tpm::TpmAppraiserOptions o;
  o.anchors.ek_spki_sha256 = {*twi::HexDecode(kSeedEkHash)};
  o.selector_pcrs = {0, 7};
  return std::make_unique<twi::tpm::TpmAppraiser>(std::move(o));
}

const std::any& TpmSeedStream() {
  static const std::any state = [] {
    twi::tpm::TpmStreamState s;
    s.secret = *twi::HexDecode(kSeedSecret);
    s.qualifying_data = twi::appraisal::TpmQualifyingData(twi::Bytes(32, 'n'), twi::ToBytes("k"));
    s.ak = *twi::tpm::AkKey::FromPublic(*twi::tpm::ParsePublic(*twi::HexDecode(kSeedAkPublic)));
    s.identity.route = "ek_hash";
    return std::any(std::move(s));
  }();
  return state;
}

std::shared_ptr<const twi::appraisal::NodeVerifier> Verifier() {
  static auto v = [] {
    std::vector<std::unique_ptr<twi::appraisal::EvidenceAppraiser>> a;
    twi::sevsnp::SnpAppraiserOptions o;
    o.allow_simulation = true;
    o.crl = twi::sevsnp::CrlMode::kIfAvailable;
    a.push_back(std::make_unique<twi::sevsnp::SnpAppraiser>(std::move(o)));
    a.push_back(TdxAppraiser());
    a.push_back(TpmAppraiser());
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
    twi::CheckList tpm_checks;
    (void)Verifier()->Find(twi::v1::EVIDENCE_KIND_TPM)->AppraiseResponse(evidence, twi::Bytes(64, 0),
                                                                          TpmSeedStream(), &tpm_checks);
  }
  return 0;
}
