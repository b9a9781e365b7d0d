// End to end with a TPM: the real agent plugin on a swtpm TCTI and the real server plugin
// through the host harness. Credential activation with RSA and ECC EKs, sha256 and sha1+sha256
// quotes, an event log, and the attacks on each step (tampering with the messages in transit).
//
// swtpm ports: 25210 upward (each swtpm takes port and port + 1).
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "attestors/appraisal/selectors.h"
#include "attestors/core/crypto.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/collect.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/e2e/e2e_util.h"
#include "test/e2e/snp_pair.h"
#include "test/tpm/event_log_builder.h"
#include "test/tpm/swtpm_fixture.h"
#include "twi/v1/attestation.pb.h"

namespace twi::e2e {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string CacheCaDir(const std::string& banks) {
  std::string b = banks;
  std::replace(b.begin(), b.end(), ',', '-');
  return std::string(TWI_TEST_CACHE_DIR) + "/swtpm-" + b + "/ca";
}

// SHA-256 of the EK SPKI of the TPM at `tcti` (read before the agent holds the TPM).
std::string EkHash(const std::string& tcti, tpm::KeyAlg alg, Bytes* ek_public = nullptr) {
  tpm::TpmCollectOptions o;
  o.tcti = tcti;
  o.ek_alg = alg;
  auto c = tpm::TpmCollector::Open(o);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return "";
  auto ek = (*c)->Ek();
  EXPECT_TRUE(ek.ok()) << ek.status();
  if (!ek.ok()) return "";
  if (ek_public) *ek_public = ek->public_area;
  auto pub = tpm::ParsePublic(ek->public_area);
  auto spki = tpm::PublicSpki(*pub);
  return HexEncode(Sha256(*spki));
}

class TpmE2eTest : public NodePairTest {
 protected:
  void SetUp() override {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
  }
  void StartTpm(int port, const std::string& banks = "sha256") {
    banks_ = banks;
    ASSERT_EQ(tpm_.Start(port, {banks}), "");
  }
  // Server HCL trusting the swtpm manufacturer CA (its root and issuing CA), `body` added to
  // the tpm block.
  std::string EkCaHcl(const std::string& body = "") {
    const std::string ca = CacheCaDir(banks_);
    return "tpm {\n  ek_ca_files = [\"" + ca + "/swtpm-localca-rootca-cert.pem\", \"" + ca +
           "/issuercert.pem\"]\n" + body + "}\n";
  }
  std::string AgentTpm(const std::string& body = "") {
    return "tpm {\n  tcti = \"" + tpm_.tcti() + "\"\n  event_log_path = \"\"\n" + body + "}\n";
  }
  void TearDown() override {
    NodePairTest::TearDown();  // the agent lets go of the TPM first
    tpm_.Stop();
  }
  static std::string Msg(const host::NodeAttestationResult& r) {
    return std::string(r.status.message());
  }
  // Rewrites the TPM evidence of a challenge response in transit.
  static std::function<void(std::string&)> EditTpm(std::function<void(twi::v1::TpmEvidence*)> f) {
    return [f](std::string& bytes) {
      twi::v1::ChallengeResponse r;
      ASSERT_TRUE(r.ParseFromString(bytes));
      for (auto& e : *r.mutable_evidence()) {
        if (e.has_tpm()) f(e.mutable_tpm());
      }
      bytes = r.SerializeAsString();
    };
  }

  twi::testing::Swtpm tpm_;
  std::string banks_;
};

TEST_F(TpmE2eTest, RsaEkCertificateRoundTrip) {
  StartTpm(25210);
  StartBoth(EkCaHcl("  selector_pcrs = [0]\n") + "agent_path_template = \"tpm/{tpm.ek_hash}\"\n",
            AgentTpm());
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.spiffe_id, StartsWith("spiffe://example.org/spire/agent/twi/tpm/"));
  EXPECT_EQ(r.spiffe_id.size(), std::string("spiffe://example.org/spire/agent/twi/tpm/").size() + 64);
  EXPECT_THAT(r.selectors, Contains("twi:tee:tpm"));
  EXPECT_THAT(r.selectors, Contains("twi:tpm:trust-route:ek_certificate"));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:tpm:ek-hash:")));
  EXPECT_THAT(r.selectors, Contains(StartsWith("twi:tpm:manufacturer:")));
  EXPECT_THAT(r.selectors, Contains("twi:tpm:pcr:sha256:0:" + std::string(64, '0')));
  EXPECT_THAT(r.selectors, Not(Contains(StartsWith("twi:tpm:pcr:sha256:1:"))));
  for (const auto& v : r.selectors) {
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::NodeSelectors(), v.substr(4))) << v;
  }
  // Every attestation gets a fresh credential; a second one passes as well.
  EXPECT_TRUE(Attest().status.ok());
}

TEST_F(TpmE2eTest, EccEkTrustedByHashAllowList) {
  StartTpm(25212);
  const std::string hash = EkHash(tpm_.tcti(), tpm::KeyAlg::kEccP256);
  ASSERT_EQ(hash.size(), 64u);
  StartBoth("tpm {\n  ek_hashes = [\"" + hash + "\"]\n}\n", AgentTpm("  ek_alg = \"ecc\"\n"));
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:tpm:ek-hash:" + hash));
  EXPECT_THAT(r.selectors, Contains("twi:tpm:trust-route:ek_hash"));
}

TEST_F(TpmE2eTest, Sha1AndSha256BanksQuotedAndAppraised) {
  StartTpm(25214, "sha1,sha256");
  StartBoth(EkCaHcl("  selector_pcrs = [0]\n  pcrs {\n    \"sha256:0\" = [\"" +
                    std::string(64, '0') + "\"]\n    \"sha1:0\" = [\"" + std::string(40, '0') +
                    "\"]\n  }\n"),
            AgentTpm("  pcr_banks = [\"sha1\", \"sha256\"]\n  pcrs = [0, 7]\n"));
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:tpm:pcr:sha1:0:" + std::string(40, '0')));
  EXPECT_THAT(r.selectors, Contains("twi:tpm:pcr:sha256:0:" + std::string(64, '0')));
}

TEST_F(TpmE2eTest, PcrAllowListRefusal) {
  StartTpm(25216);
  StartBoth(EkCaHcl("  pcrs {\n    \"sha256:0\" = [\"" + std::string(64, 'a') + "\"]\n  }\n"),
            AgentTpm());
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Msg(r), StartsWith("nodeattestor(twi): tpm: policy.pcrs: "));
}

// Measures `log`'s events into the swtpm (before the agent connects: swtpm serves one client).
void Measure(const std::string& tcti, const tpm::testing::EventLogBuilder& log) {
  TSS2_TCTI_CONTEXT* tcti_ctx = nullptr;
  ESYS_CONTEXT* esys = nullptr;
  ASSERT_EQ(Tss2_TctiLdr_Initialize(tcti.c_str(), &tcti_ctx), TSS2_RC_SUCCESS);
  ASSERT_EQ(Esys_Initialize(&esys, tcti_ctx, nullptr), TSS2_RC_SUCCESS);
  for (const auto& [pcr, digest] : log.extends) {
    TPML_DIGEST_VALUES v{};
    v.count = 1;
    v.digests[0].hashAlg = TPM2_ALG_SHA256;
    std::memcpy(v.digests[0].digest.sha256, digest.data(), 32);
    EXPECT_EQ(Esys_PCR_Extend(esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                              ESYS_TR_NONE, &v), TSS2_RC_SUCCESS);
  }
  Esys_Finalize(&esys);
  Tss2_TctiLdr_Finalize(&tcti_ctx);
}

tpm::testing::EventLogBuilder BootLog() {
  tpm::testing::EventLogBuilder b;
  b.Event(0, 0x00000008, ToBytes("firmware"));  // EV_S_CRTM_VERSION
  b.SecureBoot(1);
  b.Event(7, 0x00000004, Bytes(4, 0));          // EV_SEPARATOR
  b.Event(4, 0x80000003, ToBytes("shim"));      // EV_EFI_BOOT_SERVICES_APPLICATION
  return b;
}

TEST_F(TpmE2eTest, EventLogReplayedAndSecureBootRequired) {
  StartTpm(25218);
  auto log = BootLog();
  Measure(tpm_.tcti(), log);
  const std::string path = dir_.path() + "/binary_bios_measurements";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(log.log.data()),
                                              static_cast<std::streamsize>(log.log.size()));
  StartBoth(EkCaHcl("  require_secure_boot = true\n  boot_loader_digests = [\"" +
                    HexEncode(Sha256(ToBytes("shim"))) + "\"]\n"),
            "tpm {\n  tcti = \"" + tpm_.tcti() + "\"\n  event_log_path = \"" + path + "\"\n}\n");
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:tpm:secure-boot:true"));
}

TEST_F(TpmE2eTest, EventLogNotMatchingThePcrsRefused) {
  StartTpm(25220);
  auto log = BootLog();
  Measure(tpm_.tcti(), log);
  log.Event(4, 0x80000003, ToBytes("grub"));  // in the log, never measured
  const std::string path = dir_.path() + "/binary_bios_measurements";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(log.log.data()),
                                              static_cast<std::streamsize>(log.log.size()));
  StartBoth(EkCaHcl(), "tpm {\n  tcti = \"" + tpm_.tcti() + "\"\n  event_log_path = \"" + path + "\"\n}\n");
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(r), StartsWith("nodeattestor(twi): tpm: eventlog.replay: "));
  EXPECT_THAT(Msg(r), HasSubstr("4"));
}

TEST_F(TpmE2eTest, EkNotUnderATrustedCaRefused) {
  StartTpm(25222);
  // A CA of someone else's: self-signed, well formed, not the EK's issuer.
  const std::string other = dir_.path() + "/other-ca.pem";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                         "-subj /CN=other-tpm-ca -days 30 -keyout " + dir_.path() + "/k.pem -out " +
                         other + " >/dev/null 2>&1").c_str()), 0);
  StartBoth("tpm {\n  ek_ca_files = [\"" + other + "\"]\n}\n", AgentTpm());
  auto r = Attest();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Msg(r), StartsWith("nodeattestor(twi): tpm: tpm.trust: no configured trust route holds"));
  EXPECT_THAT(Msg(r), HasSubstr("ek.certificate"));
}

TEST_F(TpmE2eTest, QuoteFromAnotherAttestationRefused) {
  // A quote recorded on one stream, replayed (with this stream's activated secret) on the next:
  // its qualifying data binds the other stream's nonce.
  StartTpm(25228);
  StartBoth(EkCaHcl(), AgentTpm());
  twi::v1::TpmEvidence recorded;
  host::RelayHooks record;
  record.challenge_response = EditTpm([&](twi::v1::TpmEvidence* e) { recorded = *e; });
  ASSERT_TRUE(Attest(record).status.ok());
  host::RelayHooks replay;
  replay.challenge_response =
      EditTpm([&](twi::v1::TpmEvidence* e) { *e->mutable_quotes() = recorded.quotes(); });
  auto r = Attest(replay);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(r), StartsWith("nodeattestor(twi): tpm: quote.nonce: "));
}

TEST_F(TpmE2eTest, TamperedPcrValueRefused) {
  StartTpm(25230);
  StartBoth(EkCaHcl(), AgentTpm());
  host::RelayHooks hooks;
  hooks.challenge_response = EditTpm([](twi::v1::TpmEvidence* e) {
    auto& pcrs = *e->mutable_quotes(0)->mutable_pcrs();
    pcrs[0][0] ^= 0x01;
  });
  auto r = Attest(hooks);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(r), StartsWith("nodeattestor(twi): tpm: pcr.digest: "));
}

TEST_F(TpmE2eTest, ReplayedActivationSecretRefused) {
  // The secret activated on one stream answers the next stream's challenge: every stream
  // wraps a fresh secret, so the old one is refused.
  StartTpm(25232);
  StartBoth(EkCaHcl(), AgentTpm());
  std::string secret;
  host::RelayHooks record;
  record.challenge_response =
      EditTpm([&](twi::v1::TpmEvidence* e) { secret = e->activated_secret(); });
  ASSERT_TRUE(Attest(record).status.ok());
  ASSERT_EQ(secret.size(), 32u);
  host::RelayHooks replay;
  replay.challenge_response =
      EditTpm([&](twi::v1::TpmEvidence* e) { e->set_activated_secret(secret); });
  auto r = Attest(replay);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Msg(r), StartsWith("nodeattestor(twi): tpm: tpm.credential: "));
}

TEST_F(TpmE2eTest, SevSnpAndTpmInOneAttestation) {
  // One agent with both: the server asks for and verifies every kind it has a block for.
  StartTpm(25234);
  std::filesystem::create_directories(dir_.path() + "/agent");
  std::filesystem::copy(SimHierarchyDir(), dir_.path() + "/agent/sim-amd",
                        std::filesystem::copy_options::recursive);
  StartBoth(SimServerHcl() + EkCaHcl(), "simulate = \"sev-snp\"\n" + AgentTpm());
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:tee:sev-snp"));
  EXPECT_THAT(r.selectors, Contains("twi:tee:tpm"));
  // A refused TPM part refuses the attestation, whatever the SEV-SNP report says.
  host::RelayHooks hooks;
  hooks.challenge_response = EditTpm([](twi::v1::TpmEvidence* e) { e->set_activated_secret("x"); });
  auto refused = Attest(hooks);
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Msg(refused), StartsWith("nodeattestor(twi): tpm: tpm.credential: "));
}

TEST_F(TpmE2eTest, MalformedTpmIdentityIsAClearRefusal) {
  // Garbage where the AK's TPMT_PUBLIC belongs: INVALID_ARGUMENT naming the structure, and the
  // server's log stays hclog (TearDown checks it: tpm2-tss must not print its own errors).
  StartTpm(25238);
  StartBoth(EkCaHcl(), AgentTpm());
  host::RelayHooks hooks;
  hooks.payload = [](std::string& bytes) {
    twi::v1::Payload p;
    ASSERT_TRUE(p.ParseFromString(bytes));
    p.mutable_tpm()->set_ak_public(std::string("\x00\x01\x00\x0b\xff\xff", 6));
    bytes = p.SerializeAsString();
  };
  auto r = Attest(hooks);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(r), StartsWith("nodeattestor(twi): tpm: tpm.identity: AK: "));
}

TEST_F(TpmE2eTest, ReconfiguredAgentOpensTheTpmAgain) {
  // A second Configure opens the TPM again and attests with it (on a raw /dev/tpm0, which allows
  // one open, the first configuration's collectors let go of it first).
  StartTpm(25208);
  StartBoth(EkCaHcl(), AgentTpm());
  ASSERT_TRUE(Attest().status.ok());
  absl::Status again = agent_->Load("example.org", AgentHcl() + AgentTpm(), false);
  ASSERT_TRUE(again.ok()) << again;
  auto r = Attest();
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.selectors, Contains("twi:tee:tpm"));
}

TEST_F(TpmE2eTest, TrustRouteRequiredAtConfigure) {
  store_ = std::make_shared<host::AgentStore>();
  server_ = Launch(kServer, "NodeAttestor", store_);
  absl::Status s = server_->Load("example.org", "tpm {\n  require_secure_boot = true\n}\n", true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("tpm.ek_ca_files"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("tpm.ek_hashes"));
}

}  // namespace
}  // namespace twi::e2e
