// The TPM node flow below the plugins: TpmAppraiser's challenge step against TpmNodeCollector
// on swtpm, and the attack the plugins' transcript signature would otherwise hide: an AK of
// one TPM presented beside the trusted EK of another. swtpm ports 25240 upward.
#include "attestors/tpm/node.h"

#include "attestors/appraisal/protocol.h"
#include "attestors/core/crypto.h"
#include "attestors/tpm/credential.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::tpm {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::unique_ptr<TpmCollector> OpenTpm(const std::string& tcti) {
  TpmCollectOptions o;
  o.tcti = tcti;
  auto c = TpmCollector::Open(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

Bytes EkHash(TpmCollector& tpm) {
  auto ek = tpm.Ek();
  auto spki = PublicSpki(*ParsePublic(ek->public_area));
  return Sha256(*spki);
}

class TpmNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
  }
  twi::testing::Swtpm a_, b_;
};

TEST_F(TpmNodeTest, ActivationRoundTripAndOneSecretPerStream) {
  ASSERT_EQ(a_.Start(25240, {}), "");
  auto tpm = OpenTpm(a_.tcti());
  ASSERT_NE(tpm, nullptr);
  TpmAppraiserOptions ao;
  ao.anchors.ek_spki_sha256 = {EkHash(*tpm)};
  TpmAppraiser appraiser(ao);
  TpmNodeCollectOptions co;
  co.banks = {{0x000B, {0, 7}}};
  co.event_log_path = "";
  TpmNodeCollector collector(std::move(tpm), co);

  const Bytes spki = ToBytes("instance key spki");
  twi::v1::Payload payload;
  payload.set_instance_key_spki(std::string(AsString(spki)));
  ASSERT_TRUE(collector.AddToPayload(&payload).ok());
  // Two streams of the same agent: each gets its own secret.
  std::vector<std::any> states;
  std::vector<twi::v1::Challenge> challenges(2);
  for (auto& c : challenges) {
    c.set_nonce(std::string(32, static_cast<char>('a' + states.size())));
    CheckList checks;
    auto st = appraiser.Challenge(payload, &c, &checks);
    ASSERT_TRUE(st.ok()) << st.status();
    states.push_back(*std::move(st));
  }
  EXPECT_NE(challenges[0].tpm_credential().encrypted_secret(),
            challenges[1].tpm_credential().encrypted_secret());
  for (int i = 0; i < 2; ++i) {
    const Bytes rd = appraisal::ReportData(AsBytes(challenges[i].nonce()), spki);
    auto ev = collector.Answer(rd, challenges[i]);
    ASSERT_TRUE(ev.ok()) << ev.status();
    CheckList checks;
    auto ok = appraiser.AppraiseResponse(*ev, rd, states[i], &checks);
    ASSERT_TRUE(ok.ok()) << ok.status();
    EXPECT_EQ(ok->claims.at("tee"), "tpm");
    EXPECT_EQ(ok->claims.at("tpm_trust_route"), "ek_hash");
    // The same answer on the other stream: its secret and nonce are the other stream's.
    CheckList other;
    auto cross = appraiser.AppraiseResponse(*ev, rd, states[1 - i], &other);
    EXPECT_EQ(cross.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(cross.status().message()), StartsWith("tpm.credential: "));
  }
  // Without a challenge there is nothing to appraise.
  CheckList checks;
  EXPECT_EQ(appraiser.Appraise({}, {}, &checks).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(collector.Collect(Bytes(64)).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TpmNodeTest, AkOfAnotherTpmBesideATrustedEkRefused) {
  // The server trusts TPM A's EK. An agent on TPM B presents A's EK (public, so anyone has it)
  // with B's AK, and its instance key signs that payload honestly.
  // swtpm states are manufactured once per bank list and copied: another bank list is
  // another TPM (its own endorsement seed).
  ASSERT_EQ(a_.Start(25242, {"sha1,sha256"}), "");
  ASSERT_EQ(b_.Start(25244, {}), "");
  auto tpm_a = OpenTpm(a_.tcti());
  auto tpm_b = OpenTpm(b_.tcti());
  ASSERT_TRUE(tpm_a && tpm_b);
  auto ek_a = tpm_a->Ek();
  auto ek_b = tpm_b->Ek();
  auto ak_b = tpm_b->Ak();
  ASSERT_TRUE(ek_a.ok() && ek_b.ok() && ak_b.ok());
  TpmAppraiserOptions ao;
  ao.anchors.ek_spki_sha256 = {EkHash(*tpm_a)};
  TpmAppraiser appraiser(ao);

  twi::v1::Payload payload;
  payload.set_instance_key_spki("instance key spki");
  payload.mutable_tpm()->set_ek_public(std::string(AsString(ek_a->public_area)));
  payload.mutable_tpm()->set_ak_public(std::string(AsString(ak_b->public_area)));
  twi::v1::Challenge c;
  c.set_nonce(std::string(32, 'n'));
  CheckList checks;
  auto state = appraiser.Challenge(payload, &c, &checks);
  ASSERT_TRUE(state.ok()) << state.status();
  // TPM B cannot open a credential wrapped for A's EK.
  EXPECT_FALSE(tpm_b->ActivateCredential(AsBytes(c.tpm_credential().credential_blob()),
                                         AsBytes(c.tpm_credential().encrypted_secret())).ok());
  // So the agent answers with a secret it wrapped for its own EK: B opens it, the server
  // refuses it. (TPM A would not open the real one either: B's AK is not loaded there.)
  auto fake = MakeCredential(*ParsePublic(ek_b->public_area), ak_b->name, Bytes(32, 0x5a));
  ASSERT_TRUE(fake.ok()) << fake.status();
  auto secret = tpm_b->ActivateCredential(fake->id_object, fake->encrypted_secret);
  ASSERT_TRUE(secret.ok()) << secret.status();
  twi::v1::Evidence e;
  e.set_kind(twi::v1::EVIDENCE_KIND_TPM);
  e.mutable_tpm()->set_activated_secret(std::string(AsString(*secret)));
  const Bytes qd = appraisal::TpmQualifyingData(AsBytes(c.nonce()), ToBytes("instance key spki"));
  auto q = tpm_b->Quote({{0x000B, {0}}}, qd);
  ASSERT_TRUE(q.ok()) << q.status();
  auto* quote = e.mutable_tpm()->add_quotes();
  quote->set_attest(std::string(AsString(q->attest)));
  quote->set_signature(std::string(AsString(q->signature)));
  quote->set_hash_alg(0x000B);
  (*quote->mutable_pcrs())[0] = std::string(AsString(q->pcrs[0].digest));
  auto r = appraiser.AppraiseResponse(e, {}, *state, &checks);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("tpm.credential: "));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not in the EK's TPM"));
}

}  // namespace
}  // namespace twi::tpm
