// Azure TDX verification on simulated evidence (sim_tdx.h: HCL report, TDREPORT, TD quote by
// the TDX simulator, software vTPM AK) and on vector A8: the good case, every TDREPORT field the
// quote must repeat, edited runtime claims, another AK's quote, a wrong nonce, a TDREPORT whose
// hashes do not match, and missing collateral (refused only after every other check).
#include "attestors/azure/verify_tdx.h"

#include <functional>
#include <string>

#include "attestors/azure/sim_tdx.h"
#include "attestors/core/str.h"
#include "gtest/gtest.h"
#include "test/azure/testdata.h"

namespace twi::azure {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

bool Passed(const CheckList& checks, const std::string& name) {
  for (const auto& c : checks.checks()) if (c.name == name && c.passed) return true;
  return false;
}

class AzureTdxVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sim = AzureTdxSimulator::Create({});
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    auto ak = SoftwareAk::Create();
    ASSERT_TRUE(ak.ok());
    ak_ = *std::move(ak);
    auto jwk = ak_.Jwk();
    ASSERT_TRUE(jwk.ok());
    auto hcl = sim_->HclReport(*jwk);
    ASSERT_TRUE(hcl.ok()) << hcl.status();
    hcl_ = *std::move(hcl);
    auto td_quote = sim_->QuoteTdReport(hcl_.td_report);
    ASSERT_TRUE(td_quote.ok()) << td_quote.status();
    td_quote_ = *std::move(td_quote);
    auto collateral = sim_->tdx().Collateral();
    ASSERT_TRUE(collateral.ok());
    collateral_ = *std::move(collateral);
    for (uint32_t i = 0; i < 24; ++i) pcrs_[TPM2_ALG_SHA256][i] = Sha256(ToBytes(StrCat("pcr", i)));
    nonce_ = ToBytes("fresh nonce 0123456789abcdef");
    Requote(ak_, nonce_);
  }

  void Requote(const SoftwareAk& ak, ByteView nonce) {
    auto q = ak.Quote(pcrs_, nonce);
    ASSERT_TRUE(q.ok()) << q.status();
    attest_ = q->first;
    signature_ = q->second;
  }

  TdxEvidence Evidence(bool with_collateral = true) const {
    TdxEvidence e;
    e.hcl_report = hcl_.hcl_report;
    e.td_quote = td_quote_;
    e.collateral = with_collateral ? &collateral_ : nullptr;
    e.quote = attest_;
    e.signature = signature_;
    e.pcrs = pcrs_;
    return e;
  }

  TdxVerifyOptions Options() const {
    TdxVerifyOptions o;
    o.tdx.time = std::chrono::system_clock::now();
    o.tdx.extra_trusted_roots = {sim_->tdx().root()};
    o.tdx.allow_simulation_roots = true;
    o.nonce = nonce_;
    return o;
  }

  absl::Status Verify(const TdxEvidence& e, VerifiedAzureTdx* out = nullptr) {
    VerifiedAzureTdx local;
    checks_ = CheckList();
    return VerifyAzureTdx(e, Options(), checks_, out ? out : &local);
  }

  // The HCL report over a TDREPORT whose body `edit` changed (hashes recomputed, as anyone can).
  Bytes EditedHcl(const std::function<void(tdx::TdReport&)>& edit) {
    auto r = ParseTdReport(hcl_.td_report);
    EXPECT_TRUE(r.ok());
    edit(r->body);
    Bytes td = EncodeTdReport(r->body, r->cpu_svn, r->mac);
    HclReportSpec hs;
    hs.type = ReportType::kTdx;
    hs.hw_report = td;
    hs.runtime_claims = AsBytes(hcl_.runtime_claims);
    auto hcl = BuildHclReport(hs);
    EXPECT_TRUE(hcl.ok());
    return *hcl;
  }

  std::unique_ptr<AzureTdxSimulator> sim_;
  SoftwareAk ak_;
  AzureTdxSimulator::Hcl hcl_;
  Bytes td_quote_, attest_, signature_, nonce_;
  collateral::DcapCollateral collateral_;
  tpm::PcrBanks pcrs_;
  CheckList checks_;
};

TEST_F(AzureTdxVerify, SimulatedEvidenceVerifies) {
  VerifiedAzureTdx out;
  absl::Status s = Verify(Evidence(), &out);
  ASSERT_TRUE(s.ok()) << s;
  for (const char* name : {"hcl.structure", "hcl.report_type", "hcl.binding", "tdreport.structure",
                           "td_quote.structure", "pck.chain", "qe_report.signature",
                           "td_quote.signature", "tcb.level", "tdreport.match", "ak.hcl_key",
                           "quote.signature", "quote.nonce", "pcr.digest"}) {
    EXPECT_TRUE(Passed(checks_, name)) << name;
  }
  auto c = Claims(out);
  EXPECT_EQ(c["mrtd"], HexEncode(sim_->tdx().Body({})->mr_td));
  EXPECT_EQ(c["tcb_status"], "UpToDate");
  EXPECT_EQ(c["vm_id"], sim_->options().vm_id);
  EXPECT_EQ(c["platform"], "azure");
  EXPECT_EQ(c["ak_pub_sha256"].size(), 64u);
  EXPECT_EQ(c["report_data_binding"], HexEncode(Sha256(AsBytes(hcl_.runtime_claims))));
}

struct FieldCase {
  const char* field;
  std::function<void(tdx::TdReport&)> edit;
};

TEST_F(AzureTdxVerify, EveryTdReportFieldMustMatchTheQuote) {
  const std::vector<FieldCase> cases = {
      {"MRTD", [](tdx::TdReport& b) { b.mr_td[0] ^= 1; }},
      {"RTMR0", [](tdx::TdReport& b) { b.rtmr[0][5] ^= 1; }},
      {"RTMR1", [](tdx::TdReport& b) { b.rtmr[1][5] ^= 1; }},
      {"RTMR2", [](tdx::TdReport& b) { b.rtmr[2][5] ^= 1; }},
      {"RTMR3", [](tdx::TdReport& b) { b.rtmr[3][47] ^= 1; }},
      {"TDATTRIBUTES", [](tdx::TdReport& b) { b.td_attributes ^= tdx::kTdAttrDebug; }},
      {"XFAM", [](tdx::TdReport& b) { b.xfam ^= 0x2; }},
      {"TEE_TCB_SVN", [](tdx::TdReport& b) { b.tee_tcb_svn[2] += 1; }},
      {"MRSEAM", [](tdx::TdReport& b) { b.mr_seam[10] ^= 1; }},
      {"MRCONFIGID", [](tdx::TdReport& b) { b.mr_config_id[0] = 1; }},
  };
  for (const FieldCase& c : cases) {
    TdxEvidence e = Evidence();
    Bytes hcl = EditedHcl(c.edit);
    e.hcl_report = hcl;
    absl::Status s = Verify(e);
    EXPECT_EQ(Msg(s).rfind(StrCat("tdreport.match: ", c.field, " got "), 0), 0u) << Msg(s);
    EXPECT_TRUE(Passed(checks_, "td_quote.signature")) << c.field;
  }
}

TEST_F(AzureTdxVerify, QuoteOfAnotherReportData) {
  auto other = sim_->tdx().GetQuote(ToBytes("another report data"));
  ASSERT_TRUE(other.ok());
  TdxEvidence e = Evidence();
  e.td_quote = *other;
  absl::Status s = Verify(e);
  EXPECT_EQ(Msg(s).rfind("tdreport.match: REPORTDATA got ", 0), 0u) << Msg(s);
}

TEST_F(AzureTdxVerify, TdReportEditedWithoutItsHashes) {
  Bytes hcl = hcl_.hcl_report;
  hcl[kHwReportOffset + 528] ^= 1;  // MRTD, TEE_INFO_HASH left as it was
  TdxEvidence e = Evidence();
  e.hcl_report = hcl;
  absl::Status s = Verify(e);
  EXPECT_EQ(Msg(s).rfind("tdreport.structure: tee_info_hash got ", 0), 0u) << Msg(s);
}

TEST_F(AzureTdxVerify, EditedRuntimeClaimsBreakTheBinding) {
  // Another VM id of the same length: the JSON still parses, its digest changes.
  Bytes hcl = hcl_.hcl_report;
  size_t at = hcl_.runtime_claims.find(sim_->options().vm_id);
  ASSERT_NE(at, std::string::npos);
  hcl[kVarDataOffset + at] = hcl[kVarDataOffset + at] == 'A' ? 'B' : 'A';
  TdxEvidence e = Evidence();
  e.hcl_report = hcl;
  absl::Status s = Verify(e);
  EXPECT_EQ(Msg(s).rfind("hcl.binding: ", 0), 0u) << Msg(s);
}

TEST_F(AzureTdxVerify, QuoteByAnotherAk) {
  auto other = SoftwareAk::Create();
  ASSERT_TRUE(other.ok());
  Requote(*other, nonce_);
  absl::Status s = Verify(Evidence());
  EXPECT_EQ(Msg(s).rfind("quote.signature: ", 0), 0u) << Msg(s);
  EXPECT_TRUE(Passed(checks_, "tdreport.match"));
}

TEST_F(AzureTdxVerify, WrongNonce) {
  Requote(ak_, ToBytes("an old nonce"));
  absl::Status s = Verify(Evidence());
  EXPECT_EQ(Msg(s).rfind("quote.nonce: ", 0), 0u) << Msg(s);
}

TEST_F(AzureTdxVerify, TdQuoteWithBrokenSignature) {
  Bytes q = td_quote_;
  q[48 + 136] ^= 1;  // MRTD in the signed body
  TdxEvidence e = Evidence();
  e.td_quote = q;
  absl::Status s = Verify(e);
  EXPECT_EQ(Msg(s).rfind("td_quote.signature: ", 0), 0u) << Msg(s);
}

TEST_F(AzureTdxVerify, MissingCollateralIsRefusedAfterEveryIntrinsicCheck) {
  VerifiedAzureTdx out;
  TdxEvidence e = Evidence(/*with_collateral=*/false);
  absl::Status s = Verify(e, &out);
  ASSERT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(Msg(s).rfind("collateral.missing: no dcap collateral", 0), 0u) << Msg(s);
  for (const char* name : {"hcl.binding", "tdreport.structure", "pck.chain", "pck.validity",
                           "qe_report.signature", "qe_report.binding", "td_quote.signature",
                           "tdreport.match", "ak.hcl_key", "quote.signature", "quote.nonce",
                           "pcr.digest"}) {
    EXPECT_TRUE(Passed(checks_, name)) << name;
  }
  EXPECT_FALSE(Passed(checks_, "tcb.level"));
  auto c = Claims(out);
  EXPECT_EQ(c["mrtd"].size(), 96u);
  EXPECT_EQ(c["tcb_status"], "unknown");
  EXPECT_EQ(c["vm_id"], sim_->options().vm_id);
  EXPECT_FALSE(c["ak_pub_sha256"].empty());

  // An intrinsic failure still wins over the missing collateral.
  Bytes hcl = EditedHcl([](tdx::TdReport& b) { b.rtmr[1][0] ^= 1; });
  e.hcl_report = hcl;
  s = Verify(e);
  EXPECT_EQ(Msg(s).rfind("tdreport.match: RTMR1 got ", 0), 0u) << Msg(s);
}

TEST_F(AzureTdxVerify, SimulationRootNeedsTheOption) {
  TdxVerifyOptions o = Options();
  o.tdx.allow_simulation_roots = false;
  VerifiedAzureTdx out;
  CheckList checks;
  absl::Status s = VerifyAzureTdx(Evidence(), o, checks, &out);
  EXPECT_EQ(Msg(s).rfind("pck.chain: ", 0), 0u) << Msg(s);
}

TEST(AzureTdxVectors, A8BindingValidButNoTdQuote) {
  Bytes hcl = testing::ReadFile("kinvolk-azure-cvm-tooling/hcl-report-tdx.bin");
  TdxEvidence e;
  e.hcl_report = hcl;
  tpm::PcrBanks pcrs;
  e.pcrs = pcrs;
  TdxVerifyOptions o;
  o.tdx.time = testing::At("2024-01-01T00:00:00Z");
  CheckList checks;
  VerifiedAzureTdx out;
  absl::Status s = VerifyAzureTdx(e, o, checks, &out);
  EXPECT_EQ(Msg(s).rfind("td_quote.structure: ", 0), 0u) << Msg(s);
  EXPECT_TRUE(Passed(checks, "hcl.binding"));
  EXPECT_TRUE(Passed(checks, "tdreport.structure"));
  EXPECT_EQ(out.td_report.version, 0);
  EXPECT_EQ(out.claims.vm_unique_id, "D270E56B-F668-4990-A5BC-9B624576841D");
  EXPECT_EQ(HexEncode(out.td_report.body.tee_tcb_svn).substr(0, 6), "020106");
  auto c = Claims(out);
  EXPECT_EQ(c["mrtd"].size(), 96u);
  EXPECT_EQ(c["tcb_status"], "unknown");
}

TEST(AzureTdReport, ParserNamesTheField) {
  Bytes hcl = testing::ReadFile("kinvolk-azure-cvm-tooling/hcl-report-tdx.bin");
  Bytes td(hcl.begin() + kHwReportOffset, hcl.begin() + kHwReportOffset + kTdReportSize);
  ASSERT_TRUE(ParseTdReport(td).ok());
  EXPECT_EQ(Msg(ParseTdReport(ByteView(td).first(1023)).status()),
            "tdreport: size got 1023 bytes, want 1024");
  Bytes t = td;
  t[0] = 0x00;
  EXPECT_EQ(Msg(ParseTdReport(t).status()), "tdreport: report type got 0x00, want 0x81 (tdx)");
  t = td;
  t[1] = 2;
  EXPECT_EQ(Msg(ParseTdReport(t).status()), "tdreport: report subtype got 2, want 0");
  t = td;
  t[2] = 7;
  EXPECT_EQ(Msg(ParseTdReport(t).status()), "tdreport: report version got 7, want 0 or 1");
  t = td;
  t[300] ^= 1;  // MRSEAM: TEE_TCB_INFO_HASH no longer matches
  EXPECT_EQ(Msg(ParseTdReport(t).status()).rfind("tdreport: tee_tcb_info_hash got ", 0), 0u);
  // Encoding what was parsed gives the same bytes back.
  auto r = ParseTdReport(td);
  EXPECT_EQ(EncodeTdReport(r->body, r->cpu_svn, r->mac), td);
}

}  // namespace
}  // namespace twi::azure
