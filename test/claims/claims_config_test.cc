// The claims_mapper block inside the server's plugin_data: documented keys are read, the
// vocabulary is well-formed, and the README's table names every claim.
#include "attestors/appraisal/claims_vocabulary.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugin/config/configs.h"

namespace twi::config {
namespace {

using ::testing::HasSubstr;

TEST(ClaimsConfig, EveryDocumentedKeyIsRead) {
  for (const auto& k : ClaimsSchema()) {
    std::string key(k.key), hcl;
    if (key.rfind("claims_mapper.", 0) == 0) {
      std::string inner = key.substr(std::string("claims_mapper.").size());
      hcl = "claims_mapper {\n  policy_id = \"p\"\n" + (inner == "policy_id" ? "" : "  " + inner + " = " + std::string(k.example) + "\n") + "}\n";
    } else {
      hcl = key + " = \"" + ::testing::TempDir() + "/ear-audit-" + key + "\"\n";
      if (key == "ear_signing_key_file") continue;  // needs a key file: ear_test covers it
    }
    auto c = BuildServerConfig(hcl, "example.org");
    EXPECT_TRUE(c.ok()) << k.key << ": " << c.status() << "\n" << hcl;
  }
}

TEST(ClaimsConfig, NoBlockNoPolicy) {
  auto c = BuildServerConfig("", "example.org");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->claims.policy, nullptr);
}

TEST(ClaimsConfig, ServerConfigReportsClaimsProblemsWithOtherProblems) {
  auto c = BuildServerConfig("log_level = \"loud\"\nclaims_mapper {\n  policy_id = \"p\"\n  rule \"r\" {\n    when { tee = [] }\n    emit = [\"claim:x\"]\n  }\n}\n",
                             "example.org");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("line 1, column 1: \"log_level\""));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("line 5, column 12: \"claims_mapper.rule.r.when.tee\" must list at least one value"));
}

TEST(ClaimsConfig, VocabularyIsWellFormed) {
  for (const auto& d : appraisal::Vocabulary()) {
    EXPECT_EQ(d.type == appraisal::ClaimType::kHex, d.hex_bytes > 0) << d.name;
    EXPECT_FALSE(d.description.empty()) << d.name;
  }
  EXPECT_NE(appraisal::FindClaim("tpm_pcr_sha256_0"), nullptr);
  EXPECT_NE(appraisal::FindClaim("tpm_pcr_sha256_23"), nullptr);
  EXPECT_EQ(appraisal::FindClaim("tpm_pcr_sha256_24"), nullptr);
  EXPECT_EQ(appraisal::FindClaim("tpm_pcr_sha256_07"), nullptr);
  EXPECT_EQ(appraisal::FindClaim("tpm_pcr_sha256_<n>"), nullptr);
  for (const char* n : {"tdx_mrtd", "tdx_rtmr0", "tdx_rtmr3", "tdx_mrconfigid", "tdx_tcb_status", "azure_vm_id",
                        "gcp_project_id", "gcp_zone", "tee", "platform", "sev_snp_measurement"}) {
    EXPECT_NE(appraisal::FindClaim(n), nullptr) << n;
  }
}

}  // namespace
}  // namespace twi::config
