// The `twi` command: check-config, verify (real SEV-SNP vectors at their fixed times), sim,
// with its exit-code contract (0 verified, 1 rejected, 2 usage).
#include <cstdio>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"
#include "test/e2e/e2e_util.h"

namespace twi::e2e {
namespace {

using ::testing::HasSubstr;

using CliRun = cli::testing::Run;

CliRun Twi(const std::string& args) { return cli::testing::Sh(Bin("twi") + " " + args); }

std::string Data(const std::string& rel) { return std::string(TWI_TESTDATA) + "/sevsnp/" + rel; }

TEST(CliTest, Version) {
  CliRun r = Twi("version");
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, ::testing::StartsWith("twi "));
}

TEST(CliTest, CheckConfigPrintsEffectiveConfigOrEveryProblem) {
  TempDir dir;
  std::ofstream(dir.path() + "/ok.hcl") << "sev_snp {\n  allow_debug = false\n  min_tcb { snp = 5 }\n}\n";
  CliRun ok = Twi("check-config --side server " + dir.path() + "/ok.hcl");
  EXPECT_EQ(ok.code, 0) << ok.out;
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["sev_snp"]["min_tcb"]["snp"], 5);
  EXPECT_EQ(j["insecure_allow_no_tee"], false);
  std::ofstream(dir.path() + "/bad.hcl") << "sev_snp { alow_debug = true }\nlog_level = 3\n";
  CliRun bad = Twi("check-config --side server " + dir.path() + "/bad.hcl");
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.out, HasSubstr("invalid configuration (2 problems)"));
  EXPECT_THAT(bad.out, HasSubstr("unknown key \"sev_snp.alow_debug\" (did you mean \"allow_debug\"?"));
  EXPECT_THAT(bad.out, HasSubstr("\"log_level\" must be a string, got number"));
  EXPECT_EQ(Twi("check-config --side nope x").code, 2);
}

TEST(CliTest, VerifyValidVectorJson) {
  // S2: virtee Milan report as hex text, DER VCEK, PEM chain; valid at 2024-01-01.
  CliRun r = Twi("verify --type sev-snp --report " + Data("virtee-sev/report_milan.hex") + " --vcek " +
              Data("virtee-sev/vcek_milan.der") + " --cert-chain " + Data("virtee-sev/cert_chain_milan") +
              " --at 2024-01-01T00:00:00Z --json");
  EXPECT_EQ(r.code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["evidence_type"], "sev-snp");
  EXPECT_EQ(j["error"], "");
  for (const char* k : {"measurement", "report_version", "product", "reported_tcb", "chip_id", "policy"}) {
    EXPECT_TRUE(j["claims"].contains(k)) << k;
  }
  EXPECT_EQ(j["claims"]["product"], "milan");
  EXPECT_EQ(j["claims"]["measurement"].get<std::string>().size(), 96u);
  bool saw_signature = false;
  for (const auto& c : j["checks"]) {
    EXPECT_TRUE(c["passed"].get<bool>()) << c.dump();
    if (c["name"] == "report.signature") saw_signature = true;
  }
  EXPECT_TRUE(saw_signature);
  EXPECT_THAT(j["selectors"].dump(), HasSubstr("tee:sev-snp"));
}

TEST(CliTest, VerifyDebugReportRejectedByDefaultAcceptedWithPolicy) {
  // S1: go-sev-guest report with POLICY debug bit set.
  std::string base = "verify --type sev-snp --report " + Data("go-sev-guest/attestation.bin") + " --vcek " +
                     Data("go-sev-guest/vcek.testcer") + " --at 2024-01-01T00:00:00Z --json";
  CliRun r = Twi(base);
  EXPECT_EQ(r.code, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verified"], false);
  EXPECT_THAT(j["error"].get<std::string>(), ::testing::StartsWith("policy.debug: "));
  TempDir dir;
  std::ofstream(dir.path() + "/p.hcl") << "allow_debug = true\n";
  CliRun ok = Twi(base + " --policy " + dir.path() + "/p.hcl");
  EXPECT_EQ(ok.code, 0) << ok.out;
}

TEST(CliTest, VerifyVlekOutsideItsWindowRejected) {
  // S4: AWS VLEK report from VMPL 1, which the default policy refuses.
  TempDir dir;
  std::ofstream(dir.path() + "/p.hcl") << "allowed_vmpls = [0, 1]\nsigning_key = \"vlek\"\n";
  std::string base = "verify --type sev-snp --report " + Data("trustee/test-vlek-report.bin") + " --vcek " +
                     Data("trustee/test-vlek.der") + " --cert-chain " + Data("trustee/milan_ask_ark_asvk.pem") +
                     " --policy " + dir.path() + "/p.hcl";
  CliRun vmpl = Twi("verify --type sev-snp --report " + Data("trustee/test-vlek-report.bin") + " --vcek " +
                    Data("trustee/test-vlek.der") + " --at 2025-06-01T00:00:00Z");
  EXPECT_EQ(vmpl.code, 1);
  EXPECT_THAT(vmpl.out, HasSubstr("rejected: policy.vmpl: report VMPL is 1; allowed VMPLs are {0}"));
  CliRun in = Twi(base + " --at 2025-06-01T00:00:00Z");
  EXPECT_EQ(in.code, 0) << in.out;
  CliRun after = Twi(base + " --at 2026-01-01T00:00:00Z --json");
  EXPECT_EQ(after.code, 1);
  auto j = nlohmann::json::parse(after.out);
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("cert.validity"));
}

TEST(CliTest, VerifyMalformedAndUsage) {
  TempDir dir;
  std::ofstream(dir.path() + "/short.bin") << "not a report";
  CliRun bad = Twi("verify --type sev-snp --report " + dir.path() + "/short.bin --json");
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(nlohmann::json::parse(bad.out)["error"].get<std::string>(), HasSubstr("report.structure"));
  EXPECT_EQ(Twi("verify --type tdx --report x").code, 2);
  EXPECT_EQ(Twi("verify --type sev-snp").code, 2);
  EXPECT_EQ(Twi("verify --type sev-snp --report " + dir.path() + "/missing.bin").code, 2);
  EXPECT_EQ(Twi("verify --type sev-snp --report x --at yesterday").code, 2);
}

TEST(CliTest, SimThenVerifyRoundTrip) {
  TempDir dir;
  CliRun sim = Twi("sim sev-snp --report-data 00112233 --rsa-bits 2048 --out " + dir.path() + "/ev");
  ASSERT_EQ(sim.code, 0) << sim.out;
  std::string ev = dir.path() + "/ev/";
  // Without the simulator's root the chain does not reach an AMD ARK.
  CliRun untrusted = Twi("verify --type sev-snp --report " + ev + "report.bin --vcek " + ev + "vcek.der --cert-chain " +
                      ev + "cert_chain.pem");
  EXPECT_EQ(untrusted.code, 1);
  EXPECT_THAT(untrusted.out, HasSubstr("cert.chain"));
  CliRun trusted = Twi("verify --type sev-snp --report " + ev + "report.bin --vcek " + ev + "vcek.der --cert-chain " +
                    ev + "cert_chain.pem --policy " + ev + "policy.hcl --json");
  EXPECT_EQ(trusted.code, 0) << trusted.out;
  EXPECT_EQ(nlohmann::json::parse(trusted.out)["claims"]["report_data"].get<std::string>().substr(0, 8), "00112233");
}

TEST(CliTest, VerifyWithClaimsPolicy) {
  // S2 again, mapped through a claims policy listing (then not listing) its measurement.
  const std::string args = "verify --type sev-snp --report " + Data("virtee-sev/report_milan.hex") + " --vcek " +
                           Data("virtee-sev/vcek_milan.der") + " --cert-chain " +
                           Data("virtee-sev/cert_chain_milan") + " --at 2024-01-01T00:00:00Z --json";
  auto plain = nlohmann::json::parse(Twi(args).out);
  std::string m = plain["claims"]["measurement"];
  TempDir dir;
  auto policy = [&](const std::string& image) {
    std::string path = dir.path() + "/claims-" + image.substr(0, 4) + ".hcl";
    std::ofstream(path) << "claims_mapper {\n  policy_id = \"cli\"\n  refset \"img\" {\n    version \"v1\" { sev_snp_measurement = [\""
                        << image << "\"] }\n  }\n  rule \"r\" {\n    when {\n      platform = [\"milan\"]\n      refset = \"img\"\n    }\n"
                        << "    emit = [\"claim:workload:demo\"]\n  }\n}\n";
    return path;
  };
  CliRun ok = Twi(args + " --claims-policy " + policy(m));
  EXPECT_EQ(ok.code, 0) << ok.out;
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["claims_selectors"], nlohmann::json::array({"claim:workload:demo"}));
  EXPECT_EQ(j["ear"]["submods"]["twi-node"]["ear.status"], "affirming");
  EXPECT_EQ(j["ear"]["submods"]["twi-node"]["ear.appraisal-policy-id"], "cli");
  EXPECT_EQ(j["trace"]["rules"][0]["matched_versions"], nlohmann::json::array({"v1"}));

  CliRun denied = Twi(args + " --claims-policy " + policy(std::string(96, 'f')));
  EXPECT_EQ(denied.code, 1) << denied.out;
  j = nlohmann::json::parse(denied.out);
  EXPECT_EQ(j["verified"], false);
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("closest rule \"r\" lacked: refset \"img\""));
  EXPECT_EQ(j["claims_selectors"], nlohmann::json::array());
  EXPECT_EQ(j["ear"]["submods"]["twi-node"]["ear.status"], "contraindicated");
  EXPECT_EQ(j["trace"]["rules"][0]["fired"], false);

  std::ofstream(dir.path() + "/bad.hcl") << "claims_mapper {\n  policy_id = \"x\"\n  rule \"r\" { emit = [\"claim:x\"] }\n}\n";
  CliRun bad = Twi(args + " --claims-policy " + dir.path() + "/bad.hcl");
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.out, HasSubstr("rule \"r\" has no predicates"));
}

}  // namespace
}  // namespace twi::e2e
