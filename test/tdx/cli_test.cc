// `twi verify --type tdx`: the CLI contract on the real vectors (output shape, claims
// filled as far as verification got, policy file keys, exit codes 0/1/2).
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test/collateral/temp_dir.h"
#include "test/tdx/testdata.h"

namespace twi::tdx {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Exit code and combined output of `twi <args>`.
std::pair<int, std::string> Twi(const std::string& args) {
  std::string cmd = std::string(TWI_BIN_DIR) + "/twi " + args + " 2>&1";
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  for (int c; (c = std::fgetc(f)) != EOF;) out.push_back(static_cast<char>(c));
  int st = pclose(f);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string Data(const std::string& rel) { return std::string(TWI_TESTDATA) + "/tdx/" + rel; }

std::string T1Args() {
  return "verify --type tdx --quote " + Data("phala-dcap-qvl/tdx_quote") + " --collateral " +
         Data("phala-dcap-qvl/tdx_quote_collateral.json") + " --at 2025-07-01T00:00:00Z";
}

class tdx_cli : public ::testing::Test {
 protected:
  std::string TempFile(const std::string& name, const std::string& text) {
    std::string path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  twi::testing::TempDir dir_;
};

TEST_F(tdx_cli, T1VerifiesWithJsonContract) {
  auto [code, out] = Twi(T1Args() + " --json");
  ASSERT_EQ(code, 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["evidence_type"], "tdx");
  EXPECT_EQ(j["error"], "");
  for (const char* k : {"tcb_status", "advisory_ids", "mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3",
                        "quote_version", "fmspc", "td_attributes", "debug"}) {
    EXPECT_TRUE(j["claims"].contains(k)) << k;
  }
  EXPECT_EQ(j["claims"]["tcb_status"], "UpToDate");
  EXPECT_EQ(j["claims"]["quote_version"], "4");
  EXPECT_THAT(j["selectors"].dump(), HasSubstr("tdx:tcb-status:UpToDate"));
  EXPECT_GT(j["checks"].size(), 30u);
}

TEST_F(tdx_cli, TcbNotSupportedIsRejectedWithPartialClaims) {
  auto [code, out] = Twi("verify --type tdx --quote " + Data("phala-dcap-qvl/tdx_quote_outdated") +
                         " --collateral " + Data("phala-dcap-qvl/tdx_quote_outdated_collateral.json") +
                         " --at 2026-03-01T00:00:00Z --json");
  EXPECT_EQ(code, 1);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["verified"], false);
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("tcb.level: tcb not supported"));
  EXPECT_EQ(j["claims"]["quote_version"], "5");
  EXPECT_EQ(j["claims"]["fmspc"], "90c06f000000");
  EXPECT_FALSE(j["claims"].contains("tcb_status"));
}

TEST_F(tdx_cli, PolicyFileRefusesAndAccepts) {
  std::string mrtd_ok = TempFile("pin.hcl", "require_sept_ve_disable = true\nmin_qe_svn = 4\n");
  auto [ok, out] = Twi(T1Args() + " --policy " + mrtd_ok);
  EXPECT_EQ(ok, 0) << out;
  std::string pin = TempFile("pin_bad.hcl", "mrtd = [\"" + std::string(96, 'a') + "\"]\n");
  auto [code, text] = Twi(T1Args() + " --policy " + pin + " --json");
  EXPECT_EQ(code, 1);
  auto j = nlohmann::json::parse(text);
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("policy.mrtd: got MRTD 91eb2b44"));
  EXPECT_EQ(j["claims"]["tcb_status"], "UpToDate");  // claims survive a policy refusal
}

TEST_F(tdx_cli, T5OutOfDateRefusedByDefaultAcceptedWhenAllowed) {
  std::string base = "verify --type tdx --quote " + Data("trustee/tdx_quote_6.dat") +
                     " --collateral " + Data("trustee/tdx_quote_6_collateral_no_crls.json") +
                     " --at 2025-11-01T00:00:00Z --json";
  // The bundle has no CRLs: refused until revocation is explicitly disabled.
  auto [no_crl, out0] = Twi(base);
  EXPECT_EQ(no_crl, 1);
  EXPECT_THAT(out0, HasSubstr("crl.root_ca: collateral has no root_ca_crl"));
  std::string crl_off = TempFile("crl_off.hcl", "allow_missing_crls = true\n");
  auto [code, out] = Twi(base + " --policy " + crl_off);
  EXPECT_EQ(code, 1);
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["claims"]["tcb_status"], "OutOfDate");
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("policy.tcb_status: got tcb status OutOfDate"));
  std::string advisories = j["claims"]["advisory_ids"];
  std::string list;
  for (size_t at = 0; at != std::string::npos;) {
    size_t comma = advisories.find(',', at);
    list += (list.empty() ? "\"" : ", \"") + advisories.substr(at, comma - at) + "\"";
    at = comma == std::string::npos ? comma : comma + 1;
  }
  std::string allow = TempFile("allow.hcl", "allow_missing_crls = true\n"
                                            "allowed_tcb_statuses = [\"UpToDate\", \"OutOfDate\"]\n"
                                            "allowed_advisory_ids = [" + list + "]\n");
  auto [ok, out2] = Twi(base + " --policy " + allow);
  EXPECT_EQ(ok, 0) << out2;
  EXPECT_THAT(out2, HasSubstr("tdx:tcb-status:OutOfDate"));
}

TEST_F(tdx_cli, MalformedInputsAreRejectedNotUsageErrors) {
  std::string short_quote = TempFile("short.bin", "abc");
  auto [code, out] = Twi("verify --type tdx --quote " + short_quote + " --collateral " +
                         Data("phala-dcap-qvl/tdx_quote_collateral.json"));
  EXPECT_EQ(code, 1);
  EXPECT_THAT(out, HasSubstr("FAIL quote.structure"));
  std::string bad_bundle = TempFile("bundle.json", "{\"tcb_info\": 1}");
  auto [code2, out2] = Twi("verify --type tdx --quote " + Data("phala-dcap-qvl/tdx_quote") +
                           " --collateral " + bad_bundle);
  EXPECT_EQ(code2, 1);
  EXPECT_THAT(out2, HasSubstr("FAIL collateral.bundle"));
}

TEST_F(tdx_cli, UsageErrors) {
  EXPECT_EQ(Twi("verify --type tdx --quote x").first, 2);
  EXPECT_EQ(Twi("verify --type tdx --collateral x").first, 2);
  EXPECT_EQ(Twi("verify --type tdx --quote /nonexistent --collateral /nonexistent").first, 2);
  EXPECT_EQ(Twi(T1Args() + " --report x").first, 2);
  EXPECT_EQ(Twi(T1Args() + " --at yesterday").first, 2);
  std::string bad = TempFile("bad.hcl", "allowed_tcb_statuses = [\"Fine\"]\n");
  auto [code, out] = Twi(T1Args() + " --policy " + bad);
  EXPECT_EQ(code, 2);
  EXPECT_THAT(out, HasSubstr("unknown status \"Fine\""));
  std::string typo = TempFile("typo.hcl", "alow_debug = true\n");
  EXPECT_EQ(Twi(T1Args() + " --policy " + typo).first, 2);
}

// `twi sim tdx` writes a quote, its collateral and a policy trusting the simulated root; the
// verifier accepts them only through that policy's insecure opt-in (or the insecure flag).
TEST_F(tdx_cli, SimulatedQuoteVerifiesThroughItsPolicy) {
  for (const char* version : {"4", "5"}) {
    std::string out_dir = dir_ / (std::string("sim") + version);
    auto [sim_code, sim_out] = Twi(std::string("sim tdx --report-data 00112233 --version ") +
                                   version + " --out " + out_dir);
    ASSERT_EQ(sim_code, 0) << sim_out;
    std::string files = " --quote " + out_dir + "/quote.bin --collateral " + out_dir +
                        "/collateral.json";
    auto [code, out] = Twi("verify --type tdx" + files + " --policy " + out_dir +
                           "/policy.hcl --json");
    ASSERT_EQ(code, 0) << out;
    auto j = nlohmann::json::parse(out);
    EXPECT_EQ(j["verified"], true);
    EXPECT_EQ(j["claims"]["quote_version"], version);
    EXPECT_EQ(j["claims"]["tcb_status"], "UpToDate");
    EXPECT_THAT(j["claims"]["mrtd"].dump(), Not(HasSubstr("00000000000000000000")));

    // Without the policy the simulated root is just unknown.
    auto [code2, out2] = Twi("verify --type tdx" + files);
    EXPECT_EQ(code2, 1);
    EXPECT_THAT(out2, HasSubstr("FAIL pck.chain"));
  }
}

TEST_F(tdx_cli, SimulatedRootNeedsTheInsecureOptIn) {
  std::string out_dir = dir_ / "sim";
  ASSERT_EQ(Twi("sim tdx --report-data 01 --out " + out_dir).first, 0);
  std::string files = " --quote " + out_dir + "/quote.bin --collateral " + out_dir +
                      "/collateral.json";
  // extra_roots alone (relative to the policy file) is not enough.
  std::string roots_only = out_dir + "/roots_only.hcl";
  std::ofstream(roots_only) << "extra_roots = [\"root.pem\"]\n";
  auto [code, out] = Twi("verify --type tdx" + files + " --policy " + roots_only);
  EXPECT_EQ(code, 1);
  EXPECT_THAT(out, HasSubstr("rejected: pck.chain"));
  EXPECT_THAT(out, HasSubstr("allow_simulation_roots is false"));
  EXPECT_THAT(out, HasSubstr("only with insecure_simulation_roots = true"));
  auto [code2, out2] = Twi("verify --type tdx" + files + " --policy " + roots_only +
                           " --insecure-simulation-roots");
  EXPECT_EQ(code2, 0) << out2;
  EXPECT_THAT(out2, HasSubstr("<- extra root twi-attestor Simulated SGX Root CA"));
}

TEST_F(tdx_cli, SimUsageErrors) {
  EXPECT_EQ(Twi("sim tdx --report-data 00").first, 2);
  EXPECT_EQ(Twi("sim tdx --report-data zz --out " + std::string(dir_ / "x")).first, 2);
  EXPECT_EQ(Twi("sim tdx --report-data 00 --version 3 --out " + std::string(dir_ / "x")).first,
            2);
  EXPECT_EQ(Twi("sim tdx --report-data " + std::string(130, 'a') + " --out " +
                std::string(dir_ / "x")).first,
            2);
}

}  // namespace
}  // namespace twi::tdx
