// twi/v1 node attestation, both sides in process: the happy path, and every refusal the
// server must make (malformed, wrong version, tampered signature, replayed or mismatched
// nonce, missing evidence, no TEE).
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include "attestors/appraisal/agent_id.h"
#include "attestors/appraisal/node_attester.h"
#include "attestors/appraisal/node_verifier.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/core/crypto.h"
#include <openssl/rsa.h>
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace twi::appraisal {
namespace {

using ::testing::HasSubstr;

// A test evidence kind whose "report" is the report data itself: enough to exercise the
// binding and the flow without a TEE (real kinds have their own tests).
class EchoCollector : public EvidenceCollector {
 public:
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TDX; }
  absl::StatusOr<twi::v1::Evidence> Collect(ByteView report_data) override {
    twi::v1::Evidence e;
    e.set_kind(kind());
    e.mutable_sev_snp()->set_report(std::string(AsString(report_data)));
    return e;
  }
};
class EchoAppraiser : public EvidenceAppraiser {
 public:
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TDX; }
  absl::StatusOr<EvidenceResult> Appraise(const twi::v1::Evidence& e, ByteView want,
                                          CheckList* checks) const override {
    if (!ConstantTimeEqual(AsBytes(e.sev_snp().report()), want)) {
      return checks->Fail("echo.binding", "report data mismatch", absl::StatusCode::kInvalidArgument);
    }
    EvidenceResult r;
    r.selectors = {"tee:echo"};
    r.fields = {{"sev_snp.chip_id", "c0ffee"}};
    return r;
  }
};

// A test kind with a challenge step, shaped like TPM credential activation: the payload
// carries an identity key, the challenge a per-stream secret, and the evidence must return it.
class ChallengeCollector : public EvidenceCollector {
 public:
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TPM; }
  absl::StatusOr<twi::v1::Evidence> Collect(ByteView) override {
    return absl::InternalError("a challenge kind must be answered, not collected");
  }
  absl::Status AddToPayload(twi::v1::Payload* p) override {
    p->mutable_tpm()->set_ak_public("ak");
    return absl::OkStatus();
  }
  absl::StatusOr<twi::v1::Evidence> Answer(ByteView report_data,
                                           const twi::v1::Challenge& c) override {
    twi::v1::Evidence e;
    e.set_kind(kind());
    e.mutable_tpm()->set_activated_secret(tamper ? "wrong" : c.tpm_credential().credential_blob());
    return e;
  }
  bool tamper = false;
};
class ChallengeAppraiser : public EvidenceAppraiser {
 public:
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TPM; }
  absl::StatusOr<std::any> Challenge(const twi::v1::Payload& p, twi::v1::Challenge* c,
                                     CheckList* checks) const override {
    if (p.tpm().ak_public() != "ak") return absl::InvalidArgumentError("no ak in the payload");
    auto secret = RandomBytes(16);
    c->mutable_tpm_credential()->set_credential_blob(std::string(AsString(*secret)));
    return std::any(*secret);
  }
  absl::StatusOr<EvidenceResult> Appraise(const twi::v1::Evidence&, ByteView,
                                          CheckList*) const override {
    return absl::InternalError("a challenge kind is appraised with its stream state");
  }
  absl::StatusOr<EvidenceResult> AppraiseResponse(const twi::v1::Evidence& e, ByteView,
                                                  const std::any& state,
                                                  CheckList* checks) const override {
    const Bytes& secret = std::any_cast<const Bytes&>(state);
    if (!ConstantTimeEqual(AsBytes(e.tpm().activated_secret()), secret)) {
      return checks->Fail("tpm.credential", "activated secret differs",
                          absl::StatusCode::kInvalidArgument);
    }
    EvidenceResult r;
    r.selectors = {"tee:challenged"};
    return r;
  }
};

TEST(ProtocolTest, ChallengeStepCarriesPerStreamStateToTheAppraiser) {
  for (bool tamper : {false, true}) {
    auto collector = std::make_unique<ChallengeCollector>();
    collector->tamper = tamper;
    std::vector<std::unique_ptr<EvidenceCollector>> c;
    c.push_back(std::move(collector));
    NodeAttester attester(*GenerateP256Key(), std::move(c));
    std::vector<std::unique_ptr<EvidenceAppraiser>> a;
    a.push_back(std::make_unique<ChallengeAppraiser>());
    VerifierOptions o;
    o.trust_domain = "example.org";
    NodeSession session(std::make_shared<NodeVerifier>(std::move(o), std::move(a)));
    auto payload = *attester.Payload();
    auto challenge = session.HandlePayload(payload);
    ASSERT_TRUE(challenge.ok()) << challenge.status();
    auto attrs = session.HandleChallengeResponse(*attester.Respond(*challenge, payload));
    if (tamper) {
      ASSERT_FALSE(attrs.ok());
      EXPECT_EQ(attrs.status().message(), "tpm: tpm.credential: activated secret differs");
    } else {
      ASSERT_TRUE(attrs.ok()) << attrs.status();
      EXPECT_THAT(attrs->selectors, ::testing::Contains("tee:challenged"));
    }
  }
}

std::unique_ptr<NodeAttester> MakeAttester(bool with_evidence) {
  auto key = GenerateP256Key();
  std::vector<std::unique_ptr<EvidenceCollector>> c;
  if (with_evidence) c.push_back(std::make_unique<EchoCollector>());
  return std::make_unique<NodeAttester>(*std::move(key), std::move(c));
}

std::shared_ptr<const NodeVerifier> MakeVerifier(bool allow_no_tee, bool with_appraiser,
                                                 std::string tmpl = "{instance_key_hash}") {
  std::vector<std::unique_ptr<EvidenceAppraiser>> a;
  if (with_appraiser) a.push_back(std::make_unique<EchoAppraiser>());
  VerifierOptions o;
  o.trust_domain = "example.org";
  o.agent_path_template = tmpl;
  o.insecure_allow_no_tee = allow_no_tee;
  return std::make_shared<NodeVerifier>(std::move(o), std::move(a));
}

TEST(ProtocolTest, NoTeeRoundTripWhenAllowed) {
  auto attester = MakeAttester(false);
  NodeSession session(MakeVerifier(true, true));
  auto payload = attester->Payload();
  ASSERT_TRUE(payload.ok());
  auto challenge = session.HandlePayload(*payload);
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  auto response = attester->Respond(*challenge, *payload);
  ASSERT_TRUE(response.ok()) << response.status();
  auto attrs = session.HandleChallengeResponse(*response);
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  std::string hash = InstanceKeyHash(attester->instance_key_spki());
  EXPECT_EQ(attrs->spiffe_id, "spiffe://example.org/spire/agent/twi/" + hash);
  EXPECT_EQ(attrs->selectors, std::vector<std::string>{"instance:" + hash});
  EXPECT_TRUE(attrs->can_reattest);
}

TEST(ProtocolTest, NoTeeRefusedByDefaultNamingTheOption) {
  auto attester = MakeAttester(false);
  NodeSession session(MakeVerifier(false, true));
  auto challenge = session.HandlePayload(*attester->Payload());
  ASSERT_FALSE(challenge.ok());
  EXPECT_EQ(challenge.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(challenge.status().message()),
              HasSubstr("payload.tee_evidence: agent offers no TEE evidence this server verifies (offered: none)"));
  EXPECT_THAT(std::string(challenge.status().message()), HasSubstr("insecure_allow_no_tee = true"));
}

// A server built without a kind (TWI_KINDS) has no appraiser for it: an agent offering only
// that kind is refused with the reason, once per kind.
TEST(ProtocolTest, KindNotBuiltRefusedWithTheReason) {
  auto attester = MakeAttester(true);  // offers EVIDENCE_KIND_TDX
  VerifierOptions o;
  o.trust_domain = "example.org";
  o.unverified_kinds[twi::v1::EVIDENCE_KIND_TDX] = "tdx evidence needs tdx support (TWI_KINDS=sev-snp)";
  NodeSession session(std::make_shared<NodeVerifier>(std::move(o), std::vector<std::unique_ptr<EvidenceAppraiser>>{}));
  auto challenge = session.HandlePayload(*attester->Payload());
  ASSERT_FALSE(challenge.ok());
  EXPECT_EQ(challenge.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(challenge.status().message()),
              HasSubstr("(offered: tdx; tdx evidence needs tdx support (TWI_KINDS=sev-snp))"));
}

TEST(ProtocolTest, EvidenceRoundTripBindsNonceAndKey) {
  auto attester = MakeAttester(true);
  NodeSession session(MakeVerifier(false, true, "chip/{sev_snp.chip_id}"));
  auto payload = *attester->Payload();
  auto challenge = *session.HandlePayload(payload);
  twi::v1::Challenge c;
  ASSERT_TRUE(c.ParseFromArray(challenge.data(), challenge.size()));
  EXPECT_EQ(c.nonce().size(), 32u);
  ASSERT_EQ(c.evidence_kinds_size(), 1);
  auto attrs = session.HandleChallengeResponse(*attester->Respond(challenge, payload));
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  EXPECT_EQ(attrs->spiffe_id, "spiffe://example.org/spire/agent/twi/chip/c0ffee");
  EXPECT_THAT(attrs->selectors, ::testing::Contains("tee:echo"));
}

TEST(ProtocolTest, ReportDataIsSha512OfContextNonceAndKeyHash) {
  Bytes nonce(32, 0xAB), spki = {1, 2, 3};
  Bytes in = ToBytes("twi/v1");
  in.insert(in.end(), nonce.begin(), nonce.end());
  Bytes kh = Sha256(spki);
  in.insert(in.end(), kh.begin(), kh.end());
  EXPECT_EQ(ReportData(nonce, spki), Sha512(in));
  // The TPM quote binds the same input with SHA-256 (TPM2B_DATA holds one digest).
  EXPECT_EQ(TpmQualifyingData(nonce, spki), Sha256(in));
}

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    attester_ = MakeAttester(false);
    verifier_ = MakeVerifier(true, false);
    payload_ = *attester_->Payload();
  }
  std::unique_ptr<NodeAttester> attester_;
  std::shared_ptr<const NodeVerifier> verifier_;
  Bytes payload_;
};

TEST_F(SessionTest, MalformedPayload) {
  NodeSession s(verifier_);
  auto r = s.HandlePayload(ToBytes("\xff\xff\xff garbage"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("attestation payload is not a twi/v1 Payload message"));
}

TEST_F(SessionTest, UnknownPayloadVersion) {
  twi::v1::Payload p;
  p.ParseFromArray(payload_.data(), payload_.size());
  p.set_version(2);
  NodeSession s(verifier_);
  auto r = s.HandlePayload(ToBytes(p.SerializeAsString()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()), "unsupported payload version 2 (this server speaks 1)");
}

TEST_F(SessionTest, BadInstanceKey) {
  twi::v1::Payload p;
  p.set_version(1);
  p.set_instance_key_spki("not a key");
  NodeSession s(verifier_);
  auto r = s.HandlePayload(ToBytes(p.SerializeAsString()));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("public key is not a valid DER SubjectPublicKeyInfo"));
}

TEST_F(SessionTest, TamperedSignature) {
  NodeSession s(verifier_);
  auto challenge = *s.HandlePayload(payload_);
  twi::v1::ChallengeResponse r;
  auto bytes = *attester_->Respond(challenge, payload_);
  r.ParseFromArray(bytes.data(), bytes.size());
  std::string sig = r.signature();
  sig[sig.size() / 2] ^= 0x01;
  r.set_signature(sig);
  auto out = s.HandleChallengeResponse(ToBytes(r.SerializeAsString()));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(out.status().message()),
            "response.signature: instance key signature over the transcript does not verify");
}

TEST_F(SessionTest, SignatureCoversThePayload) {
  // A response computed for a different payload (another agent's key) must not verify.
  auto other = MakeAttester(false);
  NodeSession s(verifier_);
  auto challenge = *s.HandlePayload(payload_);
  auto out = s.HandleChallengeResponse(*other->Respond(challenge, *other->Payload()));
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("response.signature"));
}

TEST_F(SessionTest, ReplayedResponseFromAnotherStream) {
  NodeSession first(verifier_);
  auto c1 = *first.HandlePayload(payload_);
  auto resp1 = *attester_->Respond(c1, payload_);
  ASSERT_TRUE(first.HandleChallengeResponse(resp1).ok());
  NodeSession second(verifier_);
  ASSERT_TRUE(second.HandlePayload(payload_).ok());
  auto out = second.HandleChallengeResponse(resp1);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("response.nonce: challenge response answers nonce"));
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("(replayed or mismatched response)"));
}

TEST_F(SessionTest, SecondResponseOnOneStreamRefused) {
  NodeSession s(verifier_);
  auto c = *s.HandlePayload(payload_);
  auto resp = *attester_->Respond(c, payload_);
  ASSERT_TRUE(s.HandleChallengeResponse(resp).ok());
  auto again = s.HandleChallengeResponse(resp);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("has already answered its challenge"));
}

TEST_F(SessionTest, ResponseBeforePayloadRefused) {
  NodeSession s(verifier_);
  auto out = s.HandleChallengeResponse(ToBytes("x"));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(std::string(out.status().message()), "challenge response received before the payload");
}

TEST_F(SessionTest, UnknownResponseVersion) {
  NodeSession s(verifier_);
  auto c = *s.HandlePayload(payload_);
  twi::v1::ChallengeResponse r;
  auto bytes = *attester_->Respond(c, payload_);
  r.ParseFromArray(bytes.data(), bytes.size());
  r.set_version(9);
  auto out = s.HandleChallengeResponse(ToBytes(r.SerializeAsString()));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(std::string(out.status().message()), "unsupported challenge response version 9 (this server speaks 1)");
}

TEST(ProtocolTest, MissingEvidenceRefused) {
  auto attester = MakeAttester(true);
  NodeSession session(MakeVerifier(false, true));
  auto payload = *attester->Payload();
  auto challenge = *session.HandlePayload(payload);
  twi::v1::ChallengeResponse r;
  auto bytes = *attester->Respond(challenge, payload);
  r.ParseFromArray(bytes.data(), bytes.size());
  r.clear_evidence();
  auto out = session.HandleChallengeResponse(ToBytes(r.SerializeAsString()));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(std::string(out.status().message()),
            "response.evidence: challenge response lacks the tdx evidence the server asked for");
}

TEST(ProtocolTest, AgentRefusesMalformedChallenge) {
  auto attester = MakeAttester(false);
  auto payload = *attester->Payload();
  twi::v1::Challenge c;
  c.set_version(1);
  c.set_nonce("short");
  auto r = attester->Respond(ToBytes(c.SerializeAsString()), payload);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()), "challenge nonce must be 32 bytes, got 5");
}

// Issue 11 (1): a payload listing thousands of evidence kinds once became an error 14x its
// size. The echo is bounded (first 8, then "N more"); payloads beyond the limit are refused
// before parsing.
TEST(AttackProtocol, ManyEvidenceKindsGiveABoundedError) {
  auto attester = MakeAttester(false);
  twi::v1::Payload p;
  Bytes good = *attester->Payload();
  ASSERT_TRUE(p.ParseFromArray(good.data(), good.size()));
  while (p.ByteSizeLong() < kMaxPayloadBytes - 16) p.add_evidence_kinds(static_cast<twi::v1::EvidenceKind>(1000));
  std::string bytes = p.SerializeAsString();
  ASSERT_LE(bytes.size(), kMaxPayloadBytes);
  NodeSession s(MakeVerifier(false, true));
  auto r = s.HandlePayload(ToBytes(bytes));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_LT(r.status().message().size(), 600u);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("(offered: unknown(1000), unknown(1000), unknown(1000), unknown(1000), "
                        "unknown(1000), unknown(1000), unknown(1000), unknown(1000) and "));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(" more)"));
}

TEST(AttackProtocol, OversizedPayloadRefusedBeforeParsing) {
  NodeSession s(MakeVerifier(false, true));
  auto r = s.HandlePayload(Bytes(kMaxPayloadBytes + 1, 0x18));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(r.status().message()),
            "attestation payload is 65537 bytes, more than the limit of 65536");
}

TEST(AttackProtocol, OversizedResponseRefusedBeforeParsing) {
  auto attester = MakeAttester(false);
  auto payload = *attester->Payload();
  NodeSession s(MakeVerifier(true, false));
  ASSERT_TRUE(s.HandlePayload(payload).ok());
  auto out = s.HandleChallengeResponse(Bytes(kMaxResponseBytes + 1, 0x0a));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(std::string(out.status().message()),
            "challenge response is 1048577 bytes, more than the limit of 1048576");
}

TEST(AttackProtocol, TruncatedResponseRefused) {
  auto attester = MakeAttester(false);
  auto payload = *attester->Payload();
  NodeSession s(MakeVerifier(true, false));
  auto c = *s.HandlePayload(payload);
  Bytes resp = *attester->Respond(c, payload);
  resp.resize(resp.size() / 2);
  auto out = s.HandleChallengeResponse(resp);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()),
              HasSubstr("challenge response is not a twi/v1 ChallengeResponse message"));
}

TEST(AttackProtocol, EvidenceTwiceRefused) {
  auto attester = MakeAttester(true);
  NodeSession session(MakeVerifier(false, true));
  auto payload = *attester->Payload();
  auto challenge = *session.HandlePayload(payload);
  twi::v1::ChallengeResponse r;
  auto bytes = *attester->Respond(challenge, payload);
  r.ParseFromArray(bytes.data(), bytes.size());
  *r.add_evidence() = r.evidence(0);
  auto out = session.HandleChallengeResponse(ToBytes(r.SerializeAsString()));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(std::string(out.status().message()), "challenge response carries tdx evidence twice");
}

TEST(AttackProtocol, NonP256InstanceKeyRefused) {
  EvpPkeyPtr rsa(EVP_RSA_gen(2048));
  ASSERT_TRUE(rsa);
  twi::v1::Payload p;
  p.set_version(1);
  p.set_instance_key_spki(std::string(AsString(*PublicKeyToSpki(rsa.get()))));
  NodeSession s(MakeVerifier(true, false));
  auto r = s.HandlePayload(ToBytes(p.SerializeAsString()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()), "instance key must be ECDSA P-256, got RSA");
}

TEST(InstanceKeyTest, CreatedOnceWithMode0600AndReused) {
  std::string dir = ::testing::TempDir() + "/ik-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto k1 = LoadOrCreateInstanceKey(dir);
  ASSERT_TRUE(k1.ok()) << k1.status();
  struct stat st;
  ASSERT_EQ(stat((dir + "/instance_key.der").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto k2 = LoadOrCreateInstanceKey(dir);
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(*PublicKeyToSpki(k1->get()), *PublicKeyToSpki(k2->get()));
  std::filesystem::remove_all(dir);
}

TEST(InstanceKeyTest, UnwritableStateDirIsAClearError) {
  std::string file = ::testing::TempDir() + "/ik-file-" + std::to_string(::getpid());
  std::ofstream(file) << "x";
  auto k = LoadOrCreateInstanceKey(file + "/sub");
  ASSERT_FALSE(k.ok());
  EXPECT_THAT(std::string(k.status().message()), HasSubstr("cannot create state_dir \"" + file + "/sub\": Not a directory"));
  std::filesystem::remove(file);
}

TEST(InstanceKeyTest, CorruptKeyFileIsAClearError) {
  std::string dir = ::testing::TempDir() + "/ik-bad-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/instance_key.der") << "garbage";
  auto k = LoadOrCreateInstanceKey(dir);
  ASSERT_FALSE(k.ok());
  EXPECT_THAT(std::string(k.status().message()), HasSubstr("is corrupt"));
  std::filesystem::remove_all(dir);
}

TEST(AgentIdTest, RenderNeedsEveryField) {
  auto id = RenderAgentId("example.org", "x/{sev_snp.measurement}", {{"instance_key_hash", "ab"}});
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(std::string(id.status().message()),
            "agent_path_template uses {sev_snp.measurement}, which this attestation did not provide");
  auto ok = RenderAgentId("example.org", "x/{instance_key_hash}", {{"instance_key_hash", "ab"}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "spiffe://example.org/spire/agent/twi/x/ab");
}

}  // namespace
}  // namespace twi::appraisal
