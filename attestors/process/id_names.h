// Numeric uid/gid -> name, from a passwd(5) or group(5) file.
//
// Read from the file rather than through getpwuid/NSS: NSS may call out to LDAP or sssd,
// which is slow and can block every Workload API call. Names therefore come from the
// agent's view of the file system (for a containerized workload, the host's names, not the
// image's). The file is re-read only when its identity (inode, size, mtime, ctime) changes,
// and that identity is checked at most once per `recheck_interval` (a stat per call is a
// tenth of a warm attestation); names may therefore lag an edit by that long.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "attestors/process/exe_hash.h"

namespace twi::process {

using IdNameMap = std::unordered_map<uint32_t, std::string>;

// Parses passwd or group text: "name:password:id:...". The first name for an id wins (as
// getpwuid would return); comments, NIS "+"/"-" lines and malformed lines are skipped.
IdNameMap ParseIdNameFile(std::string_view text);

class IdNameFile {
 public:
  // `path` empty: no names.
  explicit IdNameFile(std::string path, std::chrono::steady_clock::duration recheck_interval = {});

  // The current map; re-reads the file when it changed. When it cannot be read the map is
  // empty and *note says why (names are optional, so this is not an error).
  std::shared_ptr<const IdNameMap> Current(std::string* note);

 private:
  const std::string path_;
  const std::chrono::steady_clock::duration recheck_interval_;
  std::mutex mu_;
  bool loaded_ = false;
  std::chrono::steady_clock::time_point checked_at_;
  FileIdentity identity_;
  std::shared_ptr<const IdNameMap> map_;
};

}  // namespace twi::process
