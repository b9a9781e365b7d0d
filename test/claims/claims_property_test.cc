// Properties of the evaluator over random policies and claims drawn from small value pools
// (so that matches are frequent): adding a version never removes a claim, revoking one never
// adds a claim, and the order of refsets, versions and rules never changes the output.
#include <algorithm>
#include <random>

#include "attestors/appraisal/claims_mapper.h"
#include "gtest/gtest.h"

namespace twi::appraisal {
namespace {

constexpr int kIterations = 400;
const TimePoint kNow = std::chrono::system_clock::from_time_t(1'800'000'000);

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string Hex(int n) { return std::string(96, "abc"[n % 3]); }
  std::string Zone() { return std::vector<std::string>{"europe-west4-a", "europe-north1-b", "us-east1-c"}[Int(0, 2)]; }

  Predicate Field() {
    Predicate p;
    switch (Int(0, 3)) {
      case 0: p.claim = "sev_snp_measurement"; p.values = {Hex(Int(0, 2))}; if (Int(0, 1)) p.values.push_back(Hex(Int(0, 2))); break;
      case 1: p.claim = "gcp_zone"; p.values = {Int(0, 1) ? "europe-*" : Zone()}; break;
      case 2: p.claim = "debug"; p.kind = Predicate::Kind::kBool; p.boolean = Int(0, 1); break;
      default: p.claim = "sev_snp_tcb_snp"; p.kind = Predicate::Kind::kMin; p.min = Int(0, 8); break;
    }
    return p;
  }
  RefVersion Version(int i) {
    RefVersion v;
    v.name = "v" + std::to_string(i);
    v.state = static_cast<VersionState>(Int(0, 2));
    if (Int(0, 3) == 0) v.not_after = kNow + std::chrono::hours(Int(-48, 48));
    if (Int(0, 3) == 0) v.not_before = kNow + std::chrono::hours(Int(-48, 48));
    for (int n = Int(1, 2); n > 0; --n) v.fields.push_back(Field());
    return v;
  }
  ClaimsPolicy Policy() {
    ClaimsPolicy p;
    p.policy_id = "prop";
    p.deny_on_no_match = Int(0, 1);
    for (int s = 0, n = Int(1, 3); s < n; ++s) {
      RefSet set;
      set.name = "set" + std::to_string(s);
      for (int v = 0, m = Int(1, 3); v < m; ++v) set.versions.push_back(Version(v));
      p.refsets.push_back(set);
    }
    for (int r = 0, n = Int(1, 4); r < n; ++r) {
      Rule rule;
      rule.name = "rule" + std::to_string(r);
      if (Int(0, 2) > 0) rule.refset = p.refsets[Int(0, static_cast<int>(p.refsets.size()) - 1)].name;
      if (rule.refset.empty() || Int(0, 1)) rule.when.push_back(Field());
      rule.emit = {"claim:c" + std::to_string(Int(0, 3))};
      p.rules.push_back(rule);
    }
    return p;
  }
  Claims RandomClaims() {
    Claims c = {{"tee", "sev-snp"}, {"sev_snp_measurement", Hex(Int(0, 2))},
                {"debug", Int(0, 1) ? "true" : "false"}, {"sev_snp_tcb_snp", std::to_string(Int(0, 8))}};
    if (Int(0, 2) > 0) c["gcp_zone"] = Zone();
    return c;
  }
  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
};

bool Subset(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::includes(b.begin(), b.end(), a.begin(), a.end());
}

// Evaluates kIterations random (policy, claims) cases, lets `change` modify the policy,
// evaluates again and hands both results to `check`. Returns how many cases had claims
// before the change, so that a property cannot hold vacuously.
template <typename Change, typename Check>
int ForRandomCases(uint32_t seed, Change change, Check check) {
  Gen g(seed);
  int with_claims = 0;
  for (int i = 0; i < kIterations; ++i) {
    SCOPED_TRACE(::testing::Message() << "iteration " << i);
    ClaimsPolicy p = g.Policy();
    Claims c = g.RandomClaims();
    Evaluation before = Evaluate(p, c, kNow);
    change(g, p);
    check(before, Evaluate(p, c, kNow));
    with_claims += before.selectors.empty() ? 0 : 1;
  }
  return with_claims;
}

RefSet& AnyRefSet(Gen& g, ClaimsPolicy& p) { return p.refsets[g.Int(0, static_cast<int>(p.refsets.size()) - 1)]; }

TEST(ClaimsProperties, AddingAVersionNeverRemovesAClaim) {
  int n = ForRandomCases(
      1,
      [](Gen& g, ClaimsPolicy& p) {
        RefSet& set = AnyRefSet(g, p);
        set.versions.push_back(g.Version(static_cast<int>(set.versions.size())));
      },
      [](const Evaluation& before, const Evaluation& after) {
        EXPECT_TRUE(Subset(before.selectors, after.selectors));
        if (!before.selectors.empty()) {
          EXPECT_TRUE(after.accepted);
        }
      });
  EXPECT_GT(n, kIterations / 10);
}

TEST(ClaimsProperties, RevokingAVersionNeverAddsAClaim) {
  int n = ForRandomCases(
      2,
      [](Gen& g, ClaimsPolicy& p) {
        RefSet& set = AnyRefSet(g, p);
        set.versions[g.Int(0, static_cast<int>(set.versions.size()) - 1)].state = VersionState::kRevoked;
      },
      [](const Evaluation& before, const Evaluation& after) {
        EXPECT_TRUE(Subset(after.selectors, before.selectors));
      });
  EXPECT_GT(n, kIterations / 10);
}

TEST(ClaimsProperties, OrderOfRulesAndVersionsNeverChangesTheOutput) {
  int n = ForRandomCases(
      3,
      [](Gen& g, ClaimsPolicy& p) {
        std::shuffle(p.rules.begin(), p.rules.end(), g.rng());
        std::shuffle(p.refsets.begin(), p.refsets.end(), g.rng());
        for (auto& s : p.refsets) std::shuffle(s.versions.begin(), s.versions.end(), g.rng());
      },
      [](const Evaluation& a, const Evaluation& b) {
        EXPECT_EQ(a.accepted, b.accepted);
        EXPECT_EQ(a.status, b.status);
        EXPECT_EQ(a.selectors, b.selectors);
        EXPECT_EQ(a.message, b.message);
        EXPECT_EQ(TraceJson(a).dump(), TraceJson(b).dump());
      });
  EXPECT_GT(n, kIterations / 10);
}

}  // namespace
}  // namespace twi::appraisal
