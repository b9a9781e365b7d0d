// Key binding through both sides of twi/v1 in process: the NodeAttester with the KeyManager's
// key store binds the pending key, the NodeSession verifies the binding and the PoP and exposes
// the verified key; every way of not binding it is refused with its own error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/appraisal/node_attester.h"
#include "attestors/appraisal/node_verifier.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/keybinding/binding.h"
#include "plugin/keymanager/key_store.h"

namespace twi::keybinding {
namespace {

using ::testing::HasSubstr;
using appraisal::EvidenceAppraiser;
using appraisal::EvidenceCollector;
using appraisal::EvidenceResult;

// Evidence whose "report" is the report data it was asked for (or, for a dishonest agent, the
// instance-key-only report data of the challenge's nonce).
class EchoCollector : public EvidenceCollector {
 public:
  explicit EchoCollector(Bytes legacy_spki = {}) : legacy_spki_(std::move(legacy_spki)) {}
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TDX; }
  absl::StatusOr<twi::v1::Evidence> Collect(ByteView) override {
    return absl::InternalError("answered, not collected");
  }
  absl::StatusOr<twi::v1::Evidence> Answer(ByteView report_data,
                                           const twi::v1::Challenge& c) override {
    twi::v1::Evidence e;
    e.set_kind(kind());
    Bytes rd = legacy_spki_.empty() ? Bytes(report_data.begin(), report_data.end())
                                    : appraisal::ReportData(AsBytes(c.nonce()), legacy_spki_);
    e.mutable_tdx()->set_quote(std::string(AsString(rd)));
    return e;
  }

 private:
  Bytes legacy_spki_;
};

class EchoAppraiser : public EvidenceAppraiser {
 public:
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_TDX; }
  absl::StatusOr<EvidenceResult> Appraise(const twi::v1::Evidence& e, ByteView want,
                                          CheckList* checks) const override {
    if (!ConstantTimeEqual(AsBytes(e.tdx().quote()), want)) {
      return checks->Fail("echo.report_data", "report data does not bind this stream's keys",
                          absl::StatusCode::kInvalidArgument);
    }
    return EvidenceResult{{"tee:echo"}, {}, {}};
  }
};

class NodeBindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_shared<keymanager::KeyStore>();
    ASSERT_TRUE(store_->GenerateKey("agent-svid-A", keymanager::pb::EC_P256).ok());
  }
  std::unique_ptr<appraisal::NodeAttester> Attester(bool bind, bool dishonest = false) {
    EvpPkeyPtr key = *GenerateP256Key();
    Bytes spki = *PublicKeyToSpki(key.get());
    std::vector<std::unique_ptr<EvidenceCollector>> c;
    c.push_back(std::make_unique<EchoCollector>(dishonest ? spki : Bytes{}));
    return std::make_unique<appraisal::NodeAttester>(std::move(key), std::move(c),
                                                     bind ? store_ : nullptr);
  }
  std::shared_ptr<const appraisal::NodeVerifier> Verifier(bool require = false) {
    appraisal::VerifierOptions o;
    o.trust_domain = "example.org";
    o.require_svid_key = require;
    std::vector<std::unique_ptr<EvidenceAppraiser>> a;
    a.push_back(std::make_unique<EchoAppraiser>());
    return std::make_shared<const appraisal::NodeVerifier>(std::move(o), std::move(a));
  }
  // One attestation; `tamper` may change the response before the server reads it.
  absl::StatusOr<appraisal::AgentAttributes> Run(
      const appraisal::NodeAttester& a, bool require = false,
      const std::function<void(twi::v1::ChallengeResponse*)>& tamper = nullptr) {
    appraisal::NodeSession s(Verifier(require));
    auto payload = a.Payload();
    if (!payload.ok()) return payload.status();
    auto challenge = s.HandlePayload(*payload);
    if (!challenge.ok()) return challenge.status();
    auto resp = a.Respond(*challenge, *payload);
    if (!resp.ok()) return resp.status();
    if (tamper) {
      twi::v1::ChallengeResponse r;
      r.ParseFromArray(resp->data(), static_cast<int>(resp->size()));
      tamper(&r);
      *resp = ToBytes(r.SerializeAsString());
    }
    return s.HandleChallengeResponse(*resp);
  }
  std::shared_ptr<keymanager::KeyStore> store_;
};

TEST_F(NodeBindingTest, BoundRoundTripExposesTheVerifiedKey) {
  auto attrs = Run(*Attester(true));
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  auto pending = *store_->GetPendingKey();
  EXPECT_EQ(attrs->svid_key_hash, SvidKeyHash(pending.spki));
  EXPECT_EQ(attrs->svid_key_spki, pending.spki);
  EXPECT_EQ(attrs->svid_key_generation, 1u);
  EXPECT_THAT(attrs->selectors, ::testing::Contains("tee:echo"));
}

TEST_F(NodeBindingTest, UnboundAttestationIsUnchanged) {
  auto a = Attester(false);
  twi::v1::Payload p;
  auto bytes = *a->Payload();
  ASSERT_TRUE(p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  EXPECT_FALSE(p.has_svid_key());
  auto attrs = Run(*a);
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  EXPECT_TRUE(attrs->svid_key_hash.empty());
}

TEST_F(NodeBindingTest, RequiredBindingRefusesUnboundPayload) {
  auto attrs = Run(*Attester(false), /*require=*/true);
  EXPECT_EQ(attrs.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(attrs.status().message(), HasSubstr("payload carries no svid key"));
}

TEST_F(NodeBindingTest, EvidenceNotBindingTheSvidKeyRefused) {
  // The agent names the SVID key and proves it, but its evidence binds the instance key only.
  auto attrs = Run(*Attester(true, /*dishonest=*/true));
  EXPECT_EQ(attrs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(attrs.status().message(), HasSubstr("report data does not bind this stream's keys"));
}

TEST_F(NodeBindingTest, MissingPopRefused) {
  auto attrs = Run(*Attester(true), false,
                   [](twi::v1::ChallengeResponse* r) { r->clear_svid_key_signature(); });
  EXPECT_THAT(attrs.status().message(), HasSubstr("carries no svid_key_signature"));
}

TEST_F(NodeBindingTest, PopFromAnotherKeyRefused) {
  auto attrs = Run(*Attester(true), false, [](twi::v1::ChallengeResponse* r) {
    EvpPkeyPtr other = *GenerateP256Key();
    auto t = *PopTranscript(AsBytes(r->nonce()), Bytes(32, 0), Bytes{1}, 1);
    r->set_svid_key_signature(std::string(AsString(*SignPop(other.get(), t))));
  });
  EXPECT_THAT(attrs.status().message(), HasSubstr("(generation 1) does not verify"));
}

TEST_F(NodeBindingTest, PopWithoutSvidKeyRefused) {
  auto attrs = Run(*Attester(false), false,
                   [](twi::v1::ChallengeResponse* r) { r->set_svid_key_signature("sig"); });
  EXPECT_THAT(attrs.status().message(), HasSubstr("svid key signature but the payload no svid key"));
}

TEST_F(NodeBindingTest, KeyReplacedBeforeTheResponseRefusedByTheKeyManager) {
  auto a = Attester(true);
  appraisal::NodeSession s(Verifier());
  auto payload = *a->Payload();
  auto challenge = *s.HandlePayload(payload);
  ASSERT_TRUE(store_->GenerateKey("agent-svid-B", keymanager::pb::EC_P256).ok());
  auto resp = a->Respond(challenge, payload);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(resp.status().message(), HasSubstr("generation got 1, want 2"));
}

TEST_F(NodeBindingTest, UnsupportedSvidKeyTypeRefusedAtThePayload) {
  ASSERT_TRUE(store_->GenerateKey("agent-svid-A", keymanager::pb::RSA_2048).ok());
  auto attrs = Run(*Attester(true));
  EXPECT_THAT(attrs.status().message(), HasSubstr("svid key must be EC P-256 or P-384, got RSA"));
}

TEST_F(NodeBindingTest, NoPendingKeyFailsTheAttestation) {
  store_ = std::make_shared<keymanager::KeyStore>();
  auto attrs = Run(*Attester(true));
  EXPECT_EQ(attrs.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(attrs.status().message(),
              HasSubstr("key binding: cannot read the pending SVID key: no pending key"));
}

}  // namespace
}  // namespace twi::keybinding
