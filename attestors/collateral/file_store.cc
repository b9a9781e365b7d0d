#include "attestors/collateral/file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "attestors/core/file.h"

#include "absl/strings/str_cat.h"

namespace twi::collateral {
namespace {

absl::Status Errno(const std::string& what, int err) {
  std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  return absl::UnavailableError(msg);
}

}  // namespace

absl::Status WriteFileAtomic(const std::string& path, ByteView data, mode_t mode) {
  std::filesystem::path p(path);
  std::error_code ec;
  std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("creating ", p.parent_path().string(), ": ", ec.message()));
  // Same directory as the target, so rename() stays on one filesystem and is atomic. The
  // leading dot keeps half-written files out of globbing tools.
  std::string tmp = (p.parent_path() / ("." + p.filename().string() + ".tmp-XXXXXX")).string();
  int fd = mkstemp(tmp.data());
  if (fd < 0) return Errno(absl::StrCat("creating a temporary file for ", path), errno);
  auto fail = [&](const std::string& what) {
    int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return Errno(what, err);
  };
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(absl::StrCat("writing ", tmp));
    done += static_cast<size_t>(n);
  }
  // mkstemp creates 0600; caches are read by other users (e.g. a CLI run by an operator).
  if (fchmod(fd, mode) != 0) return fail(absl::StrCat("chmod ", tmp));
  if (fsync(fd) != 0) return fail(absl::StrCat("fsync ", tmp));
  if (close(fd) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Errno(absl::StrCat("closing ", tmp), err);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Errno(absl::StrCat("renaming ", tmp, " to ", path), err);
  }
  return absl::OkStatus();
}

absl::StatusOr<Bytes> ReadWholeFile(const std::string& path) {
  Bytes out;
  int err = ReadFileErrno(path, &out);
  if (err != 0) return Errno(absl::StrCat("reading ", path), err);
  return out;
}

}  // namespace twi::collateral
