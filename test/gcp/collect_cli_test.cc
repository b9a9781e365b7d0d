// `twi collect --kind gcp`: the built twi against a swtpm, provisioned as a GCE vTPM by
// --simulate gcp, then the verify.sh it writes (twi verify --type gcp) and a tampered quote.
// swtpm ports 26670-26679.
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"
#include "test/collateral/temp_dir.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::gcp {
namespace {

using ::testing::HasSubstr;
using cli::testing::Sh;
using cli::testing::Twi;

using GcpCollectCliTest = twi::testing::SwtpmTest;

TEST_F(GcpCollectCliTest, SimulatedVmCollectedAndVerifiedByItsScript) {
  TWI_START_SWTPM(26670);
  twi::testing::TempDir dir;
  const std::string out = dir / "evidence";
  auto c = Sh(Twi() + " collect --kind gcp --simulate gcp --tpm " + swtpm().tcti() +
              " --nonce 00112233445566778899aabbccddeeff --pcrs 0,7 --out " + out);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_THAT(c.out, HasSubstr("collected gcp evidence from " + swtpm().tcti()));
  for (const char* f : {"ak_cert.der", "quote.bin", "signature.bin", "pcrs.json", "ca_bundle.pem", "verify.sh"}) {
    EXPECT_TRUE(std::ifstream(out + "/" + f).good()) << f;
  }
  auto v = Sh(out + "/verify.sh --json", /*stderr_too=*/false);
  ASSERT_EQ(v.code, 0) << v.out;
  auto j = nlohmann::json::parse(v.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << v.out;
  EXPECT_EQ(j["claims"]["project_id"], "twi-sim-project");
  EXPECT_EQ(j["claims"]["zone"], "us-central1-a");
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

}  // namespace
}  // namespace twi::gcp
