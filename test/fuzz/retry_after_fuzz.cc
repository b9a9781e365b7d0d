// Fuzzes the HTTP response pieces the collateral clients parse themselves: Retry-After values
// and raw header lines (everything else in a response goes to OpenSSL or is stored opaquely).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "attestors/collateral/backoff.h"
#include "attestors/collateral/http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const twi::TimePoint now = std::chrono::system_clock::from_time_t(1445412480);
  auto delay = twi::collateral::ParseRetryAfter(input, now);
  if (delay && delay->count() < 0) __builtin_trap();  // a wait is never negative
  std::string name, value;
  if (twi::collateral::ParseHeaderLine(input, &name, &value)) {
    if (name.empty() || name.size() + value.size() > size) __builtin_trap();
    twi::collateral::ParseRetryAfter(value, now);
  }
  return 0;
}
