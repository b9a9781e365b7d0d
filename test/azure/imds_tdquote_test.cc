// The Azure IMDS TD quote client (imds_tdquote.h) against a local HTTP server
// (test/collateral/kds_server.py) answering POST /acc/tdquote like IMDS: the quote of the
// simulated TDREPORT when the request body is exactly {"report": base64url(TDREPORT)}, 400
// otherwise; plus non-200 answers, an unreachable IMDS and what the parser refuses.
#include "attestors/azure/imds_tdquote.h"

#include <fstream>

#include "attestors/azure/sim_tdx.h"
#include "attestors/azure/thim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test/collateral/local_server.h"
#include "test/collateral/temp_dir.h"

namespace twi::azure {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

struct Fixture {
  Bytes td_report, quote;
};

Fixture Make() {
  auto sim = AzureTdxSimulator::Create({});
  EXPECT_TRUE(sim.ok());
  auto ak = SoftwareAk::Create();
  auto hcl = (*sim)->HclReport(*ak->Jwk());
  EXPECT_TRUE(hcl.ok());
  auto quote = (*sim)->QuoteTdReport(hcl->td_report);
  EXPECT_TRUE(quote.ok());
  return {hcl->td_report, *quote};
}

TEST(AzureImdsTdQuote, PostsTheReportAndDecodesTheQuote) {
  collateral::testing::LocalServer server;
  ASSERT_TRUE(server.ok());
  twi::testing::TempDir dir;
  Fixture f = Make();
  std::ofstream(dir / "request.json") << TdQuoteRequest(f.td_report);
  std::ofstream(dir / "answer.json")
      << nlohmann::json{{"quote", Base64UrlEncode(f.quote)}}.dump();
  server.RoutePost(kTdQuotePath, dir / "answer.json", dir / "request.json");

  collateral::CurlHttpGetter http(ImdsCurlOptions());
  auto q = FetchTdQuote(http, server.base_url() + "/", f.td_report);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(*q, f.quote);
  EXPECT_EQ(server.Count(kTdQuotePath), 1);

  // Another TDREPORT is not what this "quoting service" was told to expect: 400.
  Bytes other = f.td_report;
  other[0x80] ^= 1;
  q = FetchTdQuote(http, server.base_url(), other);
  ASSERT_TRUE(absl::IsUnavailable(q.status())) << q.status();
  EXPECT_THAT(Msg(q.status()), HasSubstr("http status 400"));
}

TEST(AzureImdsTdQuote, RequestShape) {
  const Bytes report(1024, 0xFB);
  auto j = nlohmann::json::parse(TdQuoteRequest(report));
  ASSERT_TRUE(j.contains("report"));
  const std::string b64 = j["report"];
  EXPECT_EQ(b64.find('='), std::string::npos);  // base64url without padding
  EXPECT_EQ(b64.find('+'), std::string::npos);
  EXPECT_EQ(*Base64UrlDecode(b64), report);
}

TEST(AzureImdsTdQuote, NotAnAzureTdxVm) {
  collateral::testing::LocalServer server;
  ASSERT_TRUE(server.ok());
  collateral::CurlHttpGetter http(ImdsCurlOptions());
  auto q = FetchTdQuote(http, server.base_url(), Bytes(1024, 0));  // no route: 404
  ASSERT_TRUE(absl::IsUnavailable(q.status())) << q.status();
  EXPECT_THAT(Msg(q.status()), HasSubstr("/acc/tdquote: http status 404"));

  // Nothing listening (a port of this suite's range with no server).
  q = FetchTdQuote(http, "http://127.0.0.1:26419", Bytes(1024, 0));
  EXPECT_TRUE(absl::IsUnavailable(q.status())) << q.status();
}

TEST(AzureImdsTdQuote, ParserRefusals) {
  EXPECT_THAT(Msg(ParseTdQuoteResponse("not json").status()),
              StartsWith("imds tdquote: answer is not a JSON object"));
  EXPECT_EQ(Msg(ParseTdQuoteResponse(R"({"quote": 5})").status()),
            "imds tdquote: answer has no string \"quote\"");
  EXPECT_THAT(Msg(ParseTdQuoteResponse(R"({"quote": "a+b/"})").status()),
              StartsWith("imds tdquote: \"quote\": base64url: invalid character"));
  EXPECT_EQ(Msg(ParseTdQuoteResponse(R"({"quote": ""})").status()),
            "imds tdquote: \"quote\" is empty");
  std::string big(kMaxTdQuoteResponse + 1, ' ');
  EXPECT_THAT(Msg(ParseTdQuoteResponse(big).status()), HasSubstr("want at most 65536"));
  auto ok = ParseTdQuoteResponse(R"({"quote": "AQID"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (Bytes{1, 2, 3}));
}

}  // namespace
}  // namespace twi::azure
