// The GCP node flow below the plugins: GcpCollector on a simulated GCE VM (swtpm + fake
// configfs-tsm) against GcpAppraiser with the server's SEV-SNP appraiser. swtpm ports
// 26630-26649.
#include "attestors/gcp/node.h"

#include <any>

#include "attestors/appraisal/claims_vocabulary.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/appraisal/selectors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/gcp/sim_vm.h"

namespace twi::gcp {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const Bytes kSpki = ToBytes("instance key spki");

class GcpNodeTest : public testing::SimVmTest {
 protected:
  // A non-empty `svid_spki` makes the payload key-bound (issue 14).
  void StartAgent(int port, bool with_tee = true, ByteView svid_spki = {}) {
    StartVm(port);
    if (IsSkipped() || HasFatalFailure()) return;
    CollectOptions co;
    co.banks = {{0x000B, {0, 7}}};
    co.event_log_path = "";
    collector_ = std::make_unique<GcpCollector>(OpenVtpm(), with_tee ? SnpTee() : nullptr, co);
    twi::v1::Payload payload;
    payload.set_instance_key_spki(std::string(AsString(kSpki)));
    if (!svid_spki.empty()) payload.mutable_svid_key()->set_spki(std::string(AsString(svid_spki)));
    ASSERT_TRUE(collector_->AddToPayload(&payload).ok());
    payload_ = payload;
  }
  GcpAppraiserOptions Options() {
    GcpAppraiserOptions o;
    o.cas = testing::SimCas();
    o.allow_simulation = true;  // the simulated Google CA
    o.sev_snp = snp_.get();
    o.selector_pcrs = {0};
    return o;
  }
  // One stream: challenge, the agent's answer (edited by `edit`), appraisal.
  absl::StatusOr<appraisal::EvidenceResult> Attest(
      const GcpAppraiser& a, char nonce = 'n',
      const std::function<void(twi::v1::GcpEvidence*)>& edit = nullptr) {
    twi::v1::Challenge c;
    c.set_nonce(std::string(32, nonce));
    CheckList checks;
    auto state = a.Challenge(payload_, &c, &checks);
    if (!state.ok()) return state.status();
    state_ = *state;
    const Bytes rd = appraisal::ReportData(AsBytes(c.nonce()), payload_);
    auto ev = collector_->Answer(rd, c);
    if (!ev.ok()) return ev.status();
    if (edit) edit(ev->mutable_gcp());
    checks_ = CheckList();
    return a.AppraiseResponse(*ev, rd, *state, &checks_);
  }
  static std::string Msg(const absl::StatusOr<appraisal::EvidenceResult>& r) {
    return std::string(r.status().message());
  }

  std::unique_ptr<sevsnp::SnpAppraiser> snp_ = testing::SimSnpAppraiser();
  std::unique_ptr<GcpCollector> collector_;
  twi::v1::Payload payload_;
  std::any state_;  // the last Attest's stream state
  CheckList checks_;
};

TEST_F(GcpNodeTest, RoundTripSelectorsFieldsAndClaims) {
  StartAgent(26630);
  GcpAppraiser appraiser(Options());
  auto r = Attest(appraiser);
  ASSERT_TRUE(r.ok()) << r.status();
  const InstanceInfo i = SimInstanceInfo();
  EXPECT_THAT(r->selectors, Contains("platform:gcp"));
  EXPECT_THAT(r->selectors, Contains("gcp:project-id:" + i.project_id));
  EXPECT_THAT(r->selectors, Contains("gcp:project-number:" + std::to_string(i.project_number)));
  EXPECT_THAT(r->selectors, Contains("gcp:zone:" + i.zone));
  EXPECT_THAT(r->selectors, Contains("gcp:instance-id:" + std::to_string(i.instance_id)));
  EXPECT_THAT(r->selectors, Contains("gcp:instance-name:" + i.instance_name));
  EXPECT_THAT(r->selectors, Contains("tee:sev-snp"));
  EXPECT_THAT(r->selectors, Contains(StartsWith("sev-snp:measurement:")));
  EXPECT_THAT(r->selectors, Contains("tpm:pcr:sha256:0:" + std::string(64, '0')));
  EXPECT_THAT(r->selectors, Not(Contains("tee:tpm")));
  for (const auto& s : r->selectors) {
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::NodeSelectors(), s)) << s;
  }
  EXPECT_EQ(r->fields.at("gcp.project_id"), i.project_id);
  EXPECT_EQ(r->fields.at("gcp.zone"), i.zone);
  EXPECT_EQ(r->fields.at("gcp.instance_id"), std::to_string(i.instance_id));
  EXPECT_EQ(r->fields.at("gcp.instance_name"), i.instance_name);
  EXPECT_EQ(r->fields.at("gcp.project_number"), std::to_string(i.project_number));
  EXPECT_FALSE(r->fields.at("sev_snp.report_id").empty());
  EXPECT_EQ(r->claims.at("tee"), "sev-snp");
  EXPECT_EQ(r->claims.at("gcp_project_id"), i.project_id);
  EXPECT_EQ(r->claims.at("gcp_instance_id"), std::to_string(i.instance_id));
  EXPECT_EQ(r->claims.at("tpm_trust_route"), "ak_certificate");
  EXPECT_TRUE(r->claims.count("tpm_pcr_sha256_7"));
  absl::Status claims_ok = appraisal::CheckClaims(r->claims);
  EXPECT_TRUE(claims_ok.ok()) << claims_ok;
  // The check record names the steps in order.
  std::vector<std::string> names;
  for (const auto& c : checks_.checks()) names.push_back(c.name);
  EXPECT_THAT(names, Contains("ak_cert.chain"));
  EXPECT_THAT(names, Contains("ak.public_match"));
  EXPECT_THAT(names, Contains("hw.required"));
  EXPECT_THAT(names, Contains("report.report_data"));

  // Without its stream's challenge the evidence proves no freshness.
  CheckList checks;
  EXPECT_EQ(appraiser.Appraise({}, {}, &checks).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(collector_->Collect(Bytes(64)).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(GcpNodeTest, AnswerForAnotherStreamRefused) {
  StartAgent(26632);
  GcpAppraiser appraiser(Options());
  twi::v1::Challenge a, b;
  a.set_nonce(std::string(32, 'a'));
  b.set_nonce(std::string(32, 'b'));
  CheckList checks;
  auto state_a = appraiser.Challenge(payload_, &a, &checks);
  auto state_b = appraiser.Challenge(payload_, &b, &checks);
  ASSERT_TRUE(state_a.ok() && state_b.ok());
  const Bytes rd_a = appraisal::ReportData(AsBytes(a.nonce()), kSpki);
  auto ev = collector_->Answer(rd_a, a);
  ASSERT_TRUE(ev.ok()) << ev.status();
  auto r = appraiser.AppraiseResponse(*ev, appraisal::ReportData(AsBytes(b.nonce()), kSpki),
                                      *state_b, &checks);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(r), StartsWith("quote.nonce: "));
}

TEST_F(GcpNodeTest, RefusalsNameTheirCheck) {
  StartAgent(26634);
  {
    // Another CA than the configured one.
    SimCaOptions co;
    auto other = SimCa::Create(co).value();
    GcpAppraiserOptions o = Options();
    o.cas = CaSet();
    o.cas.roots.push_back(Certificate::FromPem(other->root_pem()).value());
    auto r = Attest(GcpAppraiser(o));
    EXPECT_THAT(Msg(r), StartsWith("ak_cert.chain: "));
  }
  {
    // Simulated evidence without the opt-in.
    GcpAppraiserOptions o = Options();
    o.allow_simulation = false;
    auto r = Attest(GcpAppraiser(o), 'n', [](twi::v1::GcpEvidence* g) { g->set_simulated(true); });
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(Msg(r), StartsWith("evidence.simulated: "));
    // Not marked simulated: the chain to the simulated CA is refused all the same.
    auto unmarked = Attest(GcpAppraiser(o));
    EXPECT_THAT(Msg(unmarked), StartsWith("ak_cert.chain: "));
  }
  {
    // Marked simulated, accepted with the opt-in and reported.
    auto r = Attest(GcpAppraiser(Options()), 'n', [](twi::v1::GcpEvidence* g) { g->set_simulated(true); });
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_THAT(r->selectors, Contains("gcp:simulated:true"));
  }
  {
    // A project outside the allow-list.
    GcpAppraiserOptions o = Options();
    o.allowed_project_ids = {"payments-prod"};
    auto r = Attest(GcpAppraiser(o));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(Msg(r), HasSubstr("gcp.project: project \"" + SimInstanceInfo().project_id +
                                  "\" is not in gcp.allowed_project_ids"));
    o.allowed_project_ids.push_back(SimInstanceInfo().project_id);
    EXPECT_TRUE(Attest(GcpAppraiser(o)).ok());
  }
  {
    // TDX required, SEV-SNP sent.
    GcpAppraiserOptions o = Options();
    o.require_tee = Hardware::kTdx;
    auto r = Attest(GcpAppraiser(o));
    EXPECT_THAT(Msg(r), StartsWith("hw.required: gcp.require_tee wants tdx evidence; the agent sent sev-snp"));
  }
  {
    // A PCR policy the VM does not meet.
    GcpAppraiserOptions o = Options();
    o.policy.pcrs = {{0x000B, 0, {Bytes(32, 0xAA)}}};
    auto r = Attest(GcpAppraiser(o));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(Msg(r), StartsWith("policy.pcrs: "));
  }
  {
    // No AK public area at all.
    auto r = Attest(GcpAppraiser(Options()), 'n', [](twi::v1::GcpEvidence* g) { g->clear_ak_public(); });
    EXPECT_THAT(Msg(r), StartsWith("ak.public_match: the agent sent no AK public area"));
  }
}

TEST_F(GcpNodeTest, VtpmAloneWhenNoTeeIsRequired) {
  StartAgent(26636, /*with_tee=*/false);
  GcpAppraiserOptions o = Options();
  auto refused = Attest(GcpAppraiser(o));
  EXPECT_THAT(Msg(refused), StartsWith("hw.required: gcp.require_tee wants sev-snp evidence; the agent sent none"));
  o.require_tee = Hardware::kNone;
  o.sev_snp = nullptr;
  auto r = Attest(GcpAppraiser(o));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->claims.at("tee"), "tpm");
  EXPECT_THAT(r->selectors, Not(Contains("tee:sev-snp")));
  EXPECT_THAT(r->selectors, Contains("platform:gcp"));
}

// A key-bound payload (instance key + SVID key): the quotes and the SEV-SNP report bind both
// keys, and the qualifying data is not the instance-key-only one.
TEST_F(GcpNodeTest, KeyBoundPayloadRoundTrips) {
  const Bytes svid = ToBytes("svid key spki");
  StartAgent(26638, /*with_tee=*/true, svid);
  GcpAppraiser appraiser(Options());
  auto r = Attest(appraiser, 'k');
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> names;
  for (const auto& c : checks_.checks()) {
    if (c.passed) names.push_back(c.name);
  }
  EXPECT_THAT(names, Contains("quote.nonce"));
  EXPECT_THAT(names, Contains("report.report_data"));
  const auto* state = std::any_cast<appraisal::QuoteStreamState>(&state_);
  ASSERT_NE(state, nullptr);
  const Bytes nonce(32, 'k');
  EXPECT_EQ(state->qualifying_data, appraisal::TpmQualifyingData(nonce, payload_));
  EXPECT_NE(state->qualifying_data, appraisal::TpmQualifyingData(nonce, kSpki));
  // The same agent against a stream that did not bind the SVID key: the quotes do not match.
  twi::v1::Payload unbound;
  unbound.set_instance_key_spki(std::string(AsString(kSpki)));
  twi::v1::Challenge c;
  c.set_nonce(std::string(32, 'u'));
  CheckList checks;
  auto unbound_state = appraiser.Challenge(unbound, &c, &checks);
  ASSERT_TRUE(unbound_state.ok());
  const Bytes rd = appraisal::ReportData(AsBytes(c.nonce()), payload_);
  auto ev = collector_->Answer(rd, c);
  ASSERT_TRUE(ev.ok()) << ev.status();
  auto refused = appraiser.AppraiseResponse(*ev, rd, *unbound_state, &checks);
  EXPECT_THAT(Msg(refused), StartsWith("quote.nonce: "));
}

}  // namespace
}  // namespace twi::gcp
