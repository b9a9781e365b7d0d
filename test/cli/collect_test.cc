// twi collect -> verify.sh -> twi verify round trips: through the configfs-tsm file protocol
// against a fake kernel (the device seam), and through the simulator with the real binary.
#include "cli/collect.h"

#include <fstream>

#include "attestors/core/file.h"
#include "attestors/sevsnp/abi.h"
#include "attestors/sevsnp/sim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"
#include "test/collateral/temp_dir.h"
#include "test/sevsnp/fake_tsm_kernel.h"
#include "test/tdx/fake_tdx_kernel.h"

namespace twi::cli {
namespace {

using ::testing::HasSubstr;
using testing::Sh;
using testing::Twi;

namespace fs = std::filesystem;

std::shared_ptr<const sevsnp::SnpSimulator> Sim() {
  static std::shared_ptr<const sevsnp::SnpSimulator> sim = [] {
    auto s = sevsnp::SnpSimulator::Create({});
    EXPECT_TRUE(s.ok()) << s.status();
    return std::shared_ptr<const sevsnp::SnpSimulator>(std::move(*s));
  }();
  return sim;
}

class CollectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "tsm");
    request_.kind = "sev-snp";
    request_.nonce = Bytes{0xde, 0xad, 0xbe, 0xef};
    request_.out = dir_ / "out";
    request_.twi_path = Twi();
    request_.snp_devices.configfs.root = dir_ / "tsm";
    request_.snp_devices.configfs.kernel = kernel_;
    request_.snp_devices.sev_guest.path = dir_ / "no-sev-guest";
  }
  twi::testing::TempDir dir_;
  std::shared_ptr<sevsnp::FakeTsmKernel> kernel_ = std::make_shared<sevsnp::FakeTsmKernel>(Sim());
  CollectRequest request_;
};

TEST_F(CollectTest, ConfigfsTsmEvidenceVerifiesWithTheRootItChainsTo) {
  ASSERT_EQ(RunCollect(request_), 0);
  EXPECT_EQ(kernel_->last_inblob.substr(0, 4), "\xde\xad\xbe\xef");
  for (const char* f : {"report.bin", "vcek.der", "cert_chain.pem", "verify.sh"}) {
    EXPECT_TRUE(fs::exists(request_.out / f)) << f;
  }
  // Real (non-simulated) evidence gets no policy trusting any extra root.
  EXPECT_FALSE(fs::exists(request_.out / "policy.hcl"));
  auto script = ReadFileToString(request_.out / "verify.sh");
  ASSERT_TRUE(script.ok());
  EXPECT_THAT(*script, HasSubstr("verify '--type' 'sev-snp' '--report' 'report.bin' '--vcek' 'vcek.der' "
                                 "'--cert-chain' 'cert_chain.pem' \"$@\""));

  // The fake kernel's chip is simulated, so AMD's roots refuse it: fail closed...
  auto rejected = Sh((request_.out / "verify.sh").string());
  EXPECT_EQ(rejected.code, 1) << rejected.out;
  // ...and with a policy trusting its root, the same files verify and carry the nonce.
  std::ofstream(dir_ / "ark.pem") << Sim()->hierarchy().ark_pem();
  std::ofstream(dir_ / "trust.hcl") << "extra_roots = [\"vcek:" << (dir_ / "ark.pem") << "\"]\n";
  auto ok = Sh((request_.out / "verify.sh").string() + " --json --policy " + (dir_ / "trust.hcl"), false);
  ASSERT_EQ(ok.code, 0) << ok.out;
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["claims"]["report_data"].get<std::string>().substr(0, 10), "deadbeef00");
}

TEST_F(CollectTest, NoDeviceIsAClearErrorPointingAtSimulation) {
  request_.snp_devices.configfs.root = dir_ / "missing";
  request_.snp_devices.configfs.kernel = nullptr;
  auto r = CollectSevSnp(request_);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("no usable SEV-SNP device"));
  EXPECT_THAT(r.status().message(), HasSubstr("--simulate sev-snp"));
}

TEST(CollectCliTest, SimulatedEvidenceRoundTripsThroughVerifyScript) {
  twi::testing::TempDir dir;
  std::string out = dir / "ev";
  auto c = Sh(Twi() + " collect --simulate sev-snp --rsa-bits 2048 --nonce 00112233 --out " + out);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_THAT(c.out, HasSubstr("collected sev-snp evidence from simulated (nonce 00112233)"));
  auto v = Sh(out + "/verify.sh --json", false);
  ASSERT_EQ(v.code, 0) << v.out;
  auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["claims"]["report_data"].get<std::string>().substr(0, 8), "00112233");
  // verify.sh's exit status is twi verify's: a tampered report is rejected with 1.
  {
    std::fstream f(out + "/report.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0x90);
    f.put('\x55');
  }
  EXPECT_EQ(Sh(out + "/verify.sh").code, 1);
}

// TDX through the configfs-tsm file protocol (provider tdx_guest) and an offline collateral
// file, as the server plugin would read them: the written files verify with the root they
// chain to.
TEST(CollectTdxTest, ConfigfsTsmQuoteAndCollateralVerify) {
  twi::testing::TempDir dir;
  auto sim = tdx::TdxSimulator::Create({});
  ASSERT_TRUE(sim.ok()) << sim.status();
  std::shared_ptr<const tdx::TdxSimulator> shared = std::move(*sim);
  fs::create_directories(dir / "tsm");
  std::ofstream(dir / "bundle.json") << shared->collateral_json();
  CollectRequest r;
  r.kind = "tdx";
  r.nonce = Bytes{0xca, 0xfe};
  r.out = dir / "out";
  r.twi_path = Twi();
  r.tdx_configfs.root = dir / "tsm";
  auto kernel = std::make_shared<tdx::FakeTdxTsmKernel>(shared);
  r.tdx_configfs.kernel = kernel;
  r.dcap.offline_path = dir / "bundle.json";
  ASSERT_EQ(RunCollect(r), 0);
  EXPECT_EQ(kernel->last_inblob.substr(0, 2), "\xca\xfe");
  EXPECT_FALSE(fs::exists(r.out / "policy.hcl"));
  auto script = ReadFileToString(r.out / "verify.sh");
  ASSERT_TRUE(script.ok());
  EXPECT_THAT(*script, HasSubstr("verify '--type' 'tdx' '--quote' 'quote.bin' '--collateral' 'collateral.json' \"$@\""));
  // A simulated platform: the Intel root refuses it (fail closed)...
  EXPECT_EQ(Sh((r.out / "verify.sh").string()).code, 1);
  // ...and a policy trusting its root verifies the same files, with the nonce.
  std::ofstream(dir / "root.pem") << shared->root_pem();
  std::ofstream(dir / "trust.hcl") << "insecure_simulation_roots = true\nextra_roots = [\"" << (dir / "root.pem") << "\"]\n";
  auto ok = Sh((r.out / "verify.sh").string() + " --json --policy " + (dir / "trust.hcl"), false);
  ASSERT_EQ(ok.code, 0) << ok.out;
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["claims"]["report_data"].get<std::string>().substr(0, 6), "cafe00");
}

TEST(CollectTdxTest, NoDeviceIsAClearErrorPointingAtSimulation) {
  twi::testing::TempDir dir;
  CollectRequest r;
  r.kind = "tdx";
  r.out = dir / "out";
  r.tdx_configfs.root = dir / "missing";
  auto c = CollectTdx(r);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("no usable TDX device"));
  EXPECT_THAT(c.status().message(), HasSubstr("--simulate tdx"));
}

TEST(CollectCliTest, SimulatedTdxRoundTripsThroughVerifyScript) {
  twi::testing::TempDir dir;
  std::string out = dir / "ev";
  auto c = Sh(Twi() + " collect --simulate tdx --nonce 0011 --out " + out + " --hierarchy-dir " + (dir / "sim-intel"));
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_THAT(c.out, HasSubstr("collected tdx evidence from simulated (nonce 0011)"));
  EXPECT_TRUE(fs::exists(dir / "sim-intel/root.pem"));
  auto v = Sh(out + "/verify.sh --json", false);
  ASSERT_EQ(v.code, 0) << v.out;
  auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["evidence_type"], "tdx");
  EXPECT_EQ(j["claims"]["report_data"].get<std::string>().substr(0, 4), "0011");
  {
    std::fstream f(out + "/quote.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(48 + 136);  // MRTD
    f.put('\x55');
  }
  EXPECT_EQ(Sh(out + "/verify.sh").code, 1);
}

TEST(CollectCliTest, KindsWithoutACollectorSayNotSupportedYet) {
  // Every kind has a collector now (tpm: test/tpm, azure: test/azure, gcp: test/gcp); an
  // unknown one is a usage error naming them.
  twi::testing::TempDir dir;
  auto unknown = Sh(Twi() + " collect --kind sgx --out " + (dir / "x"));
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.out, HasSubstr("unknown evidence kind \"sgx\" (known: sev-snp, tdx, tpm, azure, gcp)"));
  EXPECT_EQ(Sh(Twi() + " collect --simulate sev-snp").code, 2);  // --out missing
  EXPECT_EQ(Sh(Twi() + " collect --simulate sev-snp --nonce zz --out " + (dir / "x")).code, 2);
  EXPECT_EQ(Sh(Twi() + " collect --kind tdx --simulate sev-snp --out " + (dir / "x")).code, 2);
}

}  // namespace
}  // namespace twi::cli
