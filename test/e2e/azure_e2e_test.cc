// End to end for Azure SEV-SNP confidential VMs: the real agent plugin on a swtpm provisioned
// as a simulated Azure CVM (HCL report in NV 0x01400001, AK at 0x81000003, the simulated
// host's VCEK), the real server plugin, SPIRE's relay between them (host harness). Negatives go
// through the same path. swtpm ports 26250 upward.
#include <filesystem>
#include <string>

#include "attestors/appraisal/selectors.h"
#include "attestors/azure/collect.h"
#include "attestors/azure/sim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/e2e/e2e_util.h"
#include "test/e2e/snp_pair.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kVmId[] = "5e6c7a1b-2f3d-4c5e-8a9b-0c1d2e3f4a5b";

class AzureE2eTest : public NodePairTest {
 protected:
  void SetUp() override {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
  }
  void TearDown() override {
    NodePairTest::TearDown();  // the agent lets go of the TPM first
    tpm_.Stop();
  }
  // A swtpm provisioned from this process with the build's simulated AMD hierarchy.
  azure::SimAzureVm Provision(int port) {
    EXPECT_EQ(tpm_.Start(port, {}), "");
    sevsnp::SimHierarchyOptions ho;
    ho.dir = SimHierarchyDir();
    auto h = sevsnp::SimHierarchy::Create(ho);
    EXPECT_TRUE(h.ok()) << h.status();
    azure::SimAzureOptions o;
    o.hierarchy = *h;
    o.vm_id = kVmId;
    auto vm = azure::ProvisionSimAzureVm(tpm_.tcti(), o);
    EXPECT_TRUE(vm.ok()) << vm.status();
    return vm.ok() ? *std::move(vm) : azure::SimAzureVm{};
  }
  std::string AgentAzure() {
    return "tpm {\n  tcti = \"\"\n}\nazure {\n  tcti = \"" + tpm_.tcti() +
           "\"\n  simulate = true\n  event_log_path = \"\"\n  pcrs = [0, 7]\n}\n";
  }
  static std::string Msg(const host::NodeAttestationResult& r) {
    return std::string(r.status.message());
  }

  twi::testing::Swtpm tpm_;
};

TEST_F(AzureE2eTest, SimulatedCvmRoundTrip) {
  // The agent provisions the fresh swtpm itself, from its simulation_dir's AMD hierarchy.
  ASSERT_EQ(tpm_.Start(26250, {}), "");
  std::filesystem::create_directories(dir_.path() + "/agent");
  std::filesystem::copy(SimHierarchyDir(), dir_.path() + "/agent/sim-amd",
                        std::filesystem::copy_options::recursive);
  StartBoth(SimServerHcl() + "azure {\n  selector_pcrs = [7]\n}\n" +
                "agent_path_template = \"azure/{azure.vm_id}\"\n",
            AgentAzure());
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.spiffe_id, StartsWith("spiffe://example.org/spire/agent/twi/azure/"));
  EXPECT_THAT(r.selectors, Contains("twi:platform:azure"));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:azure:vm-id:")));
  EXPECT_THAT(r.selectors, Contains("twi:tee:sev-snp"));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:sev-snp:measurement:")));
  EXPECT_THAT(r.selectors, Contains("twi:sev-snp:vmpl:0"));
  EXPECT_THAT(r.selectors, Contains("twi:sev-snp:simulated:true"));
  EXPECT_THAT(r.selectors, Contains("twi:tpm:pcr:sha256:7:" + std::string(64, '0')));
  for (const auto& v : r.selectors) {
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::NodeSelectors(), v.substr(4))) << v;
  }
  EXPECT_TRUE(Attest().status.ok());  // a fresh nonce, a fresh quote
}

TEST_F(AzureE2eTest, VmIdFromTheProvisionedClaims) {
  Provision(26252);
  StartBoth(SimServerHcl() + "azure {}\nagent_path_template = \"azure/{azure.vm_id}\"\n",
            AgentAzure());
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.spiffe_id, std::string("spiffe://example.org/spire/agent/twi/azure/") + kVmId);
  EXPECT_THAT(r.selectors, Contains(std::string("twi:azure:vm-id:") + kVmId));
}

TEST_F(AzureE2eTest, AttackSimulatedCvmRefusedWithoutTheOption) {
  Provision(26254);
  StartBoth("azure {}\n", AgentAzure());
  auto r = Attest();
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(Msg(r), HasSubstr("evidence.simulated"));
  EXPECT_THAT(Msg(r), HasSubstr("insecure_simulation_roots"));
}

TEST_F(AzureE2eTest, AttackMeasurementNotAllowed) {
  Provision(26256);
  StartBoth(SimServerHcl("  measurements = [\"" + std::string(96, 'a') + "\"]\n") + "azure {}\n",
            AgentAzure());
  auto r = Attest();
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(Msg(r), HasSubstr("policy.measurement"));
}

TEST_F(AzureE2eTest, AttackHclReportWithOtherClaimsInNv) {
  azure::SimAzureVm vm = Provision(26258);
  // Another VM's ID in the claims, the SNP report (and its REPORT_DATA) left as signed.
  Bytes hcl = vm.hcl_report;
  std::string s(AsString(hcl));
  const size_t at = s.find(kVmId);
  ASSERT_NE(at, std::string::npos);
  hcl[at] = hcl[at] == 'f' ? 'e' : 'f';
  ASSERT_TRUE(azure::WriteOwnerNv(tpm_.tcti(), azure::kHclReportNvIndex, hcl).ok());
  StartBoth(SimServerHcl() + "azure {}\n", AgentAzure());
  auto r = Attest();
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(Msg(r), HasSubstr("hcl.binding"));
}

TEST_F(AzureE2eTest, AttackAzureEvidenceWithoutAzureBlockNotAccepted) {
  Provision(26260);
  // The server has no azure block: the agent's only evidence is not one it verifies.
  StartBoth(SimServerHcl(), AgentAzure());
  auto r = Attest();
  ASSERT_FALSE(r.status.ok());
  EXPECT_THAT(Msg(r), HasSubstr("payload.tee_evidence"));
}

}  // namespace
}  // namespace twi::e2e
