// Software MakeCredential against swtpm's TPM2_ActivateCredential: EKs from the TCG templates
// (RSA-2048 and ECC P-256), an AK in the same TPM, the EK's PolicySecret(endorsement) session.
// The secret comes back only when our seed encryption, KDFs, AES-CFB and HMAC match the TPM's.
#include "attestors/tpm/credential.h"

#include "attestors/core/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/swtpm.h"

namespace twi::tpm {
namespace {

using ::testing::HasSubstr;
using testing::Esys;
using testing::Swtpm;

// Ports 2321x-2329x are this suite's (distinct per test: ctest runs tests in parallel).
constexpr int kPortRsa = 23211;
constexpr int kPortEcc = 23213;
constexpr int kPortWrongAk = 23215;
constexpr int kPortEccP384 = 23217;

struct Loaded {
  ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE, other = ESYS_TR_NONE;
  Public ek_pub, ak_pub, other_pub;
};

void Flush(ESYS_CONTEXT* esys, Loaded& l) {
  for (ESYS_TR h : {l.ek, l.ak, l.other}) {
    if (h != ESYS_TR_NONE) Esys_FlushContext(esys, h);
  }
}

// ActivateCredential with the EK policy session; the released secret or the TPM's rc.
TSS2_RC Activate(ESYS_CONTEXT* esys, ESYS_TR ak, ESYS_TR ek, const Credential& cred,
                 Bytes* out, TPMI_ALG_HASH policy_hash = TPM2_ALG_SHA256) {
  TPM2B_ID_OBJECT blob{};
  TPM2B_ENCRYPTED_SECRET secret{};
  size_t off = 0;
  EXPECT_EQ(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(cred.id_object.data(), cred.id_object.size(), &off,
                                              &blob), TSS2_RC_SUCCESS);
  EXPECT_EQ(off, cred.id_object.size());
  off = 0;
  EXPECT_EQ(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(cred.encrypted_secret.data(),
                                                     cred.encrypted_secret.size(), &off, &secret),
            TSS2_RC_SUCCESS);
  EXPECT_EQ(off, cred.encrypted_secret.size());
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc = testing::EkPolicySession(esys, &session, policy_hash);
  if (rc != TSS2_RC_SUCCESS) return rc;
  TPM2B_DIGEST* cert_info = nullptr;
  rc = Esys_ActivateCredential(esys, ak, ek, ESYS_TR_PASSWORD, session, ESYS_TR_NONE, &blob,
                               &secret, &cert_info);
  Esys_FlushContext(esys, session);  // gone already when the command failed; rc ignored
  if (rc == TSS2_RC_SUCCESS) {
    out->assign(cert_info->buffer, cert_info->buffer + cert_info->size);
    Esys_Free(cert_info);
  }
  return rc;
}

// PolicySecret(TPM_RH_ENDORSEMENT) digest with `hash` (Part 3 PolicySecret / PolicyUpdate).
Bytes EkPolicyDigest(uint16_t hash) {
  Bytes d(DigestSize(hash), 0);
  d.insert(d.end(), {0x00, 0x00, 0x01, 0x51, 0x40, 0x00, 0x00, 0x0B});  // CC, endorsement name
  d = *Hash(hash, d);
  return *Hash(hash, d);  // || empty policyRef
}

// A P-384 EK with SHA-384 nameAlg and AES-256 (the TCG high-range H-3 parameters) under the
// SHA-384 form of the endorsement PolicySecret.
TPM2B_PUBLIC EccP384EkTemplate() {
  TPM2B_PUBLIC t = testing::EkTemplate(/*ecc=*/true);
  TPMT_PUBLIC& a = t.publicArea;
  a.nameAlg = TPM2_ALG_SHA384;
  Bytes policy = EkPolicyDigest(TPM2_ALG_SHA384);
  a.authPolicy.size = static_cast<uint16_t>(policy.size());
  std::memcpy(a.authPolicy.buffer, policy.data(), policy.size());
  a.parameters.eccDetail.symmetric.keyBits.aes = 256;
  a.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
  a.unique.ecc.x.size = 48;
  a.unique.ecc.y.size = 48;
  return t;
}

TEST(TpmCredential, EkPolicyDigestMatchesTheTcgConstant) {
  EXPECT_EQ(HexEncode(EkPolicyDigest(TPM2_ALG_SHA256)),
            HexEncode(ByteView(testing::kEkPolicy, sizeof(testing::kEkPolicy))));
}

void RoundTrip(int port, const TPM2B_PUBLIC& ek_template, TPMI_ALG_HASH policy_hash) {
  if (!testing::HaveSwtpm()) GTEST_SKIP() << "swtpm not installed";
  Swtpm tpm(port);
  ASSERT_TRUE(tpm.ready()) << "swtpm did not listen on " << port;
  Esys esys(tpm.tcti());
  ASSERT_NE(esys.get(), nullptr);
  Loaded l;
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_ENDORSEMENT, ek_template, &l.ek,
                                   &l.ek_pub), TSS2_RC_SUCCESS);
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_OWNER,
                                   testing::AkTemplate(TPM2_ALG_RSASSA), &l.ak, &l.ak_pub),
            TSS2_RC_SUCCESS);
  // Our Name computation agrees with the TPM's.
  auto name = ComputeName(l.ak_pub);
  ASSERT_TRUE(name.ok()) << name.status();
  TPM2B_NAME* tpm_name = nullptr;
  ASSERT_EQ(Esys_TR_GetName(esys.get(), l.ak, &tpm_name), TSS2_RC_SUCCESS);
  EXPECT_EQ(HexEncode(*name), HexEncode(ByteView(tpm_name->name, tpm_name->size)));
  Esys_Free(tpm_name);

  for (size_t size : {DigestSize(l.ek_pub.area.nameAlg), size_t{16}, size_t{1}}) {
    Bytes secret = *RandomBytes(size);
    auto cred = MakeCredential(l.ek_pub, *name, secret);
    ASSERT_TRUE(cred.ok()) << cred.status();
    Bytes released;
    TSS2_RC rc = Activate(esys.get(), l.ak, l.ek, *cred, &released, policy_hash);
    EXPECT_EQ(rc, TSS2_RC_SUCCESS) << std::hex << rc;
    EXPECT_EQ(HexEncode(released), HexEncode(secret)) << size << "-byte secret";
  }
  Flush(esys.get(), l);
}

TEST(TpmCredential, RsaEkActivatesInSwtpm) {
  RoundTrip(kPortRsa, testing::EkTemplate(/*ecc=*/false), TPM2_ALG_SHA256);
}
TEST(TpmCredential, EccP256EkActivatesInSwtpm) {
  RoundTrip(kPortEcc, testing::EkTemplate(/*ecc=*/true), TPM2_ALG_SHA256);
}
// SHA-384 KDFe/KDFa, a 48-byte seed and AES-256-CFB.
TEST(TpmCredential, EccP384Sha384EkActivatesInSwtpm) {
  RoundTrip(kPortEccP384, EccP384EkTemplate(), TPM2_ALG_SHA384);
}

// A credential made for another AK's Name is refused by the TPM (integrity check fails): the
// binding a verifier relies on.
TEST(TpmCredential, CredentialForAnotherAkIsRefusedBySwtpm) {
  if (!testing::HaveSwtpm()) GTEST_SKIP() << "swtpm not installed";
  Swtpm tpm(kPortWrongAk);
  ASSERT_TRUE(tpm.ready());
  Esys esys(tpm.tcti());
  ASSERT_NE(esys.get(), nullptr);
  Loaded l;
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_ENDORSEMENT, testing::EkTemplate(false),
                                   &l.ek, &l.ek_pub), TSS2_RC_SUCCESS);
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_OWNER,
                                   testing::AkTemplate(TPM2_ALG_RSASSA), &l.ak, &l.ak_pub),
            TSS2_RC_SUCCESS);
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_OWNER,
                                   testing::AkTemplate(TPM2_ALG_ECDSA), &l.other, &l.other_pub),
            TSS2_RC_SUCCESS);
  Bytes secret = *RandomBytes(32);
  auto cred = MakeCredential(l.ek_pub, *ComputeName(l.other_pub), secret);
  ASSERT_TRUE(cred.ok()) << cred.status();
  Bytes released;
  TSS2_RC rc = Activate(esys.get(), l.ak, l.ek, *cred, &released);
  // Format-1 TPM_RC_INTEGRITY on parameter 1 (the credential blob): 0x1DF.
  EXPECT_EQ(rc & (TPM2_RC_FMT1 | 0x3F), TPM2_RC_INTEGRITY) << std::hex << rc;
  EXPECT_TRUE(released.empty());
  Flush(esys.get(), l);
}

Public EkPublic(bool ecc) {
  TPM2B_PUBLIC t = testing::EkTemplate(ecc);
  return *PublicFromArea(t.publicArea);
}

TEST(TpmCredential, RefusesOversizedSecretAndBadName) {
  Public ek = EkPublic(false);
  // A template's all-zero modulus is no key, but size checks come first.
  Bytes name(34, 0);
  name[1] = 0x0B;
  auto r = MakeCredential(ek, name, Bytes(33, 1));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("secret of 33 bytes, want 1..32"));
  r = MakeCredential(ek, Bytes(10, 0), Bytes(16, 1));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("is not nameAlg || digest"));
}

TEST(TpmCredential, RefusesSigningKeyAsEk) {
  TPM2B_PUBLIC t = testing::AkTemplate(TPM2_ALG_RSASSA);
  auto r = MakeCredential(*PublicFromArea(t.publicArea), Bytes(34, 0), Bytes(16, 1));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("want a restricted decryption key"));
}

// KDFa counter mode: 256 bits from SHA-256 is one HMAC block, 384 bits two, prefix-consistent
// only in the counter (the bit length is part of every block).
TEST(TpmCredential, KdfaLengthIsPartOfEveryBlock) {
  Bytes key(32, 7);
  auto a = KdfA(TPM2_ALG_SHA256, key, "STORAGE", AsBytes("u"), {}, 256);
  auto b = KdfA(TPM2_ALG_SHA256, key, "STORAGE", AsBytes("u"), {}, 384);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_EQ(b->size(), 48u);
  EXPECT_NE(HexEncode(*a), HexEncode(ByteView(b->data(), 32)));
}

}  // namespace
}  // namespace twi::tpm
