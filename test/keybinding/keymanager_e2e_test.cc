// The twi KeyManager as SPIRE's agent loads it (through the host harness): KeyManager v1
// round trips checked with OpenSSL, bad requests, and key-bound node attestation with the twi
// agent NodeAttestor against the server NodeAttestor on the SEV-SNP simulator.
#include <grpcpp/grpcpp.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/appraisal/protocol.h"
#include "attestors/keybinding/binding.h"
#include "attestors/keybinding/key_socket.h"
#include "spire/plugin/agent/keymanager/v1/keymanager.grpc.pb.h"
#include "attestors/tpm/abi.h"
#include "test/e2e/snp_pair.h"
#include "test/tpm/swtpm_fixture.h"
#include "twi/v1/attestation.pb.h"

namespace twi::e2e {
namespace {

using ::testing::HasSubstr;
namespace kmpb = spire::plugin::agent::keymanager::v1;

constexpr char kKeyManager[] = "twi-agent-keymanager";

// A launched and configured twi KeyManager with a stub, as SPIRE's agent holds it.
struct KeyManager {
  std::unique_ptr<host::PluginProcess> process;
  std::unique_ptr<kmpb::KeyManager::Stub> stub;
  std::string socket;

  absl::Status Start(const std::string& dir) {
    socket = dir + "/keys/keys.sock";
    process = Launch(kKeyManager, "KeyManager");
    if (!process) return absl::InternalError("launch failed");
    absl::Status s = process->Load("example.org", "socket_path = \"" + socket + "\"\n", false);
    if (!s.ok()) return s;
    stub = kmpb::KeyManager::NewStub(process->channel());
    return absl::OkStatus();
  }
  grpc::Status Generate(const std::string& id, kmpb::KeyType type, kmpb::PublicKey* out) {
    grpc::ClientContext ctx;
    kmpb::GenerateKeyRequest req;
    req.set_key_id(id);
    req.set_key_type(type);
    kmpb::GenerateKeyResponse resp;
    grpc::Status s = stub->GenerateKey(&ctx, req, &resp);
    if (out != nullptr) *out = resp.public_key();
    return s;
  }
  grpc::Status Sign(const kmpb::SignDataRequest& req, kmpb::SignDataResponse* resp) {
    grpc::ClientContext ctx;
    return stub->SignData(&ctx, req, resp);
  }
};

// Verifies `sig` over `digest` with the SPKI, as Go's crypto/x509 would.
bool VerifyDigest(const std::string& spki, const EVP_MD* md, const std::string& digest,
                  const std::string& sig, int pss_salt = 0, bool pss = false) {
  auto key = PublicKeyFromSpki(AsBytes(spki));
  if (!key.ok()) return false;
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) {
    return false;
  }
  if (pss && (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), pss_salt) != 1)) {
    return false;
  }
  int rc = EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                           sig.size(), reinterpret_cast<const unsigned char*>(digest.data()),
                           digest.size());
  OpenSslErrors();
  return rc == 1;
}

std::string Digest(const EVP_MD* md, std::string_view msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(msg.data(), msg.size(), out, &n, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

class KeyManagerPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(km_.Start(dir_.path()).ok()); }
  void TearDown() override {
    if (km_.process) ShutdownAndCheckClean(*km_.process);
    EXPECT_FALSE(std::filesystem::exists(km_.socket)) << "the KeyManager left its key socket";
  }
  TempDir dir_;
  KeyManager km_;
};

TEST_F(KeyManagerPluginTest, GenerateSignAndListRoundTrip) {
  struct Case {
    kmpb::KeyType type;
    kmpb::HashAlgorithm hash;
    const EVP_MD* md;
  };
  for (const Case& c : {Case{kmpb::EC_P256, kmpb::SHA256, EVP_sha256()},
                        Case{kmpb::EC_P384, kmpb::SHA384, EVP_sha384()},
                        Case{kmpb::RSA_2048, kmpb::SHA512, EVP_sha512()}}) {
    SCOPED_TRACE(kmpb::KeyType_Name(c.type));
    kmpb::PublicKey pub;
    grpc::Status s = km_.Generate("k-" + kmpb::KeyType_Name(c.type), c.type, &pub);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(pub.type(), c.type);
    EXPECT_EQ(pub.fingerprint(), HexEncode(Sha256(AsBytes(pub.pkix_data()))));
    kmpb::SignDataRequest req;
    req.set_key_id(pub.id());
    req.set_data(Digest(c.md, "to be signed"));
    req.set_hash_algorithm(c.hash);
    kmpb::SignDataResponse resp;
    s = km_.Sign(req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.key_fingerprint(), pub.fingerprint());
    EXPECT_TRUE(VerifyDigest(pub.pkix_data(), c.md, req.data(), resp.signature()));
  }
  grpc::ClientContext ctx;
  kmpb::GetPublicKeysResponse all;
  ASSERT_TRUE(km_.stub->GetPublicKeys(&ctx, kmpb::GetPublicKeysRequest(), &all).ok());
  EXPECT_EQ(all.public_keys_size(), 3);
}

TEST_F(KeyManagerPluginTest, EcdsaSignatureVerifiesWithTheOpensslCli) {
  kmpb::PublicKey pub;
  ASSERT_TRUE(km_.Generate("agent-svid-A", kmpb::EC_P256, &pub).ok());
  kmpb::SignDataRequest req;
  req.set_key_id("agent-svid-A");
  req.set_data(Digest(EVP_sha256(), "csr bytes"));
  req.set_hash_algorithm(kmpb::SHA256);
  kmpb::SignDataResponse resp;
  ASSERT_TRUE(km_.Sign(req, &resp).ok());
  const std::string d = dir_.path();
  std::ofstream(d + "/pub.der", std::ios::binary) << pub.pkix_data();
  std::ofstream(d + "/msg", std::ios::binary) << "csr bytes";
  std::ofstream(d + "/sig", std::ios::binary) << resp.signature();
  std::string cmd = "openssl dgst -sha256 -keyform DER -verify " + d + "/pub.der -signature " +
                    d + "/sig " + d + "/msg >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST_F(KeyManagerPluginTest, RsaPssWithGoSaltSemantics) {
  kmpb::PublicKey pub;
  ASSERT_TRUE(km_.Generate("rsa", kmpb::RSA_2048, &pub).ok());
  for (int salt : {-1, 0, 20}) {
    SCOPED_TRACE(salt);
    kmpb::SignDataRequest req;
    req.set_key_id("rsa");
    req.set_data(Digest(EVP_sha256(), "tls transcript"));
    req.mutable_pss_options()->set_hash_algorithm(kmpb::SHA256);
    req.mutable_pss_options()->set_salt_length(salt);
    kmpb::SignDataResponse resp;
    ASSERT_TRUE(km_.Sign(req, &resp).ok());
    // -1: salt = hash length; 0: maximum (2048/8 - 32 - 2 = 222); 20: exactly 20.
    int want = salt == -1 ? 32 : salt == 0 ? 222 : salt;
    EXPECT_TRUE(VerifyDigest(pub.pkix_data(), EVP_sha256(), req.data(), resp.signature(), want,
                             true));
  }
}

TEST_F(KeyManagerPluginTest, OverwriteChangesFingerprintAndPendingKey) {
  kmpb::PublicKey first, second;
  ASSERT_TRUE(km_.Generate("agent-svid-A", kmpb::EC_P256, &first).ok());
  ASSERT_TRUE(km_.Generate("agent-svid-A", kmpb::EC_P256, &second).ok());
  EXPECT_NE(first.fingerprint(), second.fingerprint());
  auto pending = keybinding::KeySocketClient(km_.socket).GetPendingKey();
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(AsString(pending->spki), second.pkix_data());
  EXPECT_EQ(pending->generation, 2u);
}

TEST_F(KeyManagerPluginTest, BadRequestsGetTheirCodes) {
  kmpb::PublicKey pub;
  EXPECT_EQ(km_.Generate("", kmpb::EC_P256, nullptr).error_code(), grpc::INVALID_ARGUMENT);
  grpc::Status s = km_.Generate("x", kmpb::UNSPECIFIED_KEY_TYPE, nullptr);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("unsupported key type 0"));
  {
    grpc::ClientContext ctx;
    kmpb::GetPublicKeyRequest req;
    req.set_key_id("missing");
    kmpb::GetPublicKeyResponse resp;
    EXPECT_EQ(km_.stub->GetPublicKey(&ctx, req, &resp).error_code(), grpc::NOT_FOUND);
  }
  ASSERT_TRUE(km_.Generate("ec", kmpb::EC_P256, &pub).ok());
  kmpb::SignDataResponse resp;
  kmpb::SignDataRequest req;
  req.set_key_id("missing");
  req.set_data(std::string(32, 'd'));
  req.set_hash_algorithm(kmpb::SHA256);
  EXPECT_EQ(km_.Sign(req, &resp).error_code(), grpc::NOT_FOUND);
  req.set_key_id("ec");
  req.clear_hash_algorithm();
  s = km_.Sign(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("signer opts are required"));
  req.set_hash_algorithm(kmpb::SHA384);
  s = km_.Sign(req, &resp);
  EXPECT_THAT(s.error_message(), HasSubstr("data is 32 bytes, want the 48-byte SHA384 digest"));
  req.set_hash_algorithm(static_cast<kmpb::HashAlgorithm>(99));
  EXPECT_THAT(km_.Sign(req, &resp).error_message(), HasSubstr("unsupported hash algorithm 99"));
  req.mutable_pss_options()->set_hash_algorithm(kmpb::SHA256);
  EXPECT_THAT(km_.Sign(req, &resp).error_message(), HasSubstr("pss_options given for a non-RSA key"));
}

TEST(KeyManagerConfigTest, SocketPathRequiredAndChecked) {
  TempDir dir;
  auto p = Launch(kKeyManager, "KeyManager");
  ASSERT_TRUE(p);
  absl::Status s = p->Load("example.org", "", false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("\"socket_path\" is required"));
  s = p->Configure("example.org", "socket_path = \"keys.sock\"\n");
  EXPECT_THAT(std::string(s.message()), HasSubstr("must be an absolute socket path"));
  std::filesystem::create_directories(dir.path() + "/open");
  std::filesystem::permissions(dir.path() + "/open", std::filesystem::perms(0755));
  s = p->Configure("example.org", "socket_path = \"" + dir.path() + "/open/keys.sock\"\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("has mode 0755, want no group or other access"));
  ShutdownAndCheckClean(*p);
}

// Node attestation with key binding: the agent NodeAttestor configured with the KeyManager's
// socket, against the server NodeAttestor, on the SEV-SNP simulator.
class KeyBindingE2eTest : public SimSnpPairTest {
 protected:
  void StartBound() {
    ASSERT_TRUE(km_.Start(dir_.path()).ok());
    Start(SimServerHcl(), "key_binding {\n  keymanager_socket = \"" + km_.socket + "\"\n}\n");
  }
  void TearDown() override {
    if (km_.process) ShutdownAndCheckClean(*km_.process);
    SimSnpPairTest::TearDown();
  }
  // Records the payload, the challenge and the response of one attestation.
  host::RelayHooks Record() {
    host::RelayHooks h;
    h.payload = [this](std::string& b) { payload_ = b; };
    h.challenge = [this](std::string& b) { challenge_ = b; };
    h.challenge_response = [this](std::string& b) { response_ = b; };
    return h;
  }
  // The SVID key the evidence bound: checks the SNP REPORT_DATA against both keys.
  void ExpectBound(const kmpb::PublicKey& svid, uint64_t generation) {
    twi::v1::Payload p;
    twi::v1::Challenge c;
    twi::v1::ChallengeResponse r;
    ASSERT_TRUE(p.ParseFromString(payload_) && c.ParseFromString(challenge_) &&
                r.ParseFromString(response_));
    ASSERT_TRUE(p.has_svid_key());
    EXPECT_EQ(p.svid_key().spki(), svid.pkix_data());
    EXPECT_EQ(p.svid_key().generation(), generation);
    ASSERT_EQ(r.evidence_size(), 1);
    std::string report_data = r.evidence(0).sev_snp().report().substr(0x50, 64);
    EXPECT_EQ(ToBytes(report_data),
              keybinding::KeyBoundReportData(AsBytes(c.nonce()), AsBytes(p.instance_key_spki()),
                                             AsBytes(svid.pkix_data())));
    EXPECT_TRUE(keybinding::VerifyPop(p.svid_key(), AsBytes(c.nonce()), AsBytes(payload_),
                                      AsBytes(r.svid_key_signature()))
                    .ok());
  }
  KeyManager km_;
  std::string payload_, challenge_, response_;
};

TEST_F(KeyBindingE2eTest, AttestationBindsThePendingKeyAndRotationBindsTheNext) {
  StartBound();
  kmpb::PublicKey a, b;
  ASSERT_TRUE(km_.Generate("agent-svid-A", kmpb::EC_P256, &a).ok());
  auto r = Attest(Record());
  ASSERT_TRUE(r.status.ok()) << r.status;
  ExpectBound(a, 1);
  // Re-attestation at rotation: SPIRE generates the other slot's key first.
  ASSERT_TRUE(km_.Generate("agent-svid-B", kmpb::EC_P256, &b).ok());
  r = Attest(Record());
  ASSERT_TRUE(r.status.ok()) << r.status;
  ExpectBound(b, 2);
}

TEST_F(KeyBindingE2eTest, KeyManagerDownFailsClosed) {
  StartBound();
  ASSERT_TRUE(km_.Generate("agent-svid-A", kmpb::EC_P256, nullptr).ok());
  ShutdownAndCheckClean(*km_.process);
  km_.process.reset();
  auto r = Attest(Record());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status.message()),
              HasSubstr("key binding: cannot read the pending SVID key: twi KeyManager socket"));
  EXPECT_TRUE(payload_.empty()) << "no unbound payload may be sent";
}

TEST_F(KeyBindingE2eTest, KeySwappedDuringAttestationRefused) {
  StartBound();
  ASSERT_TRUE(km_.Generate("agent-svid-A", kmpb::EC_P256, nullptr).ok());
  host::RelayHooks h;
  h.challenge = [this](std::string&) {
    ASSERT_TRUE(km_.Generate("agent-svid-B", kmpb::EC_P256, nullptr).ok());
  };
  auto r = Attest(h);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status.message()),
              HasSubstr("the KeyManager refused the proof of possession"));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("generation got 1, want 2"));
}

TEST_F(KeyBindingE2eTest, SubstitutedSvidKeyRefusedByTheServer) {
  // A man in the middle swapping the payload's key breaks the instance key's transcript
  // signature; an agent doing it itself (new payload, same evidence) is refused at the PoP.
  StartBound();
  ASSERT_TRUE(km_.Generate("agent-svid-A", kmpb::EC_P256, nullptr).ok());
  host::RelayHooks h;
  h.challenge_response = [](std::string& b) {
    twi::v1::ChallengeResponse r;
    ASSERT_TRUE(r.ParseFromString(b));
    std::string sig = r.svid_key_signature();
    sig[sig.size() / 2] ^= 1;
    r.set_svid_key_signature(sig);
    b = r.SerializeAsString();
  };
  auto r = Attest(h);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("response.svid_key_signature"));
}

TEST_F(KeyBindingE2eTest, WithoutKeyBindingThePayloadIsUnchanged) {
  Start(SimServerHcl());
  auto r = Attest(Record());
  ASSERT_TRUE(r.status.ok()) << r.status;
  twi::v1::Payload p;
  twi::v1::ChallengeResponse resp;
  ASSERT_TRUE(p.ParseFromString(payload_) && resp.ParseFromString(response_));
  EXPECT_FALSE(p.has_svid_key());
  EXPECT_TRUE(resp.svid_key_signature().empty());
  twi::v1::Challenge c;
  ASSERT_TRUE(c.ParseFromString(challenge_));
  EXPECT_EQ(ToBytes(resp.evidence(0).sev_snp().report().substr(0x50, 64)),
            appraisal::ReportData(AsBytes(c.nonce()), AsBytes(p.instance_key_spki())));
}

// The TPM path binds the same key through the quote's qualifying data (swtpm port 27010).
class KeyBoundTpmE2eTest : public NodePairTest {
 protected:
  void SetUp() override {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
  }
  void TearDown() override {
    NodePairTest::TearDown();  // the agent lets go of the TPM first
    if (km_.process) ShutdownAndCheckClean(*km_.process);
    tpm_.Stop();
  }
  twi::testing::Swtpm tpm_;
  KeyManager km_;
};

TEST_F(KeyBoundTpmE2eTest, QuoteQualifyingDataBindsTheSvidKey) {
  ASSERT_EQ(tpm_.Start(27010, {"sha256"}), "");
  ASSERT_TRUE(km_.Start(dir_.path()).ok());
  const std::string ca = std::string(TWI_TEST_CACHE_DIR) + "/swtpm-sha256/ca";
  StartBoth("tpm {\n  ek_ca_files = [\"" + ca + "/swtpm-localca-rootca-cert.pem\", \"" + ca +
                "/issuercert.pem\"]\n}\n",
            "tpm {\n  tcti = \"" + tpm_.tcti() + "\"\n  event_log_path = \"\"\n}\n"
            "key_binding {\n  keymanager_socket = \"" + km_.socket + "\"\n}\n");
  kmpb::PublicKey svid;
  ASSERT_TRUE(km_.Generate("agent-svid-A", kmpb::EC_P256, &svid).ok());
  std::string payload, challenge, response;
  host::RelayHooks h;
  h.payload = [&](std::string& b) { payload = b; };
  h.challenge = [&](std::string& b) { challenge = b; };
  h.challenge_response = [&](std::string& b) { response = b; };
  auto r = Attest(h);
  ASSERT_TRUE(r.status.ok()) << r.status;
  twi::v1::Payload p;
  twi::v1::Challenge c;
  twi::v1::ChallengeResponse resp;
  ASSERT_TRUE(p.ParseFromString(payload) && c.ParseFromString(challenge) &&
              resp.ParseFromString(response));
  ASSERT_EQ(resp.evidence_size(), 1);
  ASSERT_GE(resp.evidence(0).tpm().quotes_size(), 1);
  auto attest = tpm::ParseAttestAny(AsBytes(resp.evidence(0).tpm().quotes(0).attest()));
  ASSERT_TRUE(attest.ok()) << attest.status();
  const auto& extra = attest->attest.extraData;
  EXPECT_EQ(Bytes(extra.buffer, extra.buffer + extra.size),
            keybinding::KeyBoundQualifyingData(AsBytes(c.nonce()), AsBytes(p.instance_key_spki()),
                                               AsBytes(svid.pkix_data())));
}

}  // namespace
}  // namespace twi::e2e
