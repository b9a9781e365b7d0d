#include "attestors/process/proc_io.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "attestors/core/str.h"

namespace twi::process {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string ErrnoText(int err) {
  char buf[128];
  // GNU strerror_r returns a pointer that may or may not be `buf`.
  std::string s = ::strerror_r(err, buf, sizeof(buf));
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

absl::Status ErrnoStatus(int err, std::string_view what) {
  std::string msg = twi::StrCat(what, ": ", ErrnoText(err));
  switch (err) {
    case ENOENT:
    case ESRCH:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::StatusOr<UniqueFd> OpenPath(const std::string& path, int extra_flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | extra_flags);
  if (fd < 0) return ErrnoStatus(errno, twi::StrCat("cannot open ", path));
  return UniqueFd(fd);
}

absl::StatusOr<std::string> ReadAllFd(int fd, std::string_view display, size_t max_bytes,
                                      int* err_out, bool single_record) {
  std::string out;
  // /proc files report st_size 0, so read until EOF. The first 4 KiB chunk holds
  // status/stat/cgroup of nearly every process; chunks double (to 1 MiB) so a large file
  // such as a long IMA list costs few read() calls.
  size_t chunk = 4096;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + chunk);
    ssize_t n = ::read(fd, out.data() + old, chunk);
    if (n < 0) {
      int err = errno;
      out.resize(old);
      if (err == EINTR) continue;
      if (err_out) *err_out = err;
      return ErrnoStatus(err, twi::StrCat("cannot read ", display));
    }
    out.resize(old + static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      if (err_out) *err_out = EFBIG;
      return absl::ResourceExhaustedError(
          twi::StrCat(display, " is larger than ", max_bytes, " bytes"));
    }
    if (n == 0) break;
    if (single_record && static_cast<size_t>(n) < chunk) break;
    chunk = std::min<size_t>(chunk * 2, 1u << 20);
  }
  return out;
}

absl::StatusOr<std::string> ReadFileAt(int dirfd, const char* name, std::string_view display,
                                       size_t max_bytes, int* err_out, bool single_record) {
  int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err_out) *err_out = err;
    return ErrnoStatus(err, twi::StrCat("cannot open ", display));
  }
  UniqueFd owned(fd);
  return ReadAllFd(fd, display, max_bytes, err_out, single_record);
}

absl::StatusOr<std::string> ReadLinkAt(int dirfd, const char* name, std::string_view display,
                                       int* err_out) {
  // PATH_MAX-sized first try; grow for the rare longer link.
  std::string buf(4096, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dirfd, name, buf.data(), buf.size());
    if (n < 0) {
      int err = errno;
      if (err_out) *err_out = err;
      return ErrnoStatus(err, twi::StrCat("cannot read link ", display));
    }
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() >= (1u << 20)) {
      if (err_out) *err_out = ENAMETOOLONG;
      return absl::ResourceExhaustedError(twi::StrCat("link ", display, " is too long"));
    }
    buf.resize(buf.size() * 2);
  }
}

}  // namespace twi::process
