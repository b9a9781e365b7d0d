// Small POSIX helpers for reading /proc and other files relative to a directory fd.
// Everything under /proc/<pid> is read through one directory fd so that every file comes
// from the same process instance: once that process exits, reads through the fd fail
// (ESRCH/ENOENT) instead of silently reaching a newer process that reused the pid.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace twi::process {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// "no such file or directory" style text for `err` (strerror, first letter lowercased).
std::string ErrnoText(int err);

// Maps errno to a status code: ENOENT/ESRCH -> NOT_FOUND, EACCES/EPERM -> PERMISSION_DENIED,
// anything else -> INTERNAL. The message is "<what>: <errno text>".
absl::Status ErrnoStatus(int err, std::string_view what);

// True for the errno values a read under /proc/<pid> returns once the process is gone.
inline bool IsGoneErrno(int err) { return err == 2 /*ENOENT*/ || err == 3 /*ESRCH*/; }

// Opens `path` (O_RDONLY | O_CLOEXEC | extra_flags).
absl::StatusOr<UniqueFd> OpenPath(const std::string& path, int extra_flags = 0);

// The whole content of `name` opened relative to `dirfd` (or an absolute path when dirfd is
// AT_FDCWD). `display` names the file in errors. Files larger than `max_bytes` are refused
// (RESOURCE_EXHAUSTED) so a hostile or broken file cannot make us allocate without bound.
// On failure the errno is stored in *err_out when given.
// `single_record`: the file is a one-record seq_file (/proc/<pid>/stat, status, cgroup) or
// a regular file, for which a short read means end of file; this saves the final read()
// that would return 0, on a path that runs for every Workload API call.
absl::StatusOr<std::string> ReadFileAt(int dirfd, const char* name, std::string_view display,
                                       size_t max_bytes, int* err_out = nullptr,
                                       bool single_record = false);

// Reads everything from an open fd, starting at its current offset.
absl::StatusOr<std::string> ReadAllFd(int fd, std::string_view display, size_t max_bytes,
                                      int* err_out = nullptr, bool single_record = false);

// readlinkat(dirfd, name) with the errno in *err_out on failure.
absl::StatusOr<std::string> ReadLinkAt(int dirfd, const char* name, std::string_view display,
                                       int* err_out = nullptr);

}  // namespace twi::process
