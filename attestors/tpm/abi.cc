#include "attestors/tpm/abi.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "attestors/core/status.h"

namespace twi::tpm {
namespace {

// MU's return codes in words; anything else through tss2-rc's decoder.
std::string MuError(TSS2_RC rc) {
  switch (rc) {
    case TSS2_MU_RC_INSUFFICIENT_BUFFER: return "truncated";
    case TSS2_MU_RC_BAD_SIZE: return "size field out of range";
    case TSS2_MU_RC_BAD_VALUE: return "unknown or invalid selector value";
    case TSS2_SYS_RC_MALFORMED_RESPONSE: return "count or size field out of range";
    default: break;
  }
  return absl::StrFormat("%s (rc 0x%08x)", absl::AsciiStrToLower(Tss2_RC_Decode(rc)), rc);
}

template <typename T>
using UnmarshalFn = TSS2_RC (*)(const uint8_t[], size_t, size_t*, T*);

// One whole `T` from `data`: MU errors and trailing bytes name the structure.
template <typename T>
absl::Status UnmarshalExact(ByteView data, UnmarshalFn<T> fn, std::string_view name, T* out) {
  size_t offset = 0;
  // MU takes a null buffer for a caller bug, not for "no bytes": give it a valid pointer.
  static const uint8_t kEmpty[1] = {0};
  TSS2_RC rc = fn(data.empty() ? kEmpty : data.data(), data.size(), &offset, out);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::InvalidArgumentError(StrCat(name, ": ", MuError(rc)));
  }
  if (offset != data.size()) {
    return absl::InvalidArgumentError(StrCat(name, ": ", data.size() - offset,
                                             " trailing bytes after ", offset, " bytes"));
  }
  return absl::OkStatus();
}

uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

struct BnDeleter { void operator()(BIGNUM* p) const { BN_free(p); } };
struct ParamBldDeleter { void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); } };
struct ParamDeleter { void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); } };

absl::StatusOr<EvpPkeyPtr> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslError(StrCat("tpmt_public: ", type, " key"),
                        absl::StatusCode::kInvalidArgument);
  }
  return EvpPkeyPtr(key);
}

absl::StatusOr<EvpPkeyPtr> RsaKey(const TPMT_PUBLIC& a) {
  const TPM2B_PUBLIC_KEY_RSA& n = a.unique.rsa;
  if (n.size == 0 || n.size * 8 != a.parameters.rsaDetail.keyBits) {
    return absl::InvalidArgumentError(
        StrCat("tpmt_public: rsa modulus of ", n.size * 8, " bits, keyBits says ",
               a.parameters.rsaDetail.keyBits));
  }
  uint32_t e = a.parameters.rsaDetail.exponent == 0 ? 65537 : a.parameters.rsaDetail.exponent;
  std::unique_ptr<BIGNUM, BnDeleter> bn_n(BN_bin2bn(n.buffer, n.size, nullptr));
  std::unique_ptr<BIGNUM, BnDeleter> bn_e(BN_new());
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (bn_n == nullptr || bn_e == nullptr || bld == nullptr || BN_set_word(bn_e.get(), e) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return OpenSslError("tpmt_public: rsa parameters");
  }
  return FromParams("RSA", bld.get());
}

// OpenSSL group name and coordinate size of a TPM_ECC_CURVE.
bool CurveInfo(uint16_t curve, const char** group, size_t* bytes) {
  switch (curve) {
    case TPM2_ECC_NIST_P256: *group = "prime256v1"; *bytes = 32; return true;
    case TPM2_ECC_NIST_P384: *group = "secp384r1"; *bytes = 48; return true;
    case TPM2_ECC_NIST_P521: *group = "secp521r1"; *bytes = 66; return true;
    default: return false;
  }
}

absl::StatusOr<EvpPkeyPtr> EccKey(const TPMT_PUBLIC& a) {
  const char* group = nullptr;
  size_t bytes = 0;
  if (!CurveInfo(a.parameters.eccDetail.curveID, &group, &bytes)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tpmt_public: ecc curve 0x%04x, want p-256, p-384 or p-521",
        a.parameters.eccDetail.curveID));
  }
  const TPM2B_ECC_PARAMETER& x = a.unique.ecc.x;
  const TPM2B_ECC_PARAMETER& y = a.unique.ecc.y;
  if (x.size > bytes || y.size > bytes) {
    return absl::InvalidArgumentError(StrCat("tpmt_public: ecc point coordinates of ", x.size,
                                             " and ", y.size, " bytes, curve has ", bytes));
  }
  // SEC1 uncompressed point 04 || X || Y, each left-padded to the field size.
  Bytes point(1 + 2 * bytes, 0);
  point[0] = 0x04;
  std::copy(x.buffer, x.buffer + x.size, point.begin() + 1 + (bytes - x.size));
  std::copy(y.buffer, y.buffer + y.size, point.begin() + 1 + bytes + (bytes - y.size));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OpenSslError("tpmt_public: ecc parameters");
  }
  return FromParams("EC", bld.get());
}

}  // namespace

absl::StatusOr<Public> ParsePublic(ByteView data) {
  Public p;
  TWI_RETURN_IF_ERROR(UnmarshalExact<TPMT_PUBLIC>(data, Tss2_MU_TPMT_PUBLIC_Unmarshal,
                                                  "tpmt_public", &p.area));
  p.marshalled.assign(data.begin(), data.end());
  return p;
}

absl::StatusOr<Public> ParsePublic2B(ByteView data) {
  TPM2B_PUBLIC pub2b{};
  TWI_RETURN_IF_ERROR(UnmarshalExact<TPM2B_PUBLIC>(data, Tss2_MU_TPM2B_PUBLIC_Unmarshal,
                                                   "tpm2b_public", &pub2b));
  // MU checked that the size field covers exactly the TPMT_PUBLIC it read.
  Public p;
  p.area = pub2b.publicArea;
  p.marshalled.assign(data.begin() + 2, data.end());
  return p;
}

absl::StatusOr<Public> ParsePublicAny(ByteView data) {
  if (data.size() >= 2 && LoadBe16(data.data()) == data.size() - 2) return ParsePublic2B(data);
  return ParsePublic(data);
}

absl::StatusOr<Public> PublicFromArea(const TPMT_PUBLIC& area) {
  Public p;
  p.area = area;
  p.marshalled.resize(sizeof(TPMT_PUBLIC));
  size_t offset = 0;
  TSS2_RC rc = Tss2_MU_TPMT_PUBLIC_Marshal(&area, p.marshalled.data(), p.marshalled.size(),
                                           &offset);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::InvalidArgumentError(StrCat("tpmt_public: marshal: ", MuError(rc)));
  }
  p.marshalled.resize(offset);
  return p;
}

absl::StatusOr<Attest> ParseAttest(ByteView data) {
  Attest a;
  TWI_RETURN_IF_ERROR(UnmarshalExact<TPMS_ATTEST>(data, Tss2_MU_TPMS_ATTEST_Unmarshal,
                                                  "tpms_attest", &a.attest));
  a.raw.assign(data.begin(), data.end());
  return a;
}

absl::StatusOr<Attest> ParseAttestAny(ByteView data) {
  // A raw TPMS_ATTEST starts with TPM_GENERATED_VALUE (0xFF54...): its first u16 can never be
  // the remaining length of a buffer this size, so the size prefix alone decides.
  if (data.size() < 2 || LoadBe16(data.data()) != data.size() - 2) return ParseAttest(data);
  return ParseAttest(data.subspan(2));
}

absl::StatusOr<TPMT_SIGNATURE> ParseSignature(ByteView data) {
  TPMT_SIGNATURE s{};
  TWI_RETURN_IF_ERROR(UnmarshalExact<TPMT_SIGNATURE>(data, Tss2_MU_TPMT_SIGNATURE_Unmarshal,
                                                     "tpmt_signature", &s));
  return s;
}

absl::StatusOr<TPML_PCR_SELECTION> ParsePcrSelection(ByteView data) {
  TPML_PCR_SELECTION s{};
  TWI_RETURN_IF_ERROR(UnmarshalExact<TPML_PCR_SELECTION>(
      data, Tss2_MU_TPML_PCR_SELECTION_Unmarshal, "tpml_pcr_selection", &s));
  return s;
}

std::vector<uint32_t> SelectedPcrs(const TPMS_PCR_SELECTION& selection) {
  std::vector<uint32_t> out;
  size_t n = std::min<size_t>(selection.sizeofSelect, sizeof(selection.pcrSelect));
  for (size_t j = 0; j < n; ++j) {
    for (uint32_t i = 0; i < 8; ++i) {
      if (selection.pcrSelect[j] & (1u << i)) out.push_back(static_cast<uint32_t>(8 * j + i));
    }
  }
  return out;
}

size_t DigestSize(uint16_t hash_alg) {
  const EVP_MD* md = HashMd(hash_alg);
  return md == nullptr ? 0 : static_cast<size_t>(EVP_MD_get_size(md));
}

const EVP_MD* HashMd(uint16_t hash_alg) {
  switch (hash_alg) {
    case TPM2_ALG_SHA1: return EVP_sha1();
    case TPM2_ALG_SHA256: return EVP_sha256();
    case TPM2_ALG_SHA384: return EVP_sha384();
    case TPM2_ALG_SHA512: return EVP_sha512();
    default: return nullptr;
  }
}

absl::StatusOr<Bytes> Hash(uint16_t hash_alg, ByteView data) {
  const EVP_MD* md = HashMd(hash_alg);
  if (md == nullptr) {
    return absl::InvalidArgumentError(StrCat("unsupported hash algorithm ", AlgName(hash_alg)));
  }
  Bytes out(EVP_MD_get_size(md));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
    return OpenSslError("digest");
  }
  out.resize(len);
  return out;
}

std::string AlgName(uint16_t alg) {
  switch (alg) {
    case TPM2_ALG_RSA: return "rsa";
    case TPM2_ALG_SHA1: return "sha1";
    case TPM2_ALG_AES: return "aes";
    case TPM2_ALG_KEYEDHASH: return "keyedhash";
    case TPM2_ALG_SHA256: return "sha256";
    case TPM2_ALG_SHA384: return "sha384";
    case TPM2_ALG_SHA512: return "sha512";
    case TPM2_ALG_NULL: return "null";
    case TPM2_ALG_SM3_256: return "sm3_256";
    case TPM2_ALG_RSASSA: return "rsassa";
    case TPM2_ALG_RSAPSS: return "rsapss";
    case TPM2_ALG_ECDSA: return "ecdsa";
    case TPM2_ALG_ECDAA: return "ecdaa";
    case TPM2_ALG_SM2: return "sm2";
    case TPM2_ALG_ECSCHNORR: return "ecschnorr";
    case TPM2_ALG_HMAC: return "hmac";
    case TPM2_ALG_ECC: return "ecc";
    case TPM2_ALG_CFB: return "cfb";
    default: return absl::StrFormat("alg-0x%04x", alg);
  }
}

uint16_t HashAlgFromName(std::string_view name) {
  if (name == "sha1") return TPM2_ALG_SHA1;
  if (name == "sha256") return TPM2_ALG_SHA256;
  if (name == "sha384") return TPM2_ALG_SHA384;
  if (name == "sha512") return TPM2_ALG_SHA512;
  return 0;
}

absl::StatusOr<Bytes> ComputeName(const Public& pub) {
  TWI_ASSIGN_OR_RETURN(Bytes digest, Hash(pub.area.nameAlg, pub.marshalled));
  Bytes name = {static_cast<uint8_t>(pub.area.nameAlg >> 8),
                static_cast<uint8_t>(pub.area.nameAlg & 0xFF)};
  name.insert(name.end(), digest.begin(), digest.end());
  return name;
}

absl::StatusOr<EvpPkeyPtr> PublicKey(const Public& pub) {
  switch (pub.area.type) {
    case TPM2_ALG_RSA: return RsaKey(pub.area);
    case TPM2_ALG_ECC: return EccKey(pub.area);
    default:
      return absl::InvalidArgumentError(
          StrCat("tpmt_public: type ", AlgName(pub.area.type), ", want rsa or ecc"));
  }
}

absl::StatusOr<Bytes> PublicSpki(const Public& pub) {
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr key, PublicKey(pub));
  return PublicKeyToSpki(key.get());
}

}  // namespace twi::tpm
