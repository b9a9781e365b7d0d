// End to end with the claims mapper: the real agent (simulated SEV-SNP, simulate_measurement
// as the guest image) and server binaries through the host harness. An image rollout: image A
// gets the claim; unknown image B is refused; once B is added it gets the same claim; once A
// is revoked it is refused; an invalid reconfiguration leaves the previous policy in force.
#include <openssl/pem.h>

#include <fstream>

#include "attestors/appraisal/ear.h"
#include "attestors/core/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test/e2e/snp_pair.h"

namespace twi::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kImageA(96, 'a');
const std::string kImageB(96, 'b');

// A policy with one refset "payroll-image" whose versions are `versions` (HCL bodies).
std::string Policy(const std::string& versions, bool raw = false) {
  return SimServerHcl() +
         "claims_mapper {\n"
         "  policy_id = \"acme-tee-7\"\n"
         "  emit_raw_selectors = " + std::string(raw ? "true" : "false") + "\n"
         "  refset \"payroll-image\" {\n" + versions + "  }\n"
         "  rule \"payroll\" {\n"
         "    when {\n"
         "      tee    = [\"sev-snp\"]\n"
         "      refset = \"payroll-image\"\n"
         "    }\n"
         "    emit = [\"claim:workload:payroll\", \"claim:env:prod\"]\n"
         "  }\n"
         "}\n";
}

std::string Version(const std::string& name, const std::string& image, const std::string& state = "active") {
  return "    version \"" + name + "\" {\n      state = \"" + state + "\"\n      sev_snp_measurement = [\"" + image + "\"]\n    }\n";
}

class ClaimsE2eTest : public SimSnpPairTest {
 protected:
  std::string Image(const std::string& m) { return AgentHcl() + "simulate = \"sev-snp\"\nsimulate_measurement = \"" + m + "\"\n"; }
  void AgentRuns(const std::string& image) {
    absl::Status s = agent_->Configure("example.org", Image(image));
    ASSERT_TRUE(s.ok()) << s;
  }
  // EAR JSON objects the server logged so far.
  static std::vector<nlohmann::json> EarsIn(const std::vector<std::string>& lines) {
    std::vector<nlohmann::json> out;
    for (const auto& line : lines) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("@message", "") == "attestation result") out.push_back(nlohmann::json::parse(j["ear"].get<std::string>()));
    }
    return out;
  }
  // The EARs logged so far, once at least `want` have arrived (stderr is read by a thread).
  std::vector<nlohmann::json> Ears(size_t want = 0) {
    return EarsIn(server_->WaitForStderr(
        [&](const std::vector<std::string>& lines) { return EarsIn(lines).size() >= want; }));
  }
  static std::string Status(const nlohmann::json& ear) { return ear["submods"]["twi-node"]["ear.status"]; }
};

TEST_F(ClaimsE2eTest, ImageRolloutKeepsTheClaim) {
  Start(Policy(Version("A", kImageA)), "simulate_measurement = \"" + kImageA + "\"\n");
  auto a = Attest();
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_THAT(a.selectors, Contains("twi:claim:workload:payroll"));
  EXPECT_THAT(a.selectors, Contains("twi:claim:env:prod"));
  EXPECT_THAT(a.selectors, Contains(StartsWith("twi:instance:")));
  EXPECT_THAT(a.selectors, Not(Contains(StartsWith("twi:sev-snp:measurement:"))));  // emit_raw_selectors = false

  AgentRuns(kImageB);  // image B, unknown to the policy
  auto b = Attest();
  EXPECT_EQ(b.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(b.status.message()),
              HasSubstr("claims.policy: policy \"acme-tee-7\": no claims rule matched; closest rule \"payroll\" lacked: "
                        "refset \"payroll-image\": no live version matches (A: sev_snp_measurement: bbbbbbbbbbbbbbbb... is not listed"));

  ASSERT_TRUE(server_->Configure("example.org", Policy(Version("A", kImageA) + Version("B", kImageB))).ok());
  auto b2 = Attest();
  ASSERT_TRUE(b2.status.ok()) << b2.status;
  EXPECT_EQ(b2.spiffe_id, a.spiffe_id);
  EXPECT_THAT(b2.selectors, Contains("twi:claim:workload:payroll"));

  ASSERT_TRUE(server_->Configure("example.org", Policy(Version("A", kImageA, "revoked") + Version("B", kImageB))).ok());
  AgentRuns(kImageA);
  auto a2 = Attest();
  EXPECT_EQ(a2.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(a2.status.message()), HasSubstr("A: revoked"));

  // An invalid policy is refused with every problem; the previous one stays in force.
  absl::Status bad = server_->Configure("example.org", Policy(Version("A", kImageA) + Version("B", "abcd")));
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("sev_snp_measurement must be 96 hex digits, got 4"));
  auto a3 = Attest();
  EXPECT_EQ(a3.status.code(), absl::StatusCode::kPermissionDenied) << "A must stay revoked";
  AgentRuns(kImageB);
  auto b3 = Attest();
  ASSERT_TRUE(b3.status.ok()) << b3.status;
  EXPECT_THAT(b3.selectors, Contains("twi:claim:workload:payroll"));
  auto has_line = [](const std::vector<std::string>& lines) {
    for (const auto& l : lines) {
      if (l.find("the previous one stays in force") != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_line(server_->WaitForStderr(has_line)));

  // One EAR per attestation, in order.
  std::vector<std::string> statuses;
  for (const auto& e : Ears(6)) statuses.push_back(Status(e));
  EXPECT_EQ(statuses, (std::vector<std::string>{"affirming", "contraindicated", "affirming", "contraindicated",
                                                "contraindicated", "affirming"}));
  EXPECT_EQ(Ears()[1]["submods"]["twi-node"]["ear.trustworthiness-vector"]["executables"], 96);
  EXPECT_EQ(Ears()[0]["submods"]["twi-node"]["ear.appraisal-policy-id"], "acme-tee-7");
}

TEST_F(ClaimsE2eTest, DeprecatedOnlyIsAcceptedWithAWarningAndSignedAuditedEar) {
  auto key = GenerateP256Key();
  ASSERT_TRUE(key.ok());
  std::string key_path = dir_.path() + "/ear-key.pem", audit = dir_.path() + "/ear-audit.log";
  {
    BioPtr bio(BIO_new_file(key_path.c_str(), "w"));
    ASSERT_TRUE(bio && PEM_write_bio_PrivateKey(bio.get(), key->get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  }
  Start("ear_signing_key_file = \"" + key_path + "\"\near_audit_file = \"" + audit + "\"\n" +
            Policy(Version("A", kImageA, "deprecated") + Version("B", kImageB), /*raw=*/true),
        "simulate_measurement = \"" + kImageA + "\"\n");
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:claim:workload:payroll"));
  EXPECT_THAT(r.selectors, Contains("twi:sev-snp:measurement:" + kImageA));  // emit_raw_selectors = true
  ASSERT_EQ(Ears(1).size(), 1u);
  EXPECT_EQ(Status(Ears()[0]), "warning");
  EXPECT_EQ(Ears()[0]["submods"]["twi-node"]["ear.trustworthiness-vector"]["executables"], 32);
  auto warned = [](const std::vector<std::string>& lines) {
    for (const auto& l : lines) {
      if (l.find("matched only deprecated versions") != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(warned(server_->WaitForStderr(warned)));
  std::ifstream f(audit);
  std::string line;
  ASSERT_TRUE(std::getline(f, line));
  auto payload = appraisal::VerifyEarJwt(line, key->get());
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ((*payload)["submods"]["twi-node"]["ear.status"], "warning");
  EXPECT_EQ((*payload)["submods"]["twi-node"]["twi.agent-id"], r.spiffe_id);
}

TEST_F(ClaimsE2eTest, ValidateUsesTheSameBuilder) {
  server_ = Launch(kServer, "NodeAttestor", std::make_shared<host::AgentStore>());
  ASSERT_TRUE(server_);
  ASSERT_TRUE(server_->Init({}).ok());
  auto dead = server_->Validate("example.org", Policy(Version("A", kImageA, "revoked")));
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_TRUE(dead->valid);
  EXPECT_THAT(dead->notes, Contains(HasSubstr("every version of refset \"payroll-image\" is revoked or expired")));
  auto bad = server_->Validate("example.org", Policy(Version("A", kImageA)) + "claims_mapper { policy_id = \"again\" }\n");
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_FALSE(bad->valid);
  EXPECT_THAT(bad->notes, Contains(HasSubstr("\"claims_mapper\" is set more than once")));
}

}  // namespace
}  // namespace twi::e2e
