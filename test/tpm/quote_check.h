// Test-side checks of what the TPM produced: MU parsing, an OpenSSL key from a TPMT_PUBLIC
// and the AK's quote signature. Just enough for the agent-side tests; the verifier proper is
// attestors/tpm/verify.*.
#pragma once

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>

#include <gtest/gtest.h>

#include "attestors/core/crypto.h"
#include "attestors/tpm/collect.h"

namespace twi::tpm {

template <typename T, typename Fn>
inline T MuParse(const Bytes& b, Fn unmarshal) {
  T out{};
  size_t offset = 0;
  EXPECT_EQ(unmarshal(b.data(), b.size(), &offset, &out), TSS2_RC_SUCCESS);
  EXPECT_EQ(offset, b.size());
  return out;
}
inline TPMT_PUBLIC MuPublic(const Bytes& b) { return MuParse<TPMT_PUBLIC>(b, Tss2_MU_TPMT_PUBLIC_Unmarshal); }
inline TPMS_ATTEST MuAttest(const Bytes& b) { return MuParse<TPMS_ATTEST>(b, Tss2_MU_TPMS_ATTEST_Unmarshal); }

// An OpenSSL key from a TPMT_PUBLIC (RSA, P-256 or P-384): just enough for the checks here.
inline EvpPkeyPtr OpenSslKey(const TPMT_PUBLIC& pub) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  Bytes point;
  const char* type = "RSA";
  if (pub.type == TPM2_ALG_RSA) {
    n = BN_bin2bn(pub.unique.rsa.buffer, pub.unique.rsa.size, nullptr);
    e = BN_new();
    BN_set_word(e, pub.parameters.rsaDetail.exponent ? pub.parameters.rsaDetail.exponent : 65537);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
  } else {
    type = "EC";
    point.push_back(0x04);
    point.insert(point.end(), pub.unique.ecc.x.buffer, pub.unique.ecc.x.buffer + pub.unique.ecc.x.size);
    point.insert(point.end(), pub.unique.ecc.y.buffer, pub.unique.ecc.y.buffer + pub.unique.ecc.y.size);
    const char* group = pub.parameters.eccDetail.curveID == TPM2_ECC_NIST_P384 ? "secp384r1"
                                                                               : "prime256v1";
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  }
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(n);
  BN_free(e);
  return EvpPkeyPtr(key);
}

inline Bytes Spki(EVP_PKEY* key) {
  absl::StatusOr<Bytes> spki = PublicKeyToSpki(key);
  EXPECT_TRUE(spki.ok()) << spki.status();
  return spki.ok() ? *spki : Bytes{};
}

// The AK's signature over the TPMS_ATTEST, checked with OpenSSL (RSASSA or ECDSA, SHA-256).
inline void ExpectQuoteVerifies(ByteView attest, ByteView signature, const Bytes& ak_public) {
  TPMT_SIGNATURE sig = MuParse<TPMT_SIGNATURE>(Bytes(signature.begin(), signature.end()), Tss2_MU_TPMT_SIGNATURE_Unmarshal);
  EvpPkeyPtr key = OpenSslKey(MuPublic(ak_public));
  Bytes der;
  if (sig.sigAlg == TPM2_ALG_RSASSA) {
    EXPECT_EQ(sig.signature.rsassa.hash, TPM2_ALG_SHA256);
    der.assign(sig.signature.rsassa.sig.buffer,
               sig.signature.rsassa.sig.buffer + sig.signature.rsassa.sig.size);
  } else {
    ASSERT_EQ(sig.sigAlg, TPM2_ALG_ECDSA);
    EXPECT_EQ(sig.signature.ecdsa.hash, TPM2_ALG_SHA256);
    Bytes rs(64, 0);
    const TPM2B_ECC_PARAMETER& r = sig.signature.ecdsa.signatureR;
    const TPM2B_ECC_PARAMETER& s = sig.signature.ecdsa.signatureS;
    ASSERT_LE(r.size, 32);
    ASSERT_LE(s.size, 32);
    std::copy(r.buffer, r.buffer + r.size, rs.begin() + (32 - r.size));
    std::copy(s.buffer, s.buffer + s.size, rs.begin() + 64 - s.size);
    absl::StatusOr<Bytes> d = EcdsaRawToDer(rs);
    ASSERT_TRUE(d.ok()) << d.status();
    der = *d;
  }
  EXPECT_TRUE(VerifySha256(key.get(), attest, der).ok());
  Bytes tampered(attest.begin(), attest.end());
  tampered.back() ^= 1;
  EXPECT_FALSE(VerifySha256(key.get(), tampered, der).ok());
}

inline void ExpectQuoteVerifies(const TpmQuote& quote, const TpmKeyInfo& ak) {
  ExpectQuoteVerifies(quote.attest, quote.signature, ak.public_area);
}

}  // namespace twi::tpm
