// End to end: the real twi-agent-nodeattestor and twi-server-nodeattestor binaries, launched
// and driven through the host harness exactly as SPIRE would.
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/e2e/e2e_util.h"
#include "twi/v1/attestation.pb.h"

namespace twi::e2e {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;


class NodeE2eTest : public NodePairTest {};

TEST_F(NodeE2eTest, PluginsLoadAndAdvertiseTheirServices) {
  agent_ = Launch(kAgent);
  server_ = Launch(kServer, "NodeAttestor", std::make_shared<host::AgentStore>());
  ASSERT_TRUE(agent_ && server_);
  EXPECT_THAT(agent_->handshake_line(), StartsWith("1|1|unix|"));
  EXPECT_THAT(agent_->handshake_line(), ::testing::EndsWith("|grpc|"));
  auto a = agent_->Init({host::kMetricsService});
  ASSERT_TRUE(a.ok());
  EXPECT_THAT(*a, ElementsAre("spire.plugin.agent.nodeattestor.v1.NodeAttestor",
                              "spire.service.common.config.v1.Config"));
  auto s = server_->Init({host::kAgentStoreService});
  ASSERT_TRUE(s.ok());
  EXPECT_THAT(*s, ElementsAre("spire.plugin.server.nodeattestor.v1.NodeAttestor",
                              "spire.service.common.config.v1.Config"));
  EXPECT_TRUE(agent_->Configure("example.org", AgentHcl()).ok());
  EXPECT_TRUE(server_->Configure("example.org", "insecure_allow_no_tee = true").ok());
}

TEST_F(NodeE2eTest, FullAttestationWithoutTeeWhenAllowed) {
  StartBoth("insecure_allow_no_tee = true\n");
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.challenges, 1);
  EXPECT_THAT(r.spiffe_id, StartsWith("spiffe://example.org/spire/agent/twi/"));
  std::string suffix = r.spiffe_id.substr(std::string("spiffe://example.org/spire/agent/twi/").size());
  EXPECT_EQ(suffix.size(), 64u);
  EXPECT_THAT(r.selectors, ElementsAre("twi:instance:" + suffix));
  EXPECT_TRUE(r.can_reattest);
  EXPECT_TRUE(r.warnings.empty());
  // The key file exists with mode 0600 and re-attestation keeps the same ID.
  struct stat st;
  ASSERT_EQ(stat((dir_.path() + "/agent/instance_key.der").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = Attest();
  ASSERT_TRUE(again.status.ok());
  EXPECT_EQ(again.spiffe_id, r.spiffe_id);
  EXPECT_GE(store_->lookups(), 2);  // the server consulted AgentStore through the broker
}

TEST_F(NodeE2eTest, InstanceKeySurvivesAgentRestart) {
  StartBoth("insecure_allow_no_tee = true\n");
  auto first = Attest();
  ASSERT_TRUE(first.status.ok());
  ShutdownAndCheckClean(*agent_);
  agent_ = Launch(kAgent);
  ASSERT_TRUE(agent_->Load("example.org", AgentHcl(), false).ok());
  auto second = Attest();
  ASSERT_TRUE(second.status.ok());
  EXPECT_EQ(second.spiffe_id, first.spiffe_id);
}

TEST_F(NodeE2eTest, NoTeeRefusedByDefault) {
  StartBoth("");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): payload.tee_evidence: "));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("insecure_allow_no_tee = true"));
}

TEST_F(NodeE2eTest, TamperedChallengeResponseRejected) {
  StartBoth("insecure_allow_no_tee = true\n");
  host::RelayHooks hooks;
  hooks.challenge_response = [](std::string& bytes) {
    twi::v1::ChallengeResponse r;
    ASSERT_TRUE(r.ParseFromString(bytes));
    std::string sig = r.signature();
    sig[10] ^= 0x40;
    r.set_signature(sig);
    bytes = r.SerializeAsString();
  };
  auto r = Attest(hooks);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(r.status.message()),
            "nodeattestor(twi): response.signature: instance key signature over the transcript does not verify");
}

TEST_F(NodeE2eTest, ReplayedChallengeResponseRejected) {
  StartBoth("insecure_allow_no_tee = true\n");
  std::string recorded;
  host::RelayHooks record;
  record.challenge_response = [&](std::string& bytes) { recorded = bytes; };
  ASSERT_TRUE(Attest(record).status.ok());
  host::RelayHooks replay;
  replay.challenge_response = [&](std::string& bytes) { bytes = recorded; };
  auto r = Attest(replay);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("(replayed or mismatched response)"));
}

TEST_F(NodeE2eTest, GarbageAndUnknownVersionsRejected) {
  StartBoth("insecure_allow_no_tee = true\n");
  host::RelayHooks garbage;
  garbage.payload = [](std::string& b) { b = "\x0a\xff\xff\xff\xff"; };
  auto r = Attest(garbage);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("attestation payload is not a twi/v1 Payload message"));

  host::RelayHooks v2;
  v2.payload = [](std::string& b) {
    twi::v1::Payload p;
    p.ParseFromString(b);
    p.set_version(2);
    b = p.SerializeAsString();
  };
  r = Attest(v2);
  EXPECT_EQ(std::string(r.status.message()),
            "nodeattestor(twi): unsupported payload version 2 (this server speaks 1)");

  host::RelayHooks bad_challenge;
  bad_challenge.challenge = [](std::string& b) { b = "junk"; };
  r = Attest(bad_challenge);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("server challenge is not a twi/v1 Challenge"));
  // The plugins are still healthy after bad input.
  EXPECT_TRUE(Attest().status.ok());
}

TEST_F(NodeE2eTest, BadConfigListsEveryProblem) {
  agent_ = Launch(kAgent);
  server_ = Launch(kServer, "NodeAttestor", std::make_shared<host::AgentStore>());
  absl::Status s = server_->Load("example.org",
                                 "insecure_allow_no_tee = \"yes\"\nagent_path_template = \"{bogus}\"\nlog_levl = \"debug\"\n",
                                 true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()),
            "failed to configure plugin: invalid configuration (3 problems): "
            "line 1, column 1: \"insecure_allow_no_tee\" must be a bool (true or false), got string; "
            "line 2, column 1: \"agent_path_template\": unknown placeholder {bogus} (known: {instance_key_hash}, "
            "{sev_snp.chip_id}, {sev_snp.measurement}, {sev_snp.host_data}, {sev_snp.report_id}, {tdx.mrtd}, "
            "{tdx.mrconfigid}, {tdx.fmspc}, {tdx.tcb_status}, {tpm.ek_hash}, {azure.vm_id}, {gcp.project_id}, "
            "{gcp.project_number}, {gcp.zone}, {gcp.instance_id}, {gcp.instance_name}); "
            "line 3, column 1: unknown key \"log_levl\" (did you mean \"log_level\"? known keys: agent_path_template, "
            "azure, claims_mapper, ear_audit_file, ear_signing_key_file, gcp, insecure_allow_no_tee, "
            "insecure_simulation_roots, key_binding, log_level, sev_snp, tdx, tpm)");
  auto v = server_->Validate("example.org", "log_levl = 1");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->valid);
  ASSERT_EQ(v->notes.size(), 1u);
  EXPECT_THAT(v->notes[0], HasSubstr("unknown key \"log_levl\""));
  v = server_->Validate("example.org", "insecure_allow_no_tee = true");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->valid);
  EXPECT_THAT(v->notes, Contains(HasSubstr("insecure_allow_no_tee = true")));
}

TEST_F(NodeE2eTest, UnwritableStateDirFailsConfigure) {
  agent_ = Launch(kAgent);
  std::string file = dir_.path() + "/not-a-dir";
  std::ofstream(file) << "x";
  absl::Status s = agent_->Load("example.org", "state_dir = \"" + file + "/agent\"", false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot create state_dir \"" + file + "/agent\": Not a directory"));
}

TEST_F(NodeE2eTest, NotConfiguredIsFailedPrecondition) {
  agent_ = Launch(kAgent);
  server_ = Launch(kServer, "NodeAttestor", std::make_shared<host::AgentStore>());
  ASSERT_TRUE(agent_->Init({}).ok());
  auto r = host::AttestNode(*agent_, *server_, "example.org");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(r.status.message()), "nodeattestor(twi): not configured");
}

TEST(NodeLaunchTest, WrongMagicCookieExitsWithClearMessage) {
  for (const char* cookie : {"WorkloadAttestor", "nodeattestor"}) {
    host::LaunchOptions o;
    o.path = Bin(kServer);
    o.cookie_value = cookie;
    o.handshake_timeout = std::chrono::seconds(20);
    auto p = host::PluginProcess::Launch(o);
    ASSERT_FALSE(p.ok());
    EXPECT_THAT(std::string(p.status().message()), HasSubstr("Unrecognized remote plugin message: (empty)"));
  }
}

TEST(NodeLaunchTest, WrongCookieExitStatusAndStderr) {
  // Run the binary directly (no cookie at all) to see its exit status and message.
  std::string cmd = Bin(kAgent) + " 2>&1 >/dev/null; echo rc=$?";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof(buf), f)) out += buf;
  pclose(f);
  EXPECT_THAT(out, HasSubstr("this binary is a SPIRE NodeAttestor plugin, not meant to be run directly"));
  EXPECT_THAT(out, HasSubstr("NodeAttestor=NodeAttestor (got nothing)"));
  EXPECT_THAT(out, HasSubstr("rc=1"));
}

TEST(NodeLaunchTest, SocketDirFromEnvironmentAndSigtermCleansUp) {
  TempDir dir;
  auto p = Launch(kAgent, "NodeAttestor", nullptr, {{"PLUGIN_UNIX_SOCKET_DIR", dir.path()}});
  ASSERT_TRUE(p);
  EXPECT_THAT(p->socket_path(), StartsWith(dir.path() + "/plugin"));
  ASSERT_TRUE(std::filesystem::exists(p->socket_path()));
  // SIGINT is ignored (a Ctrl-C on SPIRE's terminal), SIGTERM ends the plugin cleanly.
  ::kill(p->pid(), SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(ProcessAlive(p->pid()));
  std::string socket = p->socket_path();
  ::kill(p->pid(), SIGTERM);
  for (int i = 0; i < 200 && std::filesystem::exists(socket); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(std::filesystem::exists(socket));
}

TEST(NodeLaunchTest, VersionFlag) {
  FILE* f = popen((Bin(kServer) + " --version").c_str(), "r");
  char buf[128] = {0};
  ASSERT_NE(fgets(buf, sizeof(buf), f), nullptr);
  pclose(f);
  EXPECT_THAT(std::string(buf), StartsWith("twi-server-nodeattestor "));
}

}  // namespace
}  // namespace twi::e2e
