// Every TPM quote vector of the index with its documented result (sections 3 and 5): P1, P2,
// A3, A7 valid; A4 not signed by A3's or A7's AK; one-byte flips fail at the named check.
#include "attestors/tpm/verify.h"

#include "attestors/core/str.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/testdata.h"

namespace twi::tpm {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::AzureBincode;
using testing::Msg;
using testing::QuoteVector;

QuoteVector A7() {
  return AzureBincode("kinvolk-azure-cvm-tooling/quote.bin", "kinvolk-azure-cvm-tooling/akpub.pem");
}
QuoteVector A3() { return AzureBincode("trustee/quote.bin", "trustee/hcl-report-akpub.pem"); }

TEST(TpmVectors, P1GceShieldedVmQuoteIsValid) {
  QuoteVector v = testing::P1();
  VerifiedQuote out;
  CheckList checks;
  ASSERT_TRUE(testing::Verify(v, &out, &checks, /*allow_spki=*/false).ok())
      << testing::Verify(v, &out);
  EXPECT_TRUE(checks.all_passed());
  EXPECT_EQ(out.sig_alg, TPM2_ALG_RSASSA);
  EXPECT_EQ(out.sig_hash, TPM2_ALG_SHA1);
  EXPECT_TRUE(out.pcr_digest_ok);
  EXPECT_EQ(out.pcrs.at(TPM2_ALG_SHA1).size(), 24u);
  EXPECT_EQ(out.ak_name.size(), 34u);  // SHA-256 nameAlg
  auto pub = ParsePublic(v.ak);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->area.objectAttributes, 0x00050472u);
}

// P1's AK creation attestation (TPM_ST_ATTEST_CREATION, signed by the AK itself) parses and its
// signature verifies, but it is not a quote.
TEST(TpmVectors, P1CreationAttestationIsSignedButNotAQuote) {
  Bytes text = testing::ReadFile("go-attestation/windows_gcp_shielded_vm.json");
  auto j = nlohmann::json::parse(text.begin(), text.end());
  Bytes att = testing::Base64(j["AK"]["CreateAttestation"].get<std::string>());
  Bytes sig = testing::Base64(j["AK"]["CreateSignature"].get<std::string>());
  auto parsed = ParseAttest(att);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->attest.type, TPM2_ST_ATTEST_CREATION);
  auto ak = AkKey::Parse(testing::P1().ak);
  ASSERT_TRUE(ak.ok());
  EXPECT_TRUE(VerifyTpmSignature(*ak, att, *ParseSignature(sig)).ok());
  // creationHash is SHA-256 of CreateData.
  Bytes create_data = testing::Base64(j["AK"]["CreateData"].get<std::string>());
  EXPECT_EQ(HexEncode(Sha256(create_data)),
            HexEncode(ByteView(parsed->attest.attested.creation.creationHash.buffer,
                               parsed->attest.attested.creation.creationHash.size)));
  QuoteVector v = testing::P1();
  v.attest = att;
  v.signature = sig;
  VerifiedQuote out;
  EXPECT_EQ(Msg(testing::Verify(v, &out)), "quote.type: got 0x801a, want 0x8018 (TPM_ST_ATTEST_QUOTE)");
}

TEST(TpmVectors, EmptyExpectedNonceNeedsTheOptIn) {
  QuoteVector v = testing::P1();
  auto ak = AkKey::Parse(v.ak);
  VerifyOptions o;
  CheckList checks;
  VerifiedQuote out;
  EXPECT_EQ(Msg(VerifyQuote(*ak, v.attest, v.signature, v.pcrs, o, checks, &out)),
            "quote.nonce: the expected nonce is empty: the quote would prove no freshness "
            "(allow_empty_nonce not set)");
}

TEST(TpmVectors, P2SoftwareTpmQuoteWith64ByteNonceIsValid) {
  QuoteVector v = testing::P2();
  EXPECT_EQ(v.nonce.size(), 64u);
  VerifiedQuote out;
  CheckList checks;
  absl::Status s = testing::Verify(v, &out, &checks);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(out.pcr_digest_ok);
  EXPECT_EQ(out.attest.attest.firmwareVersion, 0x2019102300163636u);
  EXPECT_TRUE(out.ak_name.empty());
  // An SPKI AK is accepted only with the explicit opt-in.
  EXPECT_THAT(Msg(testing::Verify(v, &out, nullptr, /*allow_spki=*/false)),
              StartsWith("ak.attributes: the ak is an spki"));
}

TEST(TpmVectors, A7AzureQuoteIsValidWithItsAk) {
  VerifiedQuote out;
  absl::Status s = testing::Verify(A7(), &out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(out.pcr_digest_ok);
  EXPECT_EQ(out.pcrs.at(TPM2_ALG_SHA256).size(), 24u);
}

TEST(TpmVectors, A3AzureQuoteIsValidWithTheHclAk) {
  VerifiedQuote out;
  absl::Status s = testing::Verify(A3(), &out);
  ASSERT_TRUE(s.ok()) << s;
}

TEST(TpmVectors, A7IsNotSignedByA3sAk) {
  QuoteVector v = A7();
  v.ak = testing::ReadFile("trustee/hcl-report-akpub.pem");
  VerifiedQuote out;
  EXPECT_THAT(Msg(testing::Verify(v, &out)), StartsWith("quote.signature: rsassa-sha256 by ak"));
}

TEST(TpmVectors, A4ParsesButIsSignedByNoKnownAk) {
  Bytes msg = testing::ReadFile("trustee/tpm-quote.msg");
  auto parsed = ParseAttest(msg);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(AsString(ByteView(parsed->attest.extraData.buffer, parsed->attest.extraData.size)),
            "challenge");
  const TPML_PCR_SELECTION& sel = parsed->attest.attested.quote.pcrSelect;
  ASSERT_EQ(sel.count, 1u);
  EXPECT_EQ(SelectedPcrs(sel.pcrSelections[0]), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 14}));
  for (const char* ak : {"trustee/hcl-report-akpub.pem", "kinvolk-azure-cvm-tooling/akpub.pem"}) {
    QuoteVector v;
    v.ak = testing::ReadFile(ak);
    v.attest = msg;
    v.signature = testing::RsassaSha256(testing::ReadFile("trustee/tpm-quote.sig"));
    v.nonce = ToBytes("challenge");
    VerifiedQuote out;
    EXPECT_THAT(Msg(testing::Verify(v, &out)), HasSubstr("quote.signature: ")) << ak;
  }
}

// Offsets in P2's TPMS_ATTEST (quote, qualifiedSigner 34 bytes, extraData 64 bytes):
// 0 magic, 4 type, 6 qualifiedSigner, 42 extraData, then clockInfo, firmwareVersion, the
// selection and pcrDigest (last 32 bytes).
TEST(TpmVectors, ByteFlipsFailAtTheNamedCheck) {
  struct Case {
    const char* what;
    size_t offset;  // in the TPMS_ATTEST (SIZE_MAX-n: from the end)
    const char* want_prefix;
  };
  const QuoteVector base = testing::P2();
  const size_t n = base.attest.size();
  for (const Case& c : std::vector<Case>{
           {"magic", 0, "quote.magic: got 0xfe544347, want 0xff544347"},
           {"extraData", 44, "quote.nonce: extraData "},
           {"qualifiedSigner", 10, "quote.signature: rsassa-sha256"},
           {"clockInfo", 110, "quote.signature: rsassa-sha256"},
           {"pcrDigest", n - 1, "quote.signature: rsassa-sha256"},
       }) {
    QuoteVector v = base;
    v.attest[c.offset] ^= 0x01;
    VerifiedQuote out;
    EXPECT_THAT(Msg(testing::Verify(v, &out)), StartsWith(c.want_prefix)) << c.what;
  }
  {
    QuoteVector v = base;
    v.signature[v.signature.size() - 1] ^= 0x01;
    VerifiedQuote out;
    EXPECT_THAT(Msg(testing::Verify(v, &out)), StartsWith("quote.signature: ")) << "signature";
  }
  {
    QuoteVector v = base;
    v.pcrs[TPM2_ALG_SHA256][7][0] ^= 0x01;
    VerifiedQuote out;
    EXPECT_THAT(Msg(testing::Verify(v, &out)), StartsWith("pcr.digest: sha256 over the supplied"));
    EXPECT_TRUE(out.pcrs.empty());
  }
  {
    QuoteVector v = base;
    v.pcrs[TPM2_ALG_SHA256].erase(23);
    VerifiedQuote out;
    EXPECT_EQ(Msg(testing::Verify(v, &out)), "pcr.values: no value for sha256:23");
  }
  {
    QuoteVector v = base;
    v.nonce.pop_back();
    VerifiedQuote out;
    EXPECT_THAT(Msg(testing::Verify(v, &out)), HasSubstr("(64 bytes), want "));
  }
  {
    QuoteVector v = base;
    v.attest.push_back(0);
    VerifiedQuote out;
    EXPECT_EQ(Msg(testing::Verify(v, &out)),
              StrCat("quote.structure: tpms_attest: 1 trailing bytes after ", n, " bytes"));
  }
  {
    QuoteVector v = base;
    v.attest.resize(n - 5);
    VerifiedQuote out;
    EXPECT_EQ(Msg(testing::Verify(v, &out)), "quote.structure: tpms_attest: truncated");
  }
}

TEST(TpmVectors, MissingPcrValuesAreRefusedUnlessAllowed) {
  QuoteVector v = testing::P2();
  v.pcrs.clear();
  VerifiedQuote out;
  EXPECT_THAT(Msg(testing::Verify(v, &out)),
              StartsWith("pcr.values: no pcr values supplied for the quoted selection sha256[0,"));
  auto ak = AkKey::Parse(v.ak);
  VerifyOptions o;
  o.nonce = v.nonce;
  o.allow_ak_without_attributes = true;
  o.allow_missing_pcr_values = true;
  CheckList checks;
  EXPECT_TRUE(VerifyQuote(*ak, v.attest, v.signature, {}, o, checks, &out).ok());
  EXPECT_FALSE(out.pcr_digest_ok);
}

// The AK must be the key that signs with its own scheme: P1's AK (RSASSA-SHA1) with an
// RSASSA-SHA256 signature blob is refused before any cryptography.
TEST(TpmVectors, SchemeOtherThanTheAksIsRefused) {
  QuoteVector v = testing::P1();
  v.signature[3] = 0x0B;  // hash SHA-1 -> SHA-256
  VerifiedQuote out;
  EXPECT_THAT(Msg(testing::Verify(v, &out)),
              HasSubstr("signature scheme rsassa-sha256, the ak is bound to rsassa-sha1"));
}

}  // namespace
}  // namespace twi::tpm
