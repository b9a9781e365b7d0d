// Every TDX/SGX vector of the index (section 4) at its fixed instant, with its documented
// result, through verification and the default policy.
#include "attestors/tdx/policy.h"
#include "attestors/tdx/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tdx/testdata.h"

namespace twi::tdx {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Outcome {
  absl::Status status;
  CheckList checks;
  VerifiedQuote out;
};

Outcome Verify(const std::string& quote, const collateral::DcapCollateral& c, const char* at,
           bool allow_missing_crls = false) {
  Outcome r;
  VerifyOptions o;
  o.time = At(at);
  o.allow_missing_crls = allow_missing_crls;
  r.status = VerifyQuoteBytes(ReadFile(quote), c, o, r.checks, &r.out);
  return r;
}

const Check* Find(const CheckList& l, const std::string& name) {
  for (const Check& c : l.checks()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

collateral::DcapCollateral T4Collateral() {
  return FromPcs("go-tdx-guest/sample_tcbInfo_response", "go-tdx-guest/sample_qeIdentity_response",
                 "go-tdx-guest/tcb_info_issuer_chain.pem", "go-tdx-guest/pckcrl",
                 "go-tdx-guest/rootcrl.der", "go-tdx-guest/pck_crl_issuer_chain.pem");
}

collateral::DcapCollateral T5Collateral() {
  return FromPcs("trustee/tcbInfo.json", "trustee/enclaveIdentity.json",
                 "phala-dcap-qvl/tcb_signing_chain_2025-renewed.pem", "", "");
}

TEST(tdx_vectors, T1UpToDateVerifiesAndPassesDefaultPolicy) {
  Outcome r = Verify("phala-dcap-qvl/tdx_quote", Bundle("phala-dcap-qvl/tdx_quote_collateral.json"),
                 "2025-07-01T00:00:00Z");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.checks.all_passed());
  EXPECT_EQ(r.out.tcb.status, "UpToDate");
  EXPECT_THAT(r.out.tcb.advisory_ids, IsEmpty());
  EXPECT_EQ(r.out.tcb.qe_status, "UpToDate");
  EXPECT_EQ(r.out.tcb.module_status, "UpToDate");
  EXPECT_EQ(HexEncode(r.out.pck.fmspc), "b0c06f000000");
  EXPECT_EQ(r.out.pck_ca, "platform");
  EXPECT_EQ(r.out.quote.header.version, 4);
  EXPECT_TRUE(r.out.builtin_root);
  for (const char* name : {"pck.chain", "crl.root_ca", "crl.pck", "tcb_info.signature",
                           "qe_identity.signature", "qe_report.signature", "qe_report.binding",
                           "quote.signature", "tdx_module.identity", "tcb.level"}) {
    EXPECT_NE(Find(r.checks, name), nullptr) << name;
  }
  CheckList pc;
  EXPECT_TRUE(Appraise(r.out, TdxPolicy{}, pc).ok());  // the default policy, SEPT_VE_DISABLE set
  EXPECT_THAT(Selectors(r.out), ::testing::Contains("tdx:tcb-status:UpToDate"));
}

TEST(tdx_vectors, T2SgxQuoteStatusAndAdvisories) {
  Outcome r = Verify("phala-dcap-qvl/sgx_quote", Bundle("phala-dcap-qvl/sgx_quote_collateral.json"),
                 "2025-07-01T00:00:00Z");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.out.quote.header.version, 3);
  EXPECT_EQ(r.out.pck_ca, "processor");
  EXPECT_EQ(HexEncode(r.out.pck.fmspc), "00a067110000");
  EXPECT_EQ(r.out.tcb.status, "ConfigurationAndSWHardeningNeeded");
  EXPECT_THAT(r.out.tcb.advisory_ids, ElementsAre("INTEL-SA-00289", "INTEL-SA-00615"));
  EXPECT_EQ(r.out.tcb.qe_status, "UpToDate");
}

TEST(tdx_vectors, T3V5QuoteIsTcbNotSupported) {
  Outcome r = Verify("phala-dcap-qvl/tdx_quote_outdated",
                 Bundle("phala-dcap-qvl/tdx_quote_outdated_collateral.json"),
                 "2026-03-01T00:00:00Z");
  EXPECT_THAT(r.status.message(), HasSubstr("tcb.level: tcb not supported"));
  EXPECT_EQ(r.out.quote.header.version, 5);
  EXPECT_TRUE(r.out.quote.td->tdx15);
  EXPECT_EQ(HexEncode(r.out.pck.fmspc), "90c06f000000");
  EXPECT_EQ(r.out.pck.sgx_tcb[7], 3);
  // Everything before the level selection held.
  for (const Check& c : r.checks.checks()) {
    if (c.name != "tcb.level") {
      EXPECT_TRUE(c.passed) << c.name << ": " << c.detail;
    }
  }
}

TEST(tdx_vectors, T4TrailingBytesToleratedAndTcbNotSupported) {
  Outcome r = Verify("go-tdx-guest/tdx_prod_quote_SPR_E4.dat", T4Collateral(), "2023-07-01T01:00:00Z");
  EXPECT_THAT(r.status.message(), HasSubstr("tcb.level: tcb not supported"));
  EXPECT_EQ(r.out.quote.trailing_bytes, 39u);
  const Check* note = Find(r.checks, "quote.trailing_bytes");
  ASSERT_NE(note, nullptr);
  EXPECT_TRUE(note->passed);
  EXPECT_THAT(note->detail, HasSubstr("39 bytes"));
  EXPECT_EQ(HexEncode(r.out.pck.fmspc), "50806f000000");
  for (const char* name : {"crl.root_ca", "crl.pck", "tcb_info.signature", "quote.signature"}) {
    ASSERT_NE(Find(r.checks, name), nullptr) << name;
    EXPECT_TRUE(Find(r.checks, name)->passed) << name;
  }
}

TEST(tdx_vectors, T4PckExpiredIn2053) {
  Outcome r = Verify("go-tdx-guest/tdx_prod_quote_SPR_E4.dat", T4Collateral(), "2053-07-01T00:00:00Z");
  EXPECT_THAT(r.status.message(), HasSubstr("pck.validity"));
}

TEST(tdx_vectors, T5OutOfDateWithRevocationDisabled) {
  Outcome r = Verify("trustee/tdx_quote_6.dat", T5Collateral(), "2025-11-01T00:00:00Z",
                 /*allow_missing_crls=*/true);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.out.tcb.status, "OutOfDate");
  EXPECT_EQ(r.out.tcb.module_status, "UpToDate");
  EXPECT_EQ(r.out.tcb.qe_status, "UpToDate");
  EXPECT_EQ(r.out.quote.trailing_bytes, 70u);
  EXPECT_THAT(Find(r.checks, "crl.pck")->detail, HasSubstr("skipped"));

  // Refused by the default policy, accepted when OutOfDate (and its advisories) are allowed.
  TdxPolicy policy;
  CheckList pc;
  EXPECT_THAT(Appraise(r.out, policy, pc).message(), HasSubstr("policy.tcb_status"));
  policy.allowed_tcb_statuses = {"UpToDate", "OutOfDate"};
  policy.allowed_advisory_ids = r.out.tcb.advisory_ids;
  CheckList pc2;
  EXPECT_TRUE(Appraise(r.out, policy, pc2).ok()) << Appraise(r.out, policy, pc2);
}

TEST(tdx_vectors, T5RefusedWithoutCrls) {
  Outcome r = Verify("trustee/tdx_quote_6.dat", T5Collateral(), "2025-11-01T00:00:00Z");
  EXPECT_THAT(r.status.message(), HasSubstr("crl.root_ca: collateral has no root_ca_crl"));
}

TEST(tdx_vectors, T6TwoQuotesOfOnePlatformAreTcbNotSupported) {
  auto c = Bundle("phala-dcap-qvl/tdx_quote_collateral.json");
  for (const char* q : {"phala-dcap-qvl/tdx-quote.bin", "phala-dcap-qvl/quote-from-tappd.bin"}) {
    Outcome r = Verify(q, c, "2025-07-01T00:00:00Z");
    EXPECT_THAT(r.status.message(), HasSubstr("tcb.level: tcb not supported")) << q;
    EXPECT_TRUE(Find(r.checks, "quote.signature")->passed) << q;
  }
}

TEST(tdx_vectors, T7CosQuoteParsesWithPadding) {
  auto q = ParseQuote(ReadFile("go-tdx-guest/cos-113-tdx-quote.dat"));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->declared_size + q->trailing_bytes, 8000u);
  EXPECT_GT(q->trailing_bytes, 0u);
  EXPECT_TRUE(IsAllZero(q->td->report_data));
  EXPECT_TRUE(IsAllZero(q->td->rtmr[3]));
  auto chain = ParsePemBundle(AsString(q->qe.pck_chain));
  ASSERT_TRUE(chain.ok());
  auto ext = ParsePckExtensions((*chain)[0]);
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(HexEncode(ext->fmspc), "00806f050000");
}

TEST(tdx_vectors, ExpiredCollateralFails) {
  // T1 a month after its TCB Info nextUpdate.
  Outcome r = Verify("phala-dcap-qvl/tdx_quote", Bundle("phala-dcap-qvl/tdx_quote_collateral.json"),
                 "2025-08-20T00:00:00Z");
  EXPECT_FALSE(r.status.ok());
  EXPECT_THAT(r.status.message(), HasSubstr("crl"));  // the PCK CRL goes stale first
}

}  // namespace
}  // namespace twi::tdx
