// `twi collect --kind gcp`: the built twi against a swtpm, provisioned as a GCE vTPM by
// --simulate gcp (alone, or with a simulated SEV-SNP or TDX beside it: --tee), then the
// verify.sh it writes (twi verify --type gcp) and tampered evidence. swtpm ports 26670-26679,
// 27420-27429.
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "cli/collect.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"
#include "test/collateral/temp_dir.h"
#include "test/gcp/sim_vm.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::gcp {
namespace {

using ::testing::HasSubstr;
using cli::testing::Sh;
using cli::testing::Twi;

using GcpCollectCliTest = twi::testing::SwtpmTest;

// Runs OUT/verify.sh --json (with `args`): it passes and the claims name the simulated VM.
nlohmann::json VerifiedClaims(const std::string& out, const std::string& args = "") {
  auto v = Sh(out + "/verify.sh --json" + args, /*stderr_too=*/false);
  EXPECT_EQ(v.code, 0) << v.out;
  auto j = nlohmann::json::parse(v.out, nullptr, false);
  if (j.is_discarded() || !j.contains("claims")) {
    ADD_FAILURE() << v.out;
    return nlohmann::json::object();
  }
  EXPECT_EQ(j["claims"]["project_id"], "twi-sim-project");
  return j["claims"];
}

TEST_F(GcpCollectCliTest, SimulatedVmCollectedAndVerifiedByItsScript) {
  TWI_START_SWTPM(26670);
  twi::testing::TempDir dir;
  const std::string out = dir / "evidence";
  auto c = Sh(Twi() + " collect --kind gcp --simulate gcp --tpm " + swtpm().tcti() +
              " --nonce 00112233445566778899aabbccddeeff --pcrs 0,7 --out " + out);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_THAT(c.out, HasSubstr("collected gcp evidence from " + swtpm().tcti()));
  EXPECT_THAT(c.out, HasSubstr("quote.bin quotes the sha256 bank"));
  for (const char* f : {"ak_cert.der", "quote.bin", "signature.bin", "pcrs.json", "ca_bundle.pem", "verify.sh"}) {
    EXPECT_TRUE(std::ifstream(out + "/" + f).good()) << f;
  }
  EXPECT_EQ(VerifiedClaims(out)["zone"], "us-central1-a");
  // The same VM again: the CA is kept (OUT/sim-gce), the AK made again from its template.
  auto again = Sh(Twi() + " collect --kind gcp --simulate gcp --tpm " + swtpm().tcti() + " --out " + out);
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(Sh(out + "/verify.sh").code, 0);
  {
    std::fstream f(out + "/quote.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);  // the last byte of the PCR digest
    f.put('\x55');
  }
  auto tampered = Sh(out + "/verify.sh");
  EXPECT_EQ(tampered.code, 1) << tampered.out;
  // `twi sim gcp` provisions the same way, for an agent's gcp block.
  auto sim = Sh(Twi() + " sim gcp --tpm " + swtpm().tcti() + " --ak ecc --out " + (dir / "sim"));
  ASSERT_EQ(sim.code, 0) << sim.out;
  EXPECT_THAT(sim.out, HasSubstr("provisioned " + swtpm().tcti() + " as a simulated GCE vTPM (ecc AK)"));
  EXPECT_TRUE(std::ifstream(dir / "sim/ca_bundle.pem").good());
  EXPECT_EQ(Sh(Twi() + " sim gcp --out " + (dir / "sim")).code, 2);
  // Not a GCE vTPM: a plain TPM has no AK template.
  auto plain = Sh(Twi() + " collect --kind gcp --tpm swtpm:port=1 --out " + (dir / "x"));
  EXPECT_EQ(plain.code, 1) << plain.out;
}

// The hardware report beside the vTPM, simulated: written with the files trusting its root
// (simulated evidence only), verified by verify.sh, refused without that trust or once touched.
TEST_F(GcpCollectCliTest, SimulatedHardwareBesideTheVtpmRoundTrips) {
  TWI_START_SWTPM(27420);
  twi::testing::TempDir dir;
  struct Case {
    const char* tee;
    const char* report;  // the hardware file, then its companion
    const char* companion;
    const char* root;
    const char* claim;
  };
  for (const Case& k : {Case{"sev-snp", "report.bin", "vcek.pem", "ark.pem", "measurement"},
                        Case{"tdx", "td_quote.bin", "collateral.json", "root.pem", "mrtd"}}) {
    SCOPED_TRACE(k.tee);
    const std::string out = dir / k.tee;
    auto c = Sh(Twi() + " collect --simulate gcp --tee " + k.tee + " --rsa-bits 2048 --tpm " + swtpm().tcti() +
                " --nonce 00112233445566778899aabbccddeeff --out " + out);
    ASSERT_EQ(c.code, 0) << c.out;
    EXPECT_THAT(c.out, HasSubstr(std::string(" and ") + k.tee + " (simulated)"));
    for (const char* f : {k.report, k.companion, k.root, "policy.hcl"}) {
      EXPECT_TRUE(std::ifstream(out + "/" + f).good()) << f;
    }
    auto claims = VerifiedClaims(out);
    EXPECT_EQ(claims["hardware"], k.tee);
    EXPECT_TRUE(claims.contains(k.claim)) << claims.dump();

    // Without the policy trusting the simulated root, the hardware report is refused.
    const bool snp = std::string(k.tee) == "sev-snp";
    auto untrusted = Sh("cd " + out + " && " + Twi() +
                        " verify --type gcp --ak-cert ak_cert.der --ca ca_bundle.pem --quote quote.bin"
                        " --signature signature.bin --pcrs pcrs.json --nonce 00112233445566778899aabbccddeeff"
                        " --insecure-simulation-roots " +
                        (snp ? "--report report.bin --vcek vcek.pem" : "--td-quote td_quote.bin --collateral collateral.json"));
    EXPECT_EQ(untrusted.code, 1) << untrusted.out;
    // A touched report fails its signature.
    {
      std::fstream f(out + "/" + k.report, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(snp ? 0x90 : 0x100);  // SNP: MEASUREMENT; TD quote: inside the TD body
      f.put('\x5a');
    }
    auto touched = Sh(out + "/verify.sh");
    EXPECT_EQ(touched.code, 1) << touched.out;
  }
  // --tee is for simulation; on a VM the guest's device decides.
  auto real = Sh(Twi() + " collect --kind gcp --tee tdx --tpm " + swtpm().tcti() + " --out " + (dir / "x"));
  EXPECT_EQ(real.code, 2) << real.out;
}

// On a VM (not --simulate): the SEV-SNP report of the guest's configfs-tsm (a fake kernel
// answering from the simulator) is written beside the vTPM quote; verify.sh takes it with the
// caller's trust in the simulated ARK only (collect trusts nothing it did not simulate).
using GcpCollectVmTest = testing::SimVmTest;

TEST_F(GcpCollectVmTest, GuestHardwareReportRoundTrips) {
  StartVm(27424);
  cli::CollectRequest r;
  r.kind = "gcp";
  r.nonce = Bytes(16, 0x11);
  r.out = tmp_ / "out";
  r.twi_path = Twi();
  r.tpm.tcti = swtpm().tcti();
  r.gcp_ca_file = tmp_ / "ca.pem";
  r.snp_devices.configfs.root = tsm_root_;
  r.snp_devices.configfs.kernel = kernel_;
  {
    std::ofstream(r.gcp_ca_file) << testing::Ca()->BundlePem();
    std::ofstream(tmp_ / "ark.pem") << testing::AmdHierarchy()->ark_pem();
    std::ofstream(tmp_ / "policy.hcl") << "extra_roots = [\"vcek:" << (tmp_ / "ark.pem") << "\"]\n";
  }
  ASSERT_EQ(cli::RunCollect(r), 0);
  for (const char* f : {"report.bin", "vcek.pem", "ca_bundle.pem"}) {
    EXPECT_TRUE(std::ifstream(r.out / f).good()) << f;
  }
  for (const char* f : {"ark.pem", "policy.hcl"}) EXPECT_FALSE(std::ifstream(r.out / f).good()) << f;
  const std::string script = (r.out / "verify.sh").string();
  auto untrusted = Sh(script + " --insecure-simulation-roots");
  EXPECT_EQ(untrusted.code, 1) << untrusted.out;
  auto claims = VerifiedClaims(r.out.string(), " --insecure-simulation-roots --policy " + (tmp_ / "policy.hcl"));
  EXPECT_EQ(claims["hardware"], "sev-snp");
  EXPECT_TRUE(claims.contains("measurement"));
  // The policy applies to the report: a measurement it does not allow is refused.
  std::ofstream(tmp_ / "policy.hcl", std::ios::app) << "measurements = [\"" << std::string(96, 'a') << "\"]\n";
  auto denied = Sh(script + " --insecure-simulation-roots --policy " + (tmp_ / "policy.hcl"));
  EXPECT_EQ(denied.code, 1) << denied.out;
}

}  // namespace
}  // namespace twi::gcp
