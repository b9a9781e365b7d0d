// The EK trust route end to end on a manufactured swtpm: swtpm_setup (with a private
// swtpm-localca in the test's directory) creates the persistent RSA-2048 and ECC P-384 EKs and
// their certificates (TCG shape: critical subjectAltName with the TPM attributes, EKU
// 2.23.133.8.1, subjectDirectoryAttributes). The certificates chain to the local CA root, carry
// the keys the TPM reports, and the trusted RSA EK then activates a credential for an AK.
#include <fcntl.h>

#include <fstream>

#include "attestors/core/file.h"
#include "attestors/tpm/credential.h"
#include "attestors/tpm/ek_trust.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/swtpm.h"

namespace twi::tpm {
namespace {

using ::testing::HasSubstr;

constexpr int kPort = 23251;

// swtpm_setup with its own localca configuration under `dir` (never the system's CA state).
bool Manufacture(const std::string& dir) {
  const std::string ca = dir + "/ca", state = dir + "/state", certs = dir + "/certs";
  for (const std::string& d : {ca, state, certs}) std::filesystem::create_directories(d);
  std::ofstream(dir + "/swtpm_setup.conf")
      << "create_certs_tool = /usr/bin/swtpm_localca\n"
      << "create_certs_tool_config = " << dir << "/localca.conf\n"
      << "create_certs_tool_options = " << dir << "/localca.options\n"
      << "active_pcr_banks = sha256\n";
  std::ofstream(dir + "/localca.conf") << "statedir = " << ca << "\nsigningkey = " << ca
                                       << "/signkey.pem\nissuercert = " << ca
                                       << "/issuercert.pem\ncertserial = " << ca << "/certserial\n";
  std::ofstream(dir + "/localca.options")
      << "--platform-manufacturer twi\n--platform-version 2.1\n--platform-model test\n";
  std::vector<std::string> args = {"swtpm_setup", "--tpm2", "--tpmstate", state,
                                   "--create-ek-cert", "--config", dir + "/swtpm_setup.conf",
                                   "--write-ek-cert-files", certs};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string log = dir + "/swtpm_setup.log";
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/usr/bin/swtpm_setup", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Certificate Cert(const std::string& path) {
  auto b = ReadFileBytes(path);
  EXPECT_TRUE(b.ok()) << path;
  auto c = Certificate::Parse(*b);
  EXPECT_TRUE(c.ok()) << path << ": " << c.status();
  return *c;
}

// The public area of a persistent handle.
Public ReadPersistent(ESYS_CONTEXT* esys, TPM2_HANDLE handle, ESYS_TR* tr) {
  EXPECT_EQ(Esys_TR_FromTPMPublic(esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, tr),
            TSS2_RC_SUCCESS);
  TPM2B_PUBLIC* pub = nullptr;
  EXPECT_EQ(Esys_ReadPublic(esys, *tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, nullptr,
                            nullptr), TSS2_RC_SUCCESS);
  Public out = *PublicFromArea(pub->publicArea);
  Esys_Free(pub);
  return out;
}

TEST(TpmSwtpmEk, ManufacturedEkCertificatesAreTrustedAndTheEkActivates) {
  if (!testing::HaveSwtpm() || access("/usr/bin/swtpm_setup", X_OK) != 0) {
    GTEST_SKIP() << "swtpm / swtpm_setup not installed";
  }
  twi::testing::TempDir dir;
  ASSERT_TRUE(Manufacture(dir.path())) << "swtpm_setup failed; see its log in the test dir";
  testing::Swtpm tpm(kPort, dir.path() + "/state");
  ASSERT_TRUE(tpm.ready());
  testing::Esys esys(tpm.tcti());
  ASSERT_NE(esys.get(), nullptr);
  ESYS_TR rsa_tr = ESYS_TR_NONE, ecc_tr = ESYS_TR_NONE;
  Public rsa_ek = ReadPersistent(esys.get(), 0x81010001, &rsa_tr);
  Public ecc_ek = ReadPersistent(esys.get(), 0x81010016, &ecc_tr);
  EXPECT_EQ(ecc_ek.area.parameters.eccDetail.curveID, TPM2_ECC_NIST_P384);

  TrustAnchors anchors;
  anchors.ek_roots = {Cert(dir.path() + "/ca/swtpm-localca-rootca-cert.pem")};
  std::vector<Certificate> presented = {Cert(dir.path() + "/ca/issuercert.pem")};
  Certificate rsa_cert = Cert(dir.path() + "/certs/ek-rsa2048.crt");
  Certificate ecc_cert = Cert(dir.path() + "/certs/ek-secp384r1.crt");
  CheckList checks;
  TpmIdentity id;
  const TimePoint now = std::chrono::system_clock::now();
  absl::Status s = VerifyEkCertificate(rsa_cert, presented, rsa_ek, anchors, now, checks, &id);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(id.device.manufacturer, "id:00001014");  // IBM's vendor id, swtpm's default
  EXPECT_EQ(id.device.model, "swtpm");
  EXPECT_EQ(id.ca, "swtpm-localca-rootca");
  s = VerifyEkCertificate(ecc_cert, presented, ecc_ek, anchors, now, checks, &id);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(std::string(VerifyEkCertificate(ecc_cert, presented, rsa_ek, anchors, now, checks,
                                              &id).message()),
              HasSubstr("certifies another key than the ek public area"));
  // The same certificates under a root nobody configured.
  TrustAnchors other;
  other.ek_roots = {presented[0]};  // the issuing CA is no root: its issuer is not configured
  EXPECT_THAT(std::string(VerifyEkCertificate(rsa_cert, {}, rsa_ek, other, now, checks, &id)
                              .message()),
              HasSubstr("ek.certificate: "));

  // The trusted persistent EK activates a credential for an AK in the same TPM.
  ESYS_TR ak = ESYS_TR_NONE;
  Public ak_pub;
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_OWNER,
                                   testing::AkTemplate(TPM2_ALG_RSASSA), &ak, &ak_pub),
            TSS2_RC_SUCCESS);
  Bytes secret = *RandomBytes(32);
  auto cred = MakeCredential(rsa_ek, *ComputeName(ak_pub), secret);
  ASSERT_TRUE(cred.ok()) << cred.status();
  TPM2B_ID_OBJECT blob{};
  TPM2B_ENCRYPTED_SECRET enc{};
  size_t off = 0;
  ASSERT_EQ(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(cred->id_object.data(), cred->id_object.size(),
                                              &off, &blob), TSS2_RC_SUCCESS);
  off = 0;
  ASSERT_EQ(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(cred->encrypted_secret.data(),
                                                     cred->encrypted_secret.size(), &off, &enc),
            TSS2_RC_SUCCESS);
  ESYS_TR session = ESYS_TR_NONE;
  ASSERT_EQ(testing::EkPolicySession(esys.get(), &session), TSS2_RC_SUCCESS);
  TPM2B_DIGEST* released = nullptr;
  ASSERT_EQ(Esys_ActivateCredential(esys.get(), ak, rsa_tr, ESYS_TR_PASSWORD, session,
                                    ESYS_TR_NONE, &blob, &enc, &released), TSS2_RC_SUCCESS);
  EXPECT_EQ(HexEncode(ByteView(released->buffer, released->size)), HexEncode(secret));
  Esys_Free(released);
  Esys_FlushContext(esys.get(), session);
  Esys_FlushContext(esys.get(), ak);
}

}  // namespace
}  // namespace twi::tpm
