// Verification against a synthetic AMD-shaped hierarchy built here with OpenSSL (RSA-PSS
// ARK/ASK/ASVK, P-384 VCEK/VLEK with AMD extensions, ARK-signed CRLs), so every defect can be
// produced exactly once; plus core X.509 behaviour on the real AMD certificates and the
// embedded roots. Real-hardware vectors live in vectors_test.cc.
#include "attestors/sevsnp/verify.h"

#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <functional>
#include <iterator>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/sevsnp/testdata.h"
#include "attestors/sevsnp/roots.h"

namespace twi::sevsnp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;


// ---- a synthetic AMD-shaped PKI ----

struct Keys {
  EvpPkeyPtr ark, ask, asvk, other_rsa, vcek, vlek, p256;
};

const Keys& TestKeys() {
  static const Keys* keys = [] {
    auto* k = new Keys;
    k->ark.reset(EVP_RSA_gen(2048));  // AMD uses 4096; the algorithm is what matters here
    k->ask.reset(EVP_RSA_gen(2048));
    k->asvk.reset(EVP_RSA_gen(2048));
    k->other_rsa.reset(EVP_RSA_gen(2048));
    k->vcek.reset(EVP_EC_gen("P-384"));
    k->vlek.reset(EVP_EC_gen("P-384"));
    k->p256.reset(EVP_EC_gen("P-256"));
    return k;
  }();
  return *keys;
}

struct CertSpec {
  std::string cn;
  std::string issuer_cn;  // == cn: self-issued
  EVP_PKEY* key = nullptr;         // subject key
  EVP_PKEY* signer = nullptr;      // signing key
  long serial = 0;
  TimePoint not_before = At("2020-01-01T00:00:00Z");
  TimePoint not_after = At("2045-01-01T00:00:00Z");
  bool ca = false;
  std::vector<std::pair<std::string, Bytes>> amd;  // OID suffix under 3704.1 -> value
};

X509_NAME* Name(const std::string& cn) {
  X509_NAME* n = X509_NAME_new();
  X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("twi test AMD"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return n;
}

// RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48, as AMD signs; ECDSA-SHA384 for EC signers.
EvpMdCtxPtr SigningContext(EVP_PKEY* key) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha384(), nullptr, key), 1);
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384());
  }
  return ctx;
}

void AddExt(X509* x, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, nullptr, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
}

void AddRawExt(X509* x, const std::string& oid, const Bytes& value) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(os, value.data(), static_cast<int>(value.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, os);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(os);
  ASN1_OBJECT_free(obj);
}

Certificate MakeCert(const CertSpec& s) {
  X509Ptr x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), s.serial);
  X509_NAME* subject = Name(s.cn);
  X509_NAME* issuer = Name(s.issuer_cn);
  X509_set_subject_name(x.get(), subject);
  X509_set_issuer_name(x.get(), issuer);
  X509_NAME_free(subject);
  X509_NAME_free(issuer);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), ToTimeT(s.not_before));
  ASN1_TIME_set(X509_getm_notAfter(x.get()), ToTimeT(s.not_after));
  X509_set_pubkey(x.get(), s.key);
  if (s.ca) {
    AddExt(x.get(), NID_basic_constraints, "critical,CA:TRUE");
    AddExt(x.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  for (const auto& [suffix, value] : s.amd) AddRawExt(x.get(), "1.3.6.1.4.1.3704.1." + suffix, value);
  EvpMdCtxPtr ctx = SigningContext(s.signer);
  EXPECT_GT(X509_sign_ctx(x.get(), ctx.get()), 0);
  auto c = Certificate::FromDer([&] {
    unsigned char* der = nullptr;
    int len = i2d_X509(x.get(), &der);
    Bytes out(der, der + len);
    OPENSSL_free(der);
    return out;
  }());
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

Bytes Int(uint8_t v) { return v < 128 ? Bytes{0x02, 0x01, v} : Bytes{0x02, 0x02, 0x00, v}; }
Bytes Ia5(const std::string& s) {
  Bytes b(2 + s.size());
  b[0] = 0x16;
  b[1] = static_cast<uint8_t>(s.size());
  std::copy(s.begin(), s.end(), b.begin() + 2);
  return b;
}

struct Pki {
  std::string product = "Milan";
  Certificate ark, ask, asvk;
};

Pki MakePki(const std::string& product = "Milan", const std::string& root_cn = "") {
  const Keys& k = TestKeys();
  std::string ark_cn = root_cn.empty() ? "ARK-" + product : root_cn;
  Certificate ark = MakeCert({ark_cn, ark_cn, k.ark.get(), k.ark.get(), 1, At("2020-01-01T00:00:00Z"),
                              At("2045-01-01T00:00:00Z"), true, {}});
  Certificate ask = MakeCert({"SEV-" + product, ark_cn, k.ask.get(), k.ark.get(), 2,
                              At("2020-01-01T00:00:00Z"), At("2045-01-01T00:00:00Z"), true, {}});
  Certificate asvk = MakeCert({"SEV-VLEK-" + product, ark_cn, k.asvk.get(), k.ark.get(), 3,
                               At("2020-01-01T00:00:00Z"), At("2045-01-01T00:00:00Z"), true, {}});
  return {product, ark, ask, asvk};
}

const Bytes& ChipId() {
  static const Bytes* id = [] {
    auto* b = new Bytes(64);
    for (size_t i = 0; i < 64; ++i) (*b)[i] = static_cast<uint8_t>(0xA0 + i);
    return b;
  }();
  return *id;
}

struct Tcb { uint8_t bl = 3, tee = 0, snp = 20, ucode = 200, fmc = 0; };

// A VCEK (or VLEK) spec with the usual extensions for `tcb`; tests then edit it.
CertSpec LeafSpec(const Pki& pki, bool vlek = false, Tcb tcb = {}, bool turin = false) {
  const Keys& k = TestKeys();
  CertSpec s;
  s.cn = vlek ? "SEV-VLEK" : "SEV-VCEK";
  s.issuer_cn = vlek ? "SEV-VLEK-" + pki.product : "SEV-" + pki.product;
  s.key = vlek ? k.vlek.get() : k.vcek.get();
  s.signer = vlek ? k.asvk.get() : k.ask.get();
  s.serial = 0;  // as AMD does
  s.not_before = At("2024-01-01T00:00:00Z");
  s.not_after = At("2031-01-01T00:00:00Z");
  s.amd = {{"1", Int(turin ? 1 : 0)}, {"2", Ia5(pki.product)}, {"3.1", Int(tcb.bl)},
           {"3.2", Int(tcb.tee)},     {"3.3", Int(tcb.snp)},   {"3.8", Int(tcb.ucode)}};
  if (turin) s.amd.push_back({"3.9", Int(tcb.fmc)});
  if (vlek) {
    s.amd.push_back({"5", Ia5("CN=test-csp")});
  } else {
    s.amd.push_back({"4", turin ? Bytes(ChipId().begin(), ChipId().begin() + 8) : ChipId()});
  }
  return s;
}

void EraseExt(CertSpec& s, const std::string& suffix) {
  std::erase_if(s.amd, [&](const auto& e) { return e.first == suffix; });
}

struct ReportSpec {
  uint32_t version = 3;
  Product product = Product::kMilan;
  uint64_t policy = 0x30000;
  uint32_t signer_info = 0;  // SIGNING_KEY in bits 4:2
  Tcb tcb;
  bool mask_chip_id = false;
};

Bytes MakeReport(const ReportSpec& s, EVP_PKEY* key) {
  Bytes r(kReportSize, 0);
  StoreLe32(&r[0x000], s.version);
  StoreLe64(&r[0x008], s.policy);
  StoreLe32(&r[0x034], 1);
  StoreLe32(&r[0x048], s.signer_info);
  for (size_t i = 0; i < 48; ++i) r[0x090 + i] = static_cast<uint8_t>(i);  // MEASUREMENT
  TcbVersion t;
  t.bootloader = s.tcb.bl;
  t.tee = s.tcb.tee;
  t.snp = s.tcb.snp;
  t.microcode = s.tcb.ucode;
  t.fmc = s.tcb.fmc;
  uint64_t tcb = EncodeTcb(t, s.product);
  for (size_t off : {0x038, 0x180, 0x1E0, 0x1F0}) StoreLe64(&r[off], tcb);
  if (s.version >= 3) {
    r[0x188] = s.product == Product::kTurin ? 0x1A : 0x19;
    r[0x189] = s.product == Product::kGenoa ? 0x11 : s.product == Product::kTurin ? 0x02 : 0x01;
    r[0x18A] = 1;
  }
  if (!s.mask_chip_id) {
    size_t n = s.product == Product::kTurin ? 8 : 64;
    std::copy_n(ChipId().begin(), n, &r[0x1A0]);
  }
  r[0x1E8] = 29; r[0x1E9] = 55; r[0x1EA] = 1;
  r[0x1EC] = 29; r[0x1ED] = 55; r[0x1EE] = 1;
  if (key != nullptr) {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    size_t len = 0;
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key);
    EVP_DigestSign(ctx.get(), nullptr, &len, r.data(), kSignedSize);
    Bytes der(len);
    EVP_DigestSign(ctx.get(), der.data(), &len, r.data(), kSignedSize);
    const unsigned char* p = der.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
    BN_bn2lebinpad(ECDSA_SIG_get0_r(sig), &r[0x2A0], 72);
    BN_bn2lebinpad(ECDSA_SIG_get0_s(sig), &r[0x2E8], 72);
    ECDSA_SIG_free(sig);
  }
  return r;
}

struct CrlSpec {
  TimePoint this_update = At("2024-06-01T00:00:00Z");
  TimePoint next_update = At("2025-06-01T00:00:00Z");
  std::vector<long> revoked;
  EVP_PKEY* signer = nullptr;  // default: the ARK key
  std::string issuer_cn;       // default: the ARK name
};

CrlSpec Spec(const std::function<void(CrlSpec&)>& edit) {
  CrlSpec s;
  edit(s);
  return s;
}

Crl MakeCrl(const Pki& pki, const CrlSpec& s) {
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_NAME* issuer = Name(s.issuer_cn.empty() ? pki.ark.subject_cn() : s.issuer_cn);
  X509_CRL_set_issuer_name(crl, issuer);
  X509_NAME_free(issuer);
  ASN1_TIME* t = ASN1_TIME_set(nullptr, ToTimeT(s.this_update));
  X509_CRL_set1_lastUpdate(crl, t);
  ASN1_TIME_set(t, ToTimeT(s.next_update));
  X509_CRL_set1_nextUpdate(crl, t);
  for (long serial : s.revoked) {
    X509_REVOKED* rev = X509_REVOKED_new();
    ASN1_INTEGER* n = ASN1_INTEGER_new();
    ASN1_INTEGER_set(n, serial);
    X509_REVOKED_set_serialNumber(rev, n);
    X509_REVOKED_set_revocationDate(rev, t);
    X509_CRL_add0_revoked(crl, rev);
    ASN1_INTEGER_free(n);
  }
  ASN1_TIME_free(t);
  X509_CRL_sort(crl);
  EvpMdCtxPtr ctx = SigningContext(s.signer ? s.signer : TestKeys().ark.get());
  EXPECT_GT(X509_CRL_sign_ctx(crl, ctx.get()), 0);
  unsigned char* der = nullptr;
  int len = i2d_X509_CRL(crl, &der);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  X509_CRL_free(crl);
  auto c = Crl::Parse(out);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

VerifyOptions SimOptions(const Pki& pki) {
  VerifyOptions o;
  o.time = At("2025-01-01T00:00:00Z");
  o.extra_trusted_roots = {{pki.ark, SigningKey::kVcek}, {pki.ark, SigningKey::kVlek}};
  o.allow_simulation_roots = true;
  return o;
}

// Verifies and returns the error message ("" on success).
std::string Verify(const Bytes& report, const Certificate& leaf, std::vector<Certificate> chain,
                   const VerifyOptions& o, CheckList* checks_out = nullptr,
                   VerificationCache* cache = nullptr) {
  auto parsed = ParseReport(report, {o.product});
  if (!parsed.ok()) return "parse: " + std::string(parsed.status().message());
  CheckList checks;
  auto v = VerifyReport(*parsed, leaf, chain, o, checks, cache);
  if (checks_out != nullptr) *checks_out = checks;
  if (v.ok()) return "";
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(v.status().message());
}

std::vector<std::string> Names(const CheckList& c) {
  std::vector<std::string> out;
  for (const Check& x : c.checks()) out.push_back(x.name);
  return out;
}

// ---- verify: positive paths ----

TEST(sevsnp_verify, SyntheticVcekReportVerifiesWithAllowedSimulationRoot) {
  Pki pki = MakePki();
  Certificate vcek = MakeCert(LeafSpec(pki));
  Bytes report = MakeReport({}, TestKeys().vcek.get());
  CheckList checks;
  EXPECT_EQ(Verify(report, vcek, {pki.ask}, SimOptions(pki), &checks), "");
  EXPECT_THAT(Names(checks),
              ElementsAre("report.structure", "cert.chain", "cert.validity", "cert.crl",
                          "cert.key", "cert.extensions", "report.signing_key", "report.product",
                          "cert.tcb_match", "cert.hwid_match", "report.signature"));
  EXPECT_TRUE(checks.all_passed());
  EXPECT_THAT(checks.checks()[1].detail, HasSubstr("<- extra root ARK-Milan"));
  EXPECT_EQ(checks.checks()[3].detail, "skipped: no crl given (crl policy allow-missing)");

  auto parsed = ParseReport(report);
  CheckList again;
  auto v = VerifyReport(*parsed, vcek, std::vector<Certificate>{pki.ask}, SimOptions(pki), again);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->builtin_root);
  EXPECT_EQ(v->root_label, "ARK-Milan");
  EXPECT_EQ(v->signing_key, SigningKey::kVcek);
  EXPECT_EQ(v->report.product, Product::kMilan);
  EXPECT_EQ(v->chain_valid_until, At("2031-01-01T00:00:00Z"));
  EXPECT_EQ(v->endorsement_extensions.snp_spl, 20);
}

TEST(sevsnp_verify, SyntheticVlekReport) {
  Pki pki = MakePki();
  Certificate vlek = MakeCert(LeafSpec(pki, /*vlek=*/true));
  ReportSpec rs;
  rs.signer_info = 1 << 2;
  rs.mask_chip_id = true;
  Bytes report = MakeReport(rs, TestKeys().vlek.get());
  CheckList checks;
  EXPECT_EQ(Verify(report, vlek, {pki.asvk, pki.ark}, SimOptions(pki), &checks), "");
  EXPECT_EQ(checks.checks()[9].name, "cert.hwid_match");
  EXPECT_EQ(checks.checks()[9].detail, "vlek: not bound to a chip (no hwID)");

  // An extra root is trusted for one key type: a vcek root does not vouch for its ASVK, nor a
  // vlek root for its ASK.
  std::string fp = ShortHex(pki.ark.sha256());
  VerifyOptions vcek_only = SimOptions(pki);
  vcek_only.extra_trusted_roots.pop_back();
  EXPECT_EQ(Verify(report, vlek, {pki.asvk, pki.ark}, vcek_only),
            "cert.chain: extra root ARK-Milan (sha256 " + fp +
                ") is configured for vcek evidence only; this chain goes through an asvk (vlek)");
  VerifyOptions vlek_only = SimOptions(pki);
  vlek_only.extra_trusted_roots.erase(vlek_only.extra_trusted_roots.begin());
  Certificate vcek = MakeCert(LeafSpec(pki));
  EXPECT_EQ(Verify(MakeReport({}, TestKeys().vcek.get()), vcek, {pki.ask}, vlek_only),
            "cert.chain: extra root ARK-Milan (sha256 " + fp +
                ") is configured for vlek evidence only; this chain goes through an ask (vcek)");
}

TEST(sevsnp_verify, SyntheticTurinV5WithFmc) {
  Pki pki = MakePki("Turin");
  Tcb tcb{1, 2, 3, 0x48, 5};
  ReportSpec rs;
  rs.version = 5;
  rs.product = Product::kTurin;
  rs.tcb = tcb;
  Bytes report = MakeReport(rs, TestKeys().vcek.get());
  EXPECT_EQ(Verify(report, MakeCert(LeafSpec(pki, false, tcb, true)), {pki.ask}, SimOptions(pki)),
            "");

  CertSpec wrong_fmc = LeafSpec(pki, false, {1, 2, 3, 0x48, 4}, true);
  EXPECT_EQ(Verify(report, MakeCert(wrong_fmc), {pki.ask}, SimOptions(pki)),
            "cert.tcb_match: vcek fmcSPL 4 != REPORTED_TCB fmc 5 (report "
            "bl=1,tee=2,snp=3,ucode=72,fmc=5)");
  CertSpec no_fmc = LeafSpec(pki, false, tcb, true);
  EraseExt(no_fmc, "3.9");
  EXPECT_EQ(Verify(report, MakeCert(no_fmc), {pki.ask}, SimOptions(pki)),
            "cert.tcb_match: vcek has no fmcSPL; REPORTED_TCB fmc=5");
  CertSpec long_hwid = LeafSpec(pki, false, tcb, true);
  EraseExt(long_hwid, "4");
  long_hwid.amd.push_back({"4", ChipId()});
  EXPECT_EQ(Verify(report, MakeCert(long_hwid), {pki.ask}, SimOptions(pki)),
            "cert.hwid_match: vcek hwID is 64 bytes, want 8 on turin");
}

TEST(sevsnp_verify, V2ReportTakesProductFromOptionOrCertificate) {
  Pki pki = MakePki("Genoa", "Test Root");  // root name tells nothing about the product
  ReportSpec rs;
  rs.version = 2;
  rs.product = Product::kGenoa;
  Bytes report = MakeReport(rs, TestKeys().vcek.get());
  VerifyOptions o = SimOptions(pki);
  CheckList checks;
  EXPECT_EQ(Verify(report, MakeCert(LeafSpec(pki)), {pki.ask}, o, &checks), "");
  EXPECT_EQ(checks.checks()[7].detail, "genoa (vcek productName genoa)");

  CertSpec anonymous = LeafSpec(pki);
  EraseExt(anonymous, "2");
  EXPECT_EQ(Verify(report, MakeCert(anonymous), {pki.ask}, o),
            "report.product: cannot tell the product of this v2 report: no cpuid, no product "
            "option, no vcek productName");
  o.product = Product::kGenoa;
  EXPECT_EQ(Verify(report, MakeCert(anonymous), {pki.ask}, o), "");
}

// ---- verify: one defect each ----

TEST(sevsnp_verify, TrustAnchorRules) {
  Pki pki = MakePki();
  Certificate vcek = MakeCert(LeafSpec(pki));
  Bytes report = MakeReport({}, TestKeys().vcek.get());
  std::string fp = ShortHex(pki.ark.sha256());

  VerifyOptions no_flag = SimOptions(pki);
  no_flag.allow_simulation_roots = false;
  EXPECT_EQ(Verify(report, vcek, {pki.ask}, no_flag),
            "cert.chain: root ARK-Milan (sha256 " + fp +
                ") is a configured extra root, but allow_simulation_roots is false");
  VerifyOptions amd_only;
  amd_only.time = At("2025-01-01T00:00:00Z");
  EXPECT_EQ(Verify(report, vcek, {pki.ask, pki.ark}, amd_only),
            "cert.chain: root ARK-Milan (sha256 " + fp + ") is not a pinned amd root");
  EXPECT_EQ(Verify(report, vcek, {}, SimOptions(pki)),
            "cert.chain: no issuer named \"CN=SEV-Milan,O=twi test AMD\" for SEV-VCEK; supply "
            "the ask/asvk in the chain");
}

TEST(sevsnp_verify, ChainDefects) {
  Pki pki = MakePki();
  Bytes report = MakeReport({}, TestKeys().vcek.get());
  VerifyOptions o = SimOptions(pki);

  CertSpec wrong_signer = LeafSpec(pki);
  wrong_signer.signer = TestKeys().ark.get();  // names the ASK, signed by the ARK
  Certificate bad = MakeCert(wrong_signer);
  EXPECT_THAT(Verify(report, bad, {pki.ask}, o),
              StartsWith("cert.chain: signature on SEV-VCEK (sha256 " + ShortHex(bad.sha256()) +
                         ") does not verify with the key of SEV-Milan (sha256 " +
                         ShortHex(pki.ask.sha256()) + ")"));

  CertSpec vcek_by_asvk = LeafSpec(pki);
  vcek_by_asvk.issuer_cn = "SEV-VLEK-Milan";
  vcek_by_asvk.signer = TestKeys().asvk.get();
  EXPECT_EQ(Verify(report, MakeCert(vcek_by_asvk), {pki.asvk}, o),
            "cert.chain: SEV-VCEK is issued by SEV-VLEK-Milan, an asvk; want an ask");

  // A corrupted ASK from the host is skipped when another valid path exists.
  Certificate other_ask = MakeCert({"SEV-Milan", "ARK-Milan", TestKeys().other_rsa.get(),
                                    TestKeys().ark.get(), 9, At("2020-01-01T00:00:00Z"),
                                    At("2045-01-01T00:00:00Z"), true, {}});
  EXPECT_EQ(Verify(report, MakeCert(LeafSpec(pki)), {other_ask, pki.ask}, o), "");

  CertSpec expired = LeafSpec(pki);
  expired.not_after = At("2024-12-01T00:00:00Z");
  EXPECT_EQ(Verify(report, MakeCert(expired), {pki.ask}, o),
            "cert.validity: vcek SEV-VCEK expired at 2024-12-01T00:00:00Z (verification time "
            "2025-01-01T00:00:00Z)");
  CertSpec future = LeafSpec(pki);
  future.not_before = At("2025-02-01T00:00:00Z");
  EXPECT_EQ(Verify(report, MakeCert(future), {pki.ask}, o),
            "cert.validity: vcek SEV-VCEK is not valid yet: notBefore 2025-02-01T00:00:00Z, "
            "verification time 2025-01-01T00:00:00Z");
}

TEST(sevsnp_verify, KeyAndExtensionDefects) {
  Pki pki = MakePki();
  Bytes report = MakeReport({}, TestKeys().vcek.get());
  VerifyOptions o = SimOptions(pki);

  CertSpec rsa = LeafSpec(pki);
  rsa.key = TestKeys().other_rsa.get();
  EXPECT_EQ(Verify(report, MakeCert(rsa), {pki.ask}, o),
            "cert.key: vcek public key is RSA, want ec secp384r1");
  CertSpec p256 = LeafSpec(pki);
  p256.key = TestKeys().p256.get();
  EXPECT_EQ(Verify(report, MakeCert(p256), {pki.ask}, o),
            "cert.key: vcek public key is EC prime256v1, want ec secp384r1");

  CertSpec missing = LeafSpec(pki);
  EraseExt(missing, "3.2");
  EraseExt(missing, "4");
  EXPECT_EQ(Verify(report, MakeCert(missing), {pki.ask}, o),
            "cert.extensions: vcek lacks teeSPL, hwID");
  CertSpec csp = LeafSpec(pki);
  csp.amd.push_back({"5", Ia5("CN=x")});
  EXPECT_EQ(Verify(report, MakeCert(csp), {pki.ask}, o),
            "cert.extensions: vcek carries cspId \"CN=x\"; want none");
  CertSpec bergamo = LeafSpec(pki);
  EraseExt(bergamo, "2");
  bergamo.amd.push_back({"2", Ia5("Bergamo")});
  EXPECT_EQ(Verify(report, MakeCert(bergamo), {pki.ask}, o),
            "cert.extensions: vcek productName \"Bergamo\" is not milan, genoa or turin");
  CertSpec genoa = LeafSpec(pki);
  EraseExt(genoa, "2");
  genoa.amd.push_back({"2", Ia5("Genoa")});
  EXPECT_EQ(Verify(report, MakeCert(genoa), {pki.ask}, o),
            "report.product: product sources disagree: report cpuid milan, vcek productName "
            "genoa");
  CertSpec bad_int = LeafSpec(pki);
  EraseExt(bad_int, "3.3");
  bad_int.amd.push_back({"3.3", Bytes{0x02, 0x01, 0x80}});
  EXPECT_EQ(Verify(report, MakeCert(bad_int), {pki.ask}, o),
            "cert.extensions: certificate SEV-VCEK extension 1.3.6.1.4.1.3704.1.3.3: snpSPL is "
            "negative (80)");

  ReportSpec vlek_rs;
  vlek_rs.signer_info = 1 << 2;
  Bytes vlek_report = MakeReport(vlek_rs, TestKeys().vlek.get());
  CertSpec vlek_hwid = LeafSpec(pki, true);
  vlek_hwid.amd.push_back({"4", ChipId()});
  EXPECT_EQ(Verify(vlek_report, MakeCert(vlek_hwid), {pki.asvk}, o),
            "cert.extensions: vlek carries hwID a0a1a2a3a4a5a6a7...; want none");
}

TEST(sevsnp_verify, ReportDefects) {
  Pki pki = MakePki();
  Certificate vcek = MakeCert(LeafSpec(pki));
  VerifyOptions o = SimOptions(pki);

  ReportSpec none;
  none.signer_info = 7 << 2;
  EXPECT_EQ(Verify(MakeReport(none, TestKeys().vcek.get()), vcek, {pki.ask}, o),
            "report.signing_key: SIGNING_KEY is 7 (none): the report carries no vcek/vlek "
            "signature");
  ReportSpec says_vlek;
  says_vlek.signer_info = 1 << 2;
  EXPECT_EQ(Verify(MakeReport(says_vlek, TestKeys().vcek.get()), vcek, {pki.ask}, o),
            "report.signing_key: report SIGNING_KEY says vlek, but SEV-VCEK is a vcek");
  ReportSpec other_tcb;
  other_tcb.tcb.snp = 21;
  EXPECT_EQ(Verify(MakeReport(other_tcb, TestKeys().vcek.get()), vcek, {pki.ask}, o),
            "cert.tcb_match: vcek snpSPL 20 != REPORTED_TCB snp 21 (report "
            "bl=3,tee=0,snp=21,ucode=200)");
  ReportSpec masked;
  masked.mask_chip_id = true;
  EXPECT_EQ(Verify(MakeReport(masked, TestKeys().vcek.get()), vcek, {pki.ask}, o),
            "cert.hwid_match: CHIP_ID 0000000000000000... != vcek hwID a0a1a2a3a4a5a6a7... "
            "(CHIP_ID is masked)");
  Bytes forged = MakeReport({}, TestKeys().vlek.get());  // signed by another P-384 key
  EXPECT_EQ(Verify(forged, vcek, {pki.ask}, o),
            "report.signature: ecdsa p-384 signature over report bytes 0x000-0x29f does not "
            "verify with the vcek key of SEV-VCEK (sha256 " +
                vcek.fingerprint_hex().substr(0, 16) + "...)");
  Bytes unsigned_report = MakeReport({}, nullptr);
  EXPECT_EQ(Verify(unsigned_report, vcek, {pki.ask}, o),
            "report.signature: report signature r is zero (SIGNATURE at 0x2a0 is empty)");
}

TEST(sevsnp_verify, CrlChecks) {
  Pki pki = MakePki();
  Certificate vcek = MakeCert(LeafSpec(pki));
  Bytes report = MakeReport({}, TestKeys().vcek.get());
  VerifyOptions o = SimOptions(pki);

  o.crl = MakeCrl(pki, {});
  CheckList checks;
  EXPECT_EQ(Verify(report, vcek, {pki.ask}, o, &checks), "");
  EXPECT_THAT(checks.checks()[3].detail, HasSubstr("does not list SEV-Milan"));

  o.crl = MakeCrl(pki, Spec([](CrlSpec& s) { s.revoked = {5, 2}; }));
  EXPECT_EQ(Verify(report, vcek, {pki.ask}, o),
            "cert.crl: certificate SEV-Milan (serial 2) is revoked by the crl of ARK-Milan");
  o.crl = MakeCrl(pki, Spec([](CrlSpec& s) { s.next_update = At("2024-12-01T00:00:00Z"); }));
  EXPECT_EQ(Verify(report, vcek, {pki.ask}, o),
            "cert.crl: crl is stale: nextUpdate 2024-12-01T00:00:00Z passed (verification time "
            "2025-01-01T00:00:00Z)");
  o.crl = MakeCrl(pki, Spec([](CrlSpec& s) { s.this_update = At("2025-02-01T00:00:00Z"); }));
  EXPECT_EQ(Verify(report, vcek, {pki.ask}, o),
            "cert.crl: crl is not valid yet: thisUpdate 2025-02-01T00:00:00Z, verification time "
            "2025-01-01T00:00:00Z");
  o.crl = MakeCrl(pki, Spec([](CrlSpec& s) { s.signer = TestKeys().other_rsa.get(); }));
  EXPECT_THAT(Verify(report, vcek, {pki.ask}, o),
              StartsWith("cert.crl: crl signature (sha256 " + ShortHex(o.crl->sha256()) +
                         ") does not verify with the key of ARK-Milan"));
  o.crl = MakeCrl(pki, Spec([](CrlSpec& s) { s.issuer_cn = "ARK-Genoa"; }));
  EXPECT_EQ(Verify(report, vcek, {pki.ask}, o),
            "cert.crl: crl issuer \"CN=ARK-Genoa,O=twi test AMD\" is not \"CN=ARK-Milan,O=twi "
            "test AMD\"");
  o.crl.reset();
  o.crl_policy = CrlPolicy::kRequire;
  EXPECT_EQ(Verify(report, vcek, {pki.ask}, o),
            "cert.crl: no AMD CRL available (no crl given) and the crl policy requires one");
}

// ---- cache ----

TEST(sevsnp_verify, CacheHitSkipsChainAndRespectsTrustContext) {
  Pki pki = MakePki();
  Certificate vcek = MakeCert(LeafSpec(pki));
  Bytes report = MakeReport({}, TestKeys().vcek.get());
  VerifyOptions o = SimOptions(pki);
  VerificationCache cache;
  auto parsed = ParseReport(report);
  std::vector<Certificate> chain = {pki.ask};

  CheckList c1, c2;
  auto v1 = VerifyReport(*parsed, vcek, chain, o, c1, &cache);
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_FALSE(v1->cache_hit);
  EXPECT_EQ(cache.size(), 1u);
  auto v2 = VerifyReport(*parsed, vcek, {}, o, c2, &cache);  // no chain needed on a hit
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_TRUE(v2->cache_hit);
  EXPECT_THAT(c2.checks()[1].detail, HasSubstr("(cached)"));
  EXPECT_EQ(Names(c1), Names(c2));

  // The cached key still checks every report: a forged one fails.
  CheckList c3;
  Bytes flipped = report;
  flipped[0x090] ^= 1;
  auto v3 = VerifyReport(*ParseReport(flipped), vcek, {}, o, c3, &cache);
  EXPECT_THAT(std::string(v3.status().message()), StartsWith("report.signature: "));

  // A different trust configuration never reuses the entry.
  VerifyOptions strict = o;
  strict.allow_simulation_roots = false;
  CheckList c4;
  auto v4 = VerifyReport(*parsed, vcek, chain, strict, c4, &cache);
  EXPECT_THAT(std::string(v4.status().message()), HasSubstr("allow_simulation_roots is false"));
  VerifyOptions with_crl = o;
  with_crl.crl = MakeCrl(pki, Spec([](CrlSpec& s) { s.revoked = {2}; }));
  CheckList c5;
  auto v5 = VerifyReport(*parsed, vcek, chain, with_crl, c5, &cache);
  EXPECT_THAT(std::string(v5.status().message()), StartsWith("cert.crl: "));

  // Outside the cached window the cold path runs and names the expired certificate.
  VerifyOptions late = o;
  late.time = At("2031-06-01T00:00:00Z");
  CheckList c6;
  auto v6 = VerifyReport(*parsed, vcek, chain, late, c6, &cache);
  EXPECT_EQ(v6.status().message(),
            "cert.validity: vcek SEV-VCEK expired at 2031-01-01T00:00:00Z (verification time "
            "2031-06-01T00:00:00Z)");
}

TEST(sevsnp_verify, BytesEntryPointUsesCacheBeforeParsingDer) {
  Pki pki = MakePki();
  Certificate vcek = MakeCert(LeafSpec(pki));
  Bytes report = MakeReport({}, TestKeys().vcek.get());
  VerifyOptions o = SimOptions(pki);
  VerificationCache cache(/*max_entries=*/1);
  std::vector<Certificate> chain = {pki.ask};
  CheckList c1, c2, c3;
  auto v1 = VerifyReportBytes(report, vcek.der(), chain, o, c1, &cache);
  ASSERT_TRUE(v1.ok()) << v1.status();
  auto v2 = VerifyReportBytes(report, vcek.der(), {}, o, c2, &cache);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_TRUE(v2->cache_hit);
  EXPECT_EQ(Names(c1), Names(c2));

  Bytes truncated(report.begin(), report.begin() + 1000);
  auto v3 = VerifyReportBytes(truncated, vcek.der(), chain, o, c3, &cache);
  EXPECT_EQ(v3.status().message(), "report.structure: attestation report is 1000 bytes, want 1184");
  CheckList c4;
  auto v4 = VerifyReportBytes(report, Bytes{1, 2, 3}, chain, o, c4, &cache);
  EXPECT_THAT(std::string(v4.status().message()),
              StartsWith("cert.chain: endorsement certificate: certificate is not valid DER"));

  // Capacity 1: a second endorsement replaces the first.
  Certificate vcek2 = MakeCert(LeafSpec(pki));  // same key, new signature => new DER
  CheckList c5;
  if (vcek2.der() != vcek.der()) {
    ASSERT_TRUE(VerifyReportBytes(report, vcek2.der(), chain, o, c5, &cache).ok());
    EXPECT_EQ(cache.size(), 1u);
  }
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
}

// ---- core X.509 on real AMD certificates ----

TEST(sevsnp_x509, ParsesPemBundlesAndDer) {
  auto bundle = ParsePemBundle(AsString(ReadFile("go-sev-guest/milan.testcer")));
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  ASSERT_EQ(bundle->size(), 2u);
  EXPECT_EQ((*bundle)[0].subject_cn(), "SEV-Milan");
  EXPECT_EQ((*bundle)[1].subject_cn(), "ARK-Milan");
  EXPECT_EQ((*bundle)[1].fingerprint_hex(),
            "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd");
  EXPECT_TRUE((*bundle)[1].IsSelfIssued());
  EXPECT_TRUE((*bundle)[0].IssuedBy((*bundle)[1]));

  EXPECT_EQ(Certificate::FromPem(AsString(ReadFile("go-sev-guest/milan.testcer"))).status().message(),
            "pem holds 2 certificates, want exactly 1");
  EXPECT_EQ(ParsePemBundle("no pem here").status().message(), "no PEM certificate found");
  EXPECT_EQ(ParsePemBundle("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .status()
                .message(),
            "pem block 1 is \"PRIVATE KEY\", want CERTIFICATE");
  Bytes der = ReadFile("go-sev-guest/vcek.testcer");
  der.push_back(0);
  EXPECT_EQ(Certificate::Parse(der).status().message(),
            "certificate DER has 1 trailing bytes after 1360 bytes");
  EXPECT_THAT(std::string(Certificate::Parse(Bytes{0x30, 0x01, 0x00}).status().message()),
              StartsWith("certificate is not valid DER (3 bytes)"));
}

TEST(sevsnp_x509, VcekSerialZeroAndRsaPssChain) {
  auto vcek = Certificate::Parse(ReadFile("go-sev-guest/vcek.testcer"));
  ASSERT_TRUE(vcek.ok());
  EXPECT_EQ(vcek->serial_hex(), "0");
  EXPECT_EQ(vcek->label(), "SEV-VCEK");
  const Certificate& ask = FindBuiltin(Product::kMilan, AmdCertRole::kAsk)->cert;
  const Certificate& ark = FindBuiltin(Product::kMilan, AmdCertRole::kArk)->cert;
  EXPECT_TRUE(VerifySignedBy(*vcek, ask).ok());
  const Certificate chain[] = {ask};
  EXPECT_TRUE(VerifyChain(*vcek, chain, ark, At("2024-01-01T00:00:00Z")).ok());
  EXPECT_EQ(VerifyChain(*vcek, chain, ark, At("2030-01-01T00:00:00Z")).message(),
            "SEV-VCEK expired at 2029-09-24T00:55:28Z (verification time 2030-01-01T00:00:00Z)");
  EXPECT_EQ(CheckIsCa(*vcek).message(),
            "certificate SEV-VCEK is not a CA (basicConstraints/keyUsage; check 0, want 1)");
  EXPECT_THAT(std::string(VerifySignedBy(*vcek, ark).message()),
              StartsWith("certificate SEV-VCEK names issuer \"CN=SEV-Milan,"));
  const Certificate& genoa_ask = FindBuiltin(Product::kGenoa, AmdCertRole::kAsk)->cert;
  EXPECT_FALSE(VerifySignedBy(ask, FindBuiltin(Product::kGenoa, AmdCertRole::kArk)->cert).ok());
  EXPECT_TRUE(CheckIsCa(genoa_ask).ok());
  EXPECT_EQ(CheckValidity(ark, At("2019-01-01T00:00:00Z"), "ark").message(),
            "ark ARK-Milan is not valid yet: notBefore 2020-10-22T17:23:05Z, verification time "
            "2019-01-01T00:00:00Z");
}

TEST(sevsnp_x509, CrlParseAndCheck) {
  Pki pki = MakePki();
  Crl crl = MakeCrl(pki, Spec([](CrlSpec& s) { s.revoked = {2}; }));
  const Certificate subjects[] = {pki.ask, pki.asvk};
  EXPECT_TRUE(crl.IsRevoked(pki.ask));
  EXPECT_FALSE(crl.IsRevoked(pki.asvk));
  EXPECT_EQ(CheckCrl(crl, pki.ark, subjects, At("2025-01-01T00:00:00Z")).message(),
            "certificate SEV-Milan (serial 2) is revoked by the crl of ARK-Milan");
  // Subjects issued by another CA are outside this CRL's scope.
  Certificate vcek = MakeCert(LeafSpec(pki));
  const Certificate leaf_only[] = {vcek};
  EXPECT_TRUE(CheckCrl(MakeCrl(pki, Spec([](CrlSpec& s) { s.revoked = {0}; })), pki.ark, leaf_only,
                       At("2025-01-01T00:00:00Z"))
                  .ok());
  // PEM form parses to the same CRL.
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), crl.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  auto pem = Crl::Parse(AsBytes(std::string_view(data, static_cast<size_t>(len))));
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_EQ(pem->sha256(), crl.sha256());
  EXPECT_EQ(pem->next_update(), At("2025-06-01T00:00:00Z"));
  EXPECT_THAT(std::string(Crl::Parse(Bytes{1, 2}).status().message()),
              StartsWith("crl is not valid DER (2 bytes)"));
}

// ---- embedded roots ----

TEST(sevsnp_roots, EmbeddedCertificatesMatchPinnedFingerprints) {
  struct Want { Product product; AmdCertRole role; const char* cn; const char* fp; };
  // shared/vectors/INDEX.md section 1.
  const Want want[] = {
      {Product::kMilan, AmdCertRole::kArk, "ARK-Milan",
       "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"},
      {Product::kMilan, AmdCertRole::kAsk, "SEV-Milan",
       "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b"},
      {Product::kMilan, AmdCertRole::kAsvk, "SEV-VLEK-Milan",
       "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5"},
      {Product::kGenoa, AmdCertRole::kArk, "ARK-Genoa",
       "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"},
      {Product::kGenoa, AmdCertRole::kAsk, "SEV-Genoa",
       "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521"},
      {Product::kGenoa, AmdCertRole::kAsvk, "SEV-VLEK-Genoa",
       "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372"},
      {Product::kTurin, AmdCertRole::kArk, "ARK-Turin",
       "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a"},
      {Product::kTurin, AmdCertRole::kAsk, "SEV-Turin",
       "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185"},
      {Product::kTurin, AmdCertRole::kAsvk, "SEV-VLEK-Turin",
       "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c"},
  };
  ASSERT_EQ(BuiltinAmdAuthorities().size(), 9u);
  for (const Want& w : want) {
    const AmdAuthority* a = FindBuiltin(w.product, w.role);
    ASSERT_NE(a, nullptr) << w.cn;
    EXPECT_EQ(a->cert.subject_cn(), w.cn);
    EXPECT_EQ(a->cert.fingerprint_hex(), w.fp);
    const Certificate& ark = FindBuiltin(w.product, AmdCertRole::kArk)->cert;
    EXPECT_TRUE(VerifySignedBy(a->cert, ark).ok()) << w.cn;  // RSA-PSS, incl. self-signature
    EXPECT_TRUE(CheckIsCa(a->cert).ok()) << w.cn;
    EXPECT_TRUE(CheckValidity(a->cert, At("2026-01-01T00:00:00Z")).ok()) << w.cn;
  }
  EXPECT_NE(FindPinnedArk(FindBuiltin(Product::kTurin, AmdCertRole::kArk)->cert), nullptr);
  EXPECT_EQ(FindPinnedArk(FindBuiltin(Product::kTurin, AmdCertRole::kAsk)->cert), nullptr);
  EXPECT_STREQ(AmdCertRoleName(AmdCertRole::kAsvk), "asvk");
}

}  // namespace
}  // namespace twi::sevsnp
