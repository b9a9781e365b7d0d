// Test-side GCE evidence without a TPM: an RSA-2048 "AK" held in software, its TPMT_PUBLIC,
// and quotes (TPMS_ATTEST over SHA-256 PCRs with the caller's qualifying data, RSASSA-SHA256
// TPMT_SIGNATURE) marshalled with tpm2-tss MU, so the verifier sees the exact wire shapes a
// vTPM produces. The swtpm path lives in the gcp-node tests; real quotes come from the vectors.
#pragma once

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "attestors/core/crypto.h"
#include "attestors/gcp/sim.h"
#include "attestors/gcp/verify.h"

namespace twi::gcp::testing {

// Test fixtures cannot go on without their evidence (also used by the bench: no gtest here).
inline void Require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "soft_ak: %s failed\n", what);
  std::abort();
}

struct SoftAk {
  EvpPkeyPtr key;
  Bytes spki;
  Bytes public_area;  // TPMT_PUBLIC

  static SoftAk Create() {
    SoftAk ak;
    ak.key.reset(EVP_RSA_gen(2048));
    Require(ak.key != nullptr, "rsa keygen");
    auto spki = PublicKeyToSpki(ak.key.get());
  Require(spki.ok(), "spki");
  ak.spki = *std::move(spki);
    TPMT_PUBLIC area{};
    area.type = TPM2_ALG_RSA;
    area.nameAlg = TPM2_ALG_SHA256;
    area.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_RESTRICTED |
                            TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                            TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
    area.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    area.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
    area.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    area.parameters.rsaDetail.keyBits = 2048;
    BIGNUM* n = nullptr;
    Require(EVP_PKEY_get_bn_param(ak.key.get(), OSSL_PKEY_PARAM_RSA_N, &n) == 1, "modulus");
    area.unique.rsa.size = 256;
    Require(BN_bn2binpad(n, area.unique.rsa.buffer, 256) == 256, "modulus size");
    BN_free(n);
    uint8_t buf[sizeof(TPMT_PUBLIC)];
    size_t off = 0;
    Require(Tss2_MU_TPMT_PUBLIC_Marshal(&area, buf, sizeof(buf), &off) == TSS2_RC_SUCCESS, "TPMT_PUBLIC");
    ak.public_area.assign(buf, buf + off);
    return ak;
  }
};

struct SoftQuote {
  Bytes attest, signature;
  tpm::PcrBanks pcrs;
};

// A quote over SHA-256 PCRs 0-7 (values derived from `seed`) with `nonce` as extraData.
inline SoftQuote MakeQuote(EVP_PKEY* key, ByteView nonce, uint8_t seed = 1) {
  SoftQuote q;
  TPMS_ATTEST a{};
  a.magic = TPM2_GENERATED_VALUE;
  a.type = TPM2_ST_ATTEST_QUOTE;
  a.qualifiedSigner.size = 0;
  a.extraData.size = static_cast<UINT16>(nonce.size());
  std::copy(nonce.begin(), nonce.end(), a.extraData.buffer);
  a.clockInfo.clock = 1000;
  a.clockInfo.safe = 1;
  TPML_PCR_SELECTION& sel = a.attested.quote.pcrSelect;
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[0] = 0xff;  // PCRs 0-7
  Bytes concat;
  for (uint32_t i = 0; i < 8; ++i) {
    Bytes v = Sha256(Bytes{seed, static_cast<uint8_t>(i)});
    q.pcrs[TPM2_ALG_SHA256][i] = v;
    concat.insert(concat.end(), v.begin(), v.end());
  }
  Bytes digest = Sha256(concat);
  a.attested.quote.pcrDigest.size = 32;
  std::copy(digest.begin(), digest.end(), a.attested.quote.pcrDigest.buffer);
  uint8_t buf[sizeof(TPMS_ATTEST)];
  size_t off = 0;
  Require(Tss2_MU_TPMS_ATTEST_Marshal(&a, buf, sizeof(buf), &off) == TSS2_RC_SUCCESS, "TPMS_ATTEST");
  q.attest.assign(buf, buf + off);
  auto signed_attest = SignSha256(key, q.attest);
  Require(signed_attest.ok(), "quote signature");
  Bytes raw = *std::move(signed_attest);
  TPMT_SIGNATURE sig{};
  sig.sigAlg = TPM2_ALG_RSASSA;
  sig.signature.rsassa.hash = TPM2_ALG_SHA256;
  sig.signature.rsassa.sig.size = static_cast<UINT16>(raw.size());
  std::copy(raw.begin(), raw.end(), sig.signature.rsassa.sig.buffer);
  uint8_t sbuf[sizeof(TPMT_SIGNATURE)];
  off = 0;
  Require(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, sbuf, sizeof(sbuf), &off) == TSS2_RC_SUCCESS, "TPMT_SIGNATURE");
  q.signature.assign(sbuf, sbuf + off);
  return q;
}

inline std::shared_ptr<const SimCa> Ca() {
  auto ca = SimCa::SharedForTests();
  Require(ca.ok(), "simulated ca");
  return *ca;
}

inline CaSet CaSetOf(const SimCa& ca) {
  auto certs = ParsePemBundle(ca.BundlePem());
  Require(certs.ok(), "ca bundle");
  return CaSet::FromCertificates(*certs);
}

}  // namespace twi::gcp::testing
