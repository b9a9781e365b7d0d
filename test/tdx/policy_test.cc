// Policy appraisal of a verified TD quote (T1): the fail-closed defaults and every check's
// refusal naming what it expected and what it got; claims and selectors.
#include "attestors/tdx/policy.h"
#include "attestors/core/str.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tdx/testdata.h"

namespace twi::tdx {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

const VerifiedQuote& T1() {
  static const VerifiedQuote* v = [] {
    auto* out = new VerifiedQuote;
    CheckList checks;
    VerifyOptions o;
    o.time = At("2025-07-01T00:00:00Z");
    auto c = collateral::ParseDcapBundle(ReadText("phala-dcap-qvl/tdx_quote_collateral.json"));
    EXPECT_TRUE(VerifyQuoteBytes(ReadFile("phala-dcap-qvl/tdx_quote"), *c, o, checks, out).ok());
    return out;
  }();
  return *v;
}

std::string Refusal(const VerifiedQuote& v, const TdxPolicy& p) {
  CheckList checks;
  absl::Status s = Appraise(v, p, checks);
  return s.ok() ? "ok" : std::string(s.message());
}

TEST(tdx_policy, DefaultsAcceptAnUpToDateProductionTd) {
  CheckList checks;
  EXPECT_TRUE(Appraise(T1(), TdxPolicy{}, checks).ok());
  EXPECT_TRUE(checks.all_passed());
  EXPECT_GE(checks.checks().size(), 14u);
  EXPECT_TRUE(TdxPolicy{}.pins_nothing());
}

TEST(tdx_policy, TcbStatusAndAdvisories) {
  VerifiedQuote v = T1();
  v.tcb.status = "OutOfDate";
  v.tcb.advisory_ids = {"INTEL-SA-00837"};
  EXPECT_THAT(Refusal(v, {}), HasSubstr("policy.tcb_status: got tcb status OutOfDate; want one of [UpToDate]"));
  TdxPolicy p;
  p.allowed_tcb_statuses = {"UpToDate", "OutOfDate"};
  EXPECT_THAT(Refusal(v, p), HasSubstr("policy.advisories: got advisories [INTEL-SA-00837]"));
  p.allowed_advisory_ids = {"INTEL-SA-00837"};
  EXPECT_EQ(Refusal(v, p), "ok");
}

TEST(tdx_policy, DebugTdRefusedUnlessAllowed) {
  VerifiedQuote v = T1();
  v.quote.td->td_attributes |= kTdAttrDebug;
  EXPECT_THAT(Refusal(v, {}), HasSubstr("policy.debug: got a debug td (TDATTRIBUTES 0x0000000010000001"));
  TdxPolicy p;
  p.allow_debug = true;
  EXPECT_EQ(Refusal(v, p), "ok");
}

TEST(tdx_policy, SeptVeDisableRequiredByDefault) {
  VerifiedQuote v = T1();
  v.quote.td->td_attributes = 0;
  EXPECT_THAT(Refusal(v, {}), HasSubstr("policy.td_attributes: got TDATTRIBUTES 0x0000000000000000 without SEPT_VE_DISABLE"));
  TdxPolicy p;
  p.require_sept_ve_disable = false;
  EXPECT_EQ(Refusal(v, p), "ok");
  p.td_attributes_mask = 1ull << 30;  // PKS must be set
  p.td_attributes_value = 1ull << 30;
  EXPECT_THAT(Refusal(v, p), HasSubstr("want 0x0000000040000000 under mask 0x0000000040000000"));
}

TEST(tdx_policy, MeasurementAllowLists) {
  const TdReport& td = *T1().quote.td;
  TdxPolicy p;
  p.mrtds = {Bytes(48, 0xAA)};
  EXPECT_THAT(Refusal(T1(), p), HasSubstr(StrCat("policy.mrtd: got MRTD ", HexEncode(td.mr_td),
                                                  "; want one of 1 allowed value(s), first aaaa")));
  p.mrtds.push_back(Bytes(td.mr_td.begin(), td.mr_td.end()));
  EXPECT_EQ(Refusal(T1(), p), "ok");
  EXPECT_FALSE(p.pins_nothing());
  p.rtmrs[2] = {Bytes(48, 1)};
  EXPECT_THAT(Refusal(T1(), p), HasSubstr("policy.rtmr2: got RTMR2"));
  p.rtmrs[2] = {Bytes(td.rtmr[2].begin(), td.rtmr[2].end())};
  p.mrconfigids = {Bytes(48, 1)};
  EXPECT_THAT(Refusal(T1(), p), HasSubstr("policy.mrconfigid"));
  p.mrconfigids = {};
  p.mrowners = {Bytes(48, 1)};
  EXPECT_THAT(Refusal(T1(), p), HasSubstr("policy.mrowner: got MROWNER"));
  p.mrowners = {};
  p.mrownerconfigs = {Bytes(48, 1)};
  EXPECT_THAT(Refusal(T1(), p), HasSubstr("policy.mrownerconfig"));
}

TEST(tdx_policy, XfamAndSvnFloors) {
  TdxPolicy p;
  p.xfams = {0x61ae7};
  EXPECT_THAT(Refusal(T1(), p), HasSubstr("policy.xfam: got XFAM 0x00000000000602e7; want one of [0x0000000000061ae7]"));
  p.xfams.push_back(0x602e7);
  EXPECT_EQ(Refusal(T1(), p), "ok");
  std::array<uint8_t, 16> min{};
  min[2] = 4;
  p.min_tee_tcb_svn = min;
  EXPECT_THAT(Refusal(T1(), p), HasSubstr("policy.tee_tcb_svn: got TEE_TCB_SVN [6,1,3,0"));
  min[2] = 3;
  p.min_tee_tcb_svn = min;
  EXPECT_EQ(Refusal(T1(), p), "ok");
  const uint16_t qe_svn = T1().quote.qe.qe_report.isv_svn;
  p.min_qe_svn = qe_svn + 1;
  EXPECT_THAT(Refusal(T1(), p), HasSubstr(StrCat("policy.qe_svn: got qe ISVSVN ", qe_svn,
                                                  "; want at least ", qe_svn + 1)));
  p.min_qe_svn = qe_svn;
  EXPECT_EQ(Refusal(T1(), p), "ok");
}

TEST(tdx_policy, EveryCheckRunsAndTheFirstFailureIsReturned) {
  VerifiedQuote v = T1();
  v.quote.td->td_attributes = kTdAttrDebug;
  CheckList checks;
  absl::Status s = Appraise(v, TdxPolicy{}, checks);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("policy.debug"));
  int failed = 0;
  for (const Check& c : checks.checks()) failed += c.passed ? 0 : 1;
  EXPECT_EQ(failed, 2);  // debug and SEPT_VE_DISABLE
}

TEST(tdx_policy, SgxAndUnverifiedQuotesAreRefused) {
  VerifiedQuote v = T1();
  v.has_tcb = false;
  EXPECT_THAT(Refusal(v, {}), HasSubstr("policy.evidence: quote was not verified"));
  VerifiedQuote sgx;
  sgx.quote.enclave = EnclaveReport{};
  sgx.has_tcb = true;
  EXPECT_THAT(Refusal(sgx, {}), HasSubstr("want a tdx td quote"));
}

TEST(tdx_policy, Validate) {
  EXPECT_TRUE(ValidatePolicy({}).ok());
  TdxPolicy p;
  p.allowed_tcb_statuses = {"UpToDate", "Fine", "Revoked", "TDRelaunchAdvised"};
  p.mrtds = {Bytes(47)};
  p.rtmrs[3] = {Bytes(49)};
  p.td_attributes_value = 2;
  std::string msg(ValidatePolicy(p).message());
  EXPECT_THAT(msg, HasSubstr("unknown status \"Fine\""));
  EXPECT_THAT(msg, HasSubstr("Revoked can never be accepted"));
  EXPECT_THAT(msg, Not(HasSubstr("TDRelaunchAdvised")));
  EXPECT_THAT(msg, HasSubstr("mrtd[0] is 47 bytes, want 48"));
  EXPECT_THAT(msg, HasSubstr("rtmr3[0] is 49 bytes"));
  EXPECT_THAT(msg, HasSubstr("outside the mask"));
}

TEST(tdx_policy, ClaimsAndSelectors) {
  auto claims = Claims(T1());
  EXPECT_EQ(claims["tcb_status"], "UpToDate");
  EXPECT_EQ(claims["advisory_ids"], "");
  EXPECT_EQ(claims["quote_version"], "4");
  EXPECT_EQ(claims["fmspc"], "b0c06f000000");
  EXPECT_EQ(claims["td_attributes"], "0000000010000000");
  EXPECT_EQ(claims["debug"], "false");
  EXPECT_EQ(claims["mrtd"].size(), 96u);
  for (const char* k : {"rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "qe_svn", "pck_ca"}) {
    EXPECT_TRUE(claims.contains(k)) << k;
  }
  auto sel = Selectors(T1());
  EXPECT_THAT(sel, Contains("tee:tdx"));
  EXPECT_THAT(sel, Contains("tdx:fmspc:b0c06f000000"));
  EXPECT_THAT(sel, Contains("tdx:debug:false"));
  EXPECT_THAT(sel, Contains(StrCat("tdx:mrtd:", claims["mrtd"])));
  EXPECT_THAT(sel, Contains(StrCat("tdx:rtmr3:", claims["rtmr3"])));
  // Partial results: quote fields without TCB claims.
  VerifiedQuote partial;
  partial.quote = T1().quote;
  partial.has_quote = true;
  auto pc = Claims(partial);
  EXPECT_TRUE(pc.contains("mrtd"));
  EXPECT_FALSE(pc.contains("tcb_status"));
  EXPECT_FALSE(pc.contains("fmspc"));
}

}  // namespace
}  // namespace twi::tdx
