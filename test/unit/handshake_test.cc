#include "gtest/gtest.h"
#include "plugin/runtime/runtime.h"
#include "test/harness/host.h"

namespace twi {
namespace {

TEST(HandshakeTest, LineIsGoPluginGrpcOverUnixWithEmptyCert) {
  EXPECT_EQ(runtime::HandshakeLine("/tmp/plugin123"), "1|1|unix|/tmp/plugin123|grpc|\n");
}

TEST(HandshakeTest, HostLogLineChecker) {
  EXPECT_EQ(host::CheckLogLine(R"({"@level":"info","@message":"m","@timestamp":"2026-01-02T03:04:05.123456Z"})"), "");
  EXPECT_NE(host::CheckLogLine(R"({"@level":"info","@message":"m","@timestamp":"2026-01-02T03:04:05.123Z"})"), "");
  EXPECT_NE(host::CheckLogLine(R"({"@level":"info","@message":5})"), "");
  EXPECT_NE(host::CheckLogLine(R"({"@level":"fatal","@message":"m"})"), "");
  EXPECT_NE(host::CheckLogLine("plain text"), "");
}

}  // namespace
}  // namespace twi
