// OpenSSL 3 RAII types, digests, randomness and EC keys. Everything that touches libcrypto
// folds OpenSSL's error queue into the returned status message.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"

namespace twi {

struct EvpPkeyDeleter { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct EvpMdCtxDeleter { void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); } };
struct EvpPkeyCtxDeleter { void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); } };
struct X509Deleter { void operator()(X509* p) const { X509_free(p); } };
struct X509CrlDeleter { void operator()(X509_CRL* p) const { X509_CRL_free(p); } };
struct BioDeleter { void operator()(BIO* p) const { BIO_free(p); } };

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using X509CrlPtr = std::unique_ptr<X509_CRL, X509CrlDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

// Drains OpenSSL's thread-local error queue into one string ("" when empty).
std::string OpenSslErrors();
// An INTERNAL (or the given code) status "what: <openssl errors>".
absl::Status OpenSslError(std::string_view what,
                          absl::StatusCode code = absl::StatusCode::kInternal);

Bytes Sha256(ByteView data);
Bytes Sha384(ByteView data);
Bytes Sha512(ByteView data);

// Cryptographically secure random bytes.
absl::StatusOr<Bytes> RandomBytes(size_t n);

// EC P-256 keys for the agent's instance key.
absl::StatusOr<EvpPkeyPtr> GenerateP256Key();
// PKCS#8 DER private key <-> EVP_PKEY.
absl::StatusOr<Bytes> PrivateKeyToDer(EVP_PKEY* key);
absl::StatusOr<EvpPkeyPtr> PrivateKeyFromDer(ByteView der);
// SubjectPublicKeyInfo DER <-> EVP_PKEY.
absl::StatusOr<Bytes> PublicKeyToSpki(EVP_PKEY* key);
absl::StatusOr<EvpPkeyPtr> PublicKeyFromSpki(ByteView spki);

// ECDSA with SHA-256 (DER signature) over `message`.
absl::StatusOr<Bytes> SignSha256(EVP_PKEY* key, ByteView message);
// OK when `signature` verifies; INVALID_ARGUMENT "signature does not verify" otherwise.
absl::Status VerifySha256(EVP_PKEY* key, ByteView message, ByteView signature);

// ECDSA signatures as r || s (big-endian, `coord_bytes` each: 32 for P-256, as JWS and DCAP
// quotes carry them) <-> DER. Only the encoding changes; nothing is verified.
absl::StatusOr<Bytes> EcdsaRawToDer(ByteView rs);  // rs.size() even, r and s halves
absl::StatusOr<Bytes> EcdsaDerToRaw(ByteView der, size_t coord_bytes);

}  // namespace twi
