// The THIM client (thim.h) against a local HTTP server (test/collateral/kds_server.py) that
// answers like Azure IMDS: 400 without "Metadata: true", THIM's JSON with it. Plus what the
// parser refuses.
#include "attestors/azure/thim.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "attestors/core/x509.h"
#include "attestors/sevsnp/sim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/collateral/local_server.h"
#include "test/collateral/temp_dir.h"

namespace twi::azure {
namespace {

using ::testing::HasSubstr;

struct SimThim {
  std::string json;
  Bytes vcek, ask, ark;
};

SimThim MakeThim() {
  auto sim = sevsnp::SnpSimulator::Create({});
  EXPECT_TRUE(sim.ok()) << sim.status();
  SimThim t;
  t.vcek = (*sim)->vcek_der();
  t.ask = (*sim)->ask_der();
  t.ark = (*sim)->ark_der();
  nlohmann::json j = {{"vcekCert", (*sim)->vcek_pem()},
                      {"tcbm", "D515000000000004"},
                      {"certificateChain", (*sim)->ask_pem() + (*sim)->ark_pem()},
                      {"cacheControl", "86400"}};
  t.json = j.dump();
  return t;
}

TEST(AzureThimTest, FetchesWithTheMetadataHeaderFromALocalImds) {
  collateral::testing::LocalServer server;
  ASSERT_TRUE(server.ok());
  twi::testing::TempDir dir;
  SimThim t = MakeThim();
  std::ofstream(dir / "thim.json") << t.json;
  server.RouteRequiringHeader(kThimPath, dir / "thim.json", "Metadata", "true");

  collateral::CurlHttpGetter http(ImdsCurlOptions());
  auto got = FetchThim(http, server.base_url() + "/");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->vcek, t.vcek);
  ASSERT_EQ(got->chain.size(), 2u);
  EXPECT_EQ(got->chain[0], t.ask);
  EXPECT_EQ(got->chain[1], t.ark);
  EXPECT_EQ(got->tcbm, "D515000000000004");
  EXPECT_EQ(server.Count(kThimPath), 1);

  // Without the header IMDS refuses: the request must carry it.
  collateral::CurlHttpGetter plain;
  auto refused = FetchThim(plain, server.base_url());
  ASSERT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("HTTP 400"));
}

TEST(AzureThimTest, NotAzureIsUnavailable) {
  collateral::testing::LocalServer server;
  ASSERT_TRUE(server.ok());
  collateral::CurlHttpGetter http(ImdsCurlOptions());
  auto r = FetchThim(http, server.base_url());
  ASSERT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("HTTP 404"));
  // Nothing listening at all.
  auto none = FetchThim(http, "http://127.0.0.1:9");
  EXPECT_TRUE(absl::IsUnavailable(none.status())) << none.status();
}

TEST(AzureThimTest, ParserRefusals) {
  auto bad = [](std::string_view json) { return ParseThimResponse(json).status(); };
  EXPECT_THAT(bad("[]").message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(bad("{").message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(bad(R"({"tcbm":"00"})").message(), HasSubstr("no \"vcekCert\""));
  EXPECT_THAT(bad(R"({"vcekCert":5})").message(), HasSubstr("no \"vcekCert\""));
  EXPECT_THAT(bad(R"({"vcekCert":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"})")
                  .message(),
              HasSubstr("\"vcekCert\" is not one certificate"));
  EXPECT_THAT(bad(std::string(70000, ' ')).message(), HasSubstr("at most 65536"));
  SimThim t = MakeThim();
  auto j = nlohmann::json::parse(t.json);
  j["certificateChain"] = "garbage";
  EXPECT_THAT(bad(j.dump()).message(), HasSubstr("\"certificateChain\""));
  j.erase("certificateChain");
  auto ok = ParseThimResponse(j.dump());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->chain.empty());
}

}  // namespace
}  // namespace twi::azure
