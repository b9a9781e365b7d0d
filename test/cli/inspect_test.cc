// twi inspect on every SEV-SNP vector (golden output for a few), its JSON field names against
// twi verify --json's claims, and the "not a ... because ..." message for anything else.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "attestors/sevsnp/sim.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"
#include "test/collateral/temp_dir.h"

namespace twi::cli {
namespace {

using ::testing::HasSubstr;
using testing::Sh;
using testing::Twi;

namespace fs = std::filesystem;

std::string Vector(const std::string& rel) { return std::string(TWI_TESTDATA) + "/sevsnp/" + rel; }

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(InspectTest, DecodesEveryVector) {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(std::string(TWI_TESTDATA) + "/sevsnp")) {
    if (!e.is_regular_file() || e.path().extension() == ".md") continue;
    ++n;
    auto human = Sh(Twi() + " inspect " + e.path().string());
    EXPECT_EQ(human.code, 0) << e.path() << "\n" << human.out;
    auto json = Sh(Twi() + " inspect --json " + e.path().string(), false);
    ASSERT_EQ(json.code, 0) << e.path();
    auto j = nlohmann::json::parse(json.out);
    EXPECT_THAT(std::string(j["format"]), ::testing::AnyOf("sev-snp-report", "certificates", "sev-snp-cert-table"))
        << e.path();
  }
  EXPECT_GE(n, 20);
}

// Golden files: test/cli/golden/<name>; TWI_UPDATE_GOLDEN=1 rewrites them.
TEST(InspectTest, GoldenOutput) {
  struct Case {
    const char* vector;
    const char* golden;
    const char* flags;
  };
  for (const Case& c : {Case{"virtee-sev/report_milan.hex", "report_milan.txt", ""},
                        Case{"virtee-sev/report_milan.hex", "report_milan.json", "--json "},
                        Case{"virtee-sev/cert_chain_milan", "cert_chain_milan.txt", ""},
                        Case{"trustee/test-vlek.der", "test-vlek.json", "--json "},
                        Case{"ms-tee-attestation-verification/milan_vcek.pem", "milan_vcek.txt", ""}}) {
    auto r = Sh(Twi() + " inspect " + c.flags + Vector(c.vector), false);
    ASSERT_EQ(r.code, 0) << c.vector;
    std::string golden = std::string(TWI_SOURCE_DIR) + "/test/cli/golden/" + c.golden;
    if (std::getenv("TWI_UPDATE_GOLDEN") != nullptr) std::ofstream(golden, std::ios::trunc) << r.out;
    EXPECT_EQ(r.out, ReadAll(golden)) << c.golden << " (TWI_UPDATE_GOLDEN=1 rewrites it)";
  }
}

TEST(InspectTest, ReportFieldsAreVerifysClaimNames) {
  auto v = Sh(Twi() + " verify --type sev-snp --report " + Vector("virtee-sev/report_milan.hex") + " --vcek " +
                  Vector("virtee-sev/vcek_milan.der") + " --cert-chain " + Vector("virtee-sev/cert_chain_milan") +
                  " --at 2024-01-01T00:00:00Z --json",
              false);
  ASSERT_EQ(v.code, 0) << v.out;
  auto i = Sh(Twi() + " inspect --json " + Vector("virtee-sev/report_milan.hex"), false);
  ASSERT_EQ(i.code, 0);
  auto vj = nlohmann::json::parse(v.out)["claims"];
  auto ij = nlohmann::json::parse(i.out)["claims"];
  std::vector<std::string> vk, ik;
  for (const auto& [k, _] : vj.items()) vk.push_back(k);
  for (const auto& [k, _] : ij.items()) ik.push_back(k);
  EXPECT_THAT(ik, ::testing::UnorderedElementsAreArray(vk));
  for (const char* k : {"measurement", "chip_id", "report_data", "policy", "vmpl", "host_data"}) {
    EXPECT_EQ(ij[k], vj[k]) << k;
  }
}

TEST(InspectTest, SimulatedCertificateTableAndCollectedFiles) {
  twi::testing::TempDir dir;
  // An extended-report certificate table as a host supplies it (configfs-tsm auxblob).
  auto sim = sevsnp::SnpSimulator::Create({});
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto ev = (*sim)->GetReport(Bytes(64, 0));
  ASSERT_TRUE(ev.ok()) << ev.status();
  std::ofstream(dir / "auxblob", std::ios::binary) << AsString(ev->cert_table);
  auto t = Sh(Twi() + " inspect --json " + (dir / "auxblob"), false);
  ASSERT_EQ(t.code, 0) << t.out;
  auto tj = nlohmann::json::parse(t.out);
  EXPECT_EQ(tj["format"], "sev-snp-cert-table");
  ASSERT_EQ(tj["entries"].size(), 3u);
  EXPECT_EQ(tj["entries"][0]["guid"], "63da758d-e664-4564-adc5-f4b93be8accd");
  EXPECT_EQ(tj["entries"][0]["certificate"]["role"], "vcek");
  EXPECT_EQ(tj["entries"][1]["certificate"]["role"], "ask");
  EXPECT_EQ(tj["entries"][2]["certificate"]["role"], "ark");

  // What `twi collect` writes decodes too.
  ASSERT_EQ(Sh(Twi() + " collect --simulate sev-snp --rsa-bits 2048 --out " + (dir / "ev")).code, 0);
  auto c = Sh(Twi() + " inspect --json " + (dir / "ev/cert_chain.pem"), false);
  ASSERT_EQ(c.code, 0) << c.out;
  auto cj = nlohmann::json::parse(c.out);
  ASSERT_EQ(cj["certificates"].size(), 2u);
  EXPECT_EQ(cj["certificates"][0]["role"], "ask");
  EXPECT_EQ(cj["certificates"][1]["role"], "ark");
  auto v = Sh(Twi() + " inspect --json " + (dir / "ev/vcek.der"), false);
  EXPECT_EQ(nlohmann::json::parse(v.out)["certificates"][0]["role"], "vcek");
  EXPECT_EQ(Sh(Twi() + " inspect " + (dir / "ev/report.bin")).code, 0);
}

TEST(InspectTest, UnknownInputSaysWhatItIsNot) {
  twi::testing::TempDir dir;
  std::ofstream(dir / "junk") << "hello, this is not evidence\n";
  auto r = Sh(Twi() + " inspect " + (dir / "junk"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("is not an evidence file twi knows: not an SEV-SNP report because it is 28 bytes, "
                               "want 1184; not an SEV-SNP certificate table because"));
  EXPECT_THAT(r.out, HasSubstr("; not a certificate because"));
  // A report-sized file of zeros parses structurally but is not a report.
  std::ofstream(dir / "zeros", std::ios::binary) << std::string(1184, '\0');
  auto z = Sh(Twi() + " inspect " + (dir / "zeros"));
  EXPECT_EQ(z.code, 1) << z.out;
  EXPECT_THAT(z.out, HasSubstr("not an SEV-SNP report because"));
  EXPECT_EQ(Sh(Twi() + " inspect " + (dir / "missing")).code, 2);
  EXPECT_EQ(Sh(Twi() + " inspect").code, 2);
}

}  // namespace
}  // namespace twi::cli
