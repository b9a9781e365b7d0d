// End to end with SEV-SNP: the real agent (simulate = "sev-snp") and server binaries through
// the host harness; the simulator round trip and policy refusals on the same path.
#include <filesystem>

#include "attestors/appraisal/selectors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/e2e/snp_pair.h"
#include "test/e2e/replay.h"
#include "twi/v1/attestation.pb.h"

namespace twi::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;


using SnpE2eTest = SimSnpPairTest;

TEST_F(SnpE2eTest, SimulatorRoundTrip) {
  Start(SimServerHcl());
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.spiffe_id, StartsWith("spiffe://example.org/spire/agent/twi/"));
  EXPECT_TRUE(r.can_reattest);
  EXPECT_THAT(r.selectors, Contains("twi:tee:sev-snp"));
  EXPECT_THAT(r.selectors, Contains("twi:sev-snp:product:milan"));
  EXPECT_THAT(r.selectors, Contains("twi:sev-snp:policy-debug:false"));
  EXPECT_THAT(r.selectors, Contains("twi:sev-snp:signing-key:vcek"));
  EXPECT_THAT(r.selectors, Contains("twi:sev-snp:simulated:true"));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:sev-snp:measurement:")));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:instance:")));
  for (const auto& v : r.selectors) {  // every value is documented in the README's table
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::NodeSelectors(), v.substr(4))) << v;
  }
}

TEST_F(SnpE2eTest, AgentPathTemplateFromVerifiedChipId) {
  Start(SimServerHcl() +
        "agent_path_template = \"snp/{sev_snp.chip_id}/{sev_snp.report_id}\"\n");
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.spiffe_id, StartsWith("spiffe://example.org/spire/agent/twi/snp/"));
  EXPECT_EQ(r.spiffe_id.size(),
            std::string("spiffe://example.org/spire/agent/twi/snp/").size() + 128 + 1 + 64);
}

TEST_F(SnpE2eTest, SimulatedEvidenceRefusedWithoutTheInsecureOption) {
  Start("");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()),
              StartsWith("nodeattestor(twi): sev-snp: evidence.simulated: the report comes from the software simulator"));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("insecure_simulation_roots = true"));
}

TEST_F(SnpE2eTest, MeasurementAllowListRefusal) {
  Start(SimServerHcl("  measurements = [\"" + std::string(96, 'a') + "\"]\n"));
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): sev-snp: policy.measurement: "));
}

TEST_F(SnpE2eTest, MinimumTcbRefusal) {
  Start(SimServerHcl("  min_tcb { snp = 30 }\n"));
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("policy.tcb"));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("snp"));
}

TEST_F(SnpE2eTest, VmplRefusal) {
  Start(SimServerHcl(), "sev_snp {\n  vmpl = 2\n}\n");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("policy.vmpl"));
}

TEST_F(SnpE2eTest, TamperedReportRejected) {
  Start(SimServerHcl());
  host::RelayHooks hooks;
  hooks.challenge_response = [](std::string& bytes) {
    twi::v1::ChallengeResponse r;
    ASSERT_TRUE(r.ParseFromString(bytes));
    ASSERT_EQ(r.evidence_size(), 1);
    std::string report = r.evidence(0).sev_snp().report();
    report[0x90] ^= 0x01;  // MEASUREMENT
    r.mutable_evidence(0)->mutable_sev_snp()->set_report(report);
    bytes = r.SerializeAsString();
  };
  auto r = Attest(hooks);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): sev-snp: report.signature: "));
}

TEST_F(SnpE2eTest, EvidenceBoundToTheNonce) {
  // Evidence recorded from one attestation cannot be replayed into another: the report data
  // binds the nonce (and the signature over the transcript fails first).
  Start(SimServerHcl());
  std::string recorded;
  ASSERT_TRUE(Attest(RecordResponse(&recorded)).status.ok());
  auto r = Attest(ReplayEvidence(&recorded));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("report.report_data: REPORT_DATA"));
}

TEST_F(SnpE2eTest, BadPolicyConfigRejectedAtConfigure) {
  store_ = std::make_shared<host::AgentStore>();
  server_ = Launch(kServer, "NodeAttestor", store_);
  absl::Status s = server_->Load(
      "example.org", "sev_snp {\n  measurements = [\"abcd\"]\n  signing_key = \"any\"\n  min_tcb { snpp = 1 }\n}\n", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("sev_snp.measurements"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("\"sev_snp.signing_key\" must be \"both\", \"vcek\" or \"vlek\", got \"any\""));
  EXPECT_THAT(std::string(s.message()), HasSubstr("unknown key \"sev_snp.min_tcb.snpp\" (did you mean \"snp\"?"));
}

}  // namespace
}  // namespace twi::e2e
