// Quotes from a real TPM (swtpm): RSASSA, RSAPSS and ECDSA AKs, SHA-256 and SHA-1 + SHA-256
// banks, verified by VerifyQuote from the bytes ESAPI returns (MU-marshalled TPMT_SIGNATURE).
#include "attestors/core/crypto.h"
#include "attestors/tpm/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/swtpm.h"

namespace twi::tpm {
namespace {

using ::testing::StartsWith;
using testing::Esys;
using testing::Swtpm;

// Ports 2321x-2329x belong to this suite and credential_test (distinct per test).
constexpr int kPortRsassa = 23221;
constexpr int kPortRsapss = 23223;
constexpr int kPortEcdsa = 23225;
constexpr int kPortTwoBanks = 23227;
constexpr int kPortCertify = 23229;

TPMS_PCR_SELECTION Bank(uint16_t hash, std::initializer_list<uint32_t> pcrs) {
  TPMS_PCR_SELECTION s{};
  s.hash = hash;
  s.sizeofSelect = 3;
  for (uint32_t i : pcrs) s.pcrSelect[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  return s;
}

// Reads one bank (at most 8 PCRs: one PCR_Read answer) into `out`.
void ReadBank(ESYS_CONTEXT* esys, const TPMS_PCR_SELECTION& bank, PcrBanks* out) {
  TPML_PCR_SELECTION in{};
  in.count = 1;
  in.pcrSelections[0] = bank;
  UINT32 counter = 0;
  TPML_PCR_SELECTION* sel_out = nullptr;
  TPML_DIGEST* values = nullptr;
  ASSERT_EQ(Esys_PCR_Read(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &in, &counter, &sel_out,
                          &values), TSS2_RC_SUCCESS);
  std::vector<uint32_t> idx = SelectedPcrs(bank);
  ASSERT_EQ(values->count, idx.size());
  for (size_t i = 0; i < idx.size(); ++i) {
    (*out)[bank.hash][idx[i]].assign(values->digests[i].buffer,
                                     values->digests[i].buffer + values->digests[i].size);
  }
  Esys_Free(sel_out);
  Esys_Free(values);
}

struct Quoted {
  Public ak;
  Bytes attest, signature;
  PcrBanks pcrs;
  Bytes nonce;
};

// An AK of `scheme`, PCR 7 extended in every bank, a quote over `banks` with a 32-byte nonce.
void MakeQuote(int port, uint16_t scheme, std::vector<TPMS_PCR_SELECTION> banks, Quoted* q) {
  Swtpm tpm(port);
  ASSERT_TRUE(tpm.ready());
  Esys esys(tpm.tcti());
  ASSERT_NE(esys.get(), nullptr);
  ESYS_TR ak = ESYS_TR_NONE;
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_OWNER, testing::AkTemplate(scheme), &ak,
                                   &q->ak), TSS2_RC_SUCCESS);
  TPML_DIGEST_VALUES ext{};
  ext.count = 2;
  ext.digests[0].hashAlg = TPM2_ALG_SHA1;
  ext.digests[1].hashAlg = TPM2_ALG_SHA256;
  std::memset(ext.digests[0].digest.sha1, 0x5A, 20);
  std::memset(ext.digests[1].digest.sha256, 0xA5, 32);
  ASSERT_EQ(Esys_PCR_Extend(esys.get(), ESYS_TR_PCR7, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &ext), TSS2_RC_SUCCESS);
  TPML_PCR_SELECTION sel{};
  for (const TPMS_PCR_SELECTION& b : banks) {
    sel.pcrSelections[sel.count++] = b;
    ReadBank(esys.get(), b, &q->pcrs);
  }
  q->nonce = *RandomBytes(32);
  TPM2B_DATA qualifying{};
  qualifying.size = 32;
  std::memcpy(qualifying.buffer, q->nonce.data(), 32);
  TPMT_SIG_SCHEME in_scheme{};
  in_scheme.scheme = TPM2_ALG_NULL;  // the key's own scheme
  TPM2B_ATTEST* quoted = nullptr;
  TPMT_SIGNATURE* sig = nullptr;
  ASSERT_EQ(Esys_Quote(esys.get(), ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying,
                       &in_scheme, &sel, &quoted, &sig), TSS2_RC_SUCCESS);
  q->attest.assign(quoted->attestationData, quoted->attestationData + quoted->size);
  q->signature.resize(sizeof(TPMT_SIGNATURE));
  size_t off = 0;
  ASSERT_EQ(Tss2_MU_TPMT_SIGNATURE_Marshal(sig, q->signature.data(), q->signature.size(), &off),
            TSS2_RC_SUCCESS);
  q->signature.resize(off);
  Esys_Free(quoted);
  Esys_Free(sig);
  Esys_FlushContext(esys.get(), ak);
}

absl::Status Verify(const Quoted& q, VerifiedQuote* out) {
  auto ak = AkKey::FromPublic(q.ak);
  if (!ak.ok()) return ak.status();
  VerifyOptions o;
  o.nonce = q.nonce;
  CheckList checks;
  return VerifyQuote(*ak, q.attest, q.signature, q.pcrs, o, checks, out);
}

void QuoteRoundTrip(int port, uint16_t scheme) {
  if (!testing::HaveSwtpm()) GTEST_SKIP() << "swtpm not installed";
  Quoted q;
  MakeQuote(port, scheme, {Bank(TPM2_ALG_SHA256, {0, 1, 2, 3, 4, 5, 6, 7})}, &q);
  if (::testing::Test::HasFatalFailure()) return;
  VerifiedQuote out;
  absl::Status s = Verify(q, &out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out.sig_alg, scheme);
  EXPECT_TRUE(out.pcr_digest_ok);
  EXPECT_EQ(out.ak_name, *ComputeName(q.ak));
  // A PCR value other than the quoted one, and another nonce, are refused by name.
  Quoted bad = q;
  bad.pcrs[TPM2_ALG_SHA256][7][3] ^= 0x80;
  EXPECT_THAT(std::string(Verify(bad, &out).message()), StartsWith("pcr.digest: "));
  bad = q;
  bad.nonce[0] ^= 1;
  EXPECT_THAT(std::string(Verify(bad, &out).message()), StartsWith("quote.nonce: "));
}

TEST(TpmSwtpmQuote, RsassaSha256) { QuoteRoundTrip(kPortRsassa, TPM2_ALG_RSASSA); }
TEST(TpmSwtpmQuote, RsapssSha256) { QuoteRoundTrip(kPortRsapss, TPM2_ALG_RSAPSS); }
TEST(TpmSwtpmQuote, EcdsaP256Sha256) { QuoteRoundTrip(kPortEcdsa, TPM2_ALG_ECDSA); }

// SHA-1 and SHA-256 banks in one quote: pcrDigest is SHA-256 (the signature's hash) over the
// SHA-1 values then the SHA-256 values.
TEST(TpmSwtpmQuote, Sha1AndSha256Banks) {
  if (!testing::HaveSwtpm()) GTEST_SKIP() << "swtpm not installed";
  Quoted q;
  MakeQuote(kPortTwoBanks, TPM2_ALG_RSASSA,
            {Bank(TPM2_ALG_SHA1, {0, 7}), Bank(TPM2_ALG_SHA256, {0, 4, 7, 14})}, &q);
  if (HasFatalFailure()) return;
  VerifiedQuote out;
  absl::Status s = Verify(q, &out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out.pcrs.at(TPM2_ALG_SHA1).size(), 2u);
  EXPECT_EQ(out.pcrs.at(TPM2_ALG_SHA256).size(), 4u);
  EXPECT_EQ(out.pcrs.at(TPM2_ALG_SHA1).at(7).size(), 20u);
}

// TPM2_Certify: the AK attests another loaded object; the TPMS_ATTEST (TPM_ST_ATTEST_CERTIFY)
// parses, its signature verifies with the AK, it names the certified object exactly as
// ComputeName does, and VerifyQuote refuses it as no quote.
TEST(TpmSwtpmQuote, CertifyAttestationParsesAndVerifies) {
  if (!testing::HaveSwtpm()) GTEST_SKIP() << "swtpm not installed";
  Swtpm tpm(kPortCertify);
  ASSERT_TRUE(tpm.ready());
  Esys esys(tpm.tcti());
  ASSERT_NE(esys.get(), nullptr);
  ESYS_TR ak = ESYS_TR_NONE, key = ESYS_TR_NONE;
  Public ak_pub, key_pub;
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_OWNER,
                                   testing::AkTemplate(TPM2_ALG_ECDSA), &ak, &ak_pub),
            TSS2_RC_SUCCESS);
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_ENDORSEMENT,
                                   testing::AkTemplate(TPM2_ALG_RSASSA), &key, &key_pub),
            TSS2_RC_SUCCESS);
  TPM2B_DATA qualifying{};
  qualifying.size = 8;
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;
  TPM2B_ATTEST* certify = nullptr;
  TPMT_SIGNATURE* sig = nullptr;
  ASSERT_EQ(Esys_Certify(esys.get(), key, ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                         &qualifying, &scheme, &certify, &sig), TSS2_RC_SUCCESS);
  Bytes attest(certify->attestationData, certify->attestationData + certify->size);
  TPMT_SIGNATURE signature = *sig;
  Esys_Free(certify);
  Esys_Free(sig);
  Esys_FlushContext(esys.get(), key);
  Esys_FlushContext(esys.get(), ak);

  auto parsed = ParseAttest(attest);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->attest.type, TPM2_ST_ATTEST_CERTIFY);
  const TPM2B_NAME& name = parsed->attest.attested.certify.name;
  EXPECT_EQ(HexEncode(ByteView(name.name, name.size)), HexEncode(*ComputeName(key_pub)));
  auto ak_key = AkKey::FromPublic(ak_pub);
  ASSERT_TRUE(ak_key.ok());
  EXPECT_TRUE(VerifyTpmSignature(*ak_key, attest, signature).ok());
  // The certified key's signature check fails with the wrong key.
  EXPECT_FALSE(VerifyTpmSignature(*AkKey::FromPublic(key_pub), attest, signature).ok());
  Bytes sig_bytes(sizeof(TPMT_SIGNATURE));
  size_t off = 0;
  ASSERT_EQ(Tss2_MU_TPMT_SIGNATURE_Marshal(&signature, sig_bytes.data(), sig_bytes.size(), &off),
            TSS2_RC_SUCCESS);
  sig_bytes.resize(off);
  VerifyOptions o;
  o.nonce = Bytes(8, 0);
  CheckList checks;
  VerifiedQuote out;
  EXPECT_EQ(std::string(VerifyQuote(*ak_key, attest, sig_bytes, {}, o, checks, &out).message()),
            "quote.type: got 0x8017, want 0x8018 (TPM_ST_ATTEST_QUOTE)");
}

}  // namespace
}  // namespace twi::tpm
