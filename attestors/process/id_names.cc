#include "attestors/process/id_names.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "attestors/core/str.h"
#include "attestors/process/proc_io.h"

namespace twi::process {
namespace {
constexpr size_t kMaxIdFile = 64u << 20;
}  // namespace

IdNameMap ParseIdNameFile(std::string_view text) {
  IdNameMap out;
  for (absl::string_view line : absl::StrSplit(ToAbsl(text), '\n')) {
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits(':', 3));
    if (f.size() < 3 || f[0].empty()) continue;
    uint32_t id;
    if (!absl::SimpleAtoi(f[2], &id)) continue;
    out.emplace(id, std::string(f[0]));  // emplace keeps the first
  }
  return out;
}

IdNameFile::IdNameFile(std::string path, std::chrono::steady_clock::duration recheck_interval)
    : path_(std::move(path)),
      recheck_interval_(recheck_interval),
      map_(std::make_shared<IdNameMap>()) {}

std::shared_ptr<const IdNameMap> IdNameFile::Current(std::string* note) {
  std::lock_guard<std::mutex> lock(mu_);
  if (path_.empty()) return map_;
  const auto now = std::chrono::steady_clock::now();
  if (loaded_ && now - checked_at_ < recheck_interval_) return map_;
  checked_at_ = now;
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    *note = std::string(ErrnoStatus(errno, twi::StrCat("cannot stat ", path_)).message());
    loaded_ = false;
    map_ = std::make_shared<IdNameMap>();
    return map_;
  }
  FileIdentity id = FileIdentity::FromStat(st);
  if (loaded_ && id == identity_) return map_;
  auto text = ReadFileAt(AT_FDCWD, path_.c_str(), path_, kMaxIdFile);
  if (!text.ok()) {
    *note = std::string(text.status().message());
    loaded_ = false;
    map_ = std::make_shared<IdNameMap>();
    return map_;
  }
  map_ = std::make_shared<IdNameMap>(ParseIdNameFile(*text));
  identity_ = id;
  loaded_ = true;
  return map_;
}

}  // namespace twi::process
