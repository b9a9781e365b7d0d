#include "attestors/collateral/backoff.h"

#include <array>
#include <cstdint>

#include "absl/status/status.h"

namespace twi::collateral {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int Digits(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Days since 1970-01-01 of a proleptic Gregorian date (the usual era-based conversion).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"): the one form servers must send. The
// obsolete RFC 850 and asctime forms are not accepted; such a value falls back to backoff.
std::optional<int64_t> ParseImfFixdate(std::string_view s) {
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  bool day_ok = false;
  for (auto d : kDays) day_ok = day_ok || s.substr(0, 3) == d;
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  std::string_view dd = s.substr(5, 2), yyyy = s.substr(12, 4), hh = s.substr(17, 2),
                   mi = s.substr(20, 2), ss = s.substr(23, 2);
  if (!day_ok || month == 0 || !AllDigits(dd) || !AllDigits(yyyy) || !AllDigits(hh) ||
      !AllDigits(mi) || !AllDigits(ss)) {
    return std::nullopt;
  }
  int day = Digits(dd), year = Digits(yyyy), hour = Digits(hh), min = Digits(mi), sec = Digits(ss);
  static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int month_days = kMonthDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
  if (day < 1 || day > month_days || hour > 23 || min > 59 || sec > 60) return std::nullopt;
  return DaysFromCivil(year, month, static_cast<unsigned>(day)) * 86400 + hour * 3600 + min * 60 +
         sec;
}

}  // namespace

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, TimePoint now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (AllDigits(value)) {
    // Ten digits is over 300 years; anything longer is nonsense and could overflow.
    if (value.size() > 10) return std::nullopt;
    int64_t v = 0;
    for (char c : value) v = v * 10 + (c - '0');
    return std::chrono::seconds(v);
  }
  std::optional<int64_t> at = ParseImfFixdate(value);
  if (!at) return std::nullopt;
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return std::chrono::seconds(*at > now_s ? *at - now_s : 0);
}

absl::StatusOr<HttpResponse> GetWithBackoff(HttpGetter& http, const std::string& url,
                                            const BackoffOptions& options, Sleeper& sleeper,
                                            const Clock& clock) {
  const int attempts = options.max_attempts > 0 ? options.max_attempts : 1;
  std::chrono::milliseconds delay = options.initial_delay;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpResponse> r = http.Get(url);
    bool retryable = r.ok() ? (r->status == 429 || r->status == 502 || r->status == 503 ||
                               r->status == 504)
                            : absl::IsUnavailable(r.status());
    if (!retryable || attempt >= attempts) return r;
    std::chrono::milliseconds wait = std::min(delay, options.max_delay);
    if (r.ok()) {
      std::optional<std::chrono::seconds> ra = ParseRetryAfter(r->Header("retry-after"), clock.Now());
      if (ra) {
        if (*ra > options.max_delay) return r;  // the server wants longer than we will wait
        wait = *ra;
      }
    }
    sleeper.Sleep(wait);
    delay = std::min(delay * 2, options.max_delay);
  }
}

}  // namespace twi::collateral
