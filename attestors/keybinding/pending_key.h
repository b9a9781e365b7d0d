// What the twi KeyManager offers the twi agent NodeAttestor: the pending SVID key (the one
// SPIRE's last GenerateKey created, i.e. the key of the CSR about to be sent) and a signature
// by it over the fixed PoP transcript (binding.h). Implemented by the KeyManager's key store
// and, across the local socket, by KeySocketClient.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"

namespace twi::keybinding {

struct PendingKey {
  std::string key_id;       // SPIRE's slot, e.g. "agent-svid-A"
  Bytes spki;               // DER SubjectPublicKeyInfo
  uint64_t generation = 0;  // 1 for the first GenerateKey, +1 for each after
  std::string fingerprint;  // as the KeyManager reported it to SPIRE
};

class PendingKeyService {
 public:
  virtual ~PendingKeyService() = default;
  // FAILED_PRECONDITION when no key was generated yet.
  virtual absl::StatusOr<PendingKey> GetPendingKey() const = 0;
  // Signs PopTranscript(nonce, payload_digest, pending SPKI, generation) with the pending key.
  // FAILED_PRECONDITION "... generation got N, want M" when `generation` is not the pending
  // key's (the key changed since GetPendingKey); INVALID_ARGUMENT for wrong sizes.
  virtual absl::StatusOr<Bytes> SignBindingTranscript(ByteView nonce, ByteView payload_digest,
                                                      uint64_t generation) const = 0;
};

}  // namespace twi::keybinding
