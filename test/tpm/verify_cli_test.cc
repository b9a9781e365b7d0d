// `twi verify --type tpm-quote` through the built twi: the quote vectors of the index with
// their documented result (P1 with its event log, P2, A7), refusals naming the check, usage
// errors, and the files `twi collect --kind tpm` writes on swtpm (port 25250) through the
// verify.sh it writes beside them.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/collect.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"
#include "test/tpm/swtpm_fixture.h"
#include "test/tpm/testdata.h"

namespace twi::tpm {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;
using cli::testing::Sh;
using cli::testing::Twi;

class TpmVerifyCliTest : public twi::testing::SwtpmTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/twi-tpm-verify-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    SwtpmTest::TearDown();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, ByteView data) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    return path;
  }
  // The vector's files; returns the arguments for twi verify (without --nonce).
  std::string Files(const testing::QuoteVector& v) {
    nlohmann::json pcrs = nlohmann::json::object();
    for (const auto& [bank, values] : v.pcrs) {
      for (const auto& [i, d] : values) pcrs[AlgName(bank)][std::to_string(i)] = HexEncode(d);
    }
    return " verify --type tpm-quote --ak-pub " + Write("ak", v.ak) + " --quote " +
           Write("quote", v.attest) + " --signature " + Write("sig", v.signature) + " --pcrs " +
           Write("pcrs.json", AsBytes(pcrs.dump()));
  }
  static nlohmann::json Json(const cli::testing::Run& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  fs::path dir_;
};

testing::QuoteVector A7() {
  return testing::AzureBincode("kinvolk-azure-cvm-tooling/quote.bin",
                               "kinvolk-azure-cvm-tooling/akpub.pem");
}

TEST_F(TpmVerifyCliTest, VectorsVerifyWithTheirClaims) {
  struct Case {
    const char* name;
    testing::QuoteVector v;
    std::string scheme;
  } cases[] = {{"P2", testing::P2(), "rsassa-sha256"}, {"A7", A7(), "rsassa-sha256"}};
  for (auto& c : cases) {
    auto r = Sh(Twi() + Files(c.v) + " --nonce " + HexEncode(c.v.nonce) + " --json", false);
    EXPECT_EQ(r.code, 0) << c.name << ": " << r.out;
    auto j = Json(r);
    EXPECT_EQ(j["evidence_type"], "tpm-quote");
    EXPECT_EQ(j["claims"]["pcr_digest_ok"], "true") << c.name;
    EXPECT_EQ(j["claims"]["nonce"], HexEncode(c.v.nonce)) << c.name;
    EXPECT_EQ(j["claims"]["signature_scheme"], c.scheme) << c.name;
    EXPECT_EQ(j["claims"]["ak_pub_sha256"].get<std::string>().size(), 64u) << c.name;
    EXPECT_THAT(j["claims"]["pcrs"].get<std::string>(), StartsWith("{\"sha256\":{\"0\":"));
  }
}

TEST_F(TpmVerifyCliTest, P1WithItsLegacyEventLogAndNoNonce) {
  const auto v = testing::P1();
  auto r = Sh(Twi() + Files(v) + " --nonce '' --event-log " +
                  Write("log", testing::P1EventLog()) + " --json",
              false);
  EXPECT_EQ(r.code, 0) << r.out;
  auto j = Json(r);
  EXPECT_EQ(j["claims"]["signature_scheme"], "rsassa-sha1");
  EXPECT_EQ(j["claims"]["secure_boot"], "true");
  EXPECT_THAT(j["selectors"].dump(), HasSubstr("tpm:secure-boot:true"));
}

TEST_F(TpmVerifyCliTest, RefusalsNameTheCheck) {
  const auto v = testing::P2();
  const std::string files = Files(v);
  Bytes other = v.nonce;
  other[0] ^= 1;
  auto r = Sh(Twi() + files + " --nonce " + HexEncode(other) + " --json", false);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("quote.nonce: "));

  auto pcrs = v.pcrs;
  pcrs[0x000B][0][0] ^= 1;
  testing::QuoteVector tampered = v;
  tampered.pcrs = pcrs;
  r = Sh(Twi() + Files(tampered) + " --nonce " + HexEncode(v.nonce) + " --json", false);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("pcr.digest: "));
  EXPECT_EQ(Json(r)["claims"]["pcr_digest_ok"], "false");

  // A7's quote is not signed by P2's AK.
  const auto a7 = A7();
  r = Sh(Twi() + " verify --type tpm-quote --ak-pub " + Write("p2ak", v.ak) + " --quote " +
             Write("a7q", a7.attest) + " --signature " + Write("a7s", a7.signature) +
             " --nonce " + HexEncode(a7.nonce),
         false);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("rejected: quote.signature: "));
}

TEST_F(TpmVerifyCliTest, UsageErrorsExitTwo) {
  const auto v = testing::P2();
  const std::string files = Files(v);
  EXPECT_EQ(Sh(Twi() + files).code, 2);  // no --nonce
  EXPECT_EQ(Sh(Twi() + files + " --nonce zz").code, 2);
  EXPECT_EQ(Sh(Twi() + files + " --nonce 00 --ak-cert x.pem").code, 2);  // no --ca
  EXPECT_EQ(Sh(Twi() + " verify --type tpm-quote --ak-pub /nonexistent --quote q --signature s --nonce 00").code, 2);
}

TEST_F(TpmVerifyCliTest, CollectedSwtpmQuoteVerifiesThroughVerifySh) {
  TWI_START_SWTPM(25250, .pcr_banks = "sha1,sha256");
  cli::CollectRequest req;
  req.kind = "tpm";
  req.nonce = Bytes(32, 0x42);
  req.out = dir_ / "out";
  req.twi_path = Twi();
  req.tpm_event_log = dir_ / "no-event-log";
  req.tpm.tcti = swtpm().tcti();
  req.tpm_pcrs = {{0x000B, {0, 1, 7}}, {0x0004, {0, 7}}};
  ASSERT_EQ(cli::RunCollect(req), 0);
  auto r = Sh("sh " + (req.out / "verify.sh").string() + " --json", false);
  EXPECT_EQ(r.code, 0) << r.out;
  auto j = Json(r);
  EXPECT_EQ(j["claims"]["pcr_digest_ok"], "true");
  EXPECT_EQ(j["claims"]["nonce"], HexEncode(Bytes(32, 0x42)));
  EXPECT_THAT(j["claims"]["pcrs"].get<std::string>(), HasSubstr("\"sha1\""));
}

}  // namespace
}  // namespace twi::tpm
