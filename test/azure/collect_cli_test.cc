// `twi collect --kind azure --simulate azure` against swtpm: the vTPM provisioned as a simulated
// CVM, the files `twi verify --type azure-sev-snp` takes, and verify.sh passing on them and
// failing once the quote is touched. swtpm ports 26240 upward.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/core/file.h"
#include "cli/collect.h"
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

}  // namespace
}  // namespace twi::cli
