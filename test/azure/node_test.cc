// The Azure SEV-SNP node flow below the plugins: AzureSnpCollector on a swtpm provisioned as a
// simulated Azure CVM, against AzureSnpAppraiser (with a SEV-SNP appraiser trusting the
// simulator's root). Each refusal names its check. swtpm ports 26220 upward.
#include "attestors/azure/node.h"

#include "attestors/appraisal/protocol.h"
#include "attestors/azure/sim.h"
#include "attestors/core/crypto.h"
#include "attestors/tpm/collect.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::azure {
namespace {

bool Passed(const CheckList& checks, std::string_view name) {
  for (const Check& c : checks.checks()) {
    if (c.name == name && c.passed) return true;
  }
  return false;
}

using ::testing::Contains;
using ::testing::HasSubstr;

class AzureNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
  }

  // Provisions the swtpm at `port` and opens a collector on it.
  void Start(int port, const SimAzureOptions& sim = {}) {
    ASSERT_EQ(tpm_.Start(port, {}), "");
    auto vm = ProvisionSimAzureVm(tpm_.tcti(), sim);
    ASSERT_TRUE(vm.ok()) << vm.status();
    vm_ = *std::move(vm);
    AzureCollectOptions o;
    o.vtpm.tcti = tpm_.tcti();
    o.vtpm.banks = {{0x000B, {0, 7}}};
    o.vtpm.event_log_path = "";
    o.vcek_source = VcekSource::kSimulated;
    auto vtpm = AzureVtpm::Open(o.vtpm);
    ASSERT_TRUE(vtpm.ok()) << vtpm.status();
    collector_ = std::make_unique<AzureSnpCollector>(*std::move(vtpm), o, nullptr);
  }

  // A SEV-SNP appraiser trusting the simulator's ARK (or not allowing simulation at all).
  std::unique_ptr<sevsnp::SnpAppraiser> Snp(bool allow_simulation = true,
                                            sevsnp::SnpPolicy policy = {}) {
    sevsnp::SnpAppraiserOptions o;
    o.policy = std::move(policy);
    o.allow_simulation = allow_simulation;
    auto h = sevsnp::SimHierarchy::SharedForTests(sevsnp::SimProduct::kMilan);
    auto ark = Certificate::FromDer((*h)->ark_der());
    o.extra_roots = {{*ark, sevsnp::SigningKey::kVcek}};
    return std::make_unique<sevsnp::SnpAppraiser>(std::move(o));
  }

  struct Round {
    twi::v1::Evidence evidence;
    std::any state;
    Bytes nonce;
    Bytes report_data;
  };
  // Payload, challenge and answer; `edit` changes the evidence before the appraisal.
  // A non-empty `svid_spki` makes the payload key-bound (issue 14).
  Round Collect(const AzureSnpAppraiser& appraiser, ByteView svid_spki = {}) {
    Round r;
    const Bytes spki = ToBytes("instance key spki");
    twi::v1::Payload payload;
    payload.set_instance_key_spki(std::string(AsString(spki)));
    if (!svid_spki.empty()) payload.mutable_svid_key()->set_spki(std::string(AsString(svid_spki)));
    EXPECT_TRUE(collector_->AddToPayload(&payload).ok());
    twi::v1::Challenge challenge;
    challenge.set_nonce(std::string(AsString(*RandomBytes(32))));
    CheckList checks;
    auto state = appraiser.Challenge(payload, &challenge, &checks);
    EXPECT_TRUE(state.ok());
    r.state = *state;
    r.nonce = ToBytes(challenge.nonce());
    r.report_data = appraisal::ReportData(AsBytes(challenge.nonce()), payload);
    auto ev = collector_->Answer(r.report_data, challenge);
    EXPECT_TRUE(ev.ok()) << ev.status();
    if (ev.ok()) r.evidence = *std::move(ev);
    return r;
  }
  absl::StatusOr<appraisal::EvidenceResult> Appraise(const AzureSnpAppraiser& a, const Round& r,
                                                     CheckList* checks) {
    return a.AppraiseResponse(r.evidence, r.report_data, r.state, checks);
  }

  twi::testing::Swtpm tpm_;
  SimAzureVm vm_;
  std::unique_ptr<AzureSnpCollector> collector_;
};

TEST_F(AzureNodeTest, RoundTripSelectorsFieldsAndClaims) {
  Start(26220);
  auto snp = Snp();
  AzureAppraiserOptions ao;
  ao.selector_pcrs = {7};
  AzureSnpAppraiser appraiser(snp.get(), ao);
  Round r = Collect(appraiser);
  EXPECT_TRUE(r.evidence.azure().simulated());
  EXPECT_FALSE(r.evidence.azure().vcek().empty());
  CheckList checks;
  auto res = Appraise(appraiser, r, &checks);
  ASSERT_TRUE(res.ok()) << res.status();
  const std::string vm_id = SimAzureOptions().vm_id;
  EXPECT_THAT(res->selectors, Contains("platform:azure"));
  EXPECT_THAT(res->selectors, Contains("azure:vm-id:" + vm_id));
  EXPECT_THAT(res->selectors, Contains("tee:sev-snp"));
  EXPECT_THAT(res->selectors, Contains("sev-snp:vmpl:0"));
  EXPECT_THAT(res->selectors, Contains("sev-snp:root:extra"));
  EXPECT_THAT(res->selectors, Contains("sev-snp:simulated:true"));
  EXPECT_THAT(res->selectors, Contains("tpm:pcr:sha256:7:" + std::string(64, '0')));
  EXPECT_THAT(res->selectors, ::testing::Not(Contains(::testing::StartsWith("tpm:pcr:sha256:0:"))));
  EXPECT_EQ(res->fields.at("azure.vm_id"), vm_id);
  EXPECT_EQ(res->fields.at("sev_snp.measurement").size(), 96u);
  EXPECT_EQ(res->claims.at("azure_vm_id"), vm_id);
  EXPECT_EQ(res->claims.at("tee"), "sev-snp");
  EXPECT_EQ(res->claims.at("tpm_trust_route"), "azure_hcl");
  EXPECT_EQ(res->claims.at("tpm_pcr_sha256_7"), std::string(64, '0'));
  for (const char* check : {"hcl.binding", "snp.vmpl", "ak.public_match", "quote.nonce",
                            "runtime_claims.vm_id"}) {
    EXPECT_TRUE(Passed(checks, check)) << check;
  }
}

TEST_F(AzureNodeTest, AnswerForAnotherStreamFailsTheNonce) {
  Start(26222);
  auto snp = Snp();
  AzureSnpAppraiser appraiser(snp.get(), {});
  Round a = Collect(appraiser);
  Round b = Collect(appraiser);
  a.state = b.state;  // a's evidence against b's challenge
  CheckList checks;
  auto res = Appraise(appraiser, a, &checks);
  ASSERT_FALSE(res.ok());
  EXPECT_THAT(res.status().message(), HasSubstr("quote.nonce"));
}

TEST_F(AzureNodeTest, AnotherAkThanTheHclNamesIsRefused) {
  Start(26224);
  auto snp = Snp();
  AzureSnpAppraiser appraiser(snp.get(), {});
  Round r = Collect(appraiser);
  // A second AK on the same TPM: presented (and quoting) instead of the paravisor's.
  tpm::TpmCollectOptions o;
  o.tcti = tpm_.tcti();
  collector_.reset();  // one TCTI connection at a time on swtpm
  auto other = tpm::TpmCollector::Open(o);
  ASSERT_TRUE(other.ok());
  auto ak = (*other)->Ak();
  ASSERT_TRUE(ak.ok());
  r.evidence.mutable_azure()->set_ak_public(std::string(AsString(ak->public_area)));
  CheckList checks;
  auto res = Appraise(appraiser, r, &checks);
  ASSERT_FALSE(res.ok());
  EXPECT_THAT(res.status().message(), HasSubstr("ak.public_match"));
}

TEST_F(AzureNodeTest, EditedRuntimeClaimsBreakTheBinding) {
  Start(26226);
  auto snp = Snp();
  AzureSnpAppraiser appraiser(snp.get(), {});
  Round r = Collect(appraiser);
  std::string hcl = r.evidence.azure().hcl_report();
  const size_t at = hcl.find(SimAzureOptions().vm_id);
  ASSERT_NE(at, std::string::npos);
  hcl[at] = hcl[at] == '0' ? '1' : '0';  // another VM's ID, same length
  r.evidence.mutable_azure()->set_hcl_report(hcl);
  CheckList checks;
  auto res = Appraise(appraiser, r, &checks);
  ASSERT_FALSE(res.ok());
  EXPECT_THAT(res.status().message(), HasSubstr("hcl.binding"));
}

TEST_F(AzureNodeTest, ReportAtVmplOneIsRefused) {
  SimAzureOptions sim;
  sim.vmpl = 1;
  Start(26228, sim);
  auto snp = Snp();
  AzureSnpAppraiser appraiser(snp.get(), {});
  Round r = Collect(appraiser);
  CheckList checks;
  auto res = Appraise(appraiser, r, &checks);
  ASSERT_FALSE(res.ok());
  EXPECT_THAT(res.status().message(), HasSubstr("snp.vmpl: got 1, want 0"));
}

TEST_F(AzureNodeTest, SimulatedRefusedWithoutTheOption) {
  Start(26230);
  auto snp = Snp(/*allow_simulation=*/false);
  AzureSnpAppraiser appraiser(snp.get(), {});
  Round r = Collect(appraiser);
  CheckList checks;
  auto res = Appraise(appraiser, r, &checks);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(res.status().message(), HasSubstr("insecure_simulation_roots"));
  EXPECT_FALSE(Passed(checks, "evidence.simulated"));
}

TEST_F(AzureNodeTest, PolicyRefusalsNameTheirCheck) {
  Start(26232);
  sevsnp::SnpPolicy p;
  p.measurements = {Bytes(48, 0xAB)};
  auto snp = Snp(true, p);
  AzureSnpAppraiser appraiser(snp.get(), {});
  CheckList checks;
  auto res = Appraise(appraiser, Collect(appraiser), &checks);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(res.status().message(), HasSubstr("policy.measurement"));

  auto open = Snp();
  AzureAppraiserOptions ao;
  auto rules = tpm::ParsePcrRules({{"sha256:7", {std::string(64, 'f')}}});
  ASSERT_TRUE(rules.ok());
  ao.pcr_policy.pcrs = *rules;
  AzureSnpAppraiser pcr_appraiser(open.get(), ao);
  CheckList checks2;
  auto res2 = Appraise(pcr_appraiser, Collect(pcr_appraiser), &checks2);
  ASSERT_FALSE(res2.ok());
  EXPECT_THAT(res2.status().message(), HasSubstr("policy.pcrs"));
}

// A key-bound payload (instance key + SVID key): the quotes bind both keys, and the qualifying
// data is not the instance-key-only one.
TEST_F(AzureNodeTest, KeyBoundPayloadRoundTrips) {
  Start(26236);
  auto snp = Snp();
  AzureSnpAppraiser appraiser(snp.get(), {});
  const Bytes svid = ToBytes("svid key spki");
  Round r = Collect(appraiser, svid);
  CheckList checks;
  auto res = Appraise(appraiser, r, &checks);
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_TRUE(Passed(checks, "quote.nonce"));
  const auto* state = std::any_cast<appraisal::QuoteStreamState>(&r.state);
  ASSERT_NE(state, nullptr);
  twi::v1::Payload bound;
  bound.set_instance_key_spki("instance key spki");
  bound.mutable_svid_key()->set_spki(std::string(AsString(svid)));
  EXPECT_EQ(state->qualifying_data, appraisal::TpmQualifyingData(r.nonce, bound));
  EXPECT_NE(state->qualifying_data,
            appraisal::TpmQualifyingData(r.nonce, ToBytes("instance key spki")));
  // Evidence answered for the key-bound payload fails against an unbound stream's state.
  appraisal::QuoteStreamState unbound{appraisal::TpmQualifyingData(r.nonce, ToBytes("instance key spki"))};
  r.state = unbound;
  CheckList checks2;
  auto res2 = Appraise(appraiser, r, &checks2);
  ASSERT_FALSE(res2.ok());
  EXPECT_THAT(res2.status().message(), HasSubstr("quote.nonce"));
}

TEST_F(AzureNodeTest, WithoutChallengeOrBodyRefused) {
  Start(26234);
  auto snp = Snp();
  AzureSnpAppraiser appraiser(snp.get(), {});
  CheckList checks;
  EXPECT_THAT(appraiser.Appraise(twi::v1::Evidence(), {}, &checks).status().message(),
              HasSubstr("azure.challenge"));
  Round r = Collect(appraiser);
  r.evidence.clear_azure();
  EXPECT_THAT(Appraise(appraiser, r, &checks).status().message(), HasSubstr("evidence.kind"));
  Round q = Collect(appraiser);
  q.evidence.mutable_azure()->clear_quotes();
  EXPECT_THAT(Appraise(appraiser, q, &checks).status().message(), HasSubstr("quote.count"));
  EXPECT_FALSE(collector_->Collect(Bytes(64, 0)).ok());
}

}  // namespace
}  // namespace twi::azure
