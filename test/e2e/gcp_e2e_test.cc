// End to end on a simulated Google Cloud confidential VM: the real agent plugin on a swtpm
// provisioned as a GCE vTPM (AK template and Google-style AK certificate in NV, `twi sim gcp`'s
// code) with the SEV-SNP simulator as its hardware, and the real server plugin, through the
// host harness; then the attacks on each step through the same path.
//
// swtpm ports: 26650-26669 (each swtpm takes port and port + 1).
#include <filesystem>
#include <fstream>

#include "attestors/appraisal/selectors.h"
#include "attestors/core/crypto.h"
#include "attestors/gcp/sim.h"
#include "attestors/gcp/sim_vtpm.h"
#include "attestors/tpm/abi.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/e2e/e2e_util.h"
#include "test/e2e/snp_pair.h"
#include "test/tpm/swtpm_fixture.h"
#include "twi/v1/attestation.pb.h"

namespace twi::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// One simulated Google CA per build directory (as the simulated AMD hierarchy), and its bundle
// as the operator would configure it.
std::shared_ptr<const gcp::SimCa> Ca(const std::string& name = "sim-gce-ca") {
  gcp::SimCaOptions o;
  o.dir = std::string(TWI_TEST_CACHE_DIR) + "/" + name;
  auto ca = gcp::SimCa::Create(o);
  EXPECT_TRUE(ca.ok()) << ca.status();
  return ca.ok() ? *ca : nullptr;
}

class GcpE2eTest : public SimSnpPairTest {
 protected:
  void SetUp() override {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
  }
  void TearDown() override {
    NodePairTest::TearDown();  // the agent lets go of the vTPM first
    tpm_.Stop();
  }
  // swtpm on `port`, provisioned as a GCE vTPM whose AK certificate `ca` issues.
  void StartVm(int port, std::shared_ptr<const gcp::SimCa> ca = nullptr) {
    ASSERT_EQ(tpm_.Start(port, {}), "");
    gcp::SimVtpmOptions o;
    o.tcti = tpm_.tcti();
    o.ca = ca ? ca : Ca();
    o.cert.instance = gcp::SimInstanceInfo();
    auto v = gcp::ProvisionSimVtpm(o);
    ASSERT_TRUE(v.ok()) << v.status();
    vtpm_ = *std::move(v);
  }
  std::string BundleFile(const gcp::SimCa& ca) {
    const std::string path = dir_.path() + "/gce-ca-" + std::to_string(bundles_++) + ".pem";
    std::ofstream(path) << ca.BundlePem();
    return path;
  }
  // Server HCL: the simulation opt-in with the simulated AMD root, the gcp block with `body`.
  std::string ServerHcl(const std::string& body = "", const gcp::SimCa* ca = nullptr) {
    return SimServerHcl() + "agent_path_template = \"gcp/{gcp.project_id}/{gcp.zone}/{gcp.instance_id}\"\n" +
           "gcp {\n  ca_bundle = [\"" + BundleFile(ca ? *ca : *Ca()) +
           "\"]\n  require_tee = \"sev-snp\"\n  selector_pcrs = [0]\n" + body + "}\n";
  }
  std::string AgentGcp(const std::string& body = "") {
    return "tpm {\n  tcti = \"\"\n}\ngcp {\n  tcti = \"" + tpm_.tcti() +
           "\"\n  event_log_path = \"\"\n  pcrs = [0, 7]\n" + body + "}\n";
  }
  static std::string Msg(const host::NodeAttestationResult& r) {
    return std::string(r.status.message());
  }

  twi::testing::Swtpm tpm_;
  gcp::SimVtpm vtpm_;
  int bundles_ = 0;
};

TEST_F(GcpE2eTest, RoundTripWithEveryGcpSelectorAndTheAgentIdFromTheInstance) {
  StartVm(26650);
  Start(ServerHcl("  allowed_project_ids = [\"twi-sim-project\"]\n"), AgentGcp("  tee = \"sev-snp\"\n"));
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  const gcp::InstanceInfo i = gcp::SimInstanceInfo();
  ASSERT_EQ(i.project_id, "twi-sim-project");
  EXPECT_EQ(r.spiffe_id, "spiffe://example.org/spire/agent/twi/gcp/" + i.project_id + "/" + i.zone +
                             "/" + std::to_string(i.instance_id));
  EXPECT_THAT(r.selectors, Contains("twi:platform:gcp"));
  EXPECT_THAT(r.selectors, Contains("twi:gcp:project-id:" + i.project_id));
  EXPECT_THAT(r.selectors, Contains("twi:gcp:project-number:" + std::to_string(i.project_number)));
  EXPECT_THAT(r.selectors, Contains("twi:gcp:zone:" + i.zone));
  EXPECT_THAT(r.selectors, Contains("twi:gcp:instance-id:" + std::to_string(i.instance_id)));
  EXPECT_THAT(r.selectors, Contains("twi:gcp:instance-name:" + i.instance_name));
  EXPECT_THAT(r.selectors, Contains("twi:gcp:simulated:true"));
  EXPECT_THAT(r.selectors, Contains("twi:tee:sev-snp"));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:sev-snp:measurement:")));
  EXPECT_THAT(r.selectors, Contains("twi:sev-snp:simulated:true"));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:tpm:pcr:sha256:0:")));
  for (const auto& v : r.selectors) {
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::NodeSelectors(), v.substr(4))) << v;
  }
  // The AK is made again from its template for every quote; a second attestation passes too.
  EXPECT_TRUE(Attest().status.ok());
}

TEST_F(GcpE2eTest, AkCertificateFromAnUntrustedCaRefused) {
  StartVm(26652, Ca("sim-gce-ca-other"));  // the VM's certificate is another CA's
  Start(ServerHcl(), AgentGcp());
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(r), StartsWith("nodeattestor(twi): gcp: ak_cert.chain: no configured root or intermediate issued"));
}

TEST_F(GcpE2eTest, AkCertificateForAnotherKeyRefused) {
  StartVm(26654);
  // A genuine certificate (the configured CA's) for another key, where the vTPM's AK certificate
  // belongs: the quotes are the vTPM AK's, the instance information another key's.
  auto other = GenerateP256Key();
  ASSERT_TRUE(other.ok());
  auto spki = PublicKeyToSpki(other->get());
  ASSERT_TRUE(spki.ok());
  gcp::SimAkCertOptions co;
  co.instance = gcp::SimInstanceInfo();
  auto cert = Ca()->IssueAkCert(*spki, co);
  ASSERT_TRUE(cert.ok()) << cert.status();
  ASSERT_TRUE(gcp::WriteNvIndex(tpm_.tcti(), gcp::kAkCertNvIndexRsa, *cert).ok());
  Start(ServerHcl(), AgentGcp());
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(r), HasSubstr("gcp: ak.public_match: ak public area spki sha256 got "));
}

TEST_F(GcpE2eTest, HardwareReportRequiredButAbsentRefused) {
  StartVm(26656);
  // The agent leaves the SEV-SNP report out of its GCP evidence (offering it on its own).
  Start(ServerHcl(), AgentGcp("  tee = \"none\"\n"));
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Msg(r), HasSubstr("gcp: hw.required: gcp.require_tee wants sev-snp evidence; the agent sent none"));
}

TEST_F(GcpE2eTest, SimulatedVtpmRefusedWithoutTheOption) {
  StartVm(26658);
  // Without insecure_simulation_roots the simulated CA cannot even be configured...
  auto store = std::make_shared<host::AgentStore>();
  auto server = Launch(kServer, "NodeAttestor", store);
  ASSERT_NE(server, nullptr);
  absl::Status s = server->Load("example.org",
                                "gcp {\n  ca_bundle = [\"" + BundleFile(*Ca()) +
                                    "\"]\n  require_tee = \"none\"\n}\n",
                                true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("is the simulated GCE vTPM CA; it is accepted only with insecure_simulation_roots = true"));
  ShutdownAndCheckClean(*server);
}

TEST_F(GcpE2eTest, SimulatedMarkStrippedInTransitStillLabelled) {
  StartVm(26664);
  Start(ServerHcl(), AgentGcp());
  // The transcript signature covers the payload, not the evidence: the mark can be cleared on
  // the way. The server labels by the chain's root, not by the mark.
  host::RelayHooks hooks;
  hooks.challenge_response = [](std::string& bytes) {
    twi::v1::ChallengeResponse r;
    ASSERT_TRUE(r.ParseFromString(bytes));
    for (auto& e : *r.mutable_evidence()) {
      if (e.has_gcp()) e.mutable_gcp()->set_simulated(false);
    }
    bytes = r.SerializeAsString();
  };
  auto r = Attest(hooks);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:gcp:simulated:true"));
}

TEST_F(GcpE2eTest, ProjectNotAllowedRefused) {
  StartVm(26660);
  Start(ServerHcl("  allowed_project_ids = [\"payments-prod\"]\n"), AgentGcp());
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Msg(r), HasSubstr("gcp: gcp.project: project \"twi-sim-project\" is not in gcp.allowed_project_ids"));
}

TEST_F(GcpE2eTest, AgentWithoutAnAkCertificateFailsConfigure) {
  ASSERT_EQ(tpm_.Start(26662, {}), "");  // a plain TPM: no GCE template, no certificate
  auto agent = Launch(kAgent);
  ASSERT_NE(agent, nullptr);
  absl::Status s = agent->Load("example.org", AgentHcl() + AgentGcp(), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr("gcp: the GCE attestation key"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("0x01c10001 is not defined"));
  ShutdownAndCheckClean(*agent);
}

}  // namespace
}  // namespace twi::e2e
