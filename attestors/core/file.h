// Whole-file reads for configuration-named files (roots, policies, evidence).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace twi {

// The file's bytes, or NOT_FOUND / PERMISSION_DENIED / INVALID_ARGUMENT naming the path.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace twi
