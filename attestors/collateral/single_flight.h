// Coalescing of identical concurrent fetches (AMD KDS, Intel PCS): while one caller fetches a
// key, others asking for the same key wait for its result (success or failure) instead of
// sending the same request again. No lock is held while fetching, so fetches of different keys
// proceed side by side and one slow key never stalls another.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace twi::collateral {

template <typename T>
class SingleFlight {
 public:
  // `lookup` (a cache check returning std::optional<T>) runs under this object's lock before a
  // fetch starts, so a result stored just before the previous fetch ended is seen; `fetch`
  // runs without any lock.
  template <typename Lookup, typename Fetch>
  T Do(const std::string& key, Lookup&& lookup, Fetch&& fetch) {
    std::shared_ptr<Call> mine;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (std::optional<T> hit = lookup()) return *std::move(hit);
      auto running = calls_.find(key);
      if (running != calls_.end()) {
        std::shared_ptr<Call> other = running->second;
        ++coalesced_;
        done_.wait(lock, [&] { return other->result.has_value(); });
        return *other->result;
      }
      mine = std::make_shared<Call>();
      calls_[key] = mine;
    }
    T result = fetch();
    {
      std::lock_guard<std::mutex> lock(mu_);
      mine->result = result;
      calls_.erase(key);
    }
    done_.notify_all();
    return result;
  }

  // How many callers waited for another's fetch.
  size_t coalesced() const {
    std::lock_guard<std::mutex> lock(mu_);
    return coalesced_;
  }

 private:
  struct Call {
    std::optional<T> result;
  };
  mutable std::mutex mu_;
  std::condition_variable done_;
  std::map<std::string, std::shared_ptr<Call>> calls_;
  size_t coalesced_ = 0;
};

}  // namespace twi::collateral
