// The server half of key binding through the plugin protocol (test/harness), with the real
// binaries: twi-agent-keymanager + agent NodeAttestor (key_binding) on the SEV-SNP simulator,
// the server NodeAttestor with key_binding serving binding records, and
// twi-server-credentialcomposer taking them as SPIRE's AttestAgent would right after.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/core/crypto.h"
#include "spire/plugin/agent/keymanager/v1/keymanager.grpc.pb.h"
#include "spire/plugin/server/credentialcomposer/v1/credentialcomposer.grpc.pb.h"
#include "test/e2e/snp_pair.h"

namespace twi::e2e {
namespace {

using ::testing::HasSubstr;
namespace kmpb = spire::plugin::agent::keymanager::v1;
namespace ccpb = spire::plugin::server::credentialcomposer::v1;

class ServerKeyBindingTest : public SimSnpPairTest {
 protected:
  void SetUp() override {
    keys_ = dir_.path() + "/keys/keys.sock";
    records_ = dir_.path() + "/kb/records.sock";
  }
  // KeyManager, agent (bound to it), server with `key_binding_body`, composer with `composer_hcl`.
  void StartAll(const std::string& key_binding_body, const std::string& composer_hcl) {
    km_ = Launch("twi-agent-keymanager", "KeyManager");
    ASSERT_TRUE(km_);
    absl::Status s = km_->Load("example.org", "socket_path = \"" + keys_ + "\"\n", false);
    ASSERT_TRUE(s.ok()) << s;
    km_stub_ = kmpb::KeyManager::NewStub(km_->channel());
    Start(SimServerHcl() + "key_binding {\n" + key_binding_body + "}\n",
          "key_binding {\n  keymanager_socket = \"" + keys_ + "\"\n}\n");
    composer_ = Launch("twi-server-credentialcomposer", "CredentialComposer");
    ASSERT_TRUE(composer_);
    s = composer_->Load("example.org", composer_hcl, true);
    ASSERT_TRUE(s.ok()) << s;
    cc_stub_ = ccpb::CredentialComposer::NewStub(composer_->channel());
  }
  std::string Generate(const std::string& slot) {  // what SPIRE does before each attestation
    grpc::ClientContext ctx;
    kmpb::GenerateKeyRequest req;
    req.set_key_id(slot);
    req.set_key_type(kmpb::EC_P256);
    kmpb::GenerateKeyResponse resp;
    grpc::Status s = km_stub_->GenerateKey(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.public_key().pkix_data();
  }
  grpc::Status Compose(const std::string& id, const std::string& spki) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ccpb::ComposeAgentX509SVIDRequest req;
    req.mutable_attributes()->mutable_subject()->add_organization("SPIRE");
    req.set_spiffe_id(id);
    req.set_public_key(spki);
    ccpb::ComposeAgentX509SVIDResponse resp;
    return cc_stub_->ComposeAgentX509SVID(&ctx, req, &resp);
  }
  void TearDown() override {
    if (composer_) ShutdownAndCheckClean(*composer_);
    if (km_) ShutdownAndCheckClean(*km_);
    SimSnpPairTest::TearDown();
    EXPECT_FALSE(std::filesystem::exists(records_)) << "the server NodeAttestor left its records socket";
  }

  std::string keys_, records_;
  std::unique_ptr<host::PluginProcess> km_, composer_;
  std::unique_ptr<kmpb::KeyManager::Stub> km_stub_;
  std::unique_ptr<ccpb::CredentialComposer::Stub> cc_stub_;
};

TEST_F(ServerKeyBindingTest, RecordOfTheBoundKeyIsConsumedOncePerAttestation) {
  StartAll("  records_socket = \"" + records_ + "\"\n", "records_socket = \"" + records_ + "\"\n");
  struct stat st {};
  ASSERT_EQ(::stat(records_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string a = Generate("agent-svid-A");
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.can_reattest);
  EXPECT_EQ(Compose(r.spiffe_id, Generate("unrelated")).error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << "a key other than the bound one";
  grpc::Status s = Compose(r.spiffe_id, a);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Compose(r.spiffe_id, a).error_code(), grpc::StatusCode::PERMISSION_DENIED) << "consumed";
  // Re-attestation at rotation: the other slot's key, a new record.
  const std::string b = Generate("agent-svid-B");
  r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(Compose(r.spiffe_id, a).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = Compose(r.spiffe_id, b);
  EXPECT_TRUE(s.ok()) << s.error_message();
  auto lines = server_->WaitForStderr([](const std::vector<std::string>& l) {
    int n = 0;
    for (const auto& x : l) n += x.find("binding record written") != std::string::npos;
    return n >= 2;
  });
  bool logged_b = false;
  for (const auto& l : lines) logged_b |= l.find(HexEncode(Sha256(AsBytes(b)))) != std::string::npos;
  EXPECT_TRUE(logged_b) << "the server logs the bound key's hash";
}

TEST_F(ServerKeyBindingTest, AgentThatBindsNoKeyIsRefused) {
  km_ = nullptr;
  Start(SimServerHcl() + "key_binding {\n  records_socket = \"" + records_ + "\"\n}\n");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("payload carries no svid key"));
}

TEST_F(ServerKeyBindingTest, StatelessModePutsTheKeyHashInTheAgentId) {
  StartAll("  mode = \"stateless\"\n", "mode = \"stateless\"\n");
  EXPECT_FALSE(std::filesystem::exists(records_));
  const std::string a = Generate("agent-svid-A");
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.spiffe_id, ::testing::EndsWith("/kb-" + HexEncode(Sha256(AsBytes(a)))));
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0];
  EXPECT_TRUE(Compose(r.spiffe_id, a).ok());
  EXPECT_EQ(Compose(r.spiffe_id, Generate("agent-svid-B")).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ServerKeyBindingTest, OpenRecordsDirectoryRefusedAtConfigure) {
  std::filesystem::create_directories(dir_.path() + "/kb");
  ::chmod((dir_.path() + "/kb").c_str(), 0755);
  auto server = Launch(kServer, "NodeAttestor");
  ASSERT_TRUE(server);
  absl::Status s = server->Load("example.org",
                                SimServerHcl() + "key_binding {\n  records_socket = \"" + records_ + "\"\n}\n", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("key_binding.records_socket"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("has mode 0755"));
  ShutdownAndCheckClean(*server);
}

}  // namespace
}  // namespace twi::e2e
