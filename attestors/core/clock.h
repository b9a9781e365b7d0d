// Time source, injected so tests can pin verification at a vector's fixed instant.
#pragma once

#include <chrono>
#include <ctime>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace twi {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint t) : t_(t) {}
  TimePoint Now() const override { return t_; }

 private:
  TimePoint t_;
};

// Parses RFC 3339 ("2024-01-01T00:00:00Z", optional fraction, "Z" or "+hh:mm").
absl::StatusOr<TimePoint> ParseRfc3339(std::string_view s);
// "2024-01-01T00:00:00Z" (seconds precision, UTC).
std::string FormatRfc3339(TimePoint t);
inline time_t ToTimeT(TimePoint t) { return std::chrono::system_clock::to_time_t(t); }

}  // namespace twi
