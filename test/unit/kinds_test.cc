// TWI_KINDS: the refusals a build without some evidence kinds gives, seen from this (every-kind)
// build by narrowing the set the config builders and the server are given.
#include "attestors/core/str.h"
#include "plugin/config/configs.h"
#include "plugin/config/kinds.h"
#include "plugin/hcl/hcl.h"
#include "plugin/server/appraisers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace twi::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr BuiltKinds kSnpOnly{false, false, false, false};
constexpr BuiltKinds kSnpTpm{false, true, false, false};

TEST(KindsTest, ThisBuildHasEveryKindAndSaysSoInTheGeneratedHeader) {
  EXPECT_EQ(kBuiltKinds.List(), "sev-snp;tdx;tpm;azure;gcp");
  EXPECT_EQ(kBuiltKinds.List(), TWI_KINDS_LIST);
  EXPECT_EQ(NotBuilt("the tdx block", "tdx"), "");
}

TEST(KindsTest, ListAndHas) {
  EXPECT_EQ(kSnpOnly.List(), "sev-snp");
  EXPECT_EQ(kSnpTpm.List(), "sev-snp;tpm");
  EXPECT_TRUE(kSnpOnly.Has("sev-snp"));
  EXPECT_FALSE(kSnpOnly.Has("tdx"));
  EXPECT_TRUE(kSnpTpm.Has("tpm"));
  EXPECT_FALSE(kSnpTpm.Has("azure-tdx"));
  EXPECT_TRUE(kBuiltKinds.Has("azure-sev-snp"));
  EXPECT_FALSE(kBuiltKinds.Has("sgx"));
}

TEST(KindsTest, NotBuiltNamesWhatTheKindAndTheBuild) {
  EXPECT_EQ(NotBuilt("the tdx block", "tdx", kSnpOnly),
            "the tdx block needs tdx support, which this binary was built without "
            "(TWI_KINDS=sev-snp); use a build with tdx in TWI_KINDS");
  EXPECT_EQ(NotBuilt("azure-tdx evidence", "azure-tdx", kSnpTpm),
            "azure-tdx evidence needs azure support, which this binary was built without "
            "(TWI_KINDS=sev-snp;tpm); use a build with azure in TWI_KINDS");
  EXPECT_EQ(NotBuilt("the tpm block", "tpm", kSnpTpm), "");
}

hcl::Value Parse(std::string_view text) {
  auto v = hcl::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *std::move(v) : hcl::Value{};
}

std::string ServerError(std::string_view text, const BuiltKinds& built) {
  auto c = BuildServerConfig(Parse(text), "example.org", built);
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(KindsTest, ServerBlocksOfKindsNotBuiltAreConfigureErrors) {
  for (std::string_view block : {"tdx", "tpm", "azure", "gcp"}) {
    SCOPED_TRACE(block);
    std::string err = ServerError(twi::StrCat(block, " {}\n"), kSnpOnly);
    EXPECT_THAT(err, HasSubstr(twi::StrCat("the ", block, " block needs ", block,
                                           " support, which this binary was built without "
                                           "(TWI_KINDS=sev-snp)")));
    EXPECT_THAT(err, Not(HasSubstr("unknown key")));
  }
  // The same blocks are fine with the kind built in.
  EXPECT_EQ(ServerError("tpm { ek_hashes = [\"" + std::string(64, 'a') + "\"] }\n", kSnpTpm), "");
  EXPECT_THAT(ServerError("tdx { mrtd = [] }\nazure {}\n", kSnpTpm),
              AllOf(HasSubstr("the tdx block needs tdx support"), HasSubstr("the azure block needs azure")));
}

TEST(KindsTest, ServerWithoutTdxDoesNotWarnThatAnyTdIsAccepted) {
  auto c = BuildServerConfig(Parse("sev_snp { measurements = [\"" + std::string(96, 'a') + "\"] }\n"),
                             "example.org", kSnpOnly);
  ASSERT_TRUE(c.ok()) << c.status();
  for (const std::string& w : c->warnings) EXPECT_THAT(w, Not(HasSubstr("tdx")));
}

TEST(KindsTest, AgentSettingsOfKindsNotBuiltAreConfigureErrors) {
  auto err = [](std::string_view text, const BuiltKinds& built) {
    auto c = BuildAgentConfig(Parse(text), "example.org", built);
    return c.ok() ? std::string() : std::string(c.status().message());
  };
  EXPECT_THAT(err("simulate = \"tdx\"\n", kSnpOnly),
              HasSubstr("simulate = \"tdx\" needs tdx support, which this binary was built without (TWI_KINDS=sev-snp)"));
  EXPECT_THAT(err("simulate_mrtd = \"" + std::string(96, '0') + "\"\n", kSnpOnly),
              HasSubstr("simulate_mrtd needs tdx support"));
  EXPECT_THAT(err("tdx { configfs_path = \"/x\" }\n", kSnpOnly), HasSubstr("the tdx block needs tdx support"));
  EXPECT_THAT(err("tpm { tcti = \"\" }\n", kSnpOnly), HasSubstr("the tpm block needs tpm support"));
  EXPECT_THAT(err("azure { simulate = true }\n", kSnpTpm),
              HasSubstr("the azure block needs azure support, which this binary was built without (TWI_KINDS=sev-snp;tpm)"));
  EXPECT_THAT(err("gcp { tcti = \"swtpm:port=1\" }\n", kSnpOnly), HasSubstr("the gcp block needs gcp support"));
  EXPECT_EQ(err("simulate = \"sev-snp\"\ntpm { tcti = \"\" }\n", kSnpTpm), "");
}

TEST(KindsTest, WorkloadTdxSettingsNotBuiltAreConfigureErrors) {
  auto c = BuildWorkloadConfig(Parse("simulate = \"tdx\"\ntdx { configfs_path = \"/x\" }\n"), "example.org",
                               kSnpOnly);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              AllOf(HasSubstr("simulate = \"tdx\" needs tdx support"), HasSubstr("the tdx block needs tdx support")));
}

TEST(KindsTest, ServerRefusesEvidenceOfKindsNotBuilt) {
  EXPECT_TRUE(server::KindsNotBuilt().empty());
  auto notes = server::KindsNotBuilt(kSnpTpm);
  EXPECT_EQ(notes.size(), 4u);  // tdx, azure-sev-snp, azure-tdx, gcp
  EXPECT_EQ(notes.count(twi::v1::EVIDENCE_KIND_TPM), 0u);
  EXPECT_EQ(notes.count(twi::v1::EVIDENCE_KIND_SEV_SNP), 0u);
  EXPECT_EQ(notes[twi::v1::EVIDENCE_KIND_AZURE_TDX],
            "azure-tdx evidence needs azure support, which this binary was built without "
            "(TWI_KINDS=sev-snp;tpm); use a build with azure in TWI_KINDS");
}

}  // namespace
}  // namespace twi::config
