#include "attestors/collateral/backoff.h"

#include <deque>
#include <vector>

#include "gtest/gtest.h"

namespace twi::collateral {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// 2015-10-21T07:28:00Z
const TimePoint kNow = std::chrono::system_clock::from_time_t(1445412480);

TEST(collateral_retry_after, Table) {
  struct Case {
    std::string value;
    std::optional<seconds> want;
  };
  const Case cases[] = {
      {"0", seconds(0)},
      {"120", seconds(120)},
      {" 5\t", seconds(5)},
      {"9999999999", seconds(9999999999LL)},
      {"99999999999", std::nullopt},  // 11 digits: refused, not overflowed
      {"Wed, 21 Oct 2015 07:28:00 GMT", seconds(0)},
      {"Wed, 21 Oct 2015 07:30:30 GMT", seconds(150)},
      {"Thu, 22 Oct 2015 07:28:00 GMT", seconds(86400)},
      {"Tue, 20 Oct 2015 07:28:00 GMT", seconds(0)},  // in the past
      {"Mon, 29 Feb 2016 00:00:00 GMT", seconds(11291520)},  // leap day
      {"Mon, 29 Feb 2015 00:00:00 GMT", std::nullopt},  // not a leap year
      {"Wed, 21 Oct 2015 24:00:00 GMT", std::nullopt},
      {"Wed, 21 Xyz 2015 07:28:00 GMT", std::nullopt},
      {"Wednesday, 21-Oct-15 07:28:00 GMT", std::nullopt},  // RFC 850: not accepted
      {"Wed Oct 21 07:28:00 2015", std::nullopt},           // asctime: not accepted
      {"-1", std::nullopt},
      {"1.5", std::nullopt},
      {"", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseRetryAfter(c.value, kNow), c.want) << "\"" << c.value << "\"";
  }
}

// Replays scripted responses and records what was asked.
class ScriptedGetter : public HttpGetter {
 public:
  std::deque<absl::StatusOr<HttpResponse>> script;
  int calls = 0;
  absl::StatusOr<HttpResponse> Get(const std::string& url) override {
    ++calls;
    auto r = script.front();
    if (script.size() > 1) script.pop_front();
    return r;
  }
};

class RecordingSleeper : public Sleeper {
 public:
  std::vector<milliseconds> sleeps;
  void Sleep(milliseconds d) override { sleeps.push_back(d); }
};

HttpResponse Response(int status, std::string retry_after = "") {
  HttpResponse r;
  r.status = status;
  if (!retry_after.empty()) r.headers["retry-after"] = retry_after;
  return r;
}

struct BackoffTest : ::testing::Test {
  ScriptedGetter http;
  RecordingSleeper sleeper;
  FixedClock clock{kNow};
  BackoffOptions options;
};
using collateral_backoff = BackoffTest;

TEST_F(collateral_backoff, HonoursRetryAfterSeconds) {
  http.script = {Response(429, "3"), Response(429, "2"), Response(200)};
  auto r = GetWithBackoff(http, "u", options, sleeper, clock);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(http.calls, 3);
  EXPECT_EQ(sleeper.sleeps, (std::vector<milliseconds>{seconds(3), seconds(2)}));
}

TEST_F(collateral_backoff, HonoursRetryAfterDate) {
  http.script = {Response(503, "Wed, 21 Oct 2015 07:28:10 GMT"), Response(200)};
  auto r = GetWithBackoff(http, "u", options, sleeper, clock);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(sleeper.sleeps, (std::vector<milliseconds>{seconds(10)}));
}

TEST_F(collateral_backoff, ExponentialWithoutRetryAfterThenGivesUp) {
  http.script = {Response(429)};
  auto r = GetWithBackoff(http, "u", options, sleeper, clock);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(http.calls, 4);
  EXPECT_EQ(sleeper.sleeps,
            (std::vector<milliseconds>{milliseconds(1000), milliseconds(2000), milliseconds(4000)}));
}

TEST_F(collateral_backoff, DelaysAreCappedAtMaxDelay) {
  options.max_attempts = 5;
  options.initial_delay = milliseconds(400);
  options.max_delay = milliseconds(1000);
  http.script = {Response(502)};
  GetWithBackoff(http, "u", options, sleeper, clock).IgnoreError();
  EXPECT_EQ(sleeper.sleeps, (std::vector<milliseconds>{milliseconds(400), milliseconds(800),
                                                       milliseconds(1000), milliseconds(1000)}));
}

TEST_F(collateral_backoff, RetryAfterBeyondMaxDelayStopsAtOnce) {
  http.script = {Response(429, "3600"), Response(200)};
  auto r = GetWithBackoff(http, "u", options, sleeper, clock);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(http.calls, 1);
  EXPECT_TRUE(sleeper.sleeps.empty());
}

TEST_F(collateral_backoff, DoesNotRetryClientErrors) {
  for (int status : {400, 403, 404, 500}) {
    ScriptedGetter h;
    h.script = {Response(status), Response(200)};
    auto r = GetWithBackoff(h, "u", options, sleeper, clock);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, status);
    EXPECT_EQ(h.calls, 1) << status;
  }
  EXPECT_TRUE(sleeper.sleeps.empty());
}

TEST_F(collateral_backoff, RetriesTransportErrorsButNotOthers) {
  http.script = {absl::UnavailableError("connect refused"), Response(200)};
  auto r = GetWithBackoff(http, "u", options, sleeper, clock);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(http.calls, 2);

  ScriptedGetter h;
  h.script = {absl::InternalError("bug")};
  auto r2 = GetWithBackoff(h, "u", options, sleeper, clock);
  EXPECT_EQ(r2.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(h.calls, 1);
}

}  // namespace
}  // namespace twi::collateral
