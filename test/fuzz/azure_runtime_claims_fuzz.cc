// Fuzzes the Azure runtime-claims JSON parser (RSA JWKs, vm-configuration, user-data) and the
// base64url decoder under it: every accepted key is a usable public key with its SPKI.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attestors/azure/abi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::ByteView in(data, size);
  (void)twi::azure::Base64UrlDecode(twi::AsString(in));
  auto claims = twi::azure::ParseRuntimeClaims(in);
  if (!claims.ok()) return 0;
  if (claims->keys.size() > twi::azure::kMaxJwks) std::abort();
  for (const auto& k : claims->keys) {
    if (!k.key || k.spki.empty() || claims->FindKey(k.kid) != &k) std::abort();
  }
  return 0;
}
