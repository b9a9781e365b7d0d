// The agent's TPM output through the server's code, on swtpm: quotes from TpmCollector pass
// VerifyQuote (qualifying data = the twi/v1 binding, PCR digest, AK attributes), and a
// credential from the software MakeCredential is released by TpmCollector::ActivateCredential
// for the agent's own AK only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/appraisal/protocol.h"
#include "attestors/core/checks.h"
#include "attestors/tpm/collect.h"
#include "attestors/tpm/credential.h"
#include "attestors/tpm/verify.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::tpm {
namespace {

using ::twi::testing::SwtpmTest;

class TpmCollectVerifyTest : public SwtpmTest {
 protected:
  void RoundTrip(KeyAlg alg) {
    auto tpm = TpmCollector::Open({.tcti = swtpm().tcti(), .ek_alg = alg, .ak_alg = alg});
    ASSERT_TRUE(tpm.ok()) << tpm.status();
    absl::StatusOr<TpmKeyInfo> ek = (*tpm)->Ek();
    ASSERT_TRUE(ek.ok()) << ek.status();
    absl::StatusOr<TpmKeyInfo> ak = (*tpm)->Ak();
    ASSERT_TRUE(ak.ok()) << ak.status();

    // Credential activation: the server's software MakeCredential, the agent's TPM.
    absl::StatusOr<Public> ek_pub = ParsePublic(ek->public_area);
    ASSERT_TRUE(ek_pub.ok()) << ek_pub.status();
    const Bytes secret(32, 0x3C);
    absl::StatusOr<Credential> cred = MakeCredential(*ek_pub, ak->name, secret);
    ASSERT_TRUE(cred.ok()) << cred.status();
    absl::StatusOr<Bytes> got = (*tpm)->ActivateCredential(cred->id_object, cred->encrypted_secret);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, secret);
    Bytes other_name = ak->name;
    other_name[5] ^= 1;
    absl::StatusOr<Credential> wrong = MakeCredential(*ek_pub, other_name, secret);
    ASSERT_TRUE(wrong.ok()) << wrong.status();
    EXPECT_EQ((*tpm)->ActivateCredential(wrong->id_object, wrong->encrypted_secret).status().code(),
              absl::StatusCode::kInvalidArgument);

    // A quote over the twi/v1 binding, one per bank as the protocol sends them.
    const Bytes nonce(32, 0xA5), spki = {1, 2, 3};
    const Bytes qualifying = appraisal::TpmQualifyingData(nonce, spki);
    absl::StatusOr<TpmQuote> quote =
        (*tpm)->Quote({{TPM2_ALG_SHA256, {0, 1, 2, 3, 4, 5, 6, 7, 14}}}, qualifying);
    ASSERT_TRUE(quote.ok()) << quote.status();
    absl::StatusOr<Public> ak_pub = ParsePublic(ak->public_area);
    ASSERT_TRUE(ak_pub.ok()) << ak_pub.status();
    absl::StatusOr<AkKey> key = AkKey::FromPublic(*ak_pub);
    ASSERT_TRUE(key.ok()) << key.status();
    PcrBanks pcrs;
    for (const PcrValue& v : quote->pcrs) pcrs[v.hash_alg][v.index] = v.digest;
    VerifyOptions options;
    options.nonce = qualifying;
    CheckList checks;
    VerifiedQuote verified;
    absl::Status s = VerifyQuote(*key, quote->attest, quote->signature, pcrs, options, checks,
                                 &verified);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_TRUE(verified.pcr_digest_ok);
    EXPECT_EQ(verified.ak_name, ak->name);

    // The wrong binding (another instance key) is refused.
    options.nonce = appraisal::TpmQualifyingData(nonce, Bytes{9});
    CheckList checks2;
    VerifiedQuote refused;
    EXPECT_FALSE(VerifyQuote(*key, quote->attest, quote->signature, pcrs, options, checks2,
                             &refused)
                     .ok());
  }
};

TEST_F(TpmCollectVerifyTest, RsaAgentOutputPassesTheServerChecks) {
  TWI_START_SWTPM(24252);
  RoundTrip(KeyAlg::kRsa2048);
}

TEST_F(TpmCollectVerifyTest, EccAgentOutputPassesTheServerChecks) {
  TWI_START_SWTPM(24254);
  RoundTrip(KeyAlg::kEccP256);
}

}  // namespace
}  // namespace twi::tpm
