// twi-server-credentialcomposer through the plugin protocol (test/harness): the decision table
// of spec spire-keybinding-services.md 6.4 with binding records served by this test (the
// NodeAttestor's side of the records socket), the stateless mode, and UNIMPLEMENTED for every
// RPC it does not need. Real SPIRE never sends a CSR key other than the bound one; this host can.
#include <grpcpp/grpcpp.h>

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/core/crypto.h"
#include "attestors/keybinding/records_socket.h"
#include "plugin/config/keybinding_config.h"
#include "spire/plugin/server/credentialcomposer/v1/credentialcomposer.grpc.pb.h"
#include "test/e2e/e2e_util.h"

namespace twi::e2e {
namespace {

namespace pb = spire::plugin::server::credentialcomposer::v1;
using ::testing::HasSubstr;

constexpr char kComposer[] = "twi-server-credentialcomposer";
constexpr char kExtOid[] = "1.3.6.1.4.1.32473.1";  // RFC 5612's documentation enterprise number
const std::string kId = "spiffe://example.org/spire/agent/twi/0123abcd";

Bytes NewSpki() {
  auto k = GenerateP256Key();
  EXPECT_TRUE(k.ok());
  return *PublicKeyToSpki(k->get());
}

pb::X509SVIDAttributes Defaults() {  // what SPIRE sends for an agent SVID
  pb::X509SVIDAttributes a;
  a.mutable_subject()->add_country("US");
  a.mutable_subject()->add_organization("SPIRE");
  return a;
}

class ComposerTest : public ::testing::Test {
 protected:
  void SetUp() override { socket_ = dir_.path() + "/kb/records.sock"; }
  void StartRecords(std::chrono::milliseconds ttl = std::chrono::seconds(60)) {
    table_ = std::make_shared<keybinding::RecordTable>(keybinding::RecordTableOptions{ttl});
    auto s = keybinding::RecordServer::Start(socket_, table_);
    ASSERT_TRUE(s.ok()) << s.status();
    records_ = *std::move(s);
  }
  void LoadComposer(const std::string& extra = "") {
    composer_ = Launch(kComposer, "CredentialComposer");
    ASSERT_TRUE(composer_);
    absl::Status s = composer_->Load("example.org", "records_socket = \"" + socket_ + "\"\n" + extra, true);
    ASSERT_TRUE(s.ok()) << s;
    stub_ = pb::CredentialComposer::NewStub(composer_->channel());
  }
  grpc::Status Compose(const std::string& id, const Bytes& spki, pb::ComposeAgentX509SVIDResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    pb::ComposeAgentX509SVIDRequest req;
    *req.mutable_attributes() = Defaults();
    req.set_spiffe_id(id);
    req.set_public_key(std::string(AsString(spki)));
    return stub_->ComposeAgentX509SVID(&ctx, req, resp);
  }
  void Bind(const std::string& id, const Bytes& spki) {
    ASSERT_TRUE(table_->Put(id, Sha256(spki), Sha256(ToBytes("attestation")), {}).ok());
  }
  void TearDown() override {
    if (composer_) ShutdownAndCheckClean(*composer_);
  }

  TempDir dir_;
  std::string socket_;
  std::shared_ptr<keybinding::RecordTable> table_;
  std::unique_ptr<keybinding::RecordServer> records_;
  std::unique_ptr<host::PluginProcess> composer_;
  std::unique_ptr<pb::CredentialComposer::Stub> stub_;
};

TEST_F(ComposerTest, BoundKeyGetsItsSvidWithTheAttestationDigest) {
  StartRecords();
  LoadComposer(std::string("attestation_extension_oid = \"") + kExtOid + "\"\n");
  Bytes spki = NewSpki();
  Bind(kId, spki);
  pb::ComposeAgentX509SVIDResponse resp;
  grpc::Status s = Compose(kId, spki, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(resp.has_attributes());
  EXPECT_EQ(resp.attributes().subject().organization(0), "SPIRE");  // SPIRE's defaults echoed
  EXPECT_EQ(resp.attributes().subject().country(0), "US");
  ASSERT_EQ(resp.attributes().extra_extensions_size(), 1);
  const auto& ext = resp.attributes().extra_extensions(0);
  EXPECT_EQ(ext.oid(), kExtOid);
  EXPECT_FALSE(ext.critical());
  Bytes want = {0x04, 0x20};
  Bytes d = Sha256(ToBytes("attestation"));
  want.insert(want.end(), d.begin(), d.end());
  EXPECT_EQ(ToBytes(ext.value()), want);
  EXPECT_EQ(table_->size(), 0u);  // consumed
  auto lines = composer_->WaitForStderr([](const std::vector<std::string>& l) {
    for (const auto& x : l) {
      if (x.find("agent key binding verified") != std::string::npos) return true;
    }
    return false;
  });
  bool logged = false;
  for (const auto& l : lines) logged |= l.find(HexEncode(Sha256(spki))) != std::string::npos;
  EXPECT_TRUE(logged) << "the composer logs the consumed key's hash";
}

TEST_F(ComposerTest, NoExtensionWithoutAnOid) {
  StartRecords();
  LoadComposer();
  Bytes spki = NewSpki();
  Bind(kId, spki);
  pb::ComposeAgentX509SVIDResponse resp;
  ASSERT_TRUE(Compose(kId, spki, &resp).ok());
  EXPECT_FALSE(resp.has_attributes());  // SPIRE keeps its defaults
}

TEST_F(ComposerTest, CsrKeyOtherThanTheBoundKeyIsRefused) {
  StartRecords();
  LoadComposer();
  Bytes bound = NewSpki(), other = NewSpki();
  Bind(kId, bound);
  pb::ComposeAgentX509SVIDResponse resp;
  grpc::Status s = Compose(kId, other, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("agent key not bound to attested evidence"));
  EXPECT_EQ(table_->size(), 1u);  // the bound key's record stays for its own CSR
  // The bound key under another agent ID does not match either.
  s = Compose(kId + "0", bound, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Compose(kId, bound, &resp).ok());
}

TEST_F(ComposerTest, ConsumedRecordIsNotReused) {
  StartRecords();
  LoadComposer();
  Bytes spki = NewSpki();
  Bind(kId, spki);
  pb::ComposeAgentX509SVIDResponse resp;
  ASSERT_TRUE(Compose(kId, spki, &resp).ok());
  grpc::Status s = Compose(kId, spki, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("no binding record"));
}

TEST_F(ComposerTest, ExpiredRecordIsRefused) {
  StartRecords(std::chrono::milliseconds(1));
  LoadComposer();
  Bytes spki = NewSpki();
  Bind(kId, spki);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pb::ComposeAgentX509SVIDResponse resp;
  grpc::Status s = Compose(kId, spki, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("expired"));
}

TEST_F(ComposerTest, RecordsSocketDownFailsClosed) {
  StartRecords();
  LoadComposer("timeout_ms = 500\n");
  Bytes spki = NewSpki();
  Bind(kId, spki);
  records_.reset();  // the NodeAttestor process is gone
  pb::ComposeAgentX509SVIDResponse resp;
  grpc::Status s = Compose(kId, spki, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("binding records unavailable"));
  // Back up (a new table: nothing survives the process): still refused until re-attestation.
  StartRecords();
  s = Compose(kId, spki, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  Bind(kId, spki);
  EXPECT_TRUE(Compose(kId, spki, &resp).ok());
}

TEST_F(ComposerTest, UnparsableCsrKeyIsRefused) {
  StartRecords();
  LoadComposer();
  pb::ComposeAgentX509SVIDResponse resp;
  grpc::Status s = Compose(kId, ToBytes("not a key"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("CSR public key does not parse"));
}

TEST_F(ComposerTest, OtherAttestorsIdsKeepSpireDefaults) {
  LoadComposer();  // no records socket at all: these IDs never need it
  Bytes spki = NewSpki();
  for (const std::string id : {"spiffe://example.org/spire/agent/join_token/abc",
                               "spiffe://example.org/spire/agent/x509pop/abc",
                               "spiffe://example.org/spire/agent/twix/abc",
                               "spiffe://example.org/spire/agent/twi/",
                               "spiffe://other.org/spire/agent/twi/abc"}) {
    pb::ComposeAgentX509SVIDResponse resp;
    grpc::Status s = Compose(id, spki, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << id;
  }
}

TEST_F(ComposerTest, AttestorNameSetsThePrefix) {
  StartRecords();
  LoadComposer("attestor_name = \"tee\"\n");
  Bytes spki = NewSpki();
  pb::ComposeAgentX509SVIDResponse resp;
  EXPECT_EQ(Compose(kId, spki, &resp).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(Compose("spiffe://example.org/spire/agent/tee/x", spki, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ComposerTest, EveryOtherRpcIsUnimplemented) {
  LoadComposer();
  auto ctx = [] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return c;
  };
  pb::ComposeServerX509CAResponse ca;
  EXPECT_EQ(stub_->ComposeServerX509CA(ctx().get(), {}, &ca).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  pb::ComposeServerX509SVIDResponse server;
  EXPECT_EQ(stub_->ComposeServerX509SVID(ctx().get(), {}, &server).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  pb::ComposeWorkloadX509SVIDRequest wreq;
  wreq.set_spiffe_id(kId);  // even an ID under the prefix: workloads are not key-bound here
  pb::ComposeWorkloadX509SVIDResponse wresp;
  EXPECT_EQ(stub_->ComposeWorkloadX509SVID(ctx().get(), wreq, &wresp).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  pb::ComposeWorkloadJWTSVIDResponse jwt;
  EXPECT_EQ(stub_->ComposeWorkloadJWTSVID(ctx().get(), {}, &jwt).error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(ComposerTest, StatelessModeRecomputesTheKeyHashFromTheId) {
  LoadComposer("mode = \"stateless\"\n");
  Bytes spki = NewSpki(), other = NewSpki();
  const std::string id = kId + "/kb-" + HexEncode(Sha256(spki));
  pb::ComposeAgentX509SVIDResponse resp;
  EXPECT_TRUE(Compose(id, spki, &resp).ok());
  EXPECT_TRUE(Compose(id, spki, &resp).ok());  // nothing to consume: the ID itself is the binding
  grpc::Status s = Compose(id, other, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("does not end in /kb-"));
  EXPECT_EQ(Compose(kId, spki, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST(ComposerConfigTest, ExtensionOidsSpireAccepts) {
  for (const char* ok : {"1.3.6.1.4.1.32473.1", "2.999", "0.0", "1.2.2147483647"}) {
    EXPECT_TRUE(config::ValidSpireOid(ok)) << ok;
  }
  for (const char* bad : {"", "1", "3.1", "1..2", "1.2.", ".1.2", "1.02", "1.2.2147483648",
                          "2.25.226767870284976341348425923780842753034", "1.a"}) {
    EXPECT_FALSE(config::ValidSpireOid(bad)) << bad;
  }
}

TEST(ComposerConfigTest, BadConfigurationIsRefusedWithEveryProblem) {
  auto p = Launch(kComposer, "CredentialComposer");
  ASSERT_TRUE(p);
  absl::Status s = p->Load("example.org",
                           "mode = \"sometimes\"\nrecords_socket = \"relative.sock\"\n"
                           "timeout_ms = 0\nattestor_name = \"a/b\"\nbogus = 1\nlog_level = \"loud\"\n"
                           "attestation_extension_oid = \"2.25.226767870284976341348425923780842753034\"\n", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  for (const char* k : {"mode", "records_socket", "timeout_ms", "attestor_name", "bogus", "log_level",
                        "attestation_extension_oid"}) {
    EXPECT_THAT(s.message(), HasSubstr(k));
  }
  ShutdownAndCheckClean(*p);
}

}  // namespace
}  // namespace twi::e2e
