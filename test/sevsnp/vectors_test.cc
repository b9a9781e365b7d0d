// Real-hardware SEV-SNP vectors S1-S8 (see test/testdata/sevsnp/PROVENANCE.md), each verified
// at its fixed instant with the documented result, and byte flips of each that must fail in
// the named check.
#include <fstream>
#include <iterator>

#include "attestors/sevsnp/policy.h"
#include "attestors/sevsnp/roots.h"
#include "attestors/sevsnp/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/sevsnp/testdata.h"

namespace twi::sevsnp {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;


Bytes ReadHexReport(const std::string& rel) {
  std::string hex;
  for (uint8_t c : ReadFile(rel)) {
    if (!std::isspace(c)) hex.push_back(static_cast<char>(c));
  }
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : Bytes();
}

std::vector<Certificate> Chain(std::initializer_list<const char*> files) {
  std::vector<Certificate> out;
  for (const char* f : files) {
    auto certs = ParseCertificates(ReadFile(f));
    EXPECT_TRUE(certs.ok()) << f << ": " << certs.status();
    if (certs.ok()) out.insert(out.end(), certs->begin(), certs->end());
  }
  return out;
}

struct Vector {
  const char* name;
  Bytes report;
  std::string endorsement;  // file
  std::vector<Certificate> chain;
  TimePoint time;
};

Vector S1() {
  return {"S1", ReadFile("go-sev-guest/attestation.bin"), "go-sev-guest/vcek.testcer",
          Chain({"go-sev-guest/ask_ark_milan.pem"}), At("2024-01-01T00:00:00Z")};
}
Vector S2() {
  return {"S2", ReadHexReport("virtee-sev/report_milan.hex"), "virtee-sev/vcek_milan.der",
          Chain({"virtee-sev/cert_chain_milan"}), At("2024-01-01T00:00:00Z")};
}
Vector S3() {
  return {"S3", ReadFile("trustee/test-report.bin"), "trustee/test-vcek.der",
          Chain({"trustee/milan_ask_ark_asvk.pem"}), At("2024-01-01T00:00:00Z")};
}
Vector S4() {
  return {"S4", ReadFile("trustee/test-vlek-report.bin"), "trustee/test-vlek.der",
          Chain({"trustee/milan_ask_ark_asvk.pem"}), At("2025-06-01T00:00:00Z")};
}
Vector S6() {
  return {"S6", ReadFile("ms-tee-attestation-verification/milan_attestation_report.bin"),
          "ms-tee-attestation-verification/milan_vcek.pem",
          Chain({"ms-tee-attestation-verification/milan_ask.pem",
                 "ms-tee-attestation-verification/milan_ark.pem"}),
          At("2026-06-01T00:00:00Z")};
}

absl::StatusOr<VerifiedReport> RunVector(const Vector& v, CheckList& checks,
                                   VerificationCache* cache = nullptr) {
  VerifyOptions o;
  o.time = v.time;
  return VerifyReportBytes(v.report, ReadFile(v.endorsement), v.chain, o, checks, cache);
}

TEST(sevsnp_vectors, ValidReportsVerifyAtTheirInstant) {
  for (const Vector& v : {S1(), S2(), S3(), S4(), S6()}) {
    CheckList checks;
    auto r = RunVector(v, checks);
    ASSERT_TRUE(r.ok()) << v.name << ": " << r.status();
    EXPECT_TRUE(checks.all_passed()) << v.name;
    EXPECT_TRUE(r->builtin_root) << v.name;
    EXPECT_EQ(r->root_label, "ARK-Milan") << v.name;
    EXPECT_EQ(r->report.product, Product::kMilan) << v.name;
    EXPECT_TRUE(r->report.reported_tcb.decoded) << v.name;
  }
}

TEST(sevsnp_vectors, BuiltInChainIsUsedWhenNoneIsGiven) {
  for (Vector v : {S1(), S4(), S6()}) {
    v.chain.clear();
    CheckList checks;
    auto r = RunVector(v, checks);
    ASSERT_TRUE(r.ok()) << v.name << ": " << r.status();
  }
}

TEST(sevsnp_vectors, S1DebugPolicyRejectedByDefaultAcceptedWithAllowDebug) {
  CheckList checks;
  auto r = RunVector(S1(), checks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(TcbString(r->report.reported_tcb), "bl=2,tee=0,snp=5,ucode=68");
  SnpPolicy policy;
  CheckList appraisal;
  absl::Status s = Appraise(r->report, policy, appraisal);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "policy.debug: guest policy allows debugging (POLICY bit 19 set, 0x00000000000b0000); "
            "set allow_debug = true to accept debug guests");
  policy.allow_debug = true;
  CheckList again;
  EXPECT_TRUE(Appraise(r->report, policy, again).ok());
  auto selectors = Selectors(r->report);
  EXPECT_THAT(selectors, Contains("sev-snp:product:milan"));  // from the VCEK productName
  EXPECT_THAT(selectors, Contains("sev-snp:policy-debug:true"));
  EXPECT_THAT(selectors, Contains("sev-snp:tcb:bl=2,tee=0,snp=5,ucode=68"));
}

TEST(sevsnp_vectors, S3VcekMatchesReportedNotCurrentTcb) {
  CheckList checks;
  auto r = RunVector(S3(), checks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->report.current_tcb.microcode, 0xCE);
  EXPECT_EQ(r->report.reported_tcb.microcode, 0x73);
  EXPECT_EQ(r->report.guest_svn, 4u);
  CheckList appraisal;
  EXPECT_TRUE(Appraise(r->report, SnpPolicy{}, appraisal).ok());
}

TEST(sevsnp_vectors, S4VlekValidInsideItsWindowOnly) {
  CheckList checks;
  auto r = RunVector(S4(), checks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->signing_key, SigningKey::kVlek);
  EXPECT_EQ(r->endorsement_extensions.csp_id, "CN=cc-us-east-2.amazonaws.com");
  EXPECT_THAT(checks.checks()[1].detail, StartsWith("vlek SEV-VLEK"));  // cert.chain
  EXPECT_THAT(checks.checks()[1].detail, HasSubstr("asvk SEV-VLEK-Milan"));
  // The go-sev-guest ASVK bundle gives the same result.
  Vector alt = S4();
  alt.chain = Chain({"go-sev-guest/ask_ark_milan_vlek.pem"});
  CheckList alt_checks;
  EXPECT_TRUE(RunVector(alt, alt_checks).ok());

  for (const char* late : {"2025-12-10T22:14:22Z", "2026-01-01T00:00:00Z"}) {
    Vector v = S4();
    v.time = At(late);
    CheckList c;
    auto expired = RunVector(v, c);
    ASSERT_FALSE(expired.ok());
    EXPECT_EQ(expired.status().message(),
              absl::StrCat("cert.validity: vlek SEV-VLEK expired at 2025-12-10T22:14:21Z "
                           "(verification time ", late, ")"));
  }
  // VMPL 1: the default policy refuses it, allowing VMPL 1 accepts.
  SnpPolicy policy;
  CheckList p1;
  EXPECT_EQ(Appraise(r->report, policy, p1).message(),
            "policy.vmpl: report VMPL is 1; allowed VMPLs are {0}");
  policy.allowed_vmpls = {0, 1};
  CheckList p2;
  EXPECT_TRUE(Appraise(r->report, policy, p2).ok());
}

TEST(sevsnp_vectors, S5TamperedVcekParsesButAskSignatureFails) {
  const Certificate& ask = FindBuiltin(Product::kMilan, AmdCertRole::kAsk)->cert;
  for (const char* f : {"trustee/test-vcek-invalid-legacy.der", "trustee/test-vcek-invalid-new.der"}) {
    auto cert = Certificate::Parse(ReadFile(f));
    ASSERT_TRUE(cert.ok()) << f;
    auto ext = ParseAmdExtensions(*cert);
    ASSERT_TRUE(ext.ok()) << f << ": " << ext.status();
    ASSERT_TRUE(ext->hwid.has_value());
    EXPECT_EQ(ext->hwid->size(), 64u);
    EXPECT_THAT(std::string(VerifySignedBy(*cert, ask).message()),
                StartsWith("signature on SEV-VCEK (sha256 "));
    Vector v = S3();
    v.endorsement = f;
    CheckList checks;
    auto r = RunVector(v, checks);
    EXPECT_THAT(std::string(r.status().message()), StartsWith("cert.chain: signature on SEV-VCEK"))
        << f;
  }
}

TEST(sevsnp_vectors, S7TurinChainAndExtensions) {
  auto vcek = Certificate::Parse(ReadFile("virtee-sev/vcek_turin.der"));
  ASSERT_TRUE(vcek.ok());
  std::vector<Certificate> chain = Chain({"virtee-sev/cert_chain_turin"});
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].sha256(), FindBuiltin(Product::kTurin, AmdCertRole::kAsk)->cert.sha256());
  ASSERT_NE(FindPinnedArk(chain[1]), nullptr);
  const Certificate inter[] = {chain[0]};
  EXPECT_TRUE(VerifyChain(*vcek, inter, chain[1], At("2025-01-01T00:00:00Z")).ok());
  EXPECT_EQ(VerifyChain(*vcek, inter, chain[1], At("2031-11-07T00:00:00Z")).message(),
            "SEV-VCEK expired at 2031-11-06T21:14:00Z (verification time 2031-11-07T00:00:00Z)");
  auto ext = ParseAmdExtensions(*vcek);
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(HexEncode(*ext->hwid), "1e550a8ee5cf9f4d");
  EXPECT_EQ(ext->fmc_spl, 0);
  // The Turin VCEK does not chain to the Milan hierarchy.
  const Certificate milan_ask[] = {FindBuiltin(Product::kMilan, AmdCertRole::kAsk)->cert};
  EXPECT_FALSE(VerifyChain(*vcek, milan_ask, FindBuiltin(Product::kMilan, AmdCertRole::kArk)->cert,
                           At("2025-01-01T00:00:00Z"))
                   .ok());
}

TEST(sevsnp_vectors, S8AnchorsMatchBuiltIns) {
  EXPECT_EQ(ReadFile("go-sev-guest/milan.testcer"), ReadFile("go-sev-guest/ask_ark_milan.pem"));
  EXPECT_EQ(ReadFile("go-sev-guest/milanvlek.testcer"),
            ReadFile("go-sev-guest/ask_ark_milan_vlek.pem"));
  std::vector<Certificate> vcek_chain = Chain({"go-sev-guest/milan.testcer"});
  std::vector<Certificate> vlek_chain = Chain({"go-sev-guest/milanvlek.testcer"});
  ASSERT_EQ(vcek_chain.size(), 2u);
  ASSERT_EQ(vlek_chain.size(), 2u);
  EXPECT_EQ(vcek_chain[0].sha256(), FindBuiltin(Product::kMilan, AmdCertRole::kAsk)->cert.sha256());
  EXPECT_EQ(vlek_chain[0].sha256(), FindBuiltin(Product::kMilan, AmdCertRole::kAsvk)->cert.sha256());
  EXPECT_NE(FindPinnedArk(vcek_chain[1]), nullptr);
  EXPECT_NE(FindPinnedArk(vlek_chain[1]), nullptr);
}

TEST(sevsnp_vectors, ByteFlipsFailInTheNamedCheck) {
  struct Case { const char* what; size_t offset; std::string check; };
  const Case cases[] = {
      {"signature r", 0x2A0, "report.signature"},
      {"signature s", 0x2E8 + 47, "report.signature"},
      {"measurement", 0x090, "report.signature"},
      {"report data", 0x050 + 63, "report.signature"},
      {"policy", 0x008, "report.signature"},
      {"reported tcb", 0x180, "cert.tcb_match"},
      {"chip id", 0x1A0 + 10, "cert.hwid_match"},
      {"reserved", 0x04C, "report.structure"},
      {"version", 0x000, "report.structure"},
  };
  for (const Vector& base : {S1(), S6()}) {
    for (const Case& c : cases) {
      Vector v = base;
      v.report[c.offset] ^= 0x01;
      CheckList checks;
      auto r = RunVector(v, checks);
      ASSERT_FALSE(r.ok()) << base.name << " " << c.what;
      EXPECT_THAT(std::string(r.status().message()), StartsWith(c.check + ": "))
          << base.name << " " << c.what;
      ASSERT_FALSE(checks.checks().empty());
      EXPECT_EQ(checks.checks().back().name, c.check) << base.name << " " << c.what;
      EXPECT_FALSE(checks.checks().back().passed);
    }
  }
}

TEST(sevsnp_vectors, CertificateByteFlipsFailTheChain) {
  Bytes vcek = ReadFile("go-sev-guest/vcek.testcer");
  // Last byte: inside the RSA-PSS signature. 0x200: inside the TBS (extensions/key).
  for (size_t offset : {vcek.size() - 1, size_t{0x200}, size_t{0x150}}) {
    Bytes flipped = vcek;
    flipped[offset] ^= 0x01;
    VerifyOptions o;
    o.time = At("2024-01-01T00:00:00Z");
    CheckList checks;
    auto r = VerifyReportBytes(S1().report, flipped, S1().chain, o, checks);
    ASSERT_FALSE(r.ok()) << offset;
    EXPECT_THAT(std::string(r.status().message()), StartsWith("cert.chain: ")) << offset;
  }
  // A corrupted ASK from the host: the built-in ASK still anchors the VCEK.
  std::vector<Certificate> chain = S1().chain;
  Bytes ask = chain[0].der();
  ask[ask.size() - 1] ^= 0x01;
  chain[0] = *Certificate::FromDer(ask);
  VerifyOptions o;
  o.time = At("2024-01-01T00:00:00Z");
  CheckList checks;
  EXPECT_TRUE(VerifyReportBytes(S1().report, vcek, chain, o, checks).ok());
}

TEST(sevsnp_vectors, WrongVcekFailsBinding) {
  // S2's VCEK has the same REPORTED_TCB as S3's report but another chip.
  Vector v = S3();
  v.endorsement = "virtee-sev/vcek_milan.der";
  CheckList checks;
  auto r = RunVector(v, checks);
  EXPECT_EQ(r.status().message(),
            "cert.hwid_match: CHIP_ID c38427a30d4c7af9... != vcek hwID d49554ec717f4e5b...");
  v = S1();
  v.endorsement = "virtee-sev/vcek_milan.der";
  CheckList checks2;
  EXPECT_EQ(RunVector(v, checks2).status().message(),
            "cert.tcb_match: vcek blSPL 3 != REPORTED_TCB bl 2 (report bl=2,tee=0,snp=5,ucode=68)");
}

TEST(sevsnp_vectors, WarmCacheVerifiesRealReports) {
  VerificationCache cache;
  for (int i = 0; i < 2; ++i) {
    for (const Vector& v : {S1(), S4(), S6()}) {
      CheckList checks;
      auto r = RunVector(v, checks, &cache);
      ASSERT_TRUE(r.ok()) << v.name << ": " << r.status();
      EXPECT_EQ(r->cache_hit, i == 1) << v.name;
    }
  }
  EXPECT_EQ(cache.size(), 3u);
  Vector late = S4();
  late.time = At("2026-01-01T00:00:00Z");
  CheckList checks;
  EXPECT_THAT(std::string(RunVector(late, checks, &cache).status().message()),
              StartsWith("cert.validity: vlek SEV-VLEK expired"));
}

}  // namespace
}  // namespace twi::sevsnp
