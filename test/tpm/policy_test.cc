// PCR allow-lists, event-log facts, SHA-1 signatures and selectors against verified quotes (P2,
// A7, P1 vectors).
#include "attestors/tpm/policy.h"

#include "attestors/core/str.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/testdata.h"

namespace twi::tpm {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::Msg;

VerifiedQuote VerifiedP2() {
  VerifiedQuote out;
  EXPECT_TRUE(testing::Verify(testing::P2(), &out).ok());
  return out;
}

std::string Hex(const VerifiedQuote& q, uint16_t bank, uint32_t i) {
  return HexEncode(q.pcrs.at(bank).at(i));
}

TEST(TpmPolicy, ParsePcrRulesReportsEveryProblem) {
  auto r = ParsePcrRules({{"sha256:7", {std::string(64, 'a')}},
                          {"sha1:0", {std::string(64, 'a')}},
                          {"md5:1", {"00"}},
                          {"sha256:24", {std::string(64, 'b')}},
                          {"sha256:x", {}},
                          {"sha256:07", {std::string(64, 'c')}}});
  ASSERT_FALSE(r.ok());
  std::string m = Msg(r.status());
  EXPECT_THAT(m, HasSubstr("sha1:0: value of 32 bytes, want 20"));
  EXPECT_THAT(m, HasSubstr("pcrs key \"md5:1\" is not <sha1|sha256|sha384|sha512>:<index>"));
  EXPECT_THAT(m, HasSubstr("pcr index 24 is above 23"));
  EXPECT_THAT(m, HasSubstr("\"sha256:x\""));
  EXPECT_THAT(m, HasSubstr("sha256:7 listed twice (as \"sha256:7\")"));
  auto ok = ParsePcrRules({{"sha256:7", {std::string(64, 'a'), std::string(64, 'B')}}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->at(0).bank, TPM2_ALG_SHA256);
  EXPECT_EQ(ok->at(0).index, 7u);
  EXPECT_EQ(ok->at(0).values.size(), 2u);
}

TEST(TpmPolicy, PcrAllowList) {
  VerifiedQuote q = VerifiedP2();
  TpmPolicy p;
  p.pcrs = *ParsePcrRules({{"sha256:0", {Hex(q, TPM2_ALG_SHA256, 0)}},
                           {"sha256:7", {std::string(64, 'f'), Hex(q, TPM2_ALG_SHA256, 7)}}});
  ASSERT_TRUE(ValidatePolicy(p).ok());
  CheckList checks;
  EXPECT_TRUE(Appraise(q, nullptr, p, checks).ok());

  p.pcrs = *ParsePcrRules({{"sha256:7", {std::string(64, 'f')}}});
  EXPECT_EQ(Msg(Appraise(q, nullptr, p, checks)),
            "policy.pcrs: sha256:7 is 0000000000000000...; want one of [ffffffffffffffff...]");
  p.pcrs = *ParsePcrRules({{"sha1:7", {std::string(40, 'f')}}});
  EXPECT_EQ(Msg(Appraise(q, nullptr, p, checks)),
            "policy.pcrs: sha1:7 is not in the quote; want one of [ffffffffffffffff...]");
  // Values the pcrDigest did not authenticate never satisfy an allow-list.
  q.pcr_digest_ok = false;
  p.pcrs = *ParsePcrRules({{"sha256:0", {Hex(q, TPM2_ALG_SHA256, 0)}}});
  EXPECT_THAT(Msg(Appraise(q, nullptr, p, checks)), StartsWith("policy.pcrs: the pcr allow-list needs"));
}

TEST(TpmPolicy, Sha1SignaturesNeedTheOptIn) {
  VerifiedQuote q;
  ASSERT_TRUE(testing::Verify(testing::P1(), &q).ok());
  TpmPolicy p;
  CheckList checks;
  EXPECT_EQ(Msg(Appraise(q, nullptr, p, checks)),
            "policy.signature_hash: quote signed with sha1; want sha256 or stronger "
            "(allow_sha1_signatures not set)");
  p.allow_sha1_signatures = true;
  EXPECT_TRUE(Appraise(q, nullptr, p, checks).ok());
}

TEST(TpmPolicy, SecureBootAndBootLoaderNeedAReplayedLog) {
  VerifiedQuote q = VerifiedP2();
  TpmPolicy p;
  p.require_secure_boot = true;
  p.boot_loader_digests = {Bytes(32, 0xB0)};
  CheckList checks;
  EXPECT_EQ(Msg(Appraise(q, nullptr, p, checks)),
            "policy.secure_boot: no verified event log; want secure boot enabled");
  EventLogFacts log;
  log.bank = TPM2_ALG_SHA256;
  log.secure_boot = true;
  log.boot_applications = {Bytes(32, 0xB0)};
  EXPECT_THAT(Msg(Appraise(q, &log, p, checks)), StartsWith("policy.secure_boot: pcr 7 was not replayed"));
  log.matched_pcrs = {4, 7};
  EXPECT_TRUE(Appraise(q, &log, p, checks).ok());
  log.secure_boot = false;
  EXPECT_EQ(Msg(Appraise(q, &log, p, checks)), "policy.secure_boot: SecureBoot is disabled; want enabled");
  log.secure_boot.reset();
  EXPECT_EQ(Msg(Appraise(q, &log, p, checks)),
            "policy.secure_boot: the log does not measure SecureBoot; want enabled");
  log.secure_boot = true;
  log.boot_applications = {Bytes(32, 0xC0), Bytes(32, 0xB0)};
  EXPECT_EQ(Msg(Appraise(q, &log, p, checks)),
            "policy.boot_loader: boot loader c0c0c0c0c0c0c0c0...; want one of [b0b0b0b0b0b0b0b0...]");
  log.matched_pcrs = {7};
  EXPECT_THAT(Msg(Appraise(q, &log, p, checks)),
              StartsWith("policy.boot_loader: no boot application in a replayed pcr 4"));
}

TEST(TpmPolicy, Selectors) {
  VerifiedQuote q = VerifiedP2();
  EventLogFacts log;
  log.secure_boot = true;
  log.matched_pcrs = {7};
  std::vector<std::string> s = Selectors(q, &log);
  EXPECT_EQ(s.front(), "tee:tpm");
  EXPECT_THAT(s, Contains(StrCat("tpm:pcr:sha256:7:", std::string(64, '0'))));
  EXPECT_THAT(s, Contains("tpm:secure-boot:true"));
  EXPECT_EQ(s.size(), 1u + 24u + 1u);
  q.pcr_digest_ok = false;
  EXPECT_EQ(Selectors(q, nullptr).size(), 1u);
}

TEST(TpmPolicy, Claims) {
  VerifiedQuote q = VerifiedP2();
  EventLogFacts log;
  log.bank = TPM2_ALG_SHA256;
  log.matched_pcrs = {0, 7};
  log.secure_boot = false;
  auto c = Claims(q, &log);
  EXPECT_EQ(c["pcr_digest_ok"], "true");
  EXPECT_EQ(c["signature_scheme"], "rsassa-sha256");
  EXPECT_EQ(c["nonce"].size(), 128u);
  EXPECT_EQ(c["firmware_version"], "2019102300163636");
  EXPECT_EQ(c["ak_pub_sha256"], HexEncode(q.ak_spki_sha256));
  EXPECT_EQ(c["pcrs"].substr(0, 16), "{\"sha256\":{\"0\":\"");
  auto parsed = nlohmann::json::parse(c["pcrs"]);
  EXPECT_EQ(parsed["sha256"].size(), 24u);
  EXPECT_EQ(c["eventlog_pcrs"], "0,7");
  EXPECT_EQ(c["secure_boot"], "false");
  q.pcr_digest_ok = false;
  EXPECT_EQ(Claims(q, nullptr)["pcrs"], "{}");
}

}  // namespace
}  // namespace twi::tpm
