// A bounded, thread-safe map of immutable verification results, each usable only inside its
// own validity window. Verifiers cache what a cold path established about certificates and
// collateral (chains, CRLs, signed documents) until the earliest notAfter/nextUpdate among
// them; outside the window a lookup misses, so the cold path runs again and names what expired.
//
// Entry must have `TimePoint valid_from, valid_until` members. The key must capture everything
// the result depends on (input digests and the trust configuration).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "attestors/core/clock.h"

namespace twi {

template <typename Entry>
class ExpiringCache {
 public:
  explicit ExpiringCache(size_t max_entries = 4096) : max_entries_(max_entries) {}

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.clear();
  }

  // The entry for `key` when `at` lies inside its window, else nullptr.
  std::shared_ptr<const Entry> Lookup(const std::string& key, TimePoint at) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || at < it->second->valid_from || at > it->second->valid_until) {
      return nullptr;
    }
    return it->second;
  }

  // When full, entries expired at `at` go first, then an arbitrary one.
  void Insert(const std::string& key, std::shared_ptr<const Entry> e, TimePoint at) {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.size() >= max_entries_ && !entries_.contains(key)) {
      std::erase_if(entries_, [at](const auto& kv) { return kv.second->valid_until < at; });
      if (entries_.size() >= max_entries_) entries_.erase(entries_.begin());
    }
    entries_[key] = std::move(e);
  }

 private:
  size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Entry>> entries_;
};

}  // namespace twi
