// The key-binding format: fixed vectors (computed independently with Python's hashlib), the
// dispatch from the payload, and the proof-of-possession refusals with their specific errors.
#include "attestors/keybinding/binding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/appraisal/protocol.h"

namespace twi::keybinding {
namespace {

using ::testing::HasSubstr;

const Bytes kNonce(32, 0xAB);
const Bytes kInstance = {1, 2, 3};
const Bytes kSvid = {4, 5, 6};

TEST(BindingTest, KeyBoundVectors) {
  Bytes in = KeyBoundInput(kNonce, kInstance, kSvid);
  EXPECT_EQ(in.size(), 113u);
  EXPECT_EQ(HexEncode(KeyBoundReportData(kNonce, kInstance, kSvid)),
            "fa43b994bf79be5e871598ca91e38d9b20057401e4c5fa761607d432421ed599"
            "5db9ba58f16ada56bf77dcc26b609cdc311cec5edceeb0ccbfcbc1f0716cc997");
  EXPECT_EQ(HexEncode(KeyBoundQualifyingData(kNonce, kInstance, kSvid)),
            "4341860b1c62257519d667416c948a651fb70676a6db367c19446ab5e7615a55");
}

TEST(BindingTest, PopTranscriptVector) {
  auto t = PopTranscript(kNonce, Sha256(ToBytes("payload")), kSvid, 0x0102030405060708);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), 124u);
  EXPECT_EQ(HexEncode(Sha256(*t)),
            "cbff0e5a6be7af00875095dc786d3f8a83ab7c4ceabae6cce2f6c3d45c5baec6");
}

TEST(BindingTest, PopTranscriptRefusesWrongSizes) {
  EXPECT_THAT(PopTranscript(Bytes(31, 1), Bytes(32, 2), kSvid, 1).status().message(),
              HasSubstr("nonce is 31 bytes, want 32"));
  EXPECT_THAT(PopTranscript(kNonce, Bytes(64, 2), kSvid, 1).status().message(),
              HasSubstr("payload digest is 64 bytes, want 32"));
}

TEST(BindingTest, PayloadWithoutSvidKeyKeepsTheInstanceKeyBinding) {
  twi::v1::Payload p;
  p.set_instance_key_spki(std::string(AsString(kInstance)));
  EXPECT_EQ(appraisal::ReportData(kNonce, p), appraisal::ReportData(kNonce, kInstance));
  EXPECT_EQ(appraisal::TpmQualifyingData(kNonce, p),
            appraisal::TpmQualifyingData(kNonce, kInstance));
  p.mutable_svid_key()->set_spki(std::string(AsString(kSvid)));
  EXPECT_EQ(appraisal::ReportData(kNonce, p), KeyBoundReportData(kNonce, kInstance, kSvid));
  EXPECT_EQ(appraisal::TpmQualifyingData(kNonce, p),
            KeyBoundQualifyingData(kNonce, kInstance, kSvid));
  // Binding the SVID key changes the report data, and swapping the two keys changes it again.
  EXPECT_NE(appraisal::ReportData(kNonce, p), appraisal::ReportData(kNonce, kInstance));
  EXPECT_NE(KeyBoundReportData(kNonce, kInstance, kSvid),
            KeyBoundReportData(kNonce, kSvid, kInstance));
}

class PopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = *GenerateP256Key();
    svid_.set_spki(std::string(AsString(*PublicKeyToSpki(key_.get()))));
    svid_.set_generation(7);
    payload_ = ToBytes("the payload bytes");
  }
  Bytes Sign(ByteView nonce, ByteView payload, uint64_t generation) {
    auto t = PopTranscript(nonce, Sha256(payload), AsBytes(svid_.spki()), generation);
    return *SignPop(key_.get(), *t);
  }
  EvpPkeyPtr key_;
  twi::v1::SvidKey svid_;
  Bytes payload_;
};

TEST_F(PopTest, RoundTrip) {
  EXPECT_TRUE(VerifyPop(svid_, kNonce, payload_, Sign(kNonce, payload_, 7)).ok());
}

TEST_F(PopTest, WrongNonceRefused) {
  auto st = VerifyPop(svid_, kNonce, payload_, Sign(Bytes(32, 0xCD), payload_, 7));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("does not verify over this stream's transcript"));
}

TEST_F(PopTest, WrongGenerationRefused) {
  auto st = VerifyPop(svid_, kNonce, payload_, Sign(kNonce, payload_, 8));
  EXPECT_THAT(st.message(), HasSubstr("(generation 7) does not verify"));
}

TEST_F(PopTest, WrongPayloadRefused) {
  auto st = VerifyPop(svid_, kNonce, ToBytes("another payload"), Sign(kNonce, payload_, 7));
  EXPECT_THAT(st.message(), HasSubstr("does not verify"));
}

TEST_F(PopTest, WrongKeyRefused) {
  Bytes sig = Sign(kNonce, payload_, 7);
  svid_.set_spki(std::string(AsString(*PublicKeyToSpki(GenerateP256Key()->get()))));
  EXPECT_THAT(VerifyPop(svid_, kNonce, payload_, sig).message(), HasSubstr("does not verify"));
}

TEST_F(PopTest, MissingSignatureRefused) {
  EXPECT_THAT(VerifyPop(svid_, kNonce, payload_, {}).message(),
              HasSubstr("carries no svid_key_signature"));
}

TEST(SvidKeyTest, MalformedAndUnsupportedKeysRefused) {
  EXPECT_THAT(ParseSvidKey({}).status().message(), HasSubstr("spki is 0 bytes"));
  EXPECT_THAT(ParseSvidKey(Bytes(2000, 1)).status().message(), HasSubstr("spki is 2000 bytes"));
  EXPECT_THAT(ParseSvidKey(Bytes{0x30, 0x03, 1, 2, 3}).status().message(),
              HasSubstr("spki does not parse"));
  EvpPkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(ed);
  EXPECT_THAT(ParseSvidKey(*PublicKeyToSpki(ed.get())).status().message(),
              HasSubstr("svid key must be EC P-256 or P-384, got ED25519"));
  EXPECT_THAT(SignPop(ed.get(), Bytes(10, 0)).status().message(),
              HasSubstr("needs an EC P-256 or P-384 key"));
}

TEST(SvidKeyTest, P384UsesSha384) {
  EvpPkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp384r1"));
  ASSERT_TRUE(k);
  twi::v1::SvidKey s;
  s.set_spki(std::string(AsString(*PublicKeyToSpki(k.get()))));
  auto t = PopTranscript(kNonce, Sha256(ToBytes("p")), AsBytes(s.spki()), 0);
  auto sig = SignPop(k.get(), *t);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(VerifyPop(s, kNonce, ToBytes("p"), *sig).ok());
}

}  // namespace
}  // namespace twi::keybinding
