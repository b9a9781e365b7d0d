#include "attestors/tpm/credential.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"

namespace twi::tpm {
namespace {

void AppendBe32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}
void Append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }
// Labels are hashed with their terminating NUL (Part 1 11.4.10.2).
void AppendLabel(Bytes& out, std::string_view label) {
  Append(out, AsBytes(label));
  out.push_back(0);
}

template <typename T>
absl::StatusOr<Bytes> Marshal(const T& v, TSS2_RC (*fn)(const T*, uint8_t[], size_t, size_t*),
                              std::string_view name) {
  Bytes out(sizeof(T) + 8);
  size_t offset = 0;
  TSS2_RC rc = fn(&v, out.data(), out.size(), &offset);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::InternalError(absl::StrFormat("marshal %s: rc 0x%08x", std::string(name), rc));
  }
  out.resize(offset);
  return out;
}

struct EkCheck {
  const EVP_MD* md = nullptr;
  size_t digest_size = 0;
  const EVP_CIPHER* cipher = nullptr;
  size_t sym_bits = 0;
};

absl::StatusOr<EkCheck> CheckEk(const Public& ek) {
  const TPMT_PUBLIC& a = ek.area;
  EkCheck c;
  c.md = HashMd(a.nameAlg);
  if (c.md == nullptr) return Invalid(StrCat("ek nameAlg ", AlgName(a.nameAlg), " is not supported"));
  c.digest_size = DigestSize(a.nameAlg);
  const uint32_t want = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  if ((a.objectAttributes & want) != want || (a.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT)) {
    return Invalid(absl::StrFormat(
        "ek objectAttributes 0x%08x, want a restricted decryption key (restricted, decrypt, not "
        "sign)", a.objectAttributes));
  }
  const TPMT_SYM_DEF_OBJECT* sym = nullptr;
  if (a.type == TPM2_ALG_RSA) {
    sym = &a.parameters.rsaDetail.symmetric;
  } else if (a.type == TPM2_ALG_ECC) {
    sym = &a.parameters.eccDetail.symmetric;
  } else {
    return Invalid(StrCat("ek type ", AlgName(a.type), ", want rsa or ecc"));
  }
  if (sym->algorithm != TPM2_ALG_AES || sym->mode.aes != TPM2_ALG_CFB) {
    return Invalid(StrCat("ek symmetric ", AlgName(sym->algorithm), "-", AlgName(sym->mode.aes),
                          ", want aes-cfb"));
  }
  c.sym_bits = sym->keyBits.aes;
  if (c.sym_bits == 128) {
    c.cipher = EVP_aes_128_cfb128();
  } else if (c.sym_bits == 256) {
    c.cipher = EVP_aes_256_cfb128();
  } else {
    return Invalid(StrCat("ek aes key of ", c.sym_bits, " bits, want 128 or 256"));
  }
  return c;
}

// RSA EK: a random seed, OAEP-encrypted under the EK with label "IDENTITY\0".
absl::Status RsaSeed(const Public& ek, const EkCheck& c, Bytes* seed, Bytes* encrypted) {
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr key, PublicKey(ek));
  TWI_ASSIGN_OR_RETURN(*seed, RandomBytes(c.digest_size));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  static constexpr char kLabel[] = "IDENTITY";  // sizeof includes the NUL the TPM expects
  void* label = OPENSSL_memdup(kLabel, sizeof(kLabel));
  if (ctx == nullptr || label == nullptr || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), c.md) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), c.md) != 1) {
    OPENSSL_free(label);
    return OpenSslError("makecredential: rsa-oaep setup");
  }
  if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, sizeof(kLabel)) != 1) {
    OPENSSL_free(label);
    return OpenSslError("makecredential: rsa-oaep label");
  }
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, seed->data(), seed->size()) != 1) {
    return OpenSslError("makecredential: rsa-oaep");
  }
  encrypted->resize(len);
  if (EVP_PKEY_encrypt(ctx.get(), encrypted->data(), &len, seed->data(), seed->size()) != 1) {
    return OpenSslError("makecredential: rsa-oaep");
  }
  encrypted->resize(len);
  return absl::OkStatus();
}

absl::StatusOr<Bytes> BnParam(EVP_PKEY* key, const char* name, size_t bytes) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return OpenSslError("makecredential: ec point");
  Bytes out(bytes);
  int ok = BN_bn2binpad(bn, out.data(), static_cast<int>(out.size()));
  BN_free(bn);
  if (ok < 0) return OpenSslError("makecredential: ec coordinate");
  return out;
}

// ECC EK: ECDH with an ephemeral key on the EK's curve, seed = KDFe over the shared x; the
// ephemeral point (a marshalled TPMS_ECC_POINT) is the encrypted secret.
absl::Status EccSeed(const Public& ek, const EkCheck& c, Bytes* seed, Bytes* encrypted) {
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr peer, PublicKey(ek));
  const size_t coord = static_cast<size_t>((EVP_PKEY_get_bits(peer.get()) + 7) / 8);
  EvpPkeyCtxPtr gen(EVP_PKEY_CTX_new_from_pkey(nullptr, peer.get(), nullptr));
  EVP_PKEY* eph_raw = nullptr;
  if (gen == nullptr || EVP_PKEY_keygen_init(gen.get()) != 1 ||
      EVP_PKEY_keygen(gen.get(), &eph_raw) != 1) {
    return OpenSslError("makecredential: ephemeral ec key");
  }
  EvpPkeyPtr eph(eph_raw);
  EvpPkeyCtxPtr dh(EVP_PKEY_CTX_new_from_pkey(nullptr, eph.get(), nullptr));
  size_t zlen = 0;
  if (dh == nullptr || EVP_PKEY_derive_init(dh.get()) != 1 ||
      EVP_PKEY_derive_set_peer(dh.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(dh.get(), nullptr, &zlen) != 1) {
    return OpenSslError("makecredential: ecdh");
  }
  Bytes z(zlen);
  if (EVP_PKEY_derive(dh.get(), z.data(), &zlen) != 1) return OpenSslError("makecredential: ecdh");
  z.resize(zlen);
  TWI_ASSIGN_OR_RETURN(Bytes x, BnParam(eph.get(), OSSL_PKEY_PARAM_EC_PUB_X, coord));
  TWI_ASSIGN_OR_RETURN(Bytes y, BnParam(eph.get(), OSSL_PKEY_PARAM_EC_PUB_Y, coord));
  const TPM2B_ECC_PARAMETER& ek_x = ek.area.unique.ecc.x;
  TWI_ASSIGN_OR_RETURN(*seed, KdfE(ek.area.nameAlg, z, "IDENTITY", x,
                                   ByteView(ek_x.buffer, ek_x.size), c.digest_size * 8));
  OPENSSL_cleanse(z.data(), z.size());
  TPMS_ECC_POINT point{};
  point.x.size = static_cast<uint16_t>(coord);
  std::memcpy(point.x.buffer, x.data(), coord);
  point.y.size = static_cast<uint16_t>(coord);
  std::memcpy(point.y.buffer, y.data(), coord);
  TWI_ASSIGN_OR_RETURN(*encrypted, Marshal(point, Tss2_MU_TPMS_ECC_POINT_Marshal, "tpms_ecc_point"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Bytes> KdfA(uint16_t hash_alg, ByteView key, std::string_view label,
                           ByteView context_u, ByteView context_v, size_t bits) {
  const EVP_MD* md = HashMd(hash_alg);
  if (md == nullptr || bits == 0 || bits % 8 != 0) {
    return Invalid(StrCat("kdfa: ", AlgName(hash_alg), " for ", bits, " bits"));
  }
  Bytes out;
  for (uint32_t counter = 1; out.size() * 8 < bits; ++counter) {
    Bytes in;
    AppendBe32(in, counter);
    AppendLabel(in, label);
    Append(in, context_u);
    Append(in, context_v);
    AppendBe32(in, static_cast<uint32_t>(bits));
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(md, key.data(), static_cast<int>(key.size()), in.data(), in.size(), mac, &len) ==
        nullptr) {
      return OpenSslError("kdfa: hmac");
    }
    out.insert(out.end(), mac, mac + len);
  }
  out.resize(bits / 8);
  return out;
}

absl::StatusOr<Bytes> KdfE(uint16_t hash_alg, ByteView z, std::string_view label,
                           ByteView party_u, ByteView party_v, size_t bits) {
  if (HashMd(hash_alg) == nullptr || bits == 0 || bits % 8 != 0) {
    return Invalid(StrCat("kdfe: ", AlgName(hash_alg), " for ", bits, " bits"));
  }
  Bytes out;
  for (uint32_t counter = 1; out.size() * 8 < bits; ++counter) {
    Bytes in;
    AppendBe32(in, counter);
    Append(in, z);
    AppendLabel(in, label);
    Append(in, party_u);
    Append(in, party_v);
    TWI_ASSIGN_OR_RETURN(Bytes h, Hash(hash_alg, in));
    Append(out, h);
  }
  out.resize(bits / 8);
  return out;
}

absl::StatusOr<Credential> MakeCredential(const Public& ek, ByteView ak_name, ByteView secret) {
  TWI_ASSIGN_OR_RETURN(EkCheck c, CheckEk(ek));
  if (secret.empty() || secret.size() > c.digest_size) {
    return Invalid(StrCat("makecredential: secret of ", secret.size(), " bytes, want 1..",
                          c.digest_size, " (ek nameAlg digest size)"));
  }
  if (ak_name.size() < 2 || DigestSize(static_cast<uint16_t>(ak_name[0] << 8 | ak_name[1])) + 2 !=
                                ak_name.size()) {
    return Invalid(StrCat("makecredential: ak name of ", ak_name.size(),
                          " bytes is not nameAlg || digest"));
  }
  Bytes seed, encrypted;
  if (ek.area.type == TPM2_ALG_RSA) {
    TWI_RETURN_IF_ERROR(RsaSeed(ek, c, &seed, &encrypted));
  } else {
    TWI_RETURN_IF_ERROR(EccSeed(ek, c, &seed, &encrypted));
  }

  // encIdentity: the marshalled TPM2B_DIGEST credential, AES-CFB with a zero IV.
  TPM2B_DIGEST cred{};
  cred.size = static_cast<uint16_t>(secret.size());
  std::memcpy(cred.buffer, secret.data(), secret.size());
  TWI_ASSIGN_OR_RETURN(Bytes plain, Marshal(cred, Tss2_MU_TPM2B_DIGEST_Marshal, "tpm2b_digest"));
  TWI_ASSIGN_OR_RETURN(Bytes sym_key, KdfA(ek.area.nameAlg, seed, "STORAGE", ak_name, {},
                                           c.sym_bits));
  Bytes enc_identity(plain.size());
  {
    struct CipherCtxDeleter { void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); } };
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
    uint8_t iv[16] = {};
    int len = 0, tail = 0;
    if (ctx == nullptr ||
        EVP_EncryptInit_ex(ctx.get(), c.cipher, nullptr, sym_key.data(), iv) != 1 ||
        EVP_EncryptUpdate(ctx.get(), enc_identity.data(), &len, plain.data(),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), enc_identity.data() + len, &tail) != 1) {
      return OpenSslError("makecredential: aes-cfb");
    }
  }
  OPENSSL_cleanse(sym_key.data(), sym_key.size());
  OPENSSL_cleanse(plain.data(), plain.size());

  // outerHMAC over encIdentity || AK Name.
  TWI_ASSIGN_OR_RETURN(Bytes hmac_key, KdfA(ek.area.nameAlg, seed, "INTEGRITY", {}, {},
                                            c.digest_size * 8));
  OPENSSL_cleanse(seed.data(), seed.size());
  Bytes mac_in = enc_identity;
  Append(mac_in, ak_name);
  TPM2B_DIGEST outer{};
  unsigned int mac_len = 0;
  if (HMAC(c.md, hmac_key.data(), static_cast<int>(hmac_key.size()), mac_in.data(),
           mac_in.size(), outer.buffer, &mac_len) == nullptr) {
    return OpenSslError("makecredential: hmac");
  }
  OPENSSL_cleanse(hmac_key.data(), hmac_key.size());
  outer.size = static_cast<uint16_t>(mac_len);

  // credentialBlob = TPM2B_DIGEST(outerHMAC) || encIdentity, as a TPM2B_ID_OBJECT.
  TWI_ASSIGN_OR_RETURN(Bytes blob, Marshal(outer, Tss2_MU_TPM2B_DIGEST_Marshal, "tpm2b_digest"));
  Append(blob, enc_identity);
  TPM2B_ID_OBJECT id{};
  if (blob.size() > sizeof(id.credential)) return absl::InternalError("makecredential: blob size");
  id.size = static_cast<uint16_t>(blob.size());
  std::memcpy(id.credential, blob.data(), blob.size());
  TPM2B_ENCRYPTED_SECRET es{};
  if (encrypted.size() > sizeof(es.secret)) {
    return absl::InternalError("makecredential: secret size");
  }
  es.size = static_cast<uint16_t>(encrypted.size());
  std::memcpy(es.secret, encrypted.data(), encrypted.size());
  Credential out;
  TWI_ASSIGN_OR_RETURN(out.id_object, Marshal(id, Tss2_MU_TPM2B_ID_OBJECT_Marshal,
                                              "tpm2b_id_object"));
  TWI_ASSIGN_OR_RETURN(out.encrypted_secret, Marshal(es, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal,
                                                     "tpm2b_encrypted_secret"));
  return out;
}

}  // namespace twi::tpm
