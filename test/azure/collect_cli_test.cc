// `twi collect --kind azure` against swtpm: the vTPM provisioned as a simulated SEV-SNP or TDX
// CVM, the files `twi verify --type azure-sev-snp` / `azure-tdx` takes, and verify.sh passing
// on them and failing once the evidence is touched. A TDX CVM's TD quote comes from a local
// IMDS (test/azure/fake_imds.h). swtpm ports 26240 upward and 27410 upward.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/azure/abi.h"
#include "attestors/tdx/sim.h"
#include "attestors/core/file.h"
#include "nlohmann/json.hpp"
#include "cli/collect.h"
#include "test/azure/fake_imds.h"
#include "test/cli/run.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::cli {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class AzureCollectCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
    char tmpl[] = "/tmp/twi-azure-collect-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    request_.kind = "azure";
    request_.nonce = Bytes(32, 0x5a);
    request_.out = dir_ / "out";
    request_.twi_path = testing::Twi();
    request_.sim_dir = (dir_ / "sim-amd").string();
    request_.sim_rsa_bits = 2048;
  }
  void TearDown() override {
    tpm_.Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  CollectRequest request_;
  twi::testing::Swtpm tpm_;
};

TEST_F(AzureCollectCliTest, SimulatedCvmRoundTripsThroughVerifySh) {
  ASSERT_EQ(tpm_.Start(26240, {}), "");
  request_.simulate = true;
  request_.tpm.tcti = tpm_.tcti();
  request_.tpm_pcrs = {{0x000B, {0, 1, 2, 3, 4, 5, 6, 7}}};
  ASSERT_EQ(RunCollect(request_), 0);
  for (const char* f : {"hcl_report.bin", "quote.bin", "signature.bin", "pcrs.json", "ak_pub.bin",
                        "vcek.pem", "ark.pem", "policy.hcl", "verify.sh"}) {
    EXPECT_TRUE(fs::exists(request_.out / f)) << f;
  }
  auto ok = testing::Sh((request_.out / "verify.sh").string() + " --json");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_THAT(ok.out, HasSubstr("\"vm_id\""));
  EXPECT_THAT(ok.out, HasSubstr("azure:vm-id:"));

  // Collect again from the same (now provisioned) vTPM without simulating: no THIM here, so
  // no VCEK, and verify.sh says what is missing.
  request_.simulate = false;
  request_.imds_url = "http://127.0.0.1:9";
  request_.out = dir_ / "real";
  ASSERT_EQ(RunCollect(request_), 0);
  EXPECT_FALSE(fs::exists(request_.out / "vcek.pem"));
  auto no_vcek = testing::Sh((request_.out / "verify.sh").string());
  EXPECT_EQ(no_vcek.code, 1) << no_vcek.out;
  EXPECT_THAT(no_vcek.out, HasSubstr("evidence.endorsement"));

  // A touched quote fails the signature.
  {
    std::fstream f(dir_ / "out" / "quote.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x01');
  }
  auto bad = testing::Sh((dir_ / "out" / "verify.sh").string());
  EXPECT_EQ(bad.code, 1) << bad.out;
}

TEST_F(AzureCollectCliTest, TwiSimAzureProvisionsWhatCollectReads) {
  ASSERT_EQ(tpm_.Start(26244, {}), "");
  const std::string sim = (dir_ / "sim").string();
  auto r = testing::Sh(testing::Twi() + " sim azure --tpm " + tpm_.tcti() + " --out " + sim +
                       " --rsa-bits 2048 --vm-id 0badc0de-0000-4000-8000-000000000001");
  ASSERT_EQ(r.code, 0) << r.out;
  for (const char* f : {"hcl_report.bin", "vcek.pem", "ark.pem", "sim-amd/ark.pem"}) {
    EXPECT_TRUE(fs::exists(fs::path(sim) / f)) << f;
  }
  // A plain collection (no THIM here), verified with the files twi sim wrote.
  request_.tpm.tcti = tpm_.tcti();
  request_.imds_url = "http://127.0.0.1:9";
  ASSERT_EQ(RunCollect(request_), 0);
  {
    std::ofstream(dir_ / "policy.hcl") << "extra_roots = [\"vcek:" << sim << "/ark.pem\"]\n";
  }
  auto v = testing::Sh((request_.out / "verify.sh").string() + " --json --vcek " + sim +
                       "/vcek.pem --policy " + (dir_ / "policy.hcl").string());
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_THAT(v.out, HasSubstr("0badc0de-0000-4000-8000-000000000001"));
  EXPECT_EQ(testing::Sh(testing::Twi() + " sim azure --out " + sim).code, 2);  // --tpm missing
}

TEST_F(AzureCollectCliTest, PlainTpmIsNotAnAzureCvm) {
  ASSERT_EQ(tpm_.Start(26242, {}), "");
  request_.tpm.tcti = tpm_.tcti();
  auto r = testing::Sh(testing::Twi() + " collect --kind azure --tcti " + tpm_.tcti() + " --out " +
                       (dir_ / "x").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("not an Azure CVM vTPM"));
  auto real = testing::Sh(testing::Twi() + " collect --simulate azure --out " + (dir_ / "y").string());
  EXPECT_EQ(real.code, 1);
  EXPECT_THAT(real.out, HasSubstr("--tcti swtpm:port=P"));
}

// An Azure TDX CVM collected as on a VM: `twi sim azure --tee tdx` provisions the swtpm and
// writes what the host's quoting service answers, a local IMDS serves that quote for exactly
// this TDREPORT; the HCL report's type (4) chooses azure-tdx, the collateral comes from the
// --collateral-offline source. The evidence is not simulated as far as collect knows, so
// verify.sh trusts no simulated root until the caller's policy does.
TEST_F(AzureCollectCliTest, TdxCvmRoundTripsWithImds) {
  ASSERT_EQ(tpm_.Start(27410, {}), "");
  const fs::path sim = dir_ / "sim";
  auto provisioned = testing::Sh(testing::Twi() + " sim azure --tee tdx --tpm " + tpm_.tcti() + " --out " +
                                 sim.string() + " --vm-id 0badc0de-0000-4000-8000-00000000d0c5");
  ASSERT_EQ(provisioned.code, 0) << provisioned.out;
  EXPECT_THAT(provisioned.out, HasSubstr("as a simulated Azure TDX CVM"));
  auto hcl_bytes = ReadFileBytes((sim / "hcl_report.bin").string());
  auto quote = ReadFileBytes((sim / "td_quote.bin").string());
  ASSERT_TRUE(hcl_bytes.ok() && quote.ok());
  auto hcl = azure::ParseHclReport(*hcl_bytes);
  ASSERT_TRUE(hcl.ok()) << hcl.status();
  request_.tpm.tcti = tpm_.tcti();
  request_.dcap.offline_path = (sim / "collateral.json").string();
  std::ofstream(dir_ / "policy.hcl") << "insecure_simulation_roots = true\nextra_roots = [\""
                                     << (sim / "root.pem").string() << "\"]\n";

  // No quoting service: nothing to verify a TDREPORT with, and collect says where it asked.
  request_.imds_url = "http://127.0.0.1:9";
  request_.out = dir_ / "no-imds";
  EXPECT_EQ(RunCollect(request_), 1);
  EXPECT_FALSE(fs::exists(request_.out / "verify.sh"));

  collateral::testing::LocalServer imds;
  ASSERT_TRUE(imds.ok());
  azure::testing::ServeTdQuote(imds, dir_.string(), hcl->td_report(), *quote);
  request_.imds_url = imds.base_url();
  request_.out = dir_ / "out";
  ASSERT_EQ(RunCollect(request_), 0);
  EXPECT_EQ(imds.Count(azure::kTdQuotePath), 1);
  for (const char* f : {"hcl_report.bin", "quote.bin", "signature.bin", "pcrs.json", "ak_pub.bin",
                        "td_quote.bin", "collateral.json", "verify.sh"}) {
    EXPECT_TRUE(fs::exists(request_.out / f)) << f;
  }
  for (const char* f : {"root.pem", "policy.hcl", "vcek.pem"}) EXPECT_FALSE(fs::exists(request_.out / f)) << f;
  auto script = ReadFileToString((request_.out / "verify.sh").string());
  ASSERT_TRUE(script.ok());
  EXPECT_THAT(*script, HasSubstr("# the HCL report's type is 4 (tdx)"));
  EXPECT_THAT(*script, HasSubstr("'--type' 'azure-tdx'"));

  // The simulated root is not trusted by verify.sh itself...
  auto untrusted = testing::Sh((request_.out / "verify.sh").string());
  EXPECT_EQ(untrusted.code, 1) << untrusted.out;
  EXPECT_THAT(untrusted.out, HasSubstr("simulat"));
  // ...only with the caller's policy.
  auto ok = testing::Sh((request_.out / "verify.sh").string() + " --json --policy " +
                        (dir_ / "policy.hcl").string());
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_THAT(ok.out, HasSubstr("azure:vm-id:0badc0de-0000-4000-8000-00000000d0c5"));
  EXPECT_THAT(ok.out, HasSubstr("tdx:mrtd:"));

  // A TD quote of another TD's TDREPORT (same simulated platform) fails the match.
  tdx::SimOptions so;
  so.dir = (sim / "sim-intel").string();
  auto platform = tdx::TdxSimulator::Create(so);
  ASSERT_TRUE(platform.ok()) << platform.status();
  auto other = (*platform)->GetQuote(ToBytes("another td"));
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(WriteEvidenceFile(request_.out / "td_quote.bin", AsString(*other)).ok());
  auto bad = testing::Sh((request_.out / "verify.sh").string() + " --policy " +
                         (dir_ / "policy.hcl").string());
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_THAT(bad.out, HasSubstr("tdreport.match"));
}

// --simulate azure --tee tdx: the simulated quoting service answers in process, and verify.sh
// trusts the simulated root written beside the (simulated) evidence.
TEST_F(AzureCollectCliTest, SimulatedTdxCvmRoundTripsThroughVerifySh) {
  ASSERT_EQ(tpm_.Start(27412, {}), "");
  auto r = testing::Sh(testing::Twi() + " collect --simulate azure --tee tdx --tcti " + tpm_.tcti() +
                       " --imds-url http://127.0.0.1:9 --out " + (dir_ / "sim").string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("the HCL report's type is 4 (tdx): an Azure TDX CVM"));
  for (const char* f : {"td_quote.bin", "collateral.json", "root.pem", "policy.hcl"}) {
    EXPECT_TRUE(fs::exists(dir_ / "sim" / f)) << f;
  }
  auto ok = testing::Sh((dir_ / "sim" / "verify.sh").string() + " --json");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_THAT(ok.out, HasSubstr("\"platform\": \"azure\""));

  // twi inspect reads what collect wrote, with verify's claim names and values: the HCL report
  // (its TDREPORT and runtime claims) and the TD quote.
  auto verified = nlohmann::json::parse(ok.out)["claims"];
  for (const char* f : {"hcl_report.bin", "td_quote.bin"}) {
    auto i = testing::Sh(testing::Twi() + " inspect --json " + (dir_ / "sim" / f).string(), false);
    ASSERT_EQ(i.code, 0) << f << i.out;
    auto claims = nlohmann::json::parse(i.out)["claims"];
    EXPECT_TRUE(claims.contains("mrtd")) << f;
    for (const auto& [k, v] : claims.items()) EXPECT_EQ(v, verified[k]) << f << " " << k;
  }
  EXPECT_EQ(nlohmann::json::parse(testing::Sh(testing::Twi() + " inspect --json " +
                                              (dir_ / "sim" / "hcl_report.bin").string(), false).out)["format"],
            "azure-hcl-report");

  // --tee is the simulation's choice only; a VM's HCL report decides otherwise.
  auto real = testing::Sh(testing::Twi() + " collect --kind azure --tee tdx --tcti " + tpm_.tcti() +
                          " --out " + (dir_ / "x").string());
  EXPECT_EQ(real.code, 2);
  EXPECT_THAT(real.out, HasSubstr("on a VM the HCL report (azure)"));
}

}  // namespace
}  // namespace twi::cli
