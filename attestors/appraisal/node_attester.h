// Agent side of twi/v1 node attestation: builds the payload and answers the server's
// challenge with the transcript signature and evidence bound to the nonce.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/appraisal/evidence.h"
#include "attestors/core/crypto.h"
#include "attestors/keybinding/pending_key.h"

namespace twi::appraisal {

// Loads the agent's instance key from `<state_dir>/instance_key.der`, or generates and stores
// it (directory 0700, file 0600, written atomically). Errors name the path and the reason.
absl::StatusOr<EvpPkeyPtr> LoadOrCreateInstanceKey(const std::string& state_dir);

class NodeAttester {
 public:
  // With `svid_keys` (the twi KeyManager), every attestation binds its pending SVID key
  // (keybinding/binding.h) and fails when it cannot; without, only the instance key is bound.
  NodeAttester(EvpPkeyPtr instance_key, std::vector<std::unique_ptr<EvidenceCollector>> collectors,
               std::shared_ptr<const keybinding::PendingKeyService> svid_keys = nullptr);

  // The first message; the caller keeps it for Respond (the transcript covers it).
  absl::StatusOr<Bytes> Payload() const;
  // Answers `challenge` for the stream that sent `payload`.
  absl::StatusOr<Bytes> Respond(ByteView challenge, ByteView payload) const;

  const Bytes& instance_key_spki() const { return spki_; }

 private:
  EvpPkeyPtr key_;
  Bytes spki_;
  std::vector<std::unique_ptr<EvidenceCollector>> collectors_;
  std::shared_ptr<const keybinding::PendingKeyService> svid_keys_;
};

}  // namespace twi::appraisal
