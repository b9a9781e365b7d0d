#include "attestors/tpm/templates.h"

#include <cstring>

namespace twi::tpm {
namespace {

// The EK's storage symmetric algorithm in both templates.
TPMT_SYM_DEF_OBJECT Aes128Cfb() {
  TPMT_SYM_DEF_OBJECT sym{};
  sym.algorithm = TPM2_ALG_AES;
  sym.keyBits.aes = 128;
  sym.mode.aes = TPM2_ALG_CFB;
  return sym;
}

}  // namespace

std::string_view KeyAlgName(KeyAlg alg) { return alg == KeyAlg::kRsa2048 ? "rsa" : "ecc"; }

uint32_t EkCertNvIndex(KeyAlg alg) {
  return alg == KeyAlg::kRsa2048 ? kEkCertNvRsa2048 : kEkCertNvEccP256;
}

uint32_t EkCertNvIndexFor(const TPMT_PUBLIC& ek) {
  if (ek.type == TPM2_ALG_RSA) {
    switch (ek.parameters.rsaDetail.keyBits) {
      case 2048: return kEkCertNvRsa2048;
      case 3072: return 0x01C0001C;
      case 4096: return 0x01C0001E;
      default: return 0;
    }
  }
  if (ek.type == TPM2_ALG_ECC) {
    switch (ek.parameters.eccDetail.curveID) {
      case TPM2_ECC_NIST_P256: return kEkCertNvEccP256;
      case TPM2_ECC_NIST_P384: return 0x01C00016;
      case TPM2_ECC_NIST_P521: return 0x01C00018;
      default: return 0;
    }
  }
  return 0;
}

TPM2B_PUBLIC EkTemplate(KeyAlg alg) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kEkAttributes;
  p.authPolicy.size = kEkAuthPolicy.size();
  std::memcpy(p.authPolicy.buffer, kEkAuthPolicy.data(), kEkAuthPolicy.size());
  if (alg == KeyAlg::kRsa2048) {
    p.type = TPM2_ALG_RSA;
    TPMS_RSA_PARMS& r = p.parameters.rsaDetail;
    r.symmetric = Aes128Cfb();
    r.scheme.scheme = TPM2_ALG_NULL;
    r.keyBits = 2048;
    r.exponent = 0;
    p.unique.rsa.size = 256;  // zeros
  } else {
    p.type = TPM2_ALG_ECC;
    TPMS_ECC_PARMS& e = p.parameters.eccDetail;
    e.symmetric = Aes128Cfb();
    e.scheme.scheme = TPM2_ALG_NULL;
    e.curveID = TPM2_ECC_NIST_P256;
    e.kdf.scheme = TPM2_ALG_NULL;
    p.unique.ecc.x.size = 32;  // zeros
    p.unique.ecc.y.size = 32;
  }
  return t;
}

TPM2B_PUBLIC AkTemplate(KeyAlg alg) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kAkAttributes;
  if (alg == KeyAlg::kRsa2048) {
    p.type = TPM2_ALG_RSA;
    TPMS_RSA_PARMS& r = p.parameters.rsaDetail;
    r.symmetric.algorithm = TPM2_ALG_NULL;
    r.scheme.scheme = TPM2_ALG_RSASSA;
    r.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
    r.keyBits = 2048;
    r.exponent = 0;
  } else {
    p.type = TPM2_ALG_ECC;
    TPMS_ECC_PARMS& e = p.parameters.eccDetail;
    e.symmetric.algorithm = TPM2_ALG_NULL;
    e.scheme.scheme = TPM2_ALG_ECDSA;
    e.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    e.curveID = TPM2_ECC_NIST_P256;
    e.kdf.scheme = TPM2_ALG_NULL;
  }
  return t;
}

}  // namespace twi::tpm
