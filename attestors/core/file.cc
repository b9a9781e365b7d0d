#include "attestors/core/file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "attestors/core/str.h"

namespace twi {

int ReadFileErrno(const std::string& path, Bytes* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  out->clear();
  uint8_t buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    out->insert(out->end(), buf, buf + n);
  }
  ::close(fd);
  return 0;
}

absl::StatusOr<Bytes> ReadFileBytes(const std::string& path) {
  Bytes out;
  int err = ReadFileErrno(path, &out);
  if (err == 0) return out;
  std::string msg = twi::StrCat("cannot read \"", path, "\": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InvalidArgumentError(msg);
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  auto b = ReadFileBytes(path);
  if (!b.ok()) return b.status();
  return std::string(AsString(*b));
}

}  // namespace twi
