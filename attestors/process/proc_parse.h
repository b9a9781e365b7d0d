// Parsers for the text of /proc/<pid>/stat and /proc/<pid>/status (proc(5)). Pure functions
// over strings: no I/O, so they are fuzzed and tested on fixtures. They reject only
// structural problems; what the values mean is the inspector's business.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace twi::process {

// The fields of /proc/<pid>/stat the attestor uses.
struct ProcStat {
  int64_t pid = 0;          // field 1
  std::string comm;         // field 2, without the parentheses
  char state = '?';         // field 3: R, S, D, Z (zombie), X (dead), ...
  uint64_t flags = 0;       // field 9: PF_* flags (PF_EXITING 0x4, PF_KTHREAD 0x200000)
  uint64_t start_time = 0;  // field 22: clock ticks after boot; with the pid it names one
                            // process instance for the lifetime of the boot
};

// `comm` may contain spaces and ')' (a process can name itself "a) b"), so the fields after
// it are located from the LAST ')' in the text, as proc(5) advises.
absl::StatusOr<ProcStat> ParseProcStat(std::string_view text);

inline constexpr uint64_t kPfExiting = 0x4;
inline constexpr uint64_t kPfKthread = 0x00200000;

// The fields of /proc/<pid>/status the attestor uses.
struct ProcStatus {
  uint32_t uid[4] = {0, 0, 0, 0};  // real, effective, saved set, filesystem
  uint32_t gid[4] = {0, 0, 0, 0};
  std::vector<uint32_t> groups;  // supplementary groups ("Groups:"), possibly empty
  uint32_t effective_uid() const { return uid[1]; }
  uint32_t effective_gid() const { return gid[1]; }
};

// Requires "Uid:" and "Gid:" with four ids each and a "Groups:" line (empty is fine).
absl::StatusOr<ProcStatus> ParseProcStatus(std::string_view text);

// readlink(/proc/<pid>/exe) of an unlinked executable ends in " (deleted)". Returns the link
// with that suffix removed and sets *had_suffix. Only the caller can tell a deleted file
// from a file really named "x (deleted)" (by its link count), so this does not decide.
std::string_view StripDeletedSuffix(std::string_view link, bool* had_suffix);

}  // namespace twi::process
