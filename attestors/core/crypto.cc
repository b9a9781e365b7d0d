#include "attestors/core/str.h"
#include "attestors/core/crypto.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "absl/strings/str_cat.h"

namespace twi {

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

absl::Status OpenSslError(std::string_view what, absl::StatusCode code) {
  std::string errs = OpenSslErrors();
  std::string w(what);
  return absl::Status(code, errs.empty() ? w : twi::StrCat(w, ": ", errs));
}

Bytes Sha256(ByteView data) {
  Bytes out(SHA256_DIGEST_LENGTH);
  SHA256(data.data(), data.size(), out.data());
  return out;
}
Bytes Sha384(ByteView data) {
  Bytes out(SHA384_DIGEST_LENGTH);
  SHA384(data.data(), data.size(), out.data());
  return out;
}
Bytes Sha512(ByteView data) {
  Bytes out(SHA512_DIGEST_LENGTH);
  SHA512(data.data(), data.size(), out.data());
  return out;
}

absl::StatusOr<Bytes> RandomBytes(size_t n) {
  Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) return OpenSslError("RAND_bytes failed");
  return out;
}

absl::StatusOr<EvpPkeyPtr> GenerateP256Key() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating a P-256 key failed");
  return key;
}

absl::StatusOr<Bytes> PrivateKeyToDer(EVP_PKEY* key) {
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(key);
  if (p8 == nullptr) return OpenSslError("encoding a private key failed");
  unsigned char* der = nullptr;
  int len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (len <= 0) return OpenSslError("encoding a private key failed");
  Bytes out(der, der + len);
  OPENSSL_clear_free(der, len);
  return out;
}

absl::StatusOr<EvpPkeyPtr> PrivateKeyFromDer(ByteView der) {
  const unsigned char* p = der.data();
  PKCS8_PRIV_KEY_INFO* p8 = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()));
  if (p8 == nullptr) return OpenSslError("parsing a PKCS#8 private key failed", absl::StatusCode::kInvalidArgument);
  EvpPkeyPtr key(EVP_PKCS82PKEY(p8));
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (!key) return OpenSslError("parsing a PKCS#8 private key failed", absl::StatusCode::kInvalidArgument);
  return key;
}

absl::StatusOr<Bytes> PublicKeyToSpki(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return OpenSslError("encoding a public key failed");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<EvpPkeyPtr> PublicKeyFromSpki(ByteView spki) {
  const unsigned char* p = spki.data();
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  if (!key || p != spki.data() + spki.size()) {
    OpenSslErrors();
    return absl::InvalidArgumentError(
        twi::StrCat("public key is not a valid DER SubjectPublicKeyInfo (", spki.size(), " bytes)"));
  }
  return key;
}

absl::StatusOr<Bytes> SignSha256(EVP_PKEY* key, ByteView message) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return OpenSslError("signing failed");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
    return OpenSslError("signing failed");
  }
  sig.resize(len);
  return sig;
}

absl::Status VerifySha256(EVP_PKEY* key, ByteView message, ByteView signature) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return OpenSslError("signature verification setup failed");
  }
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                            message.size());
  OpenSslErrors();  // a bad signature leaves decode errors on the queue
  if (rc != 1) return absl::InvalidArgumentError("signature does not verify");
  return absl::OkStatus();
}

absl::StatusOr<Bytes> EcdsaRawToDer(ByteView rs) {
  if (rs.empty() || rs.size() % 2 != 0) {
    return absl::InvalidArgumentError(StrCat("ecdsa signature is ", rs.size(), " bytes; want r || s"));
  }
  size_t half = rs.size() / 2;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(rs.data(), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(rs.data() + half, static_cast<int>(half), nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return OpenSslError("ecdsa signature encoding failed");
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return OpenSslError("ecdsa signature encoding failed");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<Bytes> EcdsaDerToRaw(ByteView der, size_t coord_bytes) {
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return OpenSslError("ecdsa signature is not DER");
  Bytes out(2 * coord_bytes);
  int n = static_cast<int>(coord_bytes);
  bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), out.data(), n) == n &&
            BN_bn2binpad(ECDSA_SIG_get0_s(sig), out.data() + coord_bytes, n) == n;
  ECDSA_SIG_free(sig);
  if (!ok) return absl::InternalError(StrCat("ecdsa signature does not fit ", coord_bytes, "-byte coordinates"));
  return out;
}

}  // namespace twi
