#include "attestors/process/hash_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include <openssl/crypto.h>

#include "attestors/core/str.h"
#include "attestors/process/proc_io.h"

namespace twi::process {

struct HashGuard::Shared {
  mutable std::mutex mu;
  mutable std::condition_variable cv;  // a worker finished
  int running = 0;
  struct Budget {
    std::chrono::steady_clock::time_point window_start;
    uint64_t bytes = 0;
  };
  std::map<uint32_t, Budget> budgets;
};

namespace {

struct Job {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  absl::StatusOr<ExeDigests> result = absl::UnknownError("not run");
};

}  // namespace

HashGuard::HashGuard(HashGuardOptions options)
    : opts_(options), shared_(std::make_shared<Shared>()) {}

HashGuard::~HashGuard() = default;

int HashGuard::in_flight() const {
  std::lock_guard<std::mutex> l(shared_->mu);
  return shared_->running;
}

void HashGuard::WaitIdle() const {
  std::unique_lock<std::mutex> l(shared_->mu);
  shared_->cv.wait(l, [&] { return shared_->running == 0; });
}

absl::StatusOr<ExeDigests> HashGuard::Hash(uint32_t uid, int fd, int64_t size, bool want_sha1,
                                           const std::string& display) {
  const auto deadline = std::chrono::steady_clock::now() + opts_.timeout;
  {
    std::unique_lock<std::mutex> l(shared_->mu);
    if (opts_.uid_budget_bytes > 0) {
      auto now = std::chrono::steady_clock::now();
      // Forget uids whose window is over, so the map stays as small as the active users.
      for (auto it = shared_->budgets.begin(); it != shared_->budgets.end();) {
        it = now - it->second.window_start >= opts_.budget_window ? shared_->budgets.erase(it)
                                                                   : std::next(it);
      }
      auto [it, fresh] = shared_->budgets.try_emplace(uid);
      if (fresh) it->second.window_start = now;
      if (it->second.bytes + static_cast<uint64_t>(size) > opts_.uid_budget_bytes) {
        return absl::ResourceExhaustedError(twi::StrCat(
            "uid ", uid, " used its hashing budget (", it->second.bytes, " of ",
            opts_.uid_budget_bytes, " bytes per ", opts_.budget_window.count(),
            " ms; ", display, " needs ", size, "): no digest until the window ends"));
      }
      it->second.bytes += static_cast<uint64_t>(size);
    }
    if (!shared_->cv.wait_until(l, deadline,
                                [&] { return shared_->running < opts_.max_concurrent; })) {
      // Nothing was hashed: give the bytes back (the window may have been reset meanwhile).
      if (auto it = shared_->budgets.find(uid); opts_.uid_budget_bytes > 0 && it != shared_->budgets.end()) {
        it->second.bytes -= std::min(it->second.bytes, static_cast<uint64_t>(size));
      }
      return absl::ResourceExhaustedError(twi::StrCat(
          "no hashing slot for ", display, " within ", opts_.timeout.count(), " ms (",
          opts_.max_concurrent, " hashes running, max_concurrent_hashes)"));
    }
    ++shared_->running;
  }
  int dupfd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dupfd < 0) {
    int err = errno;
    std::lock_guard<std::mutex> l(shared_->mu);
    --shared_->running;
    shared_->cv.notify_all();
    return ErrnoStatus(err, twi::StrCat("cannot dup the fd of ", display));
  }
  auto job = std::make_shared<Job>();
  // Detached: a worker blocked in read() must not block the caller (nor the guard's
  // destruction); it holds its fd, job and the shared counters until the read returns.
  std::thread([shared = shared_, job, dupfd, size, want_sha1, display] {
    auto r = HashFd(dupfd, size, want_sha1, display);
    ::close(dupfd);
    // Free OpenSSL's per-thread state (its error queue) now, before the caller is woken: the
    // process may exit while this detached thread is still on its way out.
    OPENSSL_thread_stop();
    {
      std::lock_guard<std::mutex> l(job->mu);
      job->result = std::move(r);
      job->done = true;
    }
    job->cv.notify_all();
    std::lock_guard<std::mutex> l(shared->mu);
    --shared->running;
    shared->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> l(job->mu);
  if (!job->cv.wait_until(l, deadline, [&] { return job->done; })) {
    return absl::DeadlineExceededError(twi::StrCat(
        "hashing ", display, " did not finish within ", opts_.timeout.count(),
        " ms (hash_timeout_ms; a stalled read on a slow or hostile file system?)"));
  }
  return job->result;
}

}  // namespace twi::process
