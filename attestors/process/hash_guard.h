// Bounds what hashing executables can cost the agent (issue 15, item 6).
//
// A process that touches (and so re-ctimes) its large executable before every Workload API
// call forces a full hash per call, and a read on a hostile FUSE file system may never
// return. So a digest is computed:
//  * on a worker thread, waited for at most `timeout`; a stalled read then fails the call
//    with DEADLINE_EXCEEDED naming the file, and the worker keeps its slot until the read
//    returns (a thread blocked in the kernel cannot be cancelled);
//  * by at most `max_concurrent` workers; a call finding none free within its timeout fails
//    with RESOURCE_EXHAUSTED (so stalled reads cannot pile up threads);
//  * within a per-uid budget of bytes hashed per `budget_window` (cache misses only): above
//    it the call fails with RESOURCE_EXHAUSTED naming the uid. One user cannot spend the
//    agent's CPU on behalf of everyone else's attestations.
// Thread-safe. Workers share state through a shared_ptr, so the guard may be destroyed while
// a stalled worker is still blocked.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/process/exe_hash.h"

namespace twi::process {

struct HashGuardOptions {
  int max_concurrent = 2;
  std::chrono::milliseconds timeout{10000};
  uint64_t uid_budget_bytes = 4ull << 30;  // 0 = unlimited
  std::chrono::milliseconds budget_window{60000};
};

class HashGuard {
 public:
  explicit HashGuard(HashGuardOptions options);
  ~HashGuard();
  HashGuard(const HashGuard&) = delete;
  HashGuard& operator=(const HashGuard&) = delete;

  // HashFd(dup(fd), size, want_sha1, display) under the limits above, charged to `uid`.
  absl::StatusOr<ExeDigests> Hash(uint32_t uid, int fd, int64_t size, bool want_sha1,
                                  const std::string& display);

  // Workers still running (finished or abandoned after a timeout). For tests and stats.
  int in_flight() const;
  // Blocks until no worker runs (tests, after unblocking a stalled read).
  void WaitIdle() const;

  struct Shared;

 private:
  const HashGuardOptions opts_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace twi::process
