// Whole-file reads for configuration-named files (roots, policies, evidence).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"

namespace twi {

// Reads the whole file into `out`; returns 0, or the errno of the call that failed (for
// callers that map errors themselves, e.g. configfs attributes).
int ReadFileErrno(const std::string& path, Bytes* out);

// The file's bytes, or NOT_FOUND / PERMISSION_DENIED / INVALID_ARGUMENT naming the path.
absl::StatusOr<Bytes> ReadFileBytes(const std::string& path);
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace twi
