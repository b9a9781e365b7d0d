// The twi KeyManager's keys: SPIRE's KeyManager v1 operations over in-memory keys
// (spire-keybinding-services.md 2.1-2.3), plus the pending key for the agent NodeAttestor.
// Keys live in this process only: after a restart SPIRE finds no key, generates one and
// re-attests (6.5 row 9), which is what key binding wants.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/crypto.h"
#include "attestors/keybinding/pending_key.h"
#include "spire/plugin/agent/keymanager/v1/keymanager.pb.h"

namespace twi::keymanager {

namespace pb = spire::plugin::agent::keymanager::v1;

inline constexpr size_t kMaxKeyIdBytes = 256;
inline constexpr size_t kMaxKeys = 64;

class KeyStore final : public keybinding::PendingKeyService {
 public:
  // Creates (or replaces) `key_id`; the new key becomes the pending key with the next
  // generation. INVALID_ARGUMENT for an empty/oversized ID or an unknown type.
  absl::StatusOr<pb::PublicKey> GenerateKey(const std::string& key_id, pb::KeyType type);
  // NOT_FOUND when absent.
  absl::StatusOr<pb::PublicKey> GetPublicKey(const std::string& key_id) const;
  std::vector<pb::PublicKey> GetPublicKeys() const;
  // Signs `data`, a digest of the request's hash; ECDSA signatures are ASN.1 DER, RSA ones
  // PKCS#1 v1.5 or PSS (Go's salt length semantics). NOT_FOUND / INVALID_ARGUMENT otherwise.
  absl::StatusOr<pb::SignDataResponse> SignData(const pb::SignDataRequest& req) const;

  absl::StatusOr<keybinding::PendingKey> GetPendingKey() const override;
  absl::StatusOr<Bytes> SignBindingTranscript(ByteView nonce, ByteView payload_digest,
                                              uint64_t generation) const override;

 private:
  struct Entry {
    EvpPkeyPtr key;
    pb::PublicKey pub;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Entry>> keys_;
  std::shared_ptr<const Entry> pending_;
  uint64_t generation_ = 0;
};

}  // namespace twi::keymanager
