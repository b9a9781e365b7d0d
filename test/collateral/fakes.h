// Test doubles for collateral clients: a clock moved by hand, a sleeper that only records, a
// getter that fails on any use, and a getter that holds chosen requests until released (for
// the "one stuck fetch never stalls another" and coalescing tests).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "attestors/collateral/http.h"
#include "attestors/core/clock.h"
#include "gtest/gtest.h"

namespace twi::collateral::testing {

class ManualClock : public Clock {
 public:
  explicit ManualClock(TimePoint t) : t_(t) {}
  TimePoint Now() const override { return t_; }
  void Advance(std::chrono::seconds d) { t_ += d; }

 private:
  TimePoint t_;
};

class RecordingSleeper : public Sleeper {
 public:
  std::vector<std::chrono::milliseconds> sleeps;
  void Sleep(std::chrono::milliseconds d) override { sleeps.push_back(d); }
};

// Fails the test if anything tries the network.
class NoNetwork : public HttpGetter {
 public:
  absl::StatusOr<HttpResponse> Get(const std::string& url) override {
    ADD_FAILURE() << "unexpected GET " << url;
    return absl::InternalError("no network in this test");
  }
};

// Answers each URL from Serve()d responses, else with `fallback`; requests whose URL contains
// `gate_on` (non-empty) wait until Open().
class GatedGetter : public HttpGetter {
 public:
  GatedGetter(HttpResponse fallback, std::string gate_on)
      : fallback_(std::move(fallback)), gate_on_(std::move(gate_on)) {}
  void Serve(const std::string& url, HttpResponse r) {
    std::lock_guard<std::mutex> l(mu_);
    routes_[url] = std::move(r);
  }
  absl::StatusOr<HttpResponse> Get(const std::string& url) override {
    std::unique_lock<std::mutex> l(mu_);
    ++calls_;
    ++calls_by_url_[url];
    if (!gate_on_.empty() && url.find(gate_on_) != std::string::npos) {
      ++blocked_;
      cv_.notify_all();
      cv_.wait(l, [&] { return open_; });
    }
    auto it = routes_.find(url);
    return it == routes_.end() ? fallback_ : it->second;
  }
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits (bounded: a liveness guard, not a timing assertion) until `n` requests are held.
  bool WaitBlocked(int n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(60), [&] { return blocked_ >= n; });
  }
  int calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }
  int calls(const std::string& url) {
    std::lock_guard<std::mutex> l(mu_);
    return calls_by_url_[url];
  }
  // Opens the gate when it goes out of scope, so a failed assertion never leaves a caller
  // blocked (declare it after the futures that wait for those callers).
  struct OpenOnExit {
    GatedGetter& g;
    ~OpenOnExit() { g.Open(); }
  };

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  HttpResponse fallback_;
  std::string gate_on_;
  std::map<std::string, HttpResponse> routes_;
  bool open_ = false;
  int calls_ = 0, blocked_ = 0;
  std::map<std::string, int> calls_by_url_;
};

}  // namespace twi::collateral::testing
