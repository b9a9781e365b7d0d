// Attacks on the wire (docs/attacks.md): the real agent and server plugins through the host
// harness, with the messages tampered in transit, raw NodeAttestor streams driven by hand
// (cancelled, abandoned, out of order), and collateral faults from a local KDS stand-in. After
// each attack the server plugin must still serve a good attestation.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "attestors/core/crypto.h"
#include "attestors/sevsnp/abi.h"
#include "attestors/sevsnp/sim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spire/plugin/server/nodeattestor/v1/nodeattestor.grpc.pb.h"
#include "test/collateral/local_server.h"
#include "test/e2e/snp_pair.h"
#include "twi/v1/attestation.pb.h"

namespace twi::e2e {
namespace {

namespace pb = spire::plugin::server::nodeattestor::v1;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class AttackWire : public SimSnpPairTest {
 protected:
  // The simulator's evidence presented as hardware evidence, anchored in the simulator's ARK
  // configured as an extra root: the path real evidence takes, including collateral.
  void StartAsHardware(const std::string& sev_snp_extra) {
    Start("sev_snp {\n  extra_roots = [\"vcek:" + HierarchyDir() + "/ark.pem\"]\n" + sev_snp_extra + "}\n");
  }
  static host::RelayHooks AsHardware() {
    host::RelayHooks h;
    h.challenge_response = [](std::string& b) {
      twi::v1::ChallengeResponse r;
      ASSERT_TRUE(r.ParseFromString(b));
      for (auto& e : *r.mutable_evidence()) e.mutable_sev_snp()->set_simulated(false);
      b = r.SerializeAsString();
    };
    return h;
  }
  std::unique_ptr<pb::NodeAttestor::Stub> Stub() { return pb::NodeAttestor::NewStub(server_->channel()); }
  // Opens an Attest stream, sends a fresh payload and reads the challenge.
  static std::unique_ptr<grpc::ClientReaderWriter<pb::AttestRequest, pb::AttestResponse>> Challenged(
      pb::NodeAttestor::Stub& stub, grpc::ClientContext* ctx, pb::AttestRequest* sent) {
    auto stream = stub.Attest(ctx);
    sent->set_payload(GoodPayload());
    EXPECT_TRUE(stream->Write(*sent));
    pb::AttestResponse resp;
    EXPECT_TRUE(stream->Read(&resp));
    EXPECT_FALSE(resp.challenge().empty());
    return stream;
  }
  static std::string GoodPayload() {
    twi::v1::Payload p;
    p.set_version(1);
    auto key = GenerateP256Key();
    p.set_instance_key_spki(std::string(AsString(*PublicKeyToSpki(key->get()))));
    p.add_evidence_kinds(twi::v1::EVIDENCE_KIND_SEV_SNP);
    return p.SerializeAsString();
  }
  // The server's stderr so far, once it holds `want` (its lines arrive asynchronously; the
  // wait is bounded and only guards against a hang).
  std::string ServerLogWith(const std::string& want) {
    auto joined = [](const std::vector<std::string>& lines) {
      std::string all;
      for (const auto& l : lines) all += l + "\n";
      return all;
    };
    return joined(server_->WaitForStderr(
        [&](const std::vector<std::string>& lines) { return joined(lines).find(want) != std::string::npos; }));
  }
  void WriteFile(const std::string& path, ByteView data) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                                static_cast<std::streamsize>(data.size()));
  }
  static std::shared_ptr<const sevsnp::SimHierarchy> Hierarchy() {
    sevsnp::SimHierarchyOptions o;
    o.dir = HierarchyDir();
    return sevsnp::SimHierarchy::Create(o).value();
  }
  Bytes MilanCrl(std::vector<Bytes> revoked) {
    auto h = Hierarchy();
    TimePoint now = std::chrono::system_clock::now();
    return h->MakeCrl({now - std::chrono::hours(1), now + std::chrono::hours(24), revoked}).value();
  }
};

// Issue 11 (1): 1.3 M evidence kinds (a 2.6 MB payload) once became a 36 MB error that broke
// the host's connection. Refused by size before parsing, with a short error.
TEST_F(AttackWire, OversizedPayloadRefusedWithAShortError) {
  Start(SimServerHcl());
  host::RelayHooks hooks;
  hooks.payload = [](std::string& b) {
    twi::v1::Payload p;
    ASSERT_TRUE(p.ParseFromString(b));
    for (int i = 0; i < 1'300'000; ++i) p.add_evidence_kinds(static_cast<twi::v1::EvidenceKind>(99));
    b = p.SerializeAsString();
  };
  auto r = Attest(hooks);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("more than the limit of 65536"));
  EXPECT_LT(r.status.message().size(), 200u);
  EXPECT_TRUE(Attest().status.ok());
}

TEST_F(AttackWire, SecondPayloadOnOneStreamRefused) {
  Start(SimServerHcl());
  auto stub = Stub();
  grpc::ClientContext ctx;
  pb::AttestRequest req;
  auto stream = Challenged(*stub, &ctx, &req);
  ASSERT_TRUE(stream->Write(req));  // the payload again instead of a challenge response
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "expected a challenge response, got another payload");
  EXPECT_TRUE(Attest().status.ok());
}

TEST_F(AttackWire, ResponseWithoutPayloadRefused) {
  Start(SimServerHcl());
  auto stub = Stub();
  grpc::ClientContext ctx;
  auto stream = stub->Attest(&ctx);
  pb::AttestRequest req;
  req.set_challenge_response("\x08\x01");
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "first attestation message must carry the payload");
}

// Streams cancelled at each step, half-closed, abandoned by a host that goes away, and empty
// (garbage) requests: each ends that stream only; the plugin keeps serving.
TEST_F(AttackWire, BrokenStreamsLeaveThePluginServing) {
  Start(SimServerHcl());
  auto stub = Stub();
  for (int round = 0; round < 5; ++round) {
    {  // cancelled before anything is sent
      grpc::ClientContext ctx;
      auto stream = stub->Attest(&ctx);
      ctx.TryCancel();
      EXPECT_FALSE(stream->Finish().ok());
    }
    {  // cancelled after the challenge
      grpc::ClientContext ctx;
      pb::AttestRequest req;
      auto stream = Challenged(*stub, &ctx, &req);
      ctx.TryCancel();
      EXPECT_FALSE(stream->Finish().ok());
    }
    {  // half-closed before the challenge response
      grpc::ClientContext ctx;
      auto stream = stub->Attest(&ctx);
      pb::AttestRequest req;
      req.set_payload(GoodPayload());
      ASSERT_TRUE(stream->Write(req));
      stream->WritesDone();
      pb::AttestResponse resp;
      while (stream->Read(&resp)) {
      }
      grpc::Status s = stream->Finish();
      EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED);
      EXPECT_EQ(s.error_message(), "stream closed before the challenge response");
    }
    {  // garbage: a request with neither payload nor response
      grpc::ClientContext ctx;
      auto stream = stub->Attest(&ctx);
      ASSERT_TRUE(stream->Write(pb::AttestRequest()));
      stream->WritesDone();
      EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    }
    {  // the host vanishes mid-stream: its own channel, dropped without a word
      grpc::ChannelArguments args;
      args.SetInt("grpc.use_local_subchannel_pool", 1);
      auto channel = grpc::CreateCustomChannel("unix:" + server_->socket_path(),
                                               grpc::InsecureChannelCredentials(), args);
      auto own = pb::NodeAttestor::NewStub(channel);
      auto ctx = std::make_unique<grpc::ClientContext>();
      pb::AttestRequest req;
      auto stream = Challenged(*own, ctx.get(), &req);
      ctx->TryCancel();
      EXPECT_FALSE(stream->Finish().ok());
    }
  }
  auto r = Attest();
  EXPECT_TRUE(r.status.ok()) << r.status;
}

// A byte of the VCEK in the certificate table flipped in transit: the chain no longer verifies.
TEST_F(AttackWire, TamperedCertificateRejected) {
  Start(SimServerHcl());
  host::RelayHooks hooks;
  hooks.challenge_response = [](std::string& b) {
    twi::v1::ChallengeResponse r;
    ASSERT_TRUE(r.ParseFromString(b));
    auto* snp = r.mutable_evidence(0)->mutable_sev_snp();
    auto entries = sevsnp::ParseCertTable(AsBytes(snp->cert_table())).value();
    for (auto& e : entries) {
      if (e.guid == sevsnp::kGuidVcek) e.data[e.data.size() - 20] ^= 0x01;  // in the signature
    }
    snp->set_cert_table(std::string(AsString(sevsnp::SerializeCertTable(entries))));
    b = r.SerializeAsString();
  };
  auto r = Attest(hooks);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): sev-snp: cert.chain: "));
}

// A self-made root: simulator evidence stripped of its "simulated" flag is not anchored in
// any AMD root, even on a server that accepts simulated evidence.
TEST_F(AttackWire, SelfMadeRootRefused) {
  Start("sev_snp {\n  kds_base_url = \"\"\n}\n");
  auto r = Attest(AsHardware());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): sev-snp: cert.chain: "));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("is not a pinned amd root"));
}

// Issue 11 (6): insecure_simulation_roots trusts only configured root files. The agent's own
// simulator hierarchy, when the server pins another simulator's ARK, is refused: the root the
// evidence carries is never taken.
TEST_F(AttackWire, SimulatedEvidenceWithAnUnconfiguredRootRefused) {
  auto other = sevsnp::SimHierarchy::SharedForTests(sevsnp::SimProduct::kMilan).value();
  std::string pem = dir_.path() + "/other-ark.pem";
  WriteFile(pem, AsBytes(other->ark_pem()));
  Start("insecure_simulation_roots = true\nsev_snp {\n  extra_roots = [\"vcek:" + pem +
        "\"]\n  kds_base_url = \"\"\n}\n");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): sev-snp: cert.chain: "));
}

TEST_F(AttackWire, SimulationOptInWithoutAPinnedRootRefusedAtConfigure) {
  store_ = std::make_shared<host::AgentStore>();
  server_ = Launch(kServer, "NodeAttestor", store_);
  absl::Status s = server_->Load("example.org", "insecure_simulation_roots = true\n", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("insecure_simulation_roots = true needs the simulator's root pinned"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("simulation_dir"));
}

// Issue 11 (6): an extra root is trusted for the key type its entry names only: the simulator's
// ARK pinned for VLEKs does not verify its VCEK-signed evidence.
TEST_F(AttackWire, ExtraRootForTheOtherKeyTypeRefused) {
  Start("sev_snp {\n  extra_roots = [\"vlek:" + HierarchyDir() + "/ark.pem\"]\n  kds_base_url = \"\"\n}\n");
  auto r = Attest(AsHardware());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), StartsWith("nodeattestor(twi): sev-snp: cert.chain: "));
  EXPECT_THAT(std::string(r.status.message()),
              HasSubstr("is configured for vlek evidence only; this chain goes through an ask (vcek)"));
}

// Issue 11 (3): a template without a per-instance field is refused when SPIRE configures the
// plugin, with the reason.
TEST_F(AttackWire, TakeoverTemplateRefusedAtConfigure) {
  store_ = std::make_shared<host::AgentStore>();
  server_ = Launch(kServer, "NodeAttestor", store_);
  absl::Status s = server_->Load("example.org", "agent_path_template = \"snp/{sev_snp.chip_id}\"\n", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("has no per-instance field"));
}

// Issue 11 (6): evidence verified by a configured extra root says so, in a selector and in the
// log; Configure warns about the extra root.
TEST_F(AttackWire, ExtraRootIsNamedInSelectorAndLog) {
  StartAsHardware("  kds_base_url = \"\"\n");
  auto r = Attest(AsHardware());
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:sev-snp:root:extra"));
  EXPECT_THAT(ServerLogWith("\"root\":"), HasSubstr("\"root\":\"extra ARK-Milan"));
  EXPECT_THAT(ServerLogWith("sev_snp.extra_roots"),
              HasSubstr("/ark.pem\\\" is trusted besides AMD's roots, for the product its ARK "
                        "names and vcek-signed evidence only"));
}

TEST_F(AttackWire, ExtraRootWithoutProductRefusedAtConfigure) {
  store_ = std::make_shared<host::AgentStore>();
  server_ = Launch(kServer, "NodeAttestor", store_);
  auto h = Hierarchy();
  std::string ask = dir_.path() + "/ask.pem";
  WriteFile(ask, AsBytes(h->ask_pem()));
  absl::Status s = server_->Load("example.org", "sev_snp {\n  extra_roots = [\"vcek:" + ask + "\"]\n}\n", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("is not a self-issued ARK naming its product"));
}

// ---- collateral faults against the local KDS stand-in (sev_snp.crl = "require") ----

class AttackCollateral : public AttackWire {
 protected:
  void SetUp() override { ASSERT_TRUE(kds_.ok()) << "kds_server.py did not start"; }
  std::string KdsHcl(const std::string& url) {
    return "  kds_base_url = \"" + url + "\"\n  crl = \"require\"\n";
  }
  collateral::testing::LocalServer kds_;
};

TEST_F(AttackCollateral, RevokedAskRefused) {
  auto ask = Certificate::FromDer(Hierarchy()->ask_der()).value();
  std::string hex = ask.serial_hex().size() % 2 ? "0" + ask.serial_hex() : ask.serial_hex();
  WriteFile(dir_.path() + "/crl.der", MilanCrl({HexDecode(hex).value()}));
  kds_.Route("/vcek/v1/Milan/crl", dir_.path() + "/crl.der");
  StartAsHardware(KdsHcl(kds_.base_url()));
  auto r = Attest(AsHardware());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("cert.crl: "));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("is revoked by the crl of"));
}

// A slow KDS is waited for, not skipped: with sev_snp.crl = "if-available" a revoked ASK is
// still refused when the CRL arrives late.
TEST_F(AttackCollateral, SlowKdsIsWaitedForNotSkipped) {
  auto ask = Certificate::FromDer(Hierarchy()->ask_der()).value();
  std::string hex = ask.serial_hex().size() % 2 ? "0" + ask.serial_hex() : ask.serial_hex();
  WriteFile(dir_.path() + "/crl.der", MilanCrl({HexDecode(hex).value()}));
  kds_.Route("/vcek/v1/Milan/crl", dir_.path() + "/crl.der", 200, 0, "", /*delay_ms=*/1500);
  StartAsHardware("  kds_base_url = \"" + kds_.base_url() + "\"\n");
  auto r = Attest(AsHardware());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("is revoked by the crl of"));
}

// Issue 11 (6): with KDS reachable, AMD's CRL (here: another root's) was checked against the
// extra root and broke every attestation it anchored. A CRL is applied only to the root that
// issued it.
TEST_F(AttackCollateral, ForeignCrlDoesNotBreakAnExtraRoot) {
  auto other = sevsnp::SimHierarchy::SharedForTests(sevsnp::SimProduct::kGenoa).value();
  TimePoint now = std::chrono::system_clock::now();
  WriteFile(dir_.path() + "/crl.der",
            other->MakeCrl({now - std::chrono::hours(1), now + std::chrono::hours(24), {}}).value());
  kds_.Route("/vcek/v1/Milan/crl", dir_.path() + "/crl.der");
  StartAsHardware("  kds_base_url = \"" + kds_.base_url() + "\"\n");
  auto r = Attest(AsHardware());
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(kds_.Count(), 1);
}

TEST_F(AttackCollateral, KdsDownIsUnavailableNeverAccepted) {
  StartAsHardware(KdsHcl("http://127.0.0.1:1"));  // nothing listens there
  for (int i = 0; i < 2; ++i) {  // the second attempt meets the retry delay, same verdict
    auto r = Attest(AsHardware());
    EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
    EXPECT_THAT(std::string(r.status.message()), HasSubstr("cert.crl: no AMD CRL available ("));
  }
}

TEST_F(AttackCollateral, RateLimitStormIsUnavailable) {
  WriteFile(dir_.path() + "/crl.der", MilanCrl({}));
  kds_.Route("/vcek/v1/Milan/crl", dir_.path() + "/crl.der", 200, /*fail429=*/1000, "0");
  StartAsHardware(KdsHcl(kds_.base_url()));
  auto r = Attest(AsHardware());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("http status 429"));
}

TEST_F(AttackCollateral, TruncatedCrlIsUnavailable) {
  Bytes crl = MilanCrl({});
  crl.resize(crl.size() / 2);
  WriteFile(dir_.path() + "/crl.der", crl);
  kds_.Route("/vcek/v1/Milan/crl", dir_.path() + "/crl.der");
  StartAsHardware(KdsHcl(kds_.base_url()));
  auto r = Attest(AsHardware());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable) << r.status;
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("unusable response"));
}

// Once fetched, a CRL serves until its nextUpdate even when KDS goes away: the cached
// fallback, checked (not skipped) on every attestation.
TEST_F(AttackCollateral, CachedCrlOutlivesAnOutage) {
  WriteFile(dir_.path() + "/crl.der", MilanCrl({}));
  kds_.Route("/vcek/v1/Milan/crl", dir_.path() + "/crl.der");
  StartAsHardware(KdsHcl(kds_.base_url()));
  ASSERT_TRUE(Attest(AsHardware()).status.ok());
  kds_.Reset();  // every KDS request now gets 404
  auto r = Attest(AsHardware());
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(kds_.Count(), 0);
}

}  // namespace
}  // namespace twi::e2e
