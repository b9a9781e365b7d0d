#include "attestors/core/file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "attestors/core/str.h"

namespace twi {

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    int err = errno;
    std::string msg = twi::StrCat("cannot read \"", path, "\": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InvalidArgumentError(msg);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace twi
