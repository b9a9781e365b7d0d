// `twi verify --type azure-tdx` through the built twi, on evidence of the Azure TDX simulator
// (written to files here) and on vector A8: verified with the claims; each mismatch
// exits 1 naming its check (a TDREPORT field, edited runtime claims, another AK's quote, a wrong
// nonce); without --collateral every intrinsic check runs and collateral.missing refuses with
// the claims printed; A8 without a TD quote is refused clearly; usage errors exit 2.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/azure/sim_tdx.h"
#include "attestors/azure/tdreport.h"
#include "attestors/core/str.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"

namespace twi::azure {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using cli::testing::Sh;
using cli::testing::Twi;
namespace fs = std::filesystem;

constexpr char kNonceHex[] = "00112233445566778899aabbccddeeff";

void Write(const fs::path& p, ByteView b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

nlohmann::json Json(const cli::testing::Run& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

class AzureTdxCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/twi-azure-tdx-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto sim = AzureTdxSimulator::Create({});
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    auto ak = SoftwareAk::Create();
    ASSERT_TRUE(ak.ok());
    ak_ = *std::move(ak);
    auto hcl = sim_->HclReport(*ak_.Jwk());
    ASSERT_TRUE(hcl.ok()) << hcl.status();
    hcl_ = *std::move(hcl);
    auto td_quote = sim_->QuoteTdReport(hcl_.td_report);
    ASSERT_TRUE(td_quote.ok());
    Write(dir_ / "hcl.bin", hcl_.hcl_report);
    Write(dir_ / "td-quote.bin", *td_quote);
    std::ofstream(dir_ / "collateral.json") << sim_->tdx().collateral_json();
    std::ofstream(dir_ / "root.pem") << sim_->tdx().root_pem();
    std::ofstream(dir_ / "policy.hcl")
        << "extra_roots = [\"root.pem\"]\ninsecure_simulation_roots = true\n";
    for (uint32_t i = 0; i < 24; ++i) pcrs_[TPM2_ALG_SHA256][i] = Sha256(ToBytes(StrCat("pcr", i)));
    nlohmann::json pj;
    for (const auto& [i, v] : pcrs_[TPM2_ALG_SHA256]) pj["sha256"][std::to_string(i)] = HexEncode(v);
    std::ofstream(dir_ / "pcrs.json") << pj.dump();
    Quote(ak_, *HexDecode(kNonceHex));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Quote(const SoftwareAk& ak, ByteView nonce) {
    auto q = ak.Quote(pcrs_, nonce);
    ASSERT_TRUE(q.ok());
    Write(dir_ / "quote.bin", q->first);
    Write(dir_ / "signature.bin", q->second);
  }

  std::string Args(const std::string& hcl = "hcl.bin", bool collateral = true,
                   bool td_quote = true) const {
    const std::string d = dir_.string() + "/";
    return Twi() + " verify --type azure-tdx --hcl-report " + d + hcl +
           (td_quote ? " --td-quote " + d + "td-quote.bin" : "") +
           (collateral ? " --collateral " + d + "collateral.json" : "") + " --quote " + d +
           "quote.bin --signature " + d + "signature.bin --pcrs " + d + "pcrs.json --nonce " +
           kNonceHex + " --policy " + d + "policy.hcl --json";
  }

  fs::path dir_;
  std::unique_ptr<AzureTdxSimulator> sim_;
  SoftwareAk ak_;
  AzureTdxSimulator::Hcl hcl_;
  tpm::PcrBanks pcrs_;
};

TEST_F(AzureTdxCli, SimulatedEvidenceVerifiesWithClaims) {
  auto r = Sh(Args(), false);
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = Json(r);
  EXPECT_EQ(j["evidence_type"], "azure-tdx");
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["claims"]["vm_id"], sim_->options().vm_id);
  EXPECT_EQ(j["claims"]["tcb_status"], "UpToDate");
  EXPECT_EQ(j["claims"]["mrtd"], HexEncode(sim_->tdx().Body({})->mr_td));
  EXPECT_EQ(j["claims"]["ak_pub_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["claims"]["report_data_binding"], HexEncode(Sha256(AsBytes(hcl_.runtime_claims))));
  EXPECT_THAT(r.out, HasSubstr("\"platform:azure\""));
  EXPECT_THAT(r.out, HasSubstr("\"azure:vm-id:" + sim_->options().vm_id + "\""));
  EXPECT_THAT(r.out, HasSubstr("\"tdx:mrtd:"));
}

TEST_F(AzureTdxCli, TdReportFieldEdited) {
  auto rep = ParseTdReport(hcl_.td_report);
  ASSERT_TRUE(rep.ok());
  rep->body.rtmr[2][0] ^= 1;
  Bytes td = EncodeTdReport(rep->body, rep->cpu_svn, rep->mac);
  Bytes hcl = hcl_.hcl_report;
  std::copy(td.begin(), td.end(), hcl.begin() + kHwReportOffset);
  Write(dir_ / "edited.bin", hcl);
  auto r = Sh(Args("edited.bin"), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("tdreport.match: RTMR2 got "));
}

TEST_F(AzureTdxCli, ClaimsEditedBreakTheBinding) {
  Bytes hcl = hcl_.hcl_report;
  size_t at = hcl_.runtime_claims.find(sim_->options().vm_id);
  hcl[kVarDataOffset + at] = hcl[kVarDataOffset + at] == 'A' ? 'B' : 'A';
  Write(dir_ / "edited.bin", hcl);
  auto r = Sh(Args("edited.bin"), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("hcl.binding: report_data got "));
}

TEST_F(AzureTdxCli, AnotherAksQuoteAndWrongNonce) {
  auto other = SoftwareAk::Create();
  ASSERT_TRUE(other.ok());
  Quote(*other, *HexDecode(kNonceHex));
  auto r = Sh(Args(), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("quote.signature: "));

  Quote(ak_, ToBytes("stale"));
  r = Sh(Args(), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("quote.nonce: "));
}

TEST_F(AzureTdxCli, MissingCollateralRefusedWithClaimsAfterIntrinsicChecks) {
  auto r = Sh(Args("hcl.bin", /*collateral=*/false), false);
  EXPECT_EQ(r.code, 1) << r.out;
  auto j = Json(r);
  EXPECT_THAT(j["error"].get<std::string>(), StartsWith("collateral.missing: no dcap collateral"));
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("no --collateral given"));
  std::set<std::string> passed;
  for (const auto& c : j["checks"]) if (c["passed"] == true) passed.insert(c["name"]);
  for (const char* name : {"hcl.binding", "td_quote.signature", "pck.chain", "qe_report.signature",
                           "tdreport.match", "quote.signature", "pcr.digest"}) {
    EXPECT_TRUE(passed.count(name)) << name;
  }
  EXPECT_EQ(j["claims"]["tcb_status"], "unknown");
  EXPECT_EQ(j["claims"]["mrtd"].get<std::string>().size(), 96u);
  EXPECT_EQ(j["claims"]["vm_id"], sim_->options().vm_id);
}

TEST_F(AzureTdxCli, A8WithoutTdQuoteIsRefusedClearly) {
  const std::string a8 =
      std::string(TWI_TESTDATA) + "/azure/kinvolk-azure-cvm-tooling/hcl-report-tdx.bin";
  fs::copy_file(a8, dir_ / "a8.bin");
  auto r = Sh(Args("a8.bin", false, /*td_quote=*/false), false);
  EXPECT_EQ(r.code, 1) << r.out;
  auto j = Json(r);
  EXPECT_THAT(j["error"].get<std::string>(), StartsWith("td_quote.structure: no td quote"));
  bool binding = false;
  for (const auto& c : j["checks"]) binding = binding || (c["name"] == "hcl.binding" && c["passed"] == true);
  EXPECT_TRUE(binding) << r.out;
  EXPECT_EQ(j["claims"]["vm_id"], "D270E56B-F668-4990-A5BC-9B624576841D");
}

TEST_F(AzureTdxCli, UsageErrors) {
  EXPECT_EQ(Sh(Twi() + " verify --type azure-tdx --hcl-report x --nonce 00").code, 2);
  EXPECT_EQ(Sh(Args("nonexistent.bin")).code, 2);
  EXPECT_EQ(Sh(Args() + " --bogus").code, 2);
  EXPECT_EQ(Sh(Twi() + " verify --type azure-tdx --hcl-report " + (dir_ / "hcl.bin").string() +
               " --quote q --signature s --pcrs p").code, 2);  // no --nonce
}

}  // namespace
}  // namespace twi::azure
