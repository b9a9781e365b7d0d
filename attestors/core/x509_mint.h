// Building blocks for minting certificates in the software simulators (sevsnp/sim, tdx/sim):
// extensions from OpenSSL config strings or opaque values, and PEM/DER encodings. Nothing here
// verifies anything; verifiers use x509.h.
#pragma once

#include <openssl/x509.h>

#include <initializer_list>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "attestors/core/bytes.h"
#include "attestors/core/crypto.h"

namespace twi {

struct X509NameDeleter { void operator()(X509_NAME* p) const { X509_NAME_free(p); } };
using X509NamePtr = std::unique_ptr<X509_NAME, X509NameDeleter>;

// A distinguished name from (field, UTF-8 value) pairs, in order ({"CN", "..."}, {"O", "..."}).
X509NamePtr MakeX509Name(std::initializer_list<std::pair<const char*, std::string_view>> entries);

// A standard extension from its OpenSSL config string ("critical,CA:TRUE", "hash", ...);
// `issuer` null means self-issued.
absl::Status AddConfExt(X509* x, X509* issuer, int nid, const char* value);
// A non-critical extension whose extnValue OCTET STRING holds `value` verbatim.
absl::Status AddOpaqueExt(X509* x, std::string_view oid, ByteView value);

Bytes X509Der(X509* x);         // empty on failure
std::string X509Pem(X509* x);   // empty on failure
std::string KeyPem(EVP_PKEY* key);  // PKCS#8 PEM, unencrypted; empty on failure

// A simulated hierarchy kept on disk so that an agent, the CLI and tests share one root: each
// item is `<stem>.pem` (0644) and `<stem>.key` (0600) in one directory.
struct MintedItem {
  std::string_view stem;
  X509Ptr* cert;
  EvpPkeyPtr* key;
};
// Fills every item from `dir`; FAILED_PRECONDITION naming the file that is missing or unreadable.
absl::Status LoadMinted(const std::filesystem::path& dir, std::span<const MintedItem> items);
// Writes every item into a fresh sibling directory, then renames it onto `dir`, so concurrent
// processes agree on one hierarchy: ALREADY_EXISTS when another process won the race (load
// theirs then).
absl::Status SaveMinted(const std::filesystem::path& dir, std::span<const MintedItem> items);

}  // namespace twi
