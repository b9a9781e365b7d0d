// `twi verify --type azure-sev-snp` through the built twi, on A1's files split out of trustee's
// evidence-v1.json (test/testdata/azure/derived/a1, see PROVENANCE.md): verified with the
// issue's claims; refusals (wrong nonce, edited HCL report, no VCEK) exit 1 naming the check;
// usage errors exit 2.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/core/bytes.h"
#include "attestors/core/file.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"

namespace twi::azure {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using cli::testing::Sh;
using cli::testing::Twi;
namespace fs = std::filesystem;

const std::string kDir = std::string(TWI_TESTDATA) + "/azure/derived/a1/";
constexpr char kChallenge[] = "6368616c6c656e6765";  // "challenge"

std::string Args(const std::string& hcl, const std::string& nonce, bool vcek = true) {
  return Twi() + " verify --type azure-sev-snp --hcl-report " + hcl + " --quote " + kDir +
         "quote.bin --signature " + kDir + "signature.bin --pcrs " + kDir + "pcrs.json --nonce " +
         nonce + (vcek ? " --vcek " + kDir + "vcek.pem" : "") + " --at 2026-01-01T00:00:00Z --json";
}

nlohmann::json Json(const cli::testing::Run& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

TEST(AzureVerifyCli, A1VerifiesWithClaims) {
  auto r = Sh(Args(kDir + "hcl-report.bin", kChallenge), false);
  EXPECT_EQ(r.code, 0) << r.out;
  auto j = Json(r);
  EXPECT_EQ(j["evidence_type"], "azure-sev-snp");
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["claims"]["vm_id"], "26F8BC30-774E-4290-8E7A-535F3B672AEE");
  EXPECT_THAT(j["claims"]["measurement"].get<std::string>(), StartsWith("6a063be9"));
  EXPECT_THAT(j["claims"]["report_data_binding"].get<std::string>(), StartsWith("af291034"));
  EXPECT_EQ(j["claims"]["ak_pub_sha256"].get<std::string>().size(), 64u);
  EXPECT_THAT(r.out, HasSubstr("azure:vm-id:26F8BC30-774E-4290-8E7A-535F3B672AEE"));
}

TEST(AzureVerifyCli, Refusals) {
  auto r = Sh(Args(kDir + "hcl-report.bin", "00"), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("quote.nonce: "));

  r = Sh(Args(kDir + "hcl-report.bin", kChallenge, /*vcek=*/false), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), HasSubstr("no --vcek"));

  // REPORT_DATA edited: the binding fails before any signature.
  auto hcl = ReadFileBytes(kDir + "hcl-report.bin");
  ASSERT_TRUE(hcl.ok());
  (*hcl)[0x20 + 0x50] ^= 1;
  char tmpl[] = "/tmp/twi-azure-cli-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string edited = std::string(tmpl) + "/hcl.bin";
  std::ofstream(edited, std::ios::binary)
      .write(reinterpret_cast<const char*>(hcl->data()), static_cast<std::streamsize>(hcl->size()));
  r = Sh(Args(edited, kChallenge), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("hcl.binding: report_data got "));
  std::error_code ec;
  fs::remove_all(tmpl, ec);
}

TEST(AzureVerifyCli, UsageErrors) {
  EXPECT_EQ(Sh(Twi() + " verify --type azure-sev-snp --hcl-report x --nonce 00").code, 2);
  EXPECT_EQ(Sh(Args("/nonexistent/hcl.bin", kChallenge)).code, 2);
  EXPECT_EQ(Sh(Args(kDir + "hcl-report.bin", "zz")).code, 2);
}

}  // namespace
}  // namespace twi::azure
