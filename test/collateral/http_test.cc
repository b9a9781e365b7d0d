#include "attestors/collateral/http.h"

#include <fstream>

#include "gtest/gtest.h"
#include "test/collateral/local_server.h"
#include "test/collateral/temp_dir.h"

namespace twi::collateral {
namespace {

TEST(collateral_http_header, Table) {
  struct Case {
    std::string line;
    bool ok;
    std::string name, value;
  };
  const Case cases[] = {
      {"Retry-After: 120\r\n", true, "retry-after", "120"},
      {"content-type:text/plain\r\n", true, "content-type", "text/plain"},
      {"X-Empty:\r\n", true, "x-empty", ""},
      {"Date: Wed, 21 Oct 2015 07:28:00 GMT\r\n", true, "date", "Wed, 21 Oct 2015 07:28:00 GMT"},
      {"HTTP/1.1 200 OK\r\n", false, "", ""},
      {"\r\n", false, "", ""},
      {": no name\r\n", false, "", ""},
      {"Bad Name: x\r\n", false, "", ""},
      {"no colon\r\n", false, "", ""},
  };
  for (const Case& c : cases) {
    std::string name, value;
    EXPECT_EQ(ParseHeaderLine(c.line, &name, &value), c.ok) << c.line;
    if (c.ok) {
      EXPECT_EQ(name, c.name);
      EXPECT_EQ(value, c.value);
    }
  }
}

TEST(collateral_http_response, HeaderLookupIgnoresCase) {
  HttpResponse r;
  r.headers["retry-after"] = "5";
  EXPECT_EQ(r.Header("Retry-After"), "5");
  EXPECT_EQ(r.Header("missing"), "");
}

class CurlTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.ok()) << "kds_server.py did not start"; }
  testing::LocalServer server_;
  twi::testing::TempDir dir_;
};
using collateral_curl = CurlTest;

TEST_F(collateral_curl, GetsBodyStatusAndHeaders) {
  std::string file = dir_ / "body.bin";
  std::ofstream(file, std::ios::binary) << std::string("\x00\x01payload\xff", 10);
  server_.Route("/a/b?x=1&y=2", file);
  CurlHttpGetter http;
  auto r = http.Get(server_.base_url() + "/a/b?x=1&y=2");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::string("\x00\x01payload\xff", 10));
  EXPECT_EQ(r->Header("content-type"), "application/octet-stream");
  EXPECT_EQ(server_.Count("/a/b?x=1&y=2"), 1);
}

TEST_F(collateral_curl, HttpErrorsAreResponsesNotStatuses) {
  CurlHttpGetter http;
  auto r = http.Get(server_.base_url() + "/nothing/here");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 404);
}

TEST_F(collateral_curl, RetryAfterHeaderOn429) {
  std::string file = dir_ / "x";
  std::ofstream(file) << "x";
  server_.Route("/limited", file, 200, /*fail429=*/1, /*retry_after=*/"7");
  CurlHttpGetter http;
  auto r = http.Get(server_.base_url() + "/limited");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->Header("Retry-After"), "7");
}

TEST_F(collateral_curl, BodyLimitIsUnavailable) {
  std::string file = dir_ / "big";
  std::ofstream(file) << std::string(4096, 'a');
  server_.Route("/big", file);
  CurlOptions options;
  options.max_body_bytes = 1000;
  CurlHttpGetter http(options);
  auto r = http.Get(server_.base_url() + "/big");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("body larger than 1000 bytes"), std::string::npos)
      << r.status();
}

TEST(collateral_curl_no_server, ConnectionRefusedIsUnavailableWithUrl) {
  // Port 1 on loopback: nothing listens there in a test environment.
  CurlHttpGetter http;
  auto r = http.Get("http://127.0.0.1:1/vcek");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("http://127.0.0.1:1/vcek"), std::string::npos)
      << r.status();
}

TEST(collateral_curl_no_server, RefusesOtherSchemes) {
  CurlHttpGetter http;
  auto r = http.Get("file:///etc/passwd");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace twi::collateral
