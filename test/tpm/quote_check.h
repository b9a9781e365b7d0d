// Test-side checks of what the TPM produced: MU parsing, an OpenSSL key from a TPMT_PUBLIC
// and the AK's quote signature, checked with OpenSSL directly (the verifier proper,
// attestors/tpm/verify.h, is tested on its own).
#pragma once

#include <tss2/tss2_mu.h>

#include <gtest/gtest.h>

#include "attestors/core/crypto.h"
#include "attestors/tpm/abi.h"
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

// An OpenSSL key from a TPMT_PUBLIC, through the verifier's abi (attestors/tpm/abi.h).
inline EvpPkeyPtr OpenSslKey(const TPMT_PUBLIC& area) {
  absl::StatusOr<Public> pub = PublicFromArea(area);
  EXPECT_TRUE(pub.ok()) << pub.status();
  if (!pub.ok()) return nullptr;
  absl::StatusOr<EvpPkeyPtr> key = PublicKey(*pub);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? std::move(*key) : nullptr;
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
