// The gcp blocks of the agent and server configurations, and the gcp.* agent ID fields.
#include "attestors/appraisal/agent_id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugin/config/configs.h"

namespace twi::config {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

TEST(GcpConfig, AgentIdTemplateByProjectZoneAndInstance) {
  auto c = BuildServerConfig("agent_path_template = \"gcp/{gcp.project_id}/{gcp.zone}/{gcp.instance_id}\"\n",
                             "example.org");
  ASSERT_TRUE(c.ok()) << c.status();
  auto id = appraisal::RenderAgentId("example.org", c->agent_path_template,
                                     {{"gcp.project_id", "payments-prod"},
                                      {"gcp.zone", "europe-west4-a"},
                                      {"gcp.instance_id", "4914170512345678901"}});
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "spiffe://example.org/spire/agent/twi/gcp/payments-prod/europe-west4-a/4914170512345678901");
  // Project, zone and instance name are shared or reusable: never an ID on their own.
  for (const char* tmpl : {"gcp/{gcp.project_id}/{gcp.zone}", "{gcp.instance_name}",
                           "gcp/{gcp.project_number}/{gcp.instance_name}"}) {
    auto bad = BuildServerConfig(std::string("agent_path_template = \"") + tmpl + "\"", "example.org");
    ASSERT_FALSE(bad.ok()) << tmpl;
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr("has no per-instance field")) << tmpl;
    EXPECT_THAT(std::string(bad.status().message()), HasSubstr("{gcp.instance_id}")) << tmpl;
  }
}

TEST(GcpConfig, ServerBlockNeedsCasAndTheRequiredTee) {
  auto missing = BuildServerConfig("gcp {\n  allowed_project_ids = [\"p\"]\n}\n", "example.org");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("the gcp block needs \"gcp.ca_bundle\""));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("the gcp block needs \"gcp.require_tee\""));
  auto bad = BuildServerConfig("gcp {\n  ca_bundle = [\"/ca.pem\"]\n  require_tee = \"sgx\"\n}\n", "example.org");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("\"gcp.require_tee\" must be \"sev-snp\", \"tdx\" or \"none\", got \"sgx\""));
  auto ok = BuildServerConfig(
      "gcp {\n  ca_bundle = [\"/ca.pem\"]\n  require_tee = \"none\"\n  selector_pcrs = [7]\n"
      "  pcrs { \"sha256:0\" = [\"" + std::string(64, '0') + "\"] }\n}\n", "example.org");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->gcp.enabled);
  EXPECT_EQ(ok->gcp.policy.pcrs.size(), 1u);
  EXPECT_EQ(ok->gcp.selector_pcrs, std::vector<uint32_t>{7});
  // Open defaults are said at Configure.
  EXPECT_THAT(ok->warnings, Contains(HasSubstr("gcp.require_tee = \"none\"")));
  EXPECT_THAT(ok->warnings, Contains(HasSubstr("gcp: no allowed_project_ids is set")));
  EXPECT_FALSE(BuildServerConfig("", "example.org")->gcp.enabled);
}

TEST(GcpConfig, AgentBlock) {
  auto c = BuildAgentConfig("gcp {\n  tcti = \"swtpm:port=1\"\n  ak = \"ecc\"\n  tee = \"sev-snp\"\n"
                            "  pcr_banks = [\"sha1\", \"sha256\"]\n  pcrs = [0, 7]\n}\n",
                            "example.org");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->gcp.tcti, "swtpm:port=1");
  EXPECT_EQ(c->gcp.ak, "ecc");
  EXPECT_EQ(c->gcp.tee, "sev-snp");
  EXPECT_EQ(c->gcp.pcrs, (std::vector<uint32_t>{0, 7}));
  EXPECT_TRUE(BuildAgentConfig("", "example.org")->gcp.tcti.empty());  // off unless configured
  auto bad = BuildAgentConfig("gcp {\n  ak = \"dsa\"\n  tee = \"sgx\"\n}\n", "example.org");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"gcp.ak\" must be \"rsa\" or \"ecc\""));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"gcp.tee\" must be \"auto\""));
}

}  // namespace
}  // namespace twi::config
