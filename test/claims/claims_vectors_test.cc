// Table-driven vectors under test/testdata/claims: (policy, claims, time) -> decision,
// status, selectors, fired rules and versions, message; and policies -> config errors.
#include <fstream>
#include <sstream>

#include "attestors/appraisal/claims_mapper.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "plugin/config/claims_config.h"

namespace twi {
namespace {

using ::testing::HasSubstr;

nlohmann::json Load(const std::string& name) {
  std::ifstream f(std::string(TWI_TESTDATA) + "/claims/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return nlohmann::json::parse(ss.str());
}

TimePoint At(const std::string& s) {
  auto t = ParseRfc3339(s);
  EXPECT_TRUE(t.ok()) << s;
  return t.ok() ? *t : TimePoint{};
}

class EvaluationVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(EvaluationVectors, Match) {
  nlohmann::json doc = Load(GetParam());
  std::vector<std::string> warnings;
  auto policy = config::BuildClaimsPolicyFile(doc["policy"].get<std::string>(), At("2026-01-01T00:00:00Z"), &warnings);
  ASSERT_TRUE(policy.ok()) << policy.status();
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    appraisal::Claims claims = c["claims"].get<appraisal::Claims>();
    ASSERT_TRUE(appraisal::CheckClaims(claims).ok()) << appraisal::CheckClaims(claims);
    appraisal::Evaluation e = appraisal::Evaluate(**policy, claims, At(c["now"]));
    const auto& want = c["want"];
    EXPECT_EQ(e.accepted, want["accepted"].get<bool>());
    EXPECT_EQ(e.status, want["status"].get<std::string>());
    EXPECT_EQ(e.selectors, want["selectors"].get<std::vector<std::string>>());
    if (want.contains("message_contains")) {
      EXPECT_THAT(e.message, HasSubstr(want["message_contains"].get<std::string>()));
    }
    if (want.contains("fired")) {
      for (const auto& item : want["fired"].items()) {
        const std::string rule = item.key();
        const auto& versions = item.value();
        auto it = std::find_if(e.rules.begin(), e.rules.end(), [&](const auto& r) { return r.rule == rule; });
        ASSERT_NE(it, e.rules.end()) << rule;
        EXPECT_TRUE(it->fired) << rule;
        EXPECT_EQ(it->matched_versions, versions.get<std::vector<std::string>>()) << rule;
      }
    }
    absl::Status denial = appraisal::DenialStatus(**policy, e);
    EXPECT_EQ(denial.ok(), e.accepted);
    if (!e.accepted) {
      EXPECT_EQ(denial.code(), absl::StatusCode::kPermissionDenied);
      EXPECT_THAT(std::string(denial.message()), HasSubstr("claims.policy: policy \"" + (*policy)->policy_id + "\": no claims rule matched"));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Claims, EvaluationVectors, ::testing::Values("rollout.json", "predicates.json"));

TEST(ConfigErrorVectors, EveryProblemWithLineAndColumn) {
  nlohmann::json doc = Load("config_errors.json");
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<std::string> warnings;
    auto p = config::BuildClaimsPolicyFile(c["policy"].get<std::string>(),
                                           At(c.value("now", "2026-01-01T00:00:00Z")), &warnings);
    auto errors = c["errors"].get<std::vector<std::string>>();
    if (errors.empty()) {
      EXPECT_TRUE(p.ok()) << p.status();
    } else {
      ASSERT_FALSE(p.ok());
      EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
      for (const auto& want : errors) EXPECT_THAT(std::string(p.status().message()), HasSubstr(want));
    }
    if (c.contains("warnings")) {
      EXPECT_EQ(warnings, c["warnings"].get<std::vector<std::string>>());
    }
  }
}

}  // namespace
}  // namespace twi
