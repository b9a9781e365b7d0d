// TCB level selection and status convergence (spec 2.8, QVL semantics) on synthetic TCB Info:
// the outcomes the real vectors do not reach (OutOfDateConfigurationNeeded, TDRelaunchAdvised,
// module and QE downgrades, Revoked, module identity mismatch).
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "attestors/tdx/verify.h"

namespace twi::tdx {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

using collateral::IdentityTcbLevel;
using collateral::TcbInfo;
using collateral::TcbLevel;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TcbLevel Level(uint8_t sgx, uint16_t pcesvn, uint8_t tdx0, uint8_t tdx2, std::string status,
               std::vector<std::string> advisories = {}) {
  TcbLevel l;
  l.sgx.fill(sgx);
  l.pcesvn = pcesvn;
  l.has_tdx = true;
  l.tdx[0] = tdx0;
  l.tdx[2] = tdx2;
  l.status = std::move(status);
  l.advisory_ids = std::move(advisories);
  return l;
}

IdentityTcbLevel IdLevel(uint16_t svn, std::string status, std::vector<std::string> adv = {}) {
  return {svn, TimePoint{}, std::move(status), std::move(adv)};
}

struct Fixture {
  TcbInfo info;
  Quote quote;
  PckExtensions pck;
  IdentityTcbLevel qe = IdLevel(4, "UpToDate");
  Fixture() {
    info.id = "TDX";
    info.version = 3;
    info.levels = {Level(5, 13, 5, 3, "UpToDate"), Level(5, 13, 3, 3, "ConfigurationNeeded"),
                   Level(2, 11, 2, 2, "OutOfDate", {"INTEL-SA-00837"})};
    collateral::TdxModuleIdentity m;
    m.id = "TDX_03";
    m.levels = {IdLevel(5, "UpToDate"), IdLevel(3, "OutOfDate", {"INTEL-SA-01111"}),
                IdLevel(1, "Revoked")};
    info.tdx_module_identities = {m};
    quote.td = TdReport{};
    pck.sgx_tcb.fill(5);
    pck.pce_svn = 13;
  }
  void Tee(uint8_t svn0, uint8_t version, uint8_t svn2) {
    quote.td->tee_tcb_svn[0] = svn0;
    quote.td->tee_tcb_svn[1] = version;
    quote.td->tee_tcb_svn[2] = svn2;
  }
  absl::StatusOr<TcbEvaluation> Eval() { return EvaluateTcb(quote, pck, info, qe); }
};

TEST(tdx_tcb, UpToDateWithoutModuleIdentity) {
  Fixture f;
  f.Tee(5, 0, 3);
  auto ev = f.Eval();
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->status, "UpToDate");
}

TEST(tdx_tcb, ModuleVersionZeroComparesTheModuleSvnInTheLevel) {
  Fixture f;
  f.Tee(4, 0, 3);  // module svn 4 < 5: falls to the ConfigurationNeeded level
  EXPECT_EQ(f.Eval()->status, "ConfigurationNeeded");
}

TEST(tdx_tcb, OutOfDateModuleMakesOutOfDateConfigurationNeeded) {
  Fixture f;
  f.Tee(3, 3, 3);  // module TDX_03 svn 3; late microcode svn 3 reaches the top level
  f.info.levels[0].status = "ConfigurationNeeded";
  auto ev = f.Eval();
  ASSERT_TRUE(ev.ok()) << ev.status();
  // Module version 3: index 0/1 are judged by TDX_03, whose svn-3 level is OutOfDate.
  EXPECT_EQ(ev->module_status, "OutOfDate");
  EXPECT_EQ(ev->status, "OutOfDateConfigurationNeeded");
  EXPECT_THAT(ev->advisory_ids, ElementsAre("INTEL-SA-01111"));
}

TEST(tdx_tcb, OutOfDateModuleOnUpToDatePlatformIsOutOfDate) {
  Fixture f;
  f.Tee(3, 3, 3);
  EXPECT_EQ(f.Eval()->status, "OutOfDate");
}

TEST(tdx_tcb, Td15RelaunchAdvisedWhenTheRunningModuleIsCurrent) {
  Fixture f;
  f.Tee(3, 3, 3);
  f.quote.td->tdx15 = true;
  f.quote.td->tee_tcb_svn2[0] = 5;
  f.quote.td->tee_tcb_svn2[1] = 3;
  f.quote.td->tee_tcb_svn2[2] = 3;
  EXPECT_EQ(f.Eval()->status, "TDRelaunchAdvised");
  f.info.levels[0].status = "ConfigurationNeeded";
  EXPECT_EQ(f.Eval()->status, "TDRelaunchAdvisedConfigurationNeeded");
  f.quote.td->tee_tcb_svn2[0] = 4;  // the running module is not the newest either
  EXPECT_EQ(f.Eval()->status, "OutOfDateConfigurationNeeded");
}

TEST(tdx_tcb, QeOutOfDateDowngrades) {
  Fixture f;
  f.Tee(5, 0, 3);
  f.qe = IdLevel(2, "OutOfDate", {"INTEL-SA-00615"});
  auto ev = f.Eval();
  EXPECT_EQ(ev->status, "OutOfDate");
  EXPECT_THAT(ev->advisory_ids, ElementsAre("INTEL-SA-00615"));
  f.qe = IdLevel(2, "Revoked");
  EXPECT_EQ(f.Eval()->status, "Revoked");
}

TEST(tdx_tcb, RevokedModule) {
  Fixture f;
  f.Tee(1, 3, 3);
  EXPECT_EQ(f.Eval()->status, "Revoked");
}

TEST(tdx_tcb, NoMatchingLevelIsTcbNotSupported) {
  Fixture f;
  f.Tee(5, 0, 3);
  f.pck.sgx_tcb[7] = 1;  // below every level's component 8
  EXPECT_THAT(Msg(f.Eval().status()), HasSubstr("tcb not supported: pck sgx components"));
  f.pck.sgx_tcb[7] = 5;
  f.pck.pce_svn = 10;
  EXPECT_THAT(Msg(f.Eval().status()), HasSubstr("tcb not supported"));
  f.pck.pce_svn = 13;
  f.Tee(5, 0, 1);  // TDX late microcode svn below every level
  EXPECT_THAT(Msg(f.Eval().status()), HasSubstr("tcb not supported: TEE_TCB_SVN"));
  f.Tee(0, 3, 3);  // module svn below every TDX_03 level
  EXPECT_THAT(Msg(f.Eval().status()), HasSubstr("tcb not supported: tdx module TDX_03"));
}

TEST(tdx_tcb, UnknownModuleVersionIsAMismatch) {
  Fixture f;
  f.Tee(5, 7, 3);
  EXPECT_THAT(Msg(f.Eval().status()), HasSubstr("no tdxModuleIdentities entry TDX_07"));
}

TEST(tdx_tcb, SgxQuoteUsesTheSgxLevel) {
  Fixture f;
  f.quote.td.reset();
  f.quote.enclave = EnclaveReport{};
  f.info.id = "SGX";
  f.pck.sgx_tcb.fill(2);
  f.pck.pce_svn = 11;
  auto ev = f.Eval();
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->status, "OutOfDate");
  EXPECT_THAT(ev->advisory_ids, ElementsAre("INTEL-SA-00837"));
}

}  // namespace
}  // namespace twi::tdx
