// MU-based parsing: the real structures of the vectors, MU's refusals named by structure,
// exact-length rules, Names and key conversion.
#include "attestors/tpm/abi.h"

#include <openssl/core_names.h>

#include "attestors/core/str.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/testdata.h"

namespace twi::tpm {
namespace {

using ::testing::StartsWith;
using testing::Msg;

TEST(TpmAbi, ParsesP1AkPublicAreaAndItsKey) {
  Bytes raw = testing::P1().ak;
  auto pub = ParsePublic(raw);
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->area.type, TPM2_ALG_RSA);
  EXPECT_EQ(pub->area.nameAlg, TPM2_ALG_SHA256);
  EXPECT_EQ(pub->area.parameters.rsaDetail.scheme.scheme, TPM2_ALG_RSASSA);
  EXPECT_EQ(pub->area.parameters.rsaDetail.scheme.details.rsassa.hashAlg, TPM2_ALG_SHA1);
  EXPECT_EQ(pub->marshalled, raw);
  auto name = ComputeName(*pub);
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(HexEncode(ByteView(name->data(), 2)), "000b");
  EXPECT_EQ(HexEncode(ByteView(name->data() + 2, 32)), HexEncode(Sha256(raw)));
  auto key = PublicKey(*pub);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 2048);
  // Re-marshalling gives the same bytes; the TPM2B form parses to the same area.
  EXPECT_EQ(PublicFromArea(pub->area)->marshalled, raw);
  Bytes two_b = {static_cast<uint8_t>(raw.size() >> 8), static_cast<uint8_t>(raw.size())};
  two_b.insert(two_b.end(), raw.begin(), raw.end());
  EXPECT_EQ(ParsePublicAny(two_b)->marshalled, raw);
  EXPECT_EQ(ParsePublicAny(raw)->marshalled, raw);
}

TEST(TpmAbi, MuRefusalsNameTheStructure) {
  Bytes raw = testing::P1().ak;
  EXPECT_EQ(Msg(ParsePublic(ByteView(raw.data(), 20)).status()), "tpmt_public: truncated");
  Bytes longer = raw;
  longer.push_back(0);
  EXPECT_EQ(Msg(ParsePublic(longer).status()),
            StrCat("tpmt_public: 1 trailing bytes after ", raw.size(), " bytes"));
  Bytes bad_type = raw;
  bad_type[1] = 0x99;  // type 0x0099
  EXPECT_THAT(Msg(ParsePublic(bad_type).status()), StartsWith("tpmt_public: "));
  Bytes big_rsa = raw;  // unique.size field past the TPM2B_PUBLIC_KEY_RSA buffer
  big_rsa[raw.size() - 258] = 0x7F;
  EXPECT_EQ(Msg(ParsePublic(big_rsa).status()), "tpmt_public: truncated");
  EXPECT_EQ(Msg(ParseSignature(Bytes{0x00, 0x14}).status()), "tpmt_signature: truncated");
  EXPECT_EQ(Msg(ParseAttest({}).status()), "tpms_attest: truncated");
  // 17 banks: more than TPML_PCR_SELECTION holds.
  EXPECT_EQ(Msg(ParsePcrSelection(Bytes{0, 0, 0, 17}).status()),
            "tpml_pcr_selection: count or size field out of range");
  // sizeofSelect 5: more than the 4 bytes TPMS_PCR_SELECTION holds.
  EXPECT_EQ(Msg(ParsePcrSelection(Bytes{0, 0, 0, 1, 0, 0x0B, 5, 1, 1, 1, 1, 1}).status()),
            "tpml_pcr_selection: count or size field out of range");
}

TEST(TpmAbi, AttestAcceptsTheTpm2bForm) {
  Bytes raw = testing::P2().attest;
  Bytes two_b = {static_cast<uint8_t>(raw.size() >> 8), static_cast<uint8_t>(raw.size())};
  two_b.insert(two_b.end(), raw.begin(), raw.end());
  auto a = ParseAttestAny(two_b);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->raw, raw);
  EXPECT_EQ(a->attest.magic, TPM2_GENERATED_VALUE);
  EXPECT_EQ(ParseAttestAny(raw)->raw, raw);
}

TEST(TpmAbi, PcrSelectionBitmap) {
  auto sel = ParsePcrSelection(Bytes{0, 0, 0, 1, 0x00, 0x0B, 3, 0x81, 0x40, 0x80});
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_EQ(SelectedPcrs(sel->pcrSelections[0]), (std::vector<uint32_t>{0, 7, 14, 23}));
}

TEST(TpmAbi, EccAreaToKeyAndSpki) {
  EvpPkeyPtr key = *GenerateP256Key();
  TPMT_PUBLIC a{};
  a.type = TPM2_ALG_ECC;
  a.nameAlg = TPM2_ALG_SHA256;
  a.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  a.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  a.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  a.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  for (auto [name, coord] : {std::pair{OSSL_PKEY_PARAM_EC_PUB_X, &a.unique.ecc.x},
                             std::pair{OSSL_PKEY_PARAM_EC_PUB_Y, &a.unique.ecc.y}}) {
    BIGNUM* bn = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(key.get(), name, &bn), 1);
    coord->size = 32;
    BN_bn2binpad(bn, coord->buffer, 32);
    BN_free(bn);
  }
  auto pub = PublicFromArea(a);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*PublicSpki(*pub), *PublicKeyToSpki(key.get()));
  a.parameters.eccDetail.curveID = TPM2_ECC_BN_P256;
  EXPECT_EQ(Msg(PublicKey(*PublicFromArea(a)).status()),
            "tpmt_public: ecc curve 0x0010, want p-256, p-384 or p-521");
  a.unique.ecc.x.size = 48;
  a.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  EXPECT_EQ(Msg(PublicKey(*PublicFromArea(a)).status()),
            "tpmt_public: ecc point coordinates of 48 and 32 bytes, curve has 32");
}

TEST(TpmAbi, RsaModulusMustMatchKeyBits) {
  auto pub = ParsePublic(testing::P1().ak);
  pub->area.parameters.rsaDetail.keyBits = 3072;
  EXPECT_EQ(Msg(PublicKey(*pub).status()), "tpmt_public: rsa modulus of 2048 bits, keyBits says 3072");
}

}  // namespace
}  // namespace twi::tpm
