// Files for collateral caches: atomic replacement, so a reader (another process, or a server
// restarted mid-write) sees either the old file or the new one, never half of one.
#pragma once

#include <string>
#include <sys/types.h>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"

namespace twi::collateral {

// Writes `data` to a temporary file beside `path`, sets `mode` (umask does not apply), syncs,
// and renames it over `path`. Missing parent directories are created (0755).
absl::Status WriteFileAtomic(const std::string& path, ByteView data, mode_t mode = 0644);

// The whole file; NOT_FOUND when it does not exist, UNAVAILABLE for other read errors.
absl::StatusOr<Bytes> ReadWholeFile(const std::string& path);

}  // namespace twi::collateral
