// The software TDX quoting stack against the real verifier: v4 and v5 round trips with the
// simulated root explicitly trusted, refusal without the opt-in, and each injected defect
// failing at the check it targets.
#include "attestors/tdx/sim.h"

#include <ostream>

#include "attestors/core/checks.h"
#include "attestors/tdx/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace twi::tdx {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<TdxSimulator> MustCreate(SimOptions o) {
  auto sim = TdxSimulator::Create(std::move(o));
  EXPECT_TRUE(sim.ok()) << sim.status();
  return sim.ok() ? std::move(*sim) : nullptr;
}

// The last record of check `name`, or null.
const Check* Find(const CheckList& checks, std::string_view name) {
  const Check* found = nullptr;
  for (const Check& c : checks.checks()) {
    if (c.name == name) found = &c;
  }
  return found;
}

Bytes ReportData() {
  Bytes rd(64);
  for (size_t i = 0; i < rd.size(); ++i) rd[i] = static_cast<uint8_t>(0xA0 + i);
  return rd;
}

struct Result {
  absl::Status status;
  CheckList checks;
  VerifiedQuote verified;
};

Result Verify(const TdxSimulator& sim, bool trust_sim_root = true) {
  Result r;
  auto quote = sim.GetQuote(ReportData());
  auto coll = sim.Collateral();
  if (!quote.ok() || !coll.ok()) {
    r.status = quote.ok() ? coll.status() : quote.status();
    return r;
  }
  VerifyOptions o;
  o.time = std::chrono::system_clock::now();
  o.extra_trusted_roots = {sim.root()};
  o.allow_simulation_roots = trust_sim_root;
  r.status = VerifyQuoteBytes(*quote, *coll, o, r.checks, &r.verified);
  return r;
}

TEST(tdx_sim, V4RoundTripVerifies) {
  SimOptions o;
  o.mr_td = Mr{};
  o.mr_td->fill(0x5A);
  auto sim = MustCreate(o);
  ASSERT_NE(sim, nullptr);
  Result r = Verify(*sim);
  ASSERT_TRUE(r.status.ok()) << r.status;
  const Quote& q = r.verified.quote;
  EXPECT_EQ(q.header.version, 4);
  EXPECT_EQ(q.body_type, BodyType::kTd10);
  EXPECT_EQ(Bytes(q.td->report_data.begin(), q.td->report_data.end()), ReportData());
  EXPECT_EQ(q.td->mr_td, *o.mr_td);
  EXPECT_FALSE(q.td->debug());
  EXPECT_EQ(r.verified.tcb.status, "UpToDate");
  EXPECT_FALSE(r.verified.builtin_root);
  EXPECT_EQ(HexEncode(r.verified.pck.fmspc), "00806f050000");
  EXPECT_EQ(r.verified.pck.pce_svn, 13);
  EXPECT_EQ(r.verified.pck_ca, "platform");
  EXPECT_EQ(q.trailing_bytes, 0u);
}

TEST(tdx_sim, V5RoundTripVerifiesWithModuleIdentity) {
  SimOptions o;
  o.version = 5;
  o.tee_tcb_svn = {3, 1, 2};  // module version 1: judged by tdxModuleIdentities TDX_01
  o.rtmr[2] = Mr{};
  o.rtmr[2]->fill(0x22);
  o.td_attributes |= kTdAttrDebug;
  auto sim = MustCreate(o);
  ASSERT_NE(sim, nullptr);
  Result r = Verify(*sim);
  ASSERT_TRUE(r.status.ok()) << r.status;
  const Quote& q = r.verified.quote;
  EXPECT_EQ(q.header.version, 5);
  EXPECT_EQ(q.body_type, BodyType::kTd15);
  EXPECT_EQ(q.td->rtmr[2], *o.rtmr[2]);
  EXPECT_TRUE(q.td->debug());  // verification passes; refusing debug TDs is policy's job
  EXPECT_EQ(r.verified.tcb.module_status, "UpToDate");
  const Check* module = Find(r.checks, "tdx_module.identity");
  ASSERT_NE(module, nullptr);
  EXPECT_THAT(module->detail, HasSubstr("TDX_01"));
}

TEST(tdx_sim, SimulatedRootRefusedWithoutOptIn) {
  auto sim = MustCreate({});
  ASSERT_NE(sim, nullptr);
  Result r = Verify(*sim, /*trust_sim_root=*/false);
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(r.status.message(), HasSubstr("pck.chain"));
  EXPECT_THAT(r.status.message(), HasSubstr("allow_simulation_roots is false"));
  EXPECT_TRUE(IsSimulationRoot(sim->root()));
}

TEST(tdx_sim, ShortReportDataIsZeroPaddedAndLongIsRefused) {
  auto sim = MustCreate({});
  ASSERT_NE(sim, nullptr);
  auto q = sim->GetQuote(Bytes{1, 2, 3});
  ASSERT_TRUE(q.ok()) << q.status();
  auto parsed = ParseQuote(*q);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->td->report_data[2], 3);
  EXPECT_EQ(parsed->td->report_data[63], 0);
  EXPECT_FALSE(sim->GetQuote(Bytes(65)).ok());
}

// A pinned clock: the hierarchy and collateral windows follow it, so the same evidence verifies
// inside them (cold and then warm from the cache) and is stale a month later.
TEST(tdx_sim, WindowsFollowThePinnedClockAndTheCacheServesWarmQuotes) {
  auto t0 = ParseRfc3339("2030-01-01T00:00:00Z");
  ASSERT_TRUE(t0.ok());
  FixedClock clock(*t0);
  SimOptions so;
  so.clock = &clock;
  auto sim = MustCreate(so);
  ASSERT_NE(sim, nullptr);
  auto quote = sim->GetQuote(ReportData());
  auto coll = sim->Collateral();
  ASSERT_TRUE(quote.ok() && coll.ok());
  VerifyOptions o;
  o.extra_trusted_roots = {sim->root()};
  o.allow_simulation_roots = true;
  o.time = *t0;
  VerificationCache cache;
  for (bool want_hit : {false, true}) {
    CheckList checks;
    VerifiedQuote out;
    absl::Status st = VerifyQuoteBytes(*quote, *coll, o, checks, &out, &cache);
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_EQ(out.cache_hit, want_hit);
  }
  o.time = *t0 + std::chrono::hours(24 * 31);
  CheckList checks;
  VerifiedQuote out;
  absl::Status st = VerifyQuoteBytes(*quote, *coll, o, checks, &out, &cache);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("crl.root_ca: root_ca_crl: crl is stale"));
}

struct DefectCase {
  const char* name;
  SimDefect defect;
  const char* check;
};

// Stable test names and messages (the default prints the struct's bytes, pointers included).
void PrintTo(const DefectCase& c, std::ostream* os) { *os << c.name << " -> " << c.check; }

class tdx_sim_defect : public ::testing::TestWithParam<DefectCase> {};

TEST_P(tdx_sim_defect, FailsAtItsCheck) {
  SimOptions o;
  o.defects = {GetParam().defect};
  auto sim = MustCreate(o);
  ASSERT_NE(sim, nullptr);
  Result r = Verify(*sim);
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(r.status.message(), HasSubstr(std::string(GetParam().check) + ":"));
  const Check* failed = Find(r.checks, GetParam().check);
  ASSERT_NE(failed, nullptr) << r.status;
  EXPECT_FALSE(failed->passed);
}

INSTANTIATE_TEST_SUITE_P(
    All, tdx_sim_defect,
    ::testing::Values(DefectCase{"BodyByteFlipped", SimDefect::kBodyByteFlipped, "quote.signature"},
                      DefectCase{"SignatureByteFlipped", SimDefect::kSignatureByteFlipped, "quote.signature"},
                      DefectCase{"QeReportByteFlipped", SimDefect::kQeReportByteFlipped, "qe_report.signature"},
                      DefectCase{"QeBindingMismatch", SimDefect::kQeBindingMismatch, "qe_report.binding"},
                      DefectCase{"TcbInfoSignatureFlipped", SimDefect::kTcbInfoSignatureFlipped, "tcb_info.signature"},
                      DefectCase{"QeIdentityMismatch", SimDefect::kQeIdentityMismatch, "qe_identity.match"},
                      DefectCase{"TcbInfoFmspcMismatch", SimDefect::kTcbInfoFmspcMismatch, "tcb_info.match"},
                      DefectCase{"PckRevoked", SimDefect::kPckRevoked, "crl.pck"},
                      DefectCase{"TcbInfoExpired", SimDefect::kTcbInfoExpired, "tcb_info.validity"},
                      DefectCase{"PckWrongSigner", SimDefect::kPckWrongSigner, "pck.chain"},
                      DefectCase{"TcbBelowLevels", SimDefect::kTcbBelowLevels, "tcb.level"}),
    [](const ::testing::TestParamInfo<DefectCase>& info) { return info.param.name; });

}  // namespace
}  // namespace twi::tdx
