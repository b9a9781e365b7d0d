// `twi collect --kind tpm` against swtpm: the files `twi verify --type tpm-quote` takes, and
// that they hold a quote over the nonce that the AK written beside it signed.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/core/file.h"
#include "cli/collect.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"
#include "test/tpm/quote_check.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::cli {
namespace {

using ::testing::HasSubstr;
using ::twi::testing::SwtpmTest;
namespace fs = std::filesystem;

class TpmCollectCliTest : public SwtpmTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/twi-tpm-collect-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    request_.kind = "tpm";
    request_.nonce = Bytes{0xde, 0xad, 0xbe, 0xef};
    request_.out = dir_ / "out";
    request_.twi_path = testing::Twi();
    request_.tpm_event_log = dir_ / "no-event-log";
  }
  void TearDown() override {
    SwtpmTest::TearDown();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Bytes Read(const char* name) {
    absl::StatusOr<Bytes> b = ReadFileBytes(request_.out / name);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : Bytes{};
  }

  fs::path dir_;
  CollectRequest request_;
};

TEST_F(TpmCollectCliTest, WritesAQuoteOverTheNonceWithItsPcrsAndKeys) {
  TWI_START_SWTPM(24240, .pcr_banks = "sha1,sha256");
  request_.tpm.tcti = swtpm().tcti();
  request_.tpm_pcrs = {{0x000B, {0, 1, 2, 7}}, {0x0004, {0, 7}}};
  ASSERT_EQ(RunCollect(request_), 0);

  for (const char* f : {"quote.bin", "signature.bin", "pcrs.json", "ak_pub.bin", "ek_pub.bin",
                        "ek_cert.der", "verify.sh"}) {
    EXPECT_TRUE(fs::exists(request_.out / f)) << f;
  }
  EXPECT_FALSE(fs::exists(request_.out / "event_log.bin"));  // none on this machine
  absl::StatusOr<std::string> script = ReadFileToString(request_.out / "verify.sh");
  ASSERT_TRUE(script.ok());
  EXPECT_THAT(*script, HasSubstr("verify '--type' 'tpm-quote' '--ak-pub' 'ak_pub.bin' '--quote' "
                                 "'quote.bin' '--signature' 'signature.bin' '--pcrs' 'pcrs.json' "
                                 "'--nonce' 'deadbeef' \"$@\""));

  Bytes quote = Read("quote.bin");
  tpm::ExpectQuoteVerifies(quote, Read("signature.bin"), Read("ak_pub.bin"));
  TPMS_ATTEST attest = tpm::MuAttest(quote);
  EXPECT_EQ(Bytes(attest.extraData.buffer, attest.extraData.buffer + attest.extraData.size),
            request_.nonce);

  // pcrs.json: banks in request order, indices ascending, and they hash to the pcrDigest.
  absl::StatusOr<std::string> text = ReadFileToString(request_.out / "pcrs.json");
  ASSERT_TRUE(text.ok());
  nlohmann::ordered_json pcrs = nlohmann::ordered_json::parse(*text);
  ASSERT_EQ(pcrs.size(), 2u);
  EXPECT_EQ(pcrs.begin().key(), "sha256");
  EXPECT_EQ(pcrs["sha256"].size(), 4u);
  EXPECT_EQ(pcrs["sha1"].size(), 2u);
  Bytes concat;
  for (const auto& [bank, values] : pcrs.items()) {
    for (const auto& [index, hex] : values.items()) {
      absl::StatusOr<Bytes> v = HexDecode(hex.get<std::string>());
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(v->size(), bank == "sha1" ? 20u : 32u) << bank << " " << index;
      concat.insert(concat.end(), v->begin(), v->end());
    }
  }
  const TPM2B_DIGEST& d = attest.attested.quote.pcrDigest;
  EXPECT_EQ(Bytes(d.buffer, d.buffer + d.size), Sha256(concat));
  // The EK certificate from NV is for the EK public written beside it.
  EXPECT_FALSE(Read("ek_cert.der").empty());
  EXPECT_EQ(tpm::MuPublic(Read("ek_pub.bin")).type, TPM2_ALG_RSA);
}

TEST_F(TpmCollectCliTest, CopiesTheEventLogAndPassesItToVerify) {
  TWI_START_SWTPM(24242);
  request_.tpm.tcti = swtpm().tcti();
  request_.tpm_event_log = dir_ / "binary_bios_measurements";
  std::ofstream(request_.tpm_event_log, std::ios::binary) << "not a real log";
  ASSERT_EQ(RunCollect(request_), 0);
  EXPECT_EQ(AsString(Read("event_log.bin")), "not a real log");
  absl::StatusOr<std::string> script = ReadFileToString(request_.out / "verify.sh");
  ASSERT_TRUE(script.ok());
  EXPECT_THAT(*script, HasSubstr("'--event-log' 'event_log.bin' \"$@\""));
}

TEST_F(TpmCollectCliTest, TpmInfoShowsTheEkBanksAndHandles) {
  TWI_START_SWTPM(24248);
  const std::string info = testing::Twi() + " tpm info --tcti " + swtpm().tcti();
  testing::Run r = testing::Sh(info + " --ak-handle 0x81000100 --json", /*stderr_too=*/false);
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["manufacturer"], "IBM");
  EXPECT_EQ(j["pcr_banks"], nlohmann::json::array({"sha256"}));
  EXPECT_EQ(j["ek"]["type"], "rsa");
  EXPECT_EQ(j["ek"]["handle"], "transient");
  EXPECT_EQ(j["ek"]["name"].get<std::string>().substr(0, 4), "000b");
  // The EK hash is the SHA-256 of the SPKI of the certificate's key (the same key).
  absl::StatusOr<Bytes> ek_pub = HexDecode(j["ek"]["public_area"].get<std::string>());
  ASSERT_TRUE(ek_pub.ok());
  EXPECT_EQ(j["ek"]["ek_hash"], HexEncode(Sha256(tpm::Spki(tpm::OpenSslKey(tpm::MuPublic(*ek_pub)).get()))));
  EXPECT_GT(j["ek"]["certificate_bytes"].get<int>(), 500);
  EXPECT_EQ(j["ak"], "none at 0x81000100");  // info persists nothing
  EXPECT_THAT(j["persistent_handles"].dump(), HasSubstr("0x81010001"));

  r = testing::Sh(info + " --ek-handle 81010016");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("ek           ecc, 0x81010016, name 000c"));
  EXPECT_EQ(testing::Sh(info + " --ek dsa").code, 2);
  EXPECT_EQ(testing::Sh(testing::Twi() + " tpm").code, 2);
  r = testing::Sh(testing::Twi() + " tpm info --tcti swtpm:port=24299");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("tpm (swtpm:port=24299)"));
}

TEST(TpmCollectCliNoServerTest, AbsentTpmAndBadFlagsAreClearErrors) {
  char tmpl[] = "/tmp/twi-tpm-collect-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string out = std::string(tmpl) + "/out";
  const std::string twi = testing::Twi() + " collect --kind tpm --out " + out;
  // Nothing listens on 24299 (reserved for this test).
  testing::Run r = testing::Sh(twi + " --tcti swtpm:port=24299");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("tpm (swtpm:port=24299): opening the tcti"));
  r = testing::Sh(twi + " --pcrs 0-40");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.out, HasSubstr("\"0-40\" is not an index or range within 0-31"));
  r = testing::Sh(twi + " --pcr-banks sha3");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.out, HasSubstr("pcr bank \"sha3\""));
  r = testing::Sh(testing::Twi() + " collect --simulate tpm --out " + out);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("no TPM simulator inside twi"));
  std::error_code ec;
  fs::remove_all(tmpl, ec);
}

}  // namespace
}  // namespace twi::cli
