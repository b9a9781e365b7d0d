// TCG event logs: real logs parse and replay to their PCRs (P1), crypto-agile logs parse (P3),
// and malformed input fails with the offset and the reason.
#include "attestors/eventlog/tcg.h"

#include <fstream>
#include <sstream>

#include "attestors/core/crypto.h"
#include "attestors/core/file.h"
#include "gtest/gtest.h"

namespace twi::eventlog {
namespace {

Bytes Load(const std::string& name) {
  auto b = ReadFileBytes(std::string(TWI_TESTDATA) + "/eventlog/" + name);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : Bytes();
}

void Put32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

// A crypto-agile header declaring SHA-256 only.
Bytes SpecIdHeader(uint16_t alg = kAlgSha256, uint16_t size = 32) {
  Bytes data(16, 0);
  std::memcpy(data.data(), "Spec ID Event03", 16);
  Put32(data, 0);                        // platform class
  data.insert(data.end(), {0, 2, 0, 2});  // minor, major, errata, uintn size
  Put32(data, 1);
  Put16(data, alg);
  Put16(data, size);
  data.push_back(0);  // vendor info size
  Bytes log;
  Put32(log, 0);
  Put32(log, kEvNoAction);
  log.insert(log.end(), 20, 0);
  Put32(log, static_cast<uint32_t>(data.size()));
  log.insert(log.end(), data.begin(), data.end());
  return log;
}

void Event2(Bytes& log, uint32_t index, uint32_t type, uint16_t alg, const Bytes& digest,
            const Bytes& data = {}) {
  Put32(log, index);
  Put32(log, type);
  Put32(log, 1);
  Put16(log, alg);
  log.insert(log.end(), digest.begin(), digest.end());
  Put32(log, static_cast<uint32_t>(data.size()));
  log.insert(log.end(), data.begin(), data.end());
}

TEST(EventLog, LegacyGceWindowsLogReplaysToItsPcrs) {
  auto log = Parse(Load("gce_windows_legacy.bin"));
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_FALSE(log->crypto_agile);
  EXPECT_EQ(log->algorithms, std::vector<uint16_t>{kAlgSha1});
  auto replay = Replay(*log, kAlgSha1);
  ASSERT_TRUE(replay.ok()) << replay.status();
  std::ifstream in(std::string(TWI_TESTDATA) + "/eventlog/gce_windows_legacy.sha1_pcrs.txt");
  std::map<uint32_t, std::string> want;
  uint32_t index;
  std::string hex;
  while (in >> index >> hex) want[index] = hex;
  ASSERT_EQ(want.size(), 24u);
  // The vector index: the log reproduces PCR 0, 4, 5, 7 and 11-14.
  for (uint32_t pcr : {0u, 4u, 5u, 7u, 11u, 12u, 13u, 14u}) {
    ASSERT_TRUE(replay->contains(pcr)) << pcr;
    EXPECT_EQ(HexEncode(replay->at(pcr)), want[pcr]) << "pcr " << pcr;
  }
}

TEST(EventLog, CryptoAgileLogsParse) {
  for (const char* name : {"crypto_agile_eventlog", "ubuntu-2404-amd-sevsnp.bin", "cos-101-amd-sev.bin"}) {
    auto log = Parse(Load(name));
    ASSERT_TRUE(log.ok()) << name << ": " << log.status();
    EXPECT_TRUE(log->crypto_agile) << name;
    EXPECT_GT(log->events.size(), 10u) << name;
    for (uint16_t alg : log->algorithms) {
      if (DigestSize(alg) == 0) continue;
      auto replay = Replay(*log, alg);
      EXPECT_TRUE(replay.ok()) << name << " " << AlgName(alg) << ": " << replay.status();
    }
  }
}

TEST(EventLog, UbuntuSnpLogMeasuresSecureBootAndABootLoader) {
  auto log = Parse(Load("ubuntu-2404-amd-sevsnp.bin"));
  ASSERT_TRUE(log.ok()) << log.status();
  BootFacts facts = ExtractFacts(*log, kAlgSha256, 7, 4);
  EXPECT_TRUE(facts.secure_boot.has_value());
  EXPECT_FALSE(facts.boot_applications.empty());
  for (const Bytes& d : facts.boot_applications) EXPECT_EQ(d.size(), 32u);
}

TEST(EventLog, StartupLocalityStartsPcr0) {
  Bytes log = SpecIdHeader();
  Bytes loc(16, 0);
  std::memcpy(loc.data(), "StartupLocality", 16);
  loc.push_back(3);
  Event2(log, 0, kEvNoAction, kAlgSha256, Bytes(32, 0), loc);
  Bytes d(32, 0xAB);
  Event2(log, 0, 0x8, kAlgSha256, d);
  auto parsed = Parse(log);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->startup_locality, 3);
  auto replay = Replay(*parsed, kAlgSha256);
  ASSERT_TRUE(replay.ok());
  Bytes start(32, 0);
  start.back() = 3;
  start.insert(start.end(), d.begin(), d.end());
  EXPECT_EQ(replay->at(0), Sha256(start));
}

TEST(EventLog, NoActionEventsDoNotExtend) {
  Bytes log = SpecIdHeader();
  Event2(log, 5, kEvNoAction, kAlgSha256, Bytes(32, 7));
  auto parsed = Parse(log);
  ASSERT_TRUE(parsed.ok());
  auto replay = Replay(*parsed, kAlgSha256);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->empty());
}

void ExpectError(const Bytes& log, const std::string& want, const ParseOptions& o = {}) {
  auto parsed = Parse(log, o);
  ASSERT_FALSE(parsed.ok()) << "want error containing: " << want;
  EXPECT_NE(std::string(parsed.status().message()).find(want), std::string::npos)
      << parsed.status();
}

TEST(EventLog, MalformedLogsNameTheProblem) {
  ExpectError({}, "event log is empty");
  ExpectError(Bytes(10, 1), "offset 0: truncated TCG_PCR_EVENT header");
  Bytes header = SpecIdHeader();
  ExpectError(Bytes(header.begin(), header.end() - 3), "offset 0: event data of");
  ExpectError(SpecIdHeader(kAlgSha256, 20), "sha256 digest size 20, want 32");
  Bytes undeclared = SpecIdHeader();
  Event2(undeclared, 1, 1, kAlgSha384, Bytes(48, 0));
  ExpectError(undeclared, "digest of sha384 not declared");
  Bytes truncated = SpecIdHeader();
  Event2(truncated, 1, 1, kAlgSha256, Bytes(32, 0), Bytes(5, 1));
  truncated.resize(truncated.size() - 1);
  ExpectError(truncated, "event data of 5 bytes runs past the log");
  Bytes huge = SpecIdHeader();
  Put32(huge, 1);
  Put32(huge, 1);
  Put32(huge, 1);
  Put16(huge, kAlgSha256);
  huge.insert(huge.end(), 32, 0);
  Put32(huge, 0xFFFFFFF0);
  ExpectError(huge, "too large");
  Bytes many = SpecIdHeader();
  for (int i = 0; i < 3; ++i) Event2(many, 1, 1, kAlgSha256, Bytes(32, 0));
  ParseOptions o;
  o.max_events = 2;
  ExpectError(many, "more than 2 events", o);
}

TEST(EventLog, PaddingEndsTheLogOnlyWhenAsked) {
  Bytes log = SpecIdHeader();
  Event2(log, 1, 1, kAlgSha256, Bytes(32, 0));
  log.insert(log.end(), 64, 0xFF);
  ExpectError(log, "digests, the spec id event declares");
  ParseOptions o;
  o.stop_at_padding = true;
  auto parsed = Parse(log, o);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->events.size(), 1u);
}

TEST(EventLog, ReplayNamesAMissingDigest) {
  auto log = Parse(Load("gce_windows_legacy.bin"));
  ASSERT_TRUE(log.ok());
  auto r = Replay(*log, kAlgSha256);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("no sha256 digests"), std::string::npos);
}

}  // namespace
}  // namespace twi::eventlog
