// The CCEL of a real GCP TD (vector T7) replays to the RTMRs of its quote; broken tables and
// logs fail with the reason.
#include "attestors/tdx/ccel.h"

#include "attestors/core/file.h"
#include "attestors/tdx/abi.h"
#include "gtest/gtest.h"

namespace twi::tdx {
namespace {

Bytes Load(const std::string& name) {
  auto b = ReadFileBytes(std::string(TWI_TESTDATA) + "/tdx/go-tdx-guest/" + name);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : Bytes();
}

TEST(Ccel, T7LogReplaysToTheQuotesRtmrs) {
  auto table = ParseCcelTable(Load("ccel_table.dat"));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->cc_type, 2);
  EXPECT_EQ(table->log_area_minimum_length, 0x40000u);
  auto replay = ReplayCcel(Load("ccel_data_head.dat"));
  ASSERT_TRUE(replay.ok()) << replay.status();
  Bytes quote_bytes = Load("cos-113-tdx-quote.dat");
  auto quote = ParseQuote(quote_bytes);
  ASSERT_TRUE(quote.ok()) << quote.status();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(HexEncode(replay->rtmr[i]), HexEncode(quote->td->rtmr[i])) << "rtmr" << i;
  }
  EXPECT_EQ(replay->rtmr[3], Bytes(48, 0));
  EXPECT_TRUE(IsAllZero(quote->td->rtmr[3]));
  EXPECT_FALSE(replay->facts.boot_applications.empty());
}

TEST(Ccel, AFlippedDigestChangesTheReplay) {
  Bytes log = Load("ccel_data_head.dat");
  auto good = ReplayCcel(log);
  ASSERT_TRUE(good.ok());
  // The first event after the spec id header starts at 0x41; its SHA-384 digest at 0x41+14.
  log[0x41 + 14] ^= 1;
  auto bad = ReplayCcel(log);
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_NE(bad->rtmr[0], good->rtmr[0]);
}

TEST(Ccel, BrokenTablesAreRefused) {
  Bytes table = Load("ccel_table.dat");
  EXPECT_EQ(ParseCcelTable(ByteView(table).first(40)).status().message(),
            "ccel table: 40 bytes, want at least 56");
  Bytes sig = table;
  sig[0] = 'X';
  EXPECT_NE(std::string(ParseCcelTable(sig).status().message()).find("want \"CCEL\""),
            std::string::npos);
  Bytes sum = table;
  sum[50] ^= 1;
  EXPECT_EQ(ParseCcelTable(sum).status().message(), "ccel table: checksum mismatch");
}

TEST(Ccel, LogsThatAreNotCcelAreRefused) {
  EXPECT_FALSE(ReplayCcel(Bytes(64, 0xFF)).ok());
  auto legacy = ReadFileBytes(std::string(TWI_TESTDATA) + "/eventlog/gce_windows_legacy.bin");
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(ReplayCcel(*legacy).status().message(), "ccel: not a crypto-agile event log");
}

}  // namespace
}  // namespace twi::tdx
