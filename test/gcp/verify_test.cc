// VerifyGcp on simulated GCE evidence (the simulated vTPM CA, a software AK, SEV-SNP and TDX
// simulators) and on P1, a real GCE Shielded VM quote, with negatives asserting the check that
// refuses: wrong CA, expired certificate, AK certificate key != quote signer, wrong nonce,
// missing / repeated extension, non-production, a CA certificate as AK certificate, hardware
// report with other report data, hardware required but absent.
#include "attestors/gcp/verify.h"

#include <chrono>
#include <string>

#include "absl/strings/match.h"
#include "attestors/core/file.h"
#include "attestors/gcp/sim.h"
#include "attestors/sevsnp/sim.h"
#include "attestors/tdx/sim.h"
#include "gtest/gtest.h"
#include "test/gcp/soft_ak.h"
#include "test/tpm/testdata.h"

namespace twi::gcp {
namespace {

using std::chrono::hours;
using testing::Ca;
using testing::CaSetOf;
using testing::MakeQuote;
using testing::SoftAk;
using testing::SoftQuote;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

bool Passed(const CheckList& checks, const std::string& name) {
  for (const auto& c : checks.checks()) if (c.name == name && c.passed) return true;
  return false;
}

const SoftAk& Ak() {
  static const SoftAk* ak = new SoftAk(SoftAk::Create());
  return *ak;
}
const SoftAk& OtherAk() {
  static const SoftAk* ak = new SoftAk(SoftAk::Create());
  return *ak;
}

const Bytes kNonce = ToBytes("gcp-challenge-0123456789abcdef");

// One piece of evidence, owned.
struct Case {
  Bytes cert;
  Bytes ak_public;
  SoftQuote quote;
  std::vector<Certificate> sent;
  VerifyOptions options;

  Evidence evidence() const {
    Evidence e;
    e.ak_cert = cert;
    e.intermediates = sent;
    e.ak_public = ak_public;
    e.quote = quote.attest;
    e.signature = quote.signature;
    e.pcrs = quote.pcrs;
    return e;
  }
};

Case Good(const SimAkCertOptions& cert_options = {}) {
  Case c;
  auto cert = Ca()->IssueAkCert(Ak().spki, cert_options);
  EXPECT_TRUE(cert.ok()) << cert.status();
  c.cert = *cert;
  c.quote = MakeQuote(Ak().key.get(), kNonce);
  c.options.time = std::chrono::system_clock::now();
  c.options.cas = CaSetOf(*Ca());
  c.options.nonce = kNonce;
  c.options.allow_simulated_ca = true;
  return c;
}

absl::Status Check(const Case& c, CheckList& checks, VerifiedGcp* out, const Evidence* e = nullptr) {
  return VerifyGcp(e ? *e : c.evidence(), c.options, checks, out);
}

TEST(GcpVerify, GoodEvidenceVerifies) {
  Case c = Good();
  CheckList checks;
  VerifiedGcp out;
  absl::Status s = Check(c, checks, &out);
  ASSERT_TRUE(s.ok()) << s;
  for (const char* name : {"ak_cert.structure", "ak_cert.chain", "ak_cert.usage",
                           "instance_info.structure", "instance_info.production",
                           "ak.public_match", "quote.signature", "quote.nonce", "pcr.digest"}) {
    EXPECT_TRUE(Passed(checks, name)) << name;
  }
  EXPECT_EQ(out.chain.size(), 2u);  // intermediate, root
  auto claims = Claims(out);
  EXPECT_EQ(claims["platform"], "gcp");
  EXPECT_EQ(claims["project_id"], "twi-sim-project");
  EXPECT_EQ(claims["project_number"], "123456789012");
  EXPECT_EQ(claims["zone"], "us-central1-a");
  EXPECT_EQ(claims["instance_id"], "4242424242424242424");
  EXPECT_EQ(claims["instance_name"], "twi-sim-vm");
  EXPECT_EQ(claims["hardware"], "none");
  EXPECT_EQ(claims["ak_pub_sha256"], HexEncode(Sha256(Ak().spki)));
  auto selectors = Selectors(out);
  EXPECT_EQ(selectors, (std::vector<std::string>{
                           "platform:gcp", "gcp:project-id:twi-sim-project",
                           "gcp:project-number:123456789012", "gcp:zone:us-central1-a",
                           "gcp:instance-id:4242424242424242424",
                           "gcp:instance-name:twi-sim-vm"}));
}

TEST(GcpVerify, SimulatedCaRefusedUnlessAllowed) {
  Case c = Good();
  c.options.allow_simulated_ca = false;
  CheckList checks;
  VerifiedGcp out;
  EXPECT_TRUE(absl::StartsWith(Msg(Check(c, checks, &out)),
                               "ak_cert.chain: anchored in EK/AK CA Root (simulated), a simulated gce ca"))
      << Check(c, checks, &out);
}

TEST(GcpVerify, AkCertCacheReplaysTheChecksPerTrustConfiguration) {
  AkCertCache cache;
  Case c = Good();
  CheckList cold, warm;
  VerifiedGcp a, b;
  ASSERT_TRUE(VerifyGcp(c.evidence(), c.options, cold, &a, {.ak_cert = &cache}).ok());
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_TRUE(VerifyGcp(c.evidence(), c.options, warm, &b, {.ak_cert = &cache}).ok());
  ASSERT_EQ(cold.checks().size(), warm.checks().size());
  for (size_t i = 0; i < cold.checks().size(); ++i) {
    EXPECT_EQ(cold.checks()[i].name, warm.checks()[i].name);
  }
  EXPECT_EQ(Claims(a), Claims(b));
  // Another trust configuration misses: the simulated CA is then refused.
  VerifyOptions strict = c.options;
  strict.allow_simulated_ca = false;
  CheckList refused;
  EXPECT_TRUE(absl::StartsWith(Msg(VerifyGcp(c.evidence(), strict, refused, &b, {.ak_cert = &cache})),
                               "ak_cert.chain: anchored in "));
  // Past the chain's window the entry is not used.
  VerifyOptions late = c.options;
  late.time = a.chain_valid_until + hours(1);
  CheckList expired;
  EXPECT_TRUE(absl::StartsWith(Msg(VerifyGcp(c.evidence(), late, expired, &b, {.ak_cert = &cache})),
                               "ak_cert.chain: "));
  // instance_info.production is decided on every call, also on a hit.
  SimAkCertOptions o;
  o.instance = SimInstanceInfo();
  o.instance.is_production = false;
  Case dev = Good(o);
  dev.options.allow_non_production = true;
  CheckList first;
  ASSERT_TRUE(VerifyGcp(dev.evidence(), dev.options, first, &b, {.ak_cert = &cache}).ok());
  dev.options.allow_non_production = false;
  CheckList second;
  EXPECT_TRUE(absl::StartsWith(Msg(VerifyGcp(dev.evidence(), dev.options, second, &b, {.ak_cert = &cache})),
                               "instance_info.production: "));
}

TEST(GcpVerify, SentAkPublicAreaMustBeTheCertificateKey) {
  Case c = Good();
  c.ak_public = Ak().public_area;
  CheckList ok_checks;
  VerifiedGcp out;
  ASSERT_TRUE(Check(c, ok_checks, &out).ok());
  EXPECT_TRUE(Passed(ok_checks, "ak.attributes"));
  c.ak_public = OtherAk().public_area;
  CheckList checks;
  absl::Status s = Check(c, checks, &out);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "ak.public_match: ak public area spki sha256 got ")) << s;
}

TEST(GcpVerify, QuoteByAnotherKeyThanTheCertificatesIsRefused) {
  Case c = Good();
  c.quote = MakeQuote(OtherAk().key.get(), kNonce);
  CheckList checks;
  VerifiedGcp out;
  absl::Status s = Check(c, checks, &out);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "quote.signature: ")) << s;
  EXPECT_TRUE(Passed(checks, "ak_cert.chain"));
}

TEST(GcpVerify, WrongNonceIsRefused) {
  Case c = Good();
  c.options.nonce = ToBytes("another challenge");
  CheckList checks;
  VerifiedGcp out;
  absl::Status s = Check(c, checks, &out);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "quote.nonce: extraData ")) << s;
  c.options.nonce.clear();
  CheckList empty;
  EXPECT_TRUE(absl::StartsWith(Msg(Check(c, empty, &out)), "quote.nonce: the expected nonce is empty"));
}

TEST(GcpVerify, WrongCaIsRefused) {
  SimCaOptions fresh;
  auto other = SimCa::Create(fresh);
  ASSERT_TRUE(other.ok());
  Case c = Good();
  c.options.cas = CaSetOf(**other);
  CheckList checks;
  VerifiedGcp out;
  absl::Status s = Check(c, checks, &out);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "ak_cert.chain: no configured root or intermediate issued"))
      << s;
  // Google's real CAs do not vouch for a simulated certificate either.
  auto google = ParsePemBundle(*ReadFileToString(std::string(TWI_SOURCE_DIR) +
                                                 "/examples/gcp/vtpm-ca-bundle.pem"));
  ASSERT_TRUE(google.ok());
  c.options.cas = CaSet::FromCertificates(*google);
  CheckList g;
  EXPECT_TRUE(absl::StartsWith(Msg(Check(c, g, &out)), "ak_cert.chain: no configured root"));
  // No CA at all.
  c.options.cas = {};
  CheckList none;
  EXPECT_EQ(Msg(Check(c, none, &out)), "ak_cert.chain: no gce vtpm root ca configured");
}

TEST(GcpVerify, IntermediateMayBeSentButRootMustBeConfigured) {
  Case c = Good();
  auto certs = ParsePemBundle(Ca()->BundlePem());
  ASSERT_TRUE(certs.ok());
  c.options.cas.intermediates.clear();  // only the root configured
  CheckList missing;
  VerifiedGcp out;
  EXPECT_TRUE(absl::StartsWith(Msg(Check(c, missing, &out)),
                               "ak_cert.chain: no configured root or intermediate issued"));
  c.sent = {(*certs)[1]};  // the agent sends the intermediate
  CheckList sent;
  EXPECT_TRUE(Check(c, sent, &out).ok());
  // A root the agent sends is never trusted: with no configured root the chain fails.
  c.options.cas = {};
  c.options.cas.intermediates = {(*certs)[1]};
  c.sent = {(*certs)[0], (*certs)[1]};
  CheckList root_sent;
  EXPECT_EQ(Msg(Check(c, root_sent, &out)), "ak_cert.chain: no gce vtpm root ca configured");
  // An AK certificate signed by the root directly also chains.
  SimAkCertOptions by_root;
  by_root.signed_by_root = true;
  Case direct = Good(by_root);
  CheckList d;
  EXPECT_TRUE(Check(direct, d, &out).ok());
  EXPECT_EQ(out.chain.size(), 1u);
}

TEST(GcpVerify, ExpiredOrNotYetValidCertificateIsRefused) {
  SimAkCertOptions o;
  o.not_before = std::chrono::system_clock::now() - hours(24 * 30);
  o.not_after = std::chrono::system_clock::now() - hours(24);
  Case c = Good(o);
  CheckList checks;
  VerifiedGcp out;
  absl::Status s = Check(c, checks, &out);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "ak_cert.chain: twi-sim-vm expired at ")) << s;
  Case early = Good();
  early.options.time = std::chrono::system_clock::now() - hours(24 * 2);
  CheckList e;
  EXPECT_TRUE(absl::StrContains(Msg(Check(early, e, &out)), "is not valid yet")) << Check(early, e, &out);
}

TEST(GcpVerify, MissingOrRepeatedExtensionIsRefused) {
  SimAkCertOptions none;
  none.include_instance_info = false;
  CheckList checks;
  VerifiedGcp out;
  EXPECT_EQ(Msg(Check(Good(none), checks, &out)),
            "instance_info.structure: no extension 1.3.6.1.4.1.11129.2.1.21");
  EXPECT_TRUE(Passed(checks, "ak_cert.chain"));
  SimAkCertOptions twice;
  twice.duplicate_instance_info = true;
  CheckList dup;
  EXPECT_EQ(Msg(Check(Good(twice), dup, &out)),
            "instance_info.structure: extension 1.3.6.1.4.1.11129.2.1.21 appears twice");
}

TEST(GcpVerify, NonProductionRefusedUnlessAllowed) {
  SimAkCertOptions o;
  o.instance = SimInstanceInfo();
  o.instance.is_production = false;
  Case c = Good(o);
  CheckList checks;
  VerifiedGcp out;
  EXPECT_TRUE(absl::StartsWith(Msg(Check(c, checks, &out)), "instance_info.production: isProduction"));
  c.options.allow_non_production = true;
  CheckList allowed;
  EXPECT_TRUE(Check(c, allowed, &out).ok());
  EXPECT_EQ(Claims(out)["is_production"], "false");
}

TEST(GcpVerify, CaCertificateAsAkCertificateIsRefused) {
  SimAkCertOptions o;
  o.as_ca = true;
  CheckList checks;
  VerifiedGcp out;
  EXPECT_EQ(Msg(Check(Good(o), checks, &out)),
            "ak_cert.usage: the ak certificate is a ca certificate, want end entity");
}

TEST(GcpVerify, GarbageCertificateIsAStructureError) {
  Case c = Good();
  c.cert = ToBytes("not a certificate");
  CheckList checks;
  VerifiedGcp out;
  EXPECT_TRUE(absl::StartsWith(Msg(Check(c, checks, &out)), "ak_cert.structure: "));
}

// P1: a real GCE Shielded VM's AK (RSASSA-SHA1 TPMT_PUBLIC) and SHA-1 quote (empty nonce),
// under a simulated AK certificate for that AK.
TEST(GcpVerify, RealGceQuoteUnderSimulatedCertificate) {
  tpm::testing::QuoteVector p1 = tpm::testing::P1();
  auto pub = tpm::ParsePublicAny(p1.ak);
  ASSERT_TRUE(pub.ok()) << pub.status();
  auto spki = tpm::PublicSpki(*pub);
  ASSERT_TRUE(spki.ok());
  Case c = Good();
  c.cert = *Ca()->IssueAkCert(*spki);
  c.ak_public = p1.ak;
  c.quote.attest = p1.attest;
  c.quote.signature = p1.signature;
  c.quote.pcrs = p1.pcrs;
  c.options.nonce.clear();
  c.options.allow_empty_nonce = true;
  CheckList checks;
  VerifiedGcp out;
  absl::Status s = Check(c, checks, &out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(out.quote.pcr_digest_ok);
  EXPECT_EQ(out.quote.sig_hash, TPM2_ALG_SHA1);
  // The same real quote under our software AK's certificate is refused.
  c.cert = *Ca()->IssueAkCert(Ak().spki);
  c.ak_public.clear();
  CheckList wrong;
  EXPECT_TRUE(absl::StartsWith(Msg(Check(c, wrong, &out)), "quote.signature: ")) << Check(c, wrong, &out);
}

// ---- hardware ----

Bytes ReportData() {
  Bytes rd = kNonce;
  rd.resize(64, 0);
  return rd;
}

struct Snp {
  std::unique_ptr<sevsnp::SnpSimulator> sim;
  sevsnp::SimEvidence ev;
};
const Snp& SnpSim() {
  static Snp* s = [] {
    auto* out = new Snp;
    auto sim = sevsnp::SnpSimulator::Create({});
    EXPECT_TRUE(sim.ok()) << sim.status();
    out->sim = *std::move(sim);
    out->ev = *out->sim->GetReport(ReportData());
    return out;
  }();
  return *s;
}

void RequireSnp(Case& c) {
  c.options.hardware = Hardware::kSevSnp;
  c.options.expected_report_data = kNonce;
  c.options.snp.allow_simulation_roots = true;
  c.options.snp.extra_trusted_roots = {
      {Certificate::FromX509(SnpSim().sim->hierarchy().ark()), sevsnp::SigningKey::kVcek}};
}

TEST(GcpVerifyHardware, SevSnpReportWithTheNonceVerifies) {
  Case c = Good();
  RequireSnp(c);
  Evidence e = c.evidence();
  e.snp_report = SnpSim().ev.report;
  e.snp_cert_table = SnpSim().ev.cert_table;  // VCEK, ASK, ARK from the table
  CheckList checks;
  VerifiedGcp out;
  absl::Status s = Check(c, checks, &out, &e);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(Passed(checks, "hw.required"));
  EXPECT_TRUE(Passed(checks, "report.signature"));
  EXPECT_TRUE(Passed(checks, "hw.report_data"));
  auto claims = Claims(out);
  EXPECT_EQ(claims["hardware"], "sev-snp");
  EXPECT_EQ(claims["measurement"].size(), 96u);
  EXPECT_EQ(claims["project_id"], "twi-sim-project");
  // Given VCEK instead of the table.
  Bytes vcek = SnpSim().sim->vcek_der();
  std::vector<Certificate> ask = {Certificate::FromX509(SnpSim().sim->hierarchy().ask())};
  e.snp_cert_table = {};
  e.vcek = vcek;
  e.snp_chain = ask;
  CheckList given;
  EXPECT_TRUE(Check(c, given, &out, &e).ok());
}

TEST(GcpVerifyHardware, SevSnpReportWithOtherReportDataIsRefused) {
  Case c = Good();
  RequireSnp(c);
  auto other = SnpSim().sim->GetReport(ToBytes("another nonce"));
  ASSERT_TRUE(other.ok());
  Evidence e = c.evidence();
  e.snp_report = other->report;
  e.snp_cert_table = other->cert_table;
  CheckList checks;
  VerifiedGcp out;
  absl::Status s = Check(c, checks, &out, &e);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "hw.report_data: got ")) << s;
  EXPECT_TRUE(Passed(checks, "report.signature"));
}

TEST(GcpVerifyHardware, RequiredButAbsentIsRefused) {
  Case c = Good();
  RequireSnp(c);
  CheckList checks;
  VerifiedGcp out;
  EXPECT_EQ(Msg(Check(c, checks, &out)),
            "hw.required: options require sev-snp; the evidence has no report");
  EXPECT_TRUE(Passed(checks, "quote.signature"));
  Evidence e = c.evidence();
  e.snp_report = SnpSim().ev.report;  // report without any VCEK
  CheckList no_vcek;
  EXPECT_TRUE(absl::StartsWith(Msg(Check(c, no_vcek, &out, &e)),
                               "hw.required: options require sev-snp; the evidence has no vcek"));
  c.options.hardware = Hardware::kTdx;
  CheckList tdx;
  EXPECT_EQ(Msg(Check(c, tdx, &out)), "hw.required: options require tdx; the evidence has no td quote");
  // Hardware evidence the options do not ask for is not read (unverified bytes never pick checks).
  c.options.hardware = Hardware::kNone;
  e.snp_report = ToBytes("garbage");
  CheckList ignored;
  EXPECT_TRUE(Check(c, ignored, &out, &e).ok());
  EXPECT_FALSE(Passed(ignored, "hw.required"));
}

TEST(GcpVerifyHardware, TdxQuoteWithTheNonceVerifies) {
  auto sim = tdx::TdxSimulator::Create({});
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto collateral = (*sim)->Collateral();
  ASSERT_TRUE(collateral.ok());
  Bytes quote = *(*sim)->GetQuote(ReportData());
  Case c = Good();
  c.options.hardware = Hardware::kTdx;
  c.options.expected_report_data = kNonce;
  c.options.tdx.allow_simulation_roots = true;
  c.options.tdx.extra_trusted_roots = {(*sim)->root()};
  Evidence e = c.evidence();
  e.td_quote = quote;
  CheckList missing;
  VerifiedGcp out;
  EXPECT_EQ(Msg(Check(c, missing, &out, &e)),
            "hw.required: options require tdx; no dcap collateral for the quote");
  e.tdx_collateral = &*collateral;
  CheckList checks;
  absl::Status s = Check(c, checks, &out, &e);
  ASSERT_TRUE(s.ok()) << s;
  auto claims = Claims(out);
  EXPECT_EQ(claims["hardware"], "tdx");
  EXPECT_EQ(claims["mrtd"].size(), 96u);
  EXPECT_EQ(claims["tcb_status"], "UpToDate");
  EXPECT_EQ(claims["zone"], "us-central1-a");
  Bytes other = *(*sim)->GetQuote(ToBytes("another nonce"));
  e.td_quote = other;
  CheckList refused;
  EXPECT_TRUE(absl::StartsWith(Msg(Check(c, refused, &out, &e)), "hw.report_data: got "));
}

TEST(GcpHardwareNames, RoundTrip) {
  for (const char* n : {"none", "sev-snp", "tdx"}) {
    auto h = ParseHardware(n);
    ASSERT_TRUE(h.ok());
    EXPECT_STREQ(HardwareName(*h), n);
  }
  EXPECT_EQ(Msg(ParseHardware("sgx").status()), "hardware: got \"sgx\", want none, sev-snp or tdx");
}

}  // namespace
}  // namespace twi::gcp
