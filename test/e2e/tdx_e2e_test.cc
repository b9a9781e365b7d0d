// End to end with TDX: the real agent (simulate = "tdx") and server binaries through the host
// harness; the simulator round trip, the CCEL replay and policy refusals on the same path.
// The agent keeps its simulated Intel hierarchy in state_dir/sim-intel and rewrites
// collateral.json there at Configure; the server pins that root.pem and reads that collateral
// offline (tdx.collateral_offline_path), as a demo setup does.
#include <filesystem>

#include "attestors/appraisal/selectors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/e2e/e2e_util.h"
#include "test/e2e/replay.h"
#include "twi/v1/attestation.pb.h"

namespace twi::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kFmspc[] = "00806f050000";  // the simulator's default platform

class TdxE2eTest : public NodePairTest {
 protected:
  std::string SimDir() { return dir_.path() + "/agent/sim-intel"; }
  // Server HCL accepting the simulated agent, with `tdx_body` (indented lines) in the tdx block.
  std::string ServerHcl(const std::string& tdx_body = "", bool simulation = true) {
    return std::string(simulation ? "insecure_simulation_roots = true\n" : "") + "tdx {\n" +
           (simulation ? "  extra_roots = [\"" + SimDir() + "/root.pem\"]\n" : "") +
           "  collateral_offline_path = \"" + SimDir() + "/collateral.json\"\n" + tdx_body + "}\n";
  }
  // The agent is configured first: it writes root.pem and collateral.json the server reads.
  void Start(const std::string& tdx_body = "", const std::string& agent_extra = "",
             bool simulation = true) {
    StartBoth(ServerHcl(tdx_body, simulation), "simulate = \"tdx\"\n" + agent_extra);
  }
  static std::string Ccel(const std::string& file) {
    return std::string(TWI_TESTDATA) + "/tdx/go-tdx-guest/" + file;
  }
  static std::string CcelAgentHcl() {
    return "tdx {\n  ccel_table_path = \"" + Ccel("ccel_table.dat") + "\"\n  ccel_data_path = \"" +
           Ccel("ccel_data_head.dat") + "\"\n}\n";
  }
};

TEST_F(TdxE2eTest, SimulatorRoundTrip) {
  Start();
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.spiffe_id, StartsWith("spiffe://example.org/spire/agent/twi/"));
  EXPECT_THAT(r.selectors, Contains("twi:tee:tdx"));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:tdx:mrtd:")));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:tdx:rtmr3:")));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:tdx:mrconfigid:")));
  EXPECT_THAT(r.selectors, Contains("twi:tdx:tcb-status:UpToDate"));
  EXPECT_THAT(r.selectors, Contains(std::string("twi:tdx:fmspc:") + kFmspc));
  EXPECT_THAT(r.selectors, Contains("twi:tdx:debug:false"));
  EXPECT_THAT(r.selectors, Contains("twi:tdx:root:extra"));
  EXPECT_THAT(r.selectors, Contains("twi:tdx:simulated:true"));
  EXPECT_THAT(r.selectors, Not(Contains("twi:tee:sev-snp")));
  for (const auto& v : r.selectors) {  // every value is documented in the README's table
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::NodeSelectors(), v.substr(4))) << v;
  }
}

TEST_F(TdxE2eTest, SimulatedMrtdIsPinnedByPolicy) {
  const std::string mrtd(96, 'a');
  Start("  mrtd = [\"" + mrtd + "\"]\n", "simulate_mrtd = \"" + mrtd + "\"\n");
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:tdx:mrtd:" + mrtd));
}

TEST_F(TdxE2eTest, AgentPathTemplateFromVerifiedFields) {
  Start();
  ShutdownAndCheckClean(*server_);
  server_ = Launch(kServer, "NodeAttestor", store_);
  ASSERT_TRUE(server_);
  ASSERT_TRUE(server_->Load("example.org",
                            ServerHcl() + "agent_path_template = \"tdx/{tdx.fmspc}/{instance_key_hash}\"\n",
                            true).ok());
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.spiffe_id, StartsWith(std::string("spiffe://example.org/spire/agent/twi/tdx/") + kFmspc + "/"));
}

TEST_F(TdxE2eTest, TdxFieldsAloneAreNotAnAgentId) {
  store_ = std::make_shared<host::AgentStore>();
  server_ = Launch(kServer, "NodeAttestor", store_);
  ASSERT_TRUE(server_);
  absl::Status s = server_->Load("example.org", "agent_path_template = \"tdx/{tdx.mrtd}\"\n", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("has no per-instance field"));
}

TEST_F(TdxE2eTest, SimulatedEvidenceRefusedWithoutTheInsecureOption) {
  Start("", "", /*simulation=*/false);
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()),
              StartsWith("nodeattestor(twi): tdx: evidence.simulated: the quote comes from the software simulator"));
}

TEST_F(TdxE2eTest, WrongMrtdRefused) {
  Start("  mrtd = [\"" + std::string(96, 'a') + "\"]\n");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): tdx: policy.mrtd: "));
}

TEST_F(TdxE2eTest, DebugTdRefused) {
  Start("", "simulate_debug_td = true\n");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): tdx: policy.debug: "));
}

TEST_F(TdxE2eTest, DebugTdAcceptedWhenAllowed) {
  Start("  allow_debug = true\n", "simulate_debug_td = true\n");
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:tdx:debug:true"));
}

TEST_F(TdxE2eTest, TcbStatusRefused) {
  Start("  allowed_tcb_statuses = [\"OutOfDate\"]\n");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): tdx: policy.tcb_status: "));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("UpToDate"));
}

TEST_F(TdxE2eTest, MissingCollateralIsUnavailable) {
  StartBoth("insecure_simulation_roots = true\ntdx {\n  extra_roots = [\"" + SimDir() +
                "/root.pem\"]\n  collateral_offline_path = \"" + dir_.path() + "/none.json\"\n}\n",
            "simulate = \"tdx\"\n");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("tdx: collateral.fetch: "));
}

TEST_F(TdxE2eTest, TamperedQuoteRejected) {
  Start();
  host::RelayHooks hooks;
  hooks.challenge_response = [](std::string& bytes) {
    twi::v1::ChallengeResponse r;
    ASSERT_TRUE(r.ParseFromString(bytes));
    ASSERT_EQ(r.evidence_size(), 1);
    std::string quote = r.evidence(0).tdx().quote();
    quote[48 + 136] ^= 0x01;  // MRTD
    r.mutable_evidence(0)->mutable_tdx()->set_quote(quote);
    bytes = r.SerializeAsString();
  };
  auto r = Attest(hooks);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): tdx: quote.signature: "));
}

TEST_F(TdxE2eTest, EvidenceBoundToTheNonce) {
  Start();
  std::string recorded;
  ASSERT_TRUE(Attest(RecordResponse(&recorded)).status.ok());
  auto r = Attest(ReplayEvidence(&recorded));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("quote.report_data: REPORTDATA"));
}

// The agent sends the CCEL; the simulated TD's RTMR0-2 are that log's replay, so it verifies.
TEST_F(TdxE2eTest, CcelReplaysToTheQuote) {
  Start("", CcelAgentHcl());
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:tee:tdx"));
  // The boot facts of a log that replayed: this GCP TD boots without UEFI SecureBoot.
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:tdx:secure-boot:")));
  for (const auto& v : r.selectors) {
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::NodeSelectors(), v.substr(4))) << v;
  }
}

// A log edited in transit (or by a host that wants other boot facts believed) no longer
// replays to the signed RTMRs: refused, naming the RTMR.
TEST_F(TdxE2eTest, AttackCcelReplayMismatchRefused) {
  Start("", CcelAgentHcl());
  host::RelayHooks hooks;
  hooks.challenge_response = [](std::string& bytes) {
    twi::v1::ChallengeResponse r;
    ASSERT_TRUE(r.ParseFromString(bytes));
    ASSERT_EQ(r.evidence_size(), 1);
    ASSERT_FALSE(r.evidence(0).tdx().ccel_data().empty());
    std::string data = r.evidence(0).tdx().ccel_data();
    size_t end = data.find_last_not_of('\xff');
    ASSERT_NE(end, std::string::npos);
    // The last event ends with its 40-byte text, after its 4-byte size: flip the last byte of
    // its SHA-384 digest, which replay extends into an RTMR.
    data[end - 44] ^= 0x01;
    r.mutable_evidence(0)->mutable_tdx()->set_ccel_data(data);
    bytes = r.SerializeAsString();
  };
  auto r = Attest(hooks);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  // The last event of this log (ExitBootServices) is measured into MR index 2: RTMR1.
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): tdx: ccel.replay: RTMR1 replays to "));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("but the quote says"));
}

// The claims mapper sees TDX claims in the shared vocabulary: one release lists its SEV-SNP
// measurement and its TDX MRTD, and the TD running that MRTD gets the claim.
TEST_F(TdxE2eTest, ClaimsMapperMatchesTheTdxImage) {
  const std::string image(96, 'c');
  const std::string claims =
      "claims_mapper {\n"
      "  policy_id = \"acme-tee-tdx\"\n"
      "  refset \"payroll-image\" {\n"
      "    version \"1.0\" {\n"
      "      state = \"active\"\n"
      "      sev_snp_measurement = [\"" + std::string(96, 'a') + "\"]\n"
      "      tdx_mrtd = [\"" + image + "\"]\n"
      "    }\n"
      "  }\n"
      "  rule \"payroll\" {\n"
      "    when {\n"
      "      tee    = [\"tdx\"]\n"
      "      refset = \"payroll-image\"\n"
      "    }\n"
      "    emit = [\"claim:workload:payroll\"]\n"
      "  }\n"
      "}\n";
  StartBoth(ServerHcl() + claims, "simulate = \"tdx\"\nsimulate_mrtd = \"" + image + "\"\n");
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:claim:workload:payroll"));
  absl::Status s = agent_->Configure("example.org", AgentHcl() + "simulate = \"tdx\"\n");
  ASSERT_TRUE(s.ok()) << s;
  auto other = Attest();
  EXPECT_EQ(other.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(other.status.message()), HasSubstr("tdx_mrtd"));
}

// An extra root must be a root: pinning an intermediate (the simulated PCK CA) would let any
// leaf under it pass without the rest of the chain being what the operator meant.
TEST_F(TdxE2eTest, ExtraRootMustBeSelfIssued) {
  Start();
  ShutdownAndCheckClean(*server_);
  server_ = Launch(kServer, "NodeAttestor", store_);
  ASSERT_TRUE(server_);
  absl::Status s = server_->Load(
      "example.org",
      "insecure_simulation_roots = true\ntdx {\n  extra_roots = [\"" + SimDir() + "/pck-ca.pem\"]\n}\n", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("is not self-issued"));
}

TEST_F(TdxE2eTest, BadPolicyConfigRejectedAtConfigure) {
  store_ = std::make_shared<host::AgentStore>();
  server_ = Launch(kServer, "NodeAttestor", store_);
  ASSERT_TRUE(server_);
  absl::Status s = server_->Load(
      "example.org",
      "tdx {\n  mrtd = [\"abcd\"]\n  allowed_tcb_statuses = [\"Fine\"]\n  collateral_base_url = \"ftp://x\"\n  rtmr4 = []\n}\n",
      true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("\"tdx.mrtd\" must be 96 hex digits"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("unknown status \"Fine\""));
  EXPECT_THAT(std::string(s.message()), HasSubstr("\"tdx.collateral_base_url\" must be an http(s) URL"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("unknown key \"tdx.rtmr4\""));
}

}  // namespace
}  // namespace twi::e2e
