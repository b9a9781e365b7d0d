// EK / AK trust routes with a minted manufacturer hierarchy shaped like real EK certificates:
// empty subject, critical subjectAltName directoryName with the TPM attributes, EKU
// 2.23.133.8.1.
#include "attestors/tpm/ek_trust.h"

#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "attestors/core/file.h"
#include "attestors/core/str.h"
#include "attestors/core/x509_mint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace twi::tpm {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }
TimePoint Now() { return std::chrono::system_clock::now(); }

EvpPkeyPtr RsaKey() {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
}

// A TCG L-1 EK public area holding `key`'s modulus.
Public EkArea(EVP_PKEY* key) {
  TPMT_PUBLIC a{};
  a.type = TPM2_ALG_RSA;
  a.nameAlg = TPM2_ALG_SHA256;
  a.objectAttributes = 0x000300B2;
  a.parameters.rsaDetail.symmetric = {TPM2_ALG_AES, {.aes = 128}, {.aes = TPM2_ALG_CFB}};
  a.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  a.parameters.rsaDetail.keyBits = 2048;
  BIGNUM* n = nullptr;
  EVP_PKEY_get_bn_param(key, "n", &n);
  a.unique.rsa.size = 256;
  BN_bn2binpad(n, a.unique.rsa.buffer, 256);
  BN_free(n);
  return *PublicFromArea(a);
}

struct Minted {
  EvpPkeyPtr key;
  Certificate cert;
};

enum class Shape { kCa, kEk, kEkNoEku, kEkWrongEku, kEkNameConstraints, kPlainLeaf };

Minted Mint(const std::string& cn, EVP_PKEY* subject_key, const Minted* issuer, Shape shape,
            int days_from = -1, int days_to = 365) {
  // CA and plain leaf keys are P-256 (RSA key generation would dominate the test's time).
  EvpPkeyPtr own = subject_key ? nullptr : *GenerateP256Key();
  EVP_PKEY* pub = subject_key ? subject_key : own.get();
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_gmtime_adj(X509_getm_notBefore(x), 86400L * days_from);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400L * days_to);
  X509_set_pubkey(x, pub);
  bool is_ek = shape != Shape::kCa && shape != Shape::kPlainLeaf;
  X509NamePtr subject = is_ek ? X509NamePtr(X509_NAME_new()) : MakeX509Name({{"CN", cn}});
  X509_set_subject_name(x, subject.get());
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert.get()) : subject.get());
  if (shape == Shape::kCa) {
    EXPECT_TRUE(AddConfExt(x, issuer ? issuer->cert.get() : nullptr, NID_basic_constraints, "critical,CA:TRUE").ok());
    EXPECT_TRUE(AddConfExt(x, issuer ? issuer->cert.get() : nullptr, NID_key_usage, "critical,keyCertSign,cRLSign").ok());
  } else {
    EXPECT_TRUE(AddConfExt(x, issuer->cert.get(), NID_basic_constraints, "critical,CA:FALSE").ok());
  }
  if (is_ek) {
    // Critical SAN directoryName: one RDN with manufacturer, model, version.
    X509_NAME* dn = X509_NAME_new();
    int set = 0;
    for (auto [oid, v] : {std::pair{"2.23.133.2.1", "id:49424D00"},
                          std::pair{"2.23.133.2.2", "SLB9670"}, std::pair{"2.23.133.2.3", "id:0D0C"}}) {
      ASN1_OBJECT* o = OBJ_txt2obj(oid, 1);
      X509_NAME_add_entry_by_OBJ(dn, o, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(v),
                                 -1, -1, set);
      ASN1_OBJECT_free(o);
      set = -1;  // the next attribute joins the same RDN
    }
    GENERAL_NAMES* gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME* gn = GENERAL_NAME_new();
    gn->type = GEN_DIRNAME;
    gn->d.directoryName = dn;
    sk_GENERAL_NAME_push(gens, gn);
    X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 1, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(gens);
    if (shape == Shape::kEk) {
      EXPECT_TRUE(AddConfExt(x, issuer->cert.get(), NID_ext_key_usage, "2.23.133.8.1").ok());
    } else if (shape == Shape::kEkWrongEku) {
      EXPECT_TRUE(AddConfExt(x, issuer->cert.get(), NID_ext_key_usage, "serverAuth").ok());
    } else if (shape == Shape::kEkNameConstraints) {
      EXPECT_TRUE(AddConfExt(x, issuer->cert.get(), NID_name_constraints,
                             "critical,permitted;DNS:example.com").ok());
    }
  }
  X509_sign(x, issuer ? issuer->key.get() : pub, EVP_sha256());
  Certificate cert = *Certificate::FromDer(X509Der(x));
  X509_free(x);
  return Minted{std::move(own), std::move(cert)};
}

struct Hierarchy {
  Minted root = Mint("TPM Vendor Root", nullptr, nullptr, Shape::kCa);
  Minted inter = Mint("TPM Vendor EK CA", nullptr, &root, Shape::kCa);
  EvpPkeyPtr ek_key = RsaKey();
  Public ek = EkArea(ek_key.get());
  TrustAnchors anchors;
  Hierarchy() { anchors.ek_roots = {root.cert}; }
  Minted Ek(Shape shape, int from = -1, int to = 365) {
    return Mint("", ek_key.get(), &inter, shape, from, to);
  }
};

TEST(TpmEkTrust, EkCertificateWithCriticalSanChainsToConfiguredRoot) {
  Hierarchy h;
  Minted ek = h.Ek(Shape::kEk);
  CheckList checks;
  TpmIdentity id;
  std::vector<Certificate> presented = {h.inter.cert};
  absl::Status s = VerifyEkCertificate(ek.cert, presented, h.ek, h.anchors, Now(), checks, &id);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(id.route, "ek_certificate");
  EXPECT_EQ(id.device.manufacturer, "id:49424D00");
  EXPECT_EQ(id.device.model, "SLB9670");
  EXPECT_EQ(id.device.version, "id:0D0C");
  EXPECT_EQ(id.ek_spki_sha256, Sha256(*PublicSpki(h.ek)));
  EXPECT_EQ(id.ca, "TPM Vendor Root");
  EXPECT_EQ(IdentitySelectors(id),
            (std::vector<std::string>{StrCat("tpm:ek-hash:", HexEncode(id.ek_spki_sha256)),
                                      "tpm:manufacturer:id:49424D00"}));
  // The intermediate may come from configuration instead of the agent.
  h.anchors.ek_intermediates = {h.inter.cert};
  EXPECT_TRUE(VerifyEkCertificate(ek.cert, {}, h.ek, h.anchors, Now(), checks, &id).ok());
  // An EK certificate without EKU (older ones) is accepted.
  EXPECT_TRUE(VerifyEkCertificate(h.Ek(Shape::kEkNoEku).cert, {}, h.ek, h.anchors, Now(), checks,
                                  &id).ok());
}

TEST(TpmEkTrust, EkCertificateRefusals) {
  Hierarchy h;
  std::vector<Certificate> presented = {h.inter.cert};
  CheckList checks;
  TpmIdentity id;
  // Not under a trusted CA.
  Hierarchy other;
  EXPECT_THAT(Msg(VerifyEkCertificate(h.Ek(Shape::kEk).cert, presented, h.ek, other.anchors, Now(),
                                      checks, &id)),
              StartsWith("ek.certificate: no configured root or intermediate issued"));
  // Intermediate missing.
  EXPECT_THAT(Msg(VerifyEkCertificate(h.Ek(Shape::kEk).cert, {}, h.ek, h.anchors, Now(), checks, &id)),
              HasSubstr("no configured root or intermediate issued"));
  // Certifies another key.
  EXPECT_THAT(Msg(VerifyEkCertificate(h.Ek(Shape::kEk).cert, presented, other.ek, h.anchors, Now(),
                                      checks, &id)),
              HasSubstr("certifies another key than the ek public area"));
  // Expired.
  EXPECT_THAT(Msg(VerifyEkCertificate(h.Ek(Shape::kEk, -30, -1).cert, presented, h.ek, h.anchors,
                                      Now(), checks, &id)),
              StartsWith("ek.certificate: "));
  // Wrong EKU.
  EXPECT_THAT(Msg(VerifyEkCertificate(h.Ek(Shape::kEkWrongEku).cert, presented, h.ek, h.anchors,
                                      Now(), checks, &id)),
              HasSubstr("lacks 2.23.133.8.1"));
  // A critical extension nothing enforces.
  EXPECT_THAT(Msg(VerifyEkCertificate(h.Ek(Shape::kEkNameConstraints).cert, presented, h.ek,
                                      h.anchors, Now(), checks, &id)),
              HasSubstr("critical extension 2.5.29.30 that is not understood"));
  EXPECT_FALSE(checks.all_passed());
}

TEST(TpmEkTrust, EkHashAllowList) {
  Hierarchy h;
  TrustAnchors anchors;
  CheckList checks;
  TpmIdentity id;
  Bytes want = Sha256(*PublicSpki(h.ek));
  EXPECT_THAT(Msg(CheckEkHash(h.ek, anchors, checks, &id)),
              HasSubstr("is not among the 0 allow-listed ek hashes"));
  anchors.ek_spki_sha256 = {Bytes(32, 1), want};
  ASSERT_TRUE(CheckEkHash(h.ek, anchors, checks, &id).ok());
  EXPECT_EQ(id.route, "ek_hash");
  EXPECT_EQ(id.ek_spki_sha256, want);
}

TEST(TpmEkTrust, AkCertificateRoute) {
  Minted root = Mint("AK Root", nullptr, nullptr, Shape::kCa);
  Minted ak_leaf = Mint("ak", nullptr, &root, Shape::kPlainLeaf);
  auto ak = AkKey::FromSpki(*PublicKeyToSpki(ak_leaf.key.get()));
  ASSERT_TRUE(ak.ok());
  TrustAnchors anchors;
  anchors.ak_roots = {root.cert};
  CheckList checks;
  TpmIdentity id;
  ASSERT_TRUE(VerifyAkCertificate(ak_leaf.cert, {}, *ak, anchors, Now(), checks, &id).ok());
  EXPECT_EQ(id.route, "ak_certificate");
  auto other = AkKey::FromSpki(*PublicKeyToSpki(GenerateP256Key()->get()));
  EXPECT_THAT(Msg(VerifyAkCertificate(ak_leaf.cert, {}, *other, anchors, Now(), checks, &id)),
              HasSubstr("certifies another key than the ak"));
  anchors.ak_roots.clear();
  EXPECT_EQ(Msg(VerifyAkCertificate(ak_leaf.cert, {}, *ak, anchors, Now(), checks, &id)),
            "ak.certificate: no roots configured for this route");
}

Certificate GoogleCa(const std::string& name) {
  auto b = ReadFileBytes(std::string(TWI_TESTDATA) + "/tpm/go-tpm-tools/" + name);
  EXPECT_TRUE(b.ok()) << name;
  auto c = Certificate::Parse(*b);
  EXPECT_TRUE(c.ok()) << name << ": " << c.status();
  return *c;
}

// Google Cloud's vTPM CAs (vector index, section 1) work as configured anchors: each
// intermediate builds a path to its root with every CA flag, validity window and critical
// extension accepted. (No Google EK or AK certificate is in the vector set, so the
// intermediates stand in for the leaf, certifying their own key.)
TEST(TpmEkTrust, GoogleCloudCaHierarchiesAreUsableAnchors) {
  const TimePoint at = *ParseRfc3339("2026-01-01T00:00:00Z");
  struct Case {
    const char* root;
    const char* intermediate;
  };
  for (const Case& c : {Case{"tpm_ek_root_1.cer", "tpm_ek_intermediate_2.crt"},
                        Case{"tpm_ek_root_1.cer", "tpm_ek_intermediate_3.crt"},
                        Case{"gcp_ek_ak_ca_root.crt", "gcp_ek_ak_ca_intermediate_v3.crt"}}) {
    Certificate inter = GoogleCa(c.intermediate);
    TrustAnchors anchors;
    anchors.ak_roots = {GoogleCa(c.root)};
    auto key = AkKey::FromSpki(*PublicKeyToSpki(inter.public_key()));
    ASSERT_TRUE(key.ok()) << key.status();
    CheckList checks;
    TpmIdentity id;
    absl::Status s = VerifyAkCertificate(inter, {}, *key, anchors, at, checks, &id);
    EXPECT_TRUE(s.ok()) << c.intermediate << ": " << s;
    // The other hierarchy's root does not issue it.
    anchors.ak_roots = {GoogleCa(std::string(c.root) == "tpm_ek_root_1.cer" ? "gcp_ek_ak_ca_root.crt"
                                                                           : "tpm_ek_root_1.cer")};
    EXPECT_THAT(Msg(VerifyAkCertificate(inter, {}, *key, anchors, at, checks, &id)),
                HasSubstr("no configured root or intermediate issued"));
  }
}

}  // namespace
}  // namespace twi::tpm
