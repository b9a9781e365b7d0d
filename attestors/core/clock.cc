#include "attestors/core/str.h"
#include "attestors/core/clock.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace twi {

absl::StatusOr<TimePoint> ParseRfc3339(std::string_view s) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(s), &t, &err)) {
    return absl::InvalidArgumentError(twi::StrCat("invalid RFC 3339 time \"", s, "\": ", err));
  }
  return absl::ToChronoTime(t);
}

std::string FormatRfc3339(TimePoint t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromChrono(t), absl::UTCTimeZone());
}

}  // namespace twi
