#include "attestors/process/exe_integrity.h"

#include <fcntl.h>

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "attestors/core/str.h"
#include "attestors/process/proc_io.h"

namespace twi::process {
namespace {

// The integer in `root`/`rel`, or nullopt when it cannot be read or parsed.
std::optional<int64_t> ReadSysctl(const std::string& root, const char* rel) {
  std::string path = twi::StrCat(root, "/", rel);
  auto text = ReadFileAt(AT_FDCWD, path.c_str(), path, 64, nullptr, true);
  int64_t v = 0;
  if (!text.ok() || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &v)) return std::nullopt;
  return v;
}

}  // namespace

ExeIntegrity ReadExeIntegrity(const std::string& proc_sys_root) {
  struct Rule {
    const char* file;
    const char* name;
    int64_t strong_value;
  };
  static constexpr Rule kRules[] = {
      {"user/max_user_namespaces", "user.max_user_namespaces", 0},
      {"kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone", 0},
      {"kernel/apparmor_restrict_unprivileged_userns",
       "kernel.apparmor_restrict_unprivileged_userns", 1},
  };
  std::string seen;
  for (const Rule& r : kRules) {
    auto v = ReadSysctl(proc_sys_root, r.file);
    if (!v) continue;
    if (*v == r.strong_value) return ExeIntegrity{true, twi::StrCat(r.name, " = ", *v)};
    seen += twi::StrCat(seen.empty() ? "" : ", ", r.name, " = ", *v);
  }
  return ExeIntegrity{
      false, twi::StrCat("unprivileged user namespaces are allowed (",
                         seen.empty() ? twi::StrCat("no setting readable under ", proc_sys_root)
                                      : seen,
                         "): a process can point /proc/<pid>/exe at any executable it can open")};
}

}  // namespace twi::process
