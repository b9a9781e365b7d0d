// A private swtpm per test (own state directory, own TCP ports) and the few ESAPI steps the
// server-side tests need: TCG EK templates, an AK, a policy session with
// PolicySecret(TPM_RH_ENDORSEMENT). Test code only: the production agent side is
// attestors/tpm/collect.*. No resource manager: every test flushes what it loads.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "attestors/tpm/abi.h"
#include "gtest/gtest.h"
#include "test/collateral/temp_dir.h"

extern char** environ;

namespace twi::tpm::testing {

inline bool HaveSwtpm() { return access("/usr/bin/swtpm", X_OK) == 0; }

// swtpm socket on 127.0.0.1:port (commands) and port+1 (control), started initialised, on a
// fresh state directory or on `state_dir` (one swtpm_setup prepared).
class Swtpm {
 public:
  explicit Swtpm(int port, const std::string& state_dir = "") : port_(port) {
    std::string state = "dir=" + (state_dir.empty() ? dir_.path() : state_dir);
    std::string server = "type=tcp,port=" + std::to_string(port);
    std::string ctrl = "type=tcp,port=" + std::to_string(port + 1);
    std::vector<std::string> args = {"swtpm",  "socket",  "--tpm2",  "--tpmstate", state,
                                     "--server", server,  "--ctrl",  ctrl,
                                     "--flags", "not-need-init,startup-clear"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, "/usr/bin/swtpm", nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      return;
    }
    // Ready when the command port accepts a connection (swtpm takes a few ms to listen).
    for (int i = 0; i < 200 && !ready_; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ready_ = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      close(fd);
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ~Swtpm() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;

  bool ready() const { return ready_; }
  std::string tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

 private:
  twi::testing::TempDir dir_;
  int port_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

// An ESAPI context over a TCTI config string, finalized on destruction.
class Esys {
 public:
  explicit Esys(const std::string& tcti_conf) {
    if (Tss2_TctiLdr_Initialize(tcti_conf.c_str(), &tcti_) != TSS2_RC_SUCCESS) return;
    if (Esys_Initialize(&ctx_, tcti_, nullptr) != TSS2_RC_SUCCESS) ctx_ = nullptr;
  }
  ~Esys() {
    if (ctx_ != nullptr) Esys_Finalize(&ctx_);
    if (tcti_ != nullptr) Tss2_TctiLdr_Finalize(&tcti_);
  }
  Esys(const Esys&) = delete;
  Esys& operator=(const Esys&) = delete;
  ESYS_CONTEXT* get() const { return ctx_; }

 private:
  TSS2_TCTI_CONTEXT* tcti_ = nullptr;
  ESYS_CONTEXT* ctx_ = nullptr;
};

// PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256: the authPolicy of the TCG default EKs.
// (PolicyUpdate: H(H(0...0 || TPM_CC_PolicySecret || 0x4000000B) || policyRef = empty).)
inline constexpr uint8_t kEkPolicy[32] = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
    0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA};

// TCG EK Credential Profile low-range templates: L-1 RSA-2048 and L-2 ECC P-256.
inline TPM2B_PUBLIC EkTemplate(bool ecc) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& a = t.publicArea;
  a.type = ecc ? TPM2_ALG_ECC : TPM2_ALG_RSA;
  a.nameAlg = TPM2_ALG_SHA256;
  a.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;  // 0x000300B2
  a.authPolicy.size = sizeof(kEkPolicy);
  std::memcpy(a.authPolicy.buffer, kEkPolicy, sizeof(kEkPolicy));
  if (ecc) {
    a.parameters.eccDetail.symmetric = {TPM2_ALG_AES, {.aes = 128}, {.aes = TPM2_ALG_CFB}};
    a.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    a.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    a.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    a.unique.ecc.x.size = 32;
    a.unique.ecc.y.size = 32;
  } else {
    a.parameters.rsaDetail.symmetric = {TPM2_ALG_AES, {.aes = 128}, {.aes = TPM2_ALG_CFB}};
    a.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    a.parameters.rsaDetail.keyBits = 2048;
    a.parameters.rsaDetail.exponent = 0;
    a.unique.rsa.size = 256;
  }
  return t;
}

// A restricted signing key: RSA-2048 with `scheme` (RSASSA or RSAPSS) or ECC P-256 ECDSA,
// SHA-256; attributes 0x00050072.
inline TPM2B_PUBLIC AkTemplate(uint16_t scheme) {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& a = t.publicArea;
  a.nameAlg = TPM2_ALG_SHA256;
  a.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  if (scheme == TPM2_ALG_ECDSA) {
    a.type = TPM2_ALG_ECC;
    a.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    a.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    a.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    a.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    a.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  } else {
    a.type = TPM2_ALG_RSA;
    a.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
    a.parameters.rsaDetail.scheme.scheme = scheme;
    a.parameters.rsaDetail.scheme.details.anySig.hashAlg = TPM2_ALG_SHA256;
    a.parameters.rsaDetail.keyBits = 2048;
  }
  return t;
}

// CreatePrimary under `hierarchy`; the handle and the TPMT_PUBLIC as the TPM returned it.
inline TSS2_RC CreatePrimary(ESYS_CONTEXT* esys, ESYS_TR hierarchy, const TPM2B_PUBLIC& tmpl,
                             ESYS_TR* handle, Public* pub) {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  TPM2B_PUBLIC* out_public = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(esys, hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                  &sensitive, &tmpl, &outside, &creation_pcr, handle,
                                  &out_public, nullptr, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return rc;
  auto p = PublicFromArea(out_public->publicArea);
  Esys_Free(out_public);
  if (!p.ok()) return TSS2_ESYS_RC_GENERAL_FAILURE;
  *pub = *std::move(p);
  return TSS2_RC_SUCCESS;
}

// A policy session satisfying the TCG EK policy: PolicySecret(TPM_RH_ENDORSEMENT).
inline TSS2_RC EkPolicySession(ESYS_CONTEXT* esys, ESYS_TR* session,
                               TPMI_ALG_HASH hash = TPM2_ALG_SHA256) {
  TPMT_SYM_DEF sym{};
  sym.algorithm = TPM2_ALG_NULL;
  TSS2_RC rc = Esys_StartAuthSession(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, nullptr, TPM2_SE_POLICY, &sym, hash, session);
  if (rc != TSS2_RC_SUCCESS) return rc;
  return Esys_PolicySecret(esys, ESYS_TR_RH_ENDORSEMENT, *session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, nullptr, nullptr, nullptr, 0, nullptr, nullptr);
}

}  // namespace twi::tpm::testing
