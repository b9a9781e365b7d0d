#include "attestors/keybinding/records.h"

#include "attestors/core/str.h"

namespace twi::keybinding {

RecordTable::RecordTable(RecordTableOptions options) : options_(options) {}

TimePoint RecordTable::Now() const {
  return options_.clock != nullptr ? options_.clock->Now() : std::chrono::system_clock::now();
}

absl::Status CheckRecordKey(const std::string& agent_id, ByteView key_hash) {
  if (agent_id.empty() || agent_id.size() > kMaxAgentIdBytes) {
    return absl::InvalidArgumentError(
        twi::StrCat("binding record agent ID has ", agent_id.size(), " bytes, want 1-", kMaxAgentIdBytes));
  }
  if (key_hash.size() != kKeyHashBytes) {
    return absl::InvalidArgumentError(
        twi::StrCat("binding record key hash has ", key_hash.size(), " bytes, want ", kKeyHashBytes));
  }
  return absl::OkStatus();
}

void RecordTable::DropExpiredLocked(TimePoint now) {
  std::erase_if(records_, [now](const auto& kv) { return kv.second.expiry <= now; });
}

absl::Status RecordTable::Put(const std::string& agent_id, ByteView key_hash,
                              ByteView attestation_digest, ByteView ear_digest) {
  absl::Status s = CheckRecordKey(agent_id, key_hash);
  if (!s.ok()) return s;
  if (attestation_digest.size() > kMaxDigestBytes || ear_digest.size() > kMaxDigestBytes) {
    return absl::InvalidArgumentError(twi::StrCat("binding record digest too long, want at most ",
                                                  kMaxDigestBytes, " bytes"));
  }
  const TimePoint now = Now();
  std::lock_guard<std::mutex> l(mu_);
  DropExpiredLocked(now);
  auto key = std::make_pair(agent_id, Bytes(key_hash.begin(), key_hash.end()));
  if (records_.size() >= options_.max_records && records_.find(key) == records_.end()) {
    return absl::ResourceExhaustedError(twi::StrCat("binding record table full (", options_.max_records,
                                                    " live records)"));
  }
  records_[std::move(key)] = BindingRecord{
      now + options_.ttl, Bytes(attestation_digest.begin(), attestation_digest.end()),
      Bytes(ear_digest.begin(), ear_digest.end())};
  return absl::OkStatus();
}

absl::StatusOr<BindingRecord> RecordTable::Take(const std::string& agent_id, ByteView key_hash) {
  absl::Status s = CheckRecordKey(agent_id, key_hash);
  if (!s.ok()) return s;
  const TimePoint now = Now();
  std::lock_guard<std::mutex> l(mu_);
  auto it = records_.find(std::make_pair(agent_id, Bytes(key_hash.begin(), key_hash.end())));
  if (it == records_.end()) {
    DropExpiredLocked(now);
    return absl::NotFoundError("no binding record for this agent ID and key");
  }
  BindingRecord r = std::move(it->second);
  records_.erase(it);
  DropExpiredLocked(now);
  if (r.expiry <= now) return absl::NotFoundError("binding record expired");
  return r;
}

void RecordTable::set_ttl(std::chrono::milliseconds ttl) {
  std::lock_guard<std::mutex> l(mu_);
  options_.ttl = ttl;
}

size_t RecordTable::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return records_.size();
}

}  // namespace twi::keybinding
