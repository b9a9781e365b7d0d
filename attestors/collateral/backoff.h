// Retrying GETs for rate-limited collateral services. AMD KDS answers 429 when a client asks too
// often; Retry-After, when present, says how long to wait.
//
// What this does not do: cache, or retry anything but 429, 502, 503, 504 and transport errors
// (a 404 or 400 will not change by asking again).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/collateral/http.h"
#include "attestors/core/clock.h"

namespace twi::collateral {

// The delay a Retry-After value asks for (RFC 9110 10.2.3): delta-seconds ("120") or an
// IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `now`; past dates mean 0).
// nullopt for anything else, including values too large to represent.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, TimePoint now);

struct BackoffOptions {
  int max_attempts = 4;  // including the first
  std::chrono::milliseconds initial_delay{1000};  // without Retry-After: 1s, 2s, 4s, ...
  // The longest wait accepted. A Retry-After beyond it ends the retries at once: waiting an hour
  // inside one attestation is worse than failing it.
  std::chrono::milliseconds max_delay{60'000};
};

// GETs `url`, retrying as described above. Returns the last response (whatever its status) or
// the last transport error. `clock` is read only to interpret date-form Retry-After values.
absl::StatusOr<HttpResponse> GetWithBackoff(HttpGetter& http, const std::string& url,
                                            const BackoffOptions& options, Sleeper& sleeper,
                                            const Clock& clock);

}  // namespace twi::collateral
