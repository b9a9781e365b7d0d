// Binding records (spec spire-keybinding-services.md 6.4, option S1): what the server
// NodeAttestor hands to the CredentialComposer about one successful key-bound attestation.
//
// A record says "agent ID X attested with evidence that bound the key whose SPKI hashes to
// K". The composer consumes it when SPIRE asks it to compose that agent's X509-SVID for a
// CSR key hashing to K; without one, issuance is refused. Records are keyed by (agent ID,
// key hash), so two attestations for one ID with different keys (retries, duplicated agents,
// spec 6.5 row 3) keep separate records; each is consumed once and expires after a short
// TTL (SPIRE calls the composer within the same AttestAgent call, milliseconds later).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"

namespace twi::keybinding {

inline constexpr size_t kKeyHashBytes = 32;     // SHA-256(SPKI)
inline constexpr size_t kMaxAgentIdBytes = 2048;  // SPIFFE IDs are at most 2048 bytes
inline constexpr size_t kMaxDigestBytes = 64;

struct BindingRecord {
  TimePoint expiry;
  Bytes attestation_digest;  // SHA-256 of the attestation exchange (payload, challenge, response)
  Bytes ear_digest;          // SHA-256 of the attestation result (EAR), empty when none
};

struct RecordTableOptions {
  std::chrono::milliseconds ttl{std::chrono::seconds(60)};
  // Live records kept at most; a Put beyond it fails (the attestation then fails: an agent
  // flood must not grow the server's memory without bound).
  size_t max_records = 4096;
  const Clock* clock = nullptr;  // null: system clock
};

class RecordTable {
 public:
  explicit RecordTable(RecordTableOptions options = {});

  // Adds (or refreshes) the record for (agent_id, key_hash), expiring ttl from now.
  absl::Status Put(const std::string& agent_id, ByteView key_hash, ByteView attestation_digest,
                   ByteView ear_digest);
  // Removes and returns the record; NOT_FOUND when there is none or it expired (the message
  // says which).
  absl::StatusOr<BindingRecord> Take(const std::string& agent_id, ByteView key_hash);
  size_t size() const;
  // For reconfiguration: applies to records put from now on.
  void set_ttl(std::chrono::milliseconds ttl);

 private:
  TimePoint Now() const;
  void DropExpiredLocked(TimePoint now);

  RecordTableOptions options_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, Bytes>, BindingRecord> records_;
};

// Checks the fields of a record request (sizes), the same for Put and Take.
absl::Status CheckRecordKey(const std::string& agent_id, ByteView key_hash);

}  // namespace twi::keybinding
