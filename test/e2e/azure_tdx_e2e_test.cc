// End to end for Azure TDX confidential VMs: the real agent plugin on a swtpm provisioned as a
// simulated Azure TDX CVM (HCL report with a TDREPORT in NV 0x01400001, AK at 0x81000003), a
// local HTTP server standing in for IMDS's quoting service (POST /acc/tdquote answers the
// simulated TD quote of exactly that TDREPORT), the real server plugin with the simulator's
// root and offline collateral, SPIRE's relay between them (host harness). Negatives go through
// the same path. swtpm ports 26410 upward.
#include <filesystem>
#include <fstream>
#include <string>

#include "attestors/appraisal/selectors.h"
#include "attestors/azure/collect.h"
#include "attestors/azure/hcl_builder.h"
#include "attestors/azure/imds_tdquote.h"
#include "attestors/azure/sim.h"
#include "attestors/azure/sim_tdx.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/azure/fake_imds.h"
#include "test/collateral/local_server.h"
#include "test/e2e/e2e_util.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kVmId[] = "3f1a9c2e-7b4d-4e8f-9a0b-1c2d3e4f5a6b";

class AzureTdxE2eTest : public NodePairTest {
 protected:
  void SetUp() override {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
    ASSERT_TRUE(imds_.ok());
  }
  void TearDown() override {
    NodePairTest::TearDown();  // the agent lets go of the TPM first
    tpm_.Stop();
  }

  // The swtpm provisioned as the simulated CVM; the fake IMDS quotes its TDREPORT (or answers
  // `answer` instead); root.pem and collateral.json for the server.
  void Provision(int port, const std::function<absl::StatusOr<Bytes>(ByteView)>& answer = {}) {
    ASSERT_EQ(tpm_.Start(port, {}), "");
    azure::AzureTdxSimOptions o;
    o.vm_id = kVmId;
    auto sim = azure::AzureTdxSimulator::Create(o);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = *std::move(sim);
    auto hcl = azure::ProvisionSimAzureTdxVm(tpm_.tcti(), *sim_);
    ASSERT_TRUE(hcl.ok()) << hcl.status();
    hcl_ = *std::move(hcl);
    auto quote = answer ? answer(hcl_.td_report) : sim_->QuoteTdReport(hcl_.td_report);
    ASSERT_TRUE(quote.ok()) << quote.status();
    const std::string d = dir_.path();
    azure::testing::ServeTdQuote(imds_, d, hcl_.td_report, *quote);
    std::ofstream(d + "/root.pem") << sim_->tdx().root_pem();
    std::ofstream(d + "/collateral.json") << sim_->tdx().collateral_json();
  }
  std::string ServerHcl(const std::string& tdx_body = "",
                        const std::string& collateral = "collateral.json") {
    return "insecure_simulation_roots = true\ntdx {\n  extra_roots = [\"" + dir_.path() +
           "/root.pem\"]\n  collateral_offline_path = \"" + dir_.path() + "/" + collateral +
           "\"\n" + tdx_body + "}\nazure {\n  selector_pcrs = [7]\n}\n";
  }
  std::string AgentAzure() {
    return "tpm {\n  tcti = \"\"\n}\nazure {\n  tcti = \"" + tpm_.tcti() + "\"\n  imds_url = \"" +
           imds_.base_url() + "\"\n  event_log_path = \"\"\n  pcrs = [0, 7]\n}\n";
  }
  static std::string Msg(const host::NodeAttestationResult& r) {
    return std::string(r.status.message());
  }

  twi::testing::Swtpm tpm_;
  collateral::testing::LocalServer imds_;
  std::unique_ptr<azure::AzureTdxSimulator> sim_;
  azure::AzureTdxSimulator::Hcl hcl_;
};

TEST_F(AzureTdxE2eTest, SimulatedCvmRoundTrip) {
  Provision(26410);
  StartBoth(ServerHcl() + "agent_path_template = \"azure/{azure.vm_id}\"\n", AgentAzure());
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.spiffe_id, std::string("spiffe://example.org/spire/agent/twi/azure/") + kVmId);
  EXPECT_THAT(r.selectors, Contains("twi:platform:azure"));
  EXPECT_THAT(r.selectors, Contains(std::string("twi:azure:vm-id:") + kVmId));
  EXPECT_THAT(r.selectors, Contains("twi:tee:tdx"));
  EXPECT_THAT(r.selectors, Contains("twi:tdx:mrtd:" + HexEncode(sim_->tdx().Body({})->mr_td)));
  EXPECT_THAT(r.selectors, Contains("twi:tdx:tcb-status:UpToDate"));
  EXPECT_THAT(r.selectors, Contains("twi:tdx:root:extra"));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:tpm:pcr:sha256:7:")));
  for (const auto& v : r.selectors) {
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::NodeSelectors(), v.substr(4))) << v;
  }
  EXPECT_TRUE(Attest().status.ok());  // a fresh nonce, a fresh vTPM quote
  EXPECT_EQ(imds_.Count(azure::kTdQuotePath), 2);
}

TEST_F(AzureTdxE2eTest, AttackQuoteOfAnotherTdReport) {
  // The quoting service answers a genuine quote, but of another REPORTDATA (another TD).
  Provision(26412, [this](ByteView) { return sim_->tdx().GetQuote(ToBytes("another td")); });
  StartBoth(ServerHcl(), AgentAzure());
  auto r = Attest();
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(Msg(r), HasSubstr("tdreport.match: REPORTDATA got "));
}

TEST_F(AzureTdxE2eTest, AttackMissingCollateralRefusedAfterIntrinsicChecks) {
  Provision(26414);
  StartBoth(ServerHcl("", "no-such-collateral.json"), AgentAzure());
  auto r = Attest();
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(Msg(r), HasSubstr("collateral.missing: no dcap collateral"));
}

TEST_F(AzureTdxE2eTest, AttackHclReportWithOtherClaimsInNv) {
  Provision(26416);
  Bytes hcl = hcl_.hcl_report;
  std::string s(AsString(hcl));
  const size_t at = s.find(kVmId);
  ASSERT_NE(at, std::string::npos);
  hcl[at] = hcl[at] == 'f' ? 'e' : 'f';
  ASSERT_TRUE(azure::WriteOwnerNv(tpm_.tcti(), azure::kHclReportNvIndex, hcl).ok());
  StartBoth(ServerHcl(), AgentAzure());
  auto r = Attest();
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(Msg(r), HasSubstr("hcl.binding"));
}

TEST_F(AzureTdxE2eTest, AttackMrtdNotAllowed) {
  Provision(26418);
  StartBoth(ServerHcl("  mrtd = [\"" + std::string(96, 'a') + "\"]\n"), AgentAzure());
  auto r = Attest();
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(Msg(r), HasSubstr("policy.mrtd"));
}

}  // namespace
}  // namespace twi::e2e
