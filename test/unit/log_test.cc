// The hclog JSON line format SPIRE parses (spec 1.5).
#include <algorithm>
#include <regex>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "plugin/runtime/log.h"

namespace twi::log {
namespace {

TEST(LogTest, ExactLine) {
  EXPECT_EQ(FormatLine("info", "twi-x", "configured", {{"region", "eu"}}, 1767323045123456LL),
            R"({"@level":"info","@message":"configured","@module":"twi-x","@timestamp":"2026-01-02T03:04:05.123456Z","region":"eu"})");
}

TEST(LogTest, SixFractionalDigitsEvenWhenZero) {
  std::string line = FormatLine("warn", "m", "x", {}, 1767323045000000LL);
  EXPECT_THAT(line, ::testing::HasSubstr(R"("@timestamp":"2026-01-02T03:04:05.000000Z")"));
}

TEST(LogTest, EscapesAndReservedKeysProtected) {
  std::string line = FormatLine("error", "m", "quote \" newline \n tab \t", {{"@level", "x"}, {"k", "\x01"}}, 0);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["@level"], "error");
  EXPECT_EQ(j["@message"], "quote \" newline \\x0a tab \\x09");
  EXPECT_EQ(j["k"], "\\x01");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogTest, InvalidUtf8IsReplacedNotThrown) {
  std::string line = FormatLine("info", "m", std::string("bad \xff byte"), {}, 0);
  EXPECT_TRUE(nlohmann::json::accept(line));
}

TEST(LogTest, LoggerWritesOneJsonObjectPerLineWithStringFields) {
  std::ostringstream out;
  InitForTest("twi-test", out);
  SetLevel("debug");
  Debug("hello", {{"a", "1"}});
  Trace("dropped below debug");
  Warn("careful");
  SetLevel("error");
  Info("not shown");
  std::istringstream in(out.str());
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  static const std::regex kTs(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$)");
  for (const auto& j : lines) {
    for (const char* k : {"@level", "@message", "@timestamp", "@module"}) {
      ASSERT_TRUE(j[k].is_string()) << k;
    }
    EXPECT_TRUE(std::regex_match(j["@timestamp"].get<std::string>(), kTs));
  }
  EXPECT_EQ(lines[0]["@level"], "debug");
  EXPECT_EQ(lines[0]["a"], "1");
  EXPECT_EQ(lines[1]["@level"], "warn");
  EXPECT_EQ(lines[1]["@message"], "careful");
}

// Issue 11 (5): a value holding the old in-band separator (0x1f) or a newline, e.g. from a
// certificate CN or a peer's input, can neither add nor override fields nor forge a line.
TEST(AttackLog, FieldInjectionThroughValues) {
  std::ostringstream out;
  InitForTest("twi-test", out);
  SetLevel("info");
  Warn("attestation rejected", {{"error", "bad cn\x1f" "code\x1fOK\x1f" "agent_id\x1fspiffe://evil\n{\"@level\":\"info\"}"},
                                {"code", "PERMISSION_DENIED"}});
  std::string text = out.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["code"], "PERMISSION_DENIED");
  EXPECT_FALSE(j.contains("agent_id"));
  EXPECT_EQ(j["error"], "bad cn\\x1fcode\\x1fOK\\x1fagent_id\\x1fspiffe://evil\\x0a{\"@level\":\"info\"}");
  EXPECT_EQ(j["@level"], "warn");
  EXPECT_EQ(j.size(), 6u);  // 4 reserved keys + error + code
}

TEST(AttackLog, HugeFieldValuesAreBounded) {
  std::string line = FormatLine("warn", "m", "x", {{"error", std::string(10 << 20, 'a')}}, 0);
  EXPECT_LT(line.size(), 5000u);
  EXPECT_THAT(line, ::testing::HasSubstr("more bytes)"));
}

}  // namespace
}  // namespace twi::log
