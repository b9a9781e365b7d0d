// Verification failures, each named by its check: byte flips of every signed or signing part
// (quote body, quote signature, QE report, attestation key, PCK certificate, TCB Info, QE
// Identity), collateral windows, CRL issuers, trust anchors; and the warm-path cache.
#include "attestors/tdx/verify.h"

#include "attestors/tdx/roots.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tdx/testdata.h"

namespace twi::tdx {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kT1Time[] = "2025-07-01T00:00:00Z";
constexpr size_t kSigData = 0x27C;  // v4: signature data after the 4-byte length at 0x278

class tdx_verify : public ::testing::Test {
 protected:
  Bytes quote_ = ReadFile("phala-dcap-qvl/tdx_quote");
  collateral::DcapCollateral coll_ = Bundle("phala-dcap-qvl/tdx_quote_collateral.json");
  VerifyOptions opts_ = [] {
    VerifyOptions o;
    o.time = At(kT1Time);
    return o;
  }();

  absl::Status Verify(ByteView quote, const collateral::DcapCollateral& c, CheckList* checks = nullptr,
                      VerifiedQuote* out = nullptr, VerificationCache* cache = nullptr) {
    CheckList local;
    VerifiedQuote v;
    return VerifyQuoteBytes(quote, c, opts_, checks ? *checks : local, out ? out : &v, cache);
  }
  absl::Status Flip(size_t offset) {
    Bytes q = quote_;
    q[offset] ^= 0x01;
    return Verify(q, coll_);
  }
};

TEST_F(tdx_verify, T1Verifies) { EXPECT_TRUE(Verify(quote_, coll_).ok()); }

TEST_F(tdx_verify, FlippedBodyFailsQuoteSignature) {
  EXPECT_THAT(Msg(Flip(0x0B8)), StartsWith("quote.signature:"));  // MRTD
  EXPECT_THAT(Msg(Flip(0x238)), StartsWith("quote.signature:"));  // REPORTDATA
  EXPECT_THAT(Msg(Flip(0x01C)), StartsWith("quote.signature:"));  // header user data
}

TEST_F(tdx_verify, FlippedSignatureFailsQuoteSignature) {
  EXPECT_THAT(Msg(Flip(kSigData + 5)), StartsWith("quote.signature:"));
  EXPECT_THAT(Msg(Flip(kSigData + 40)), StartsWith("quote.signature:"));
}

TEST_F(tdx_verify, FlippedQeReportFailsQeReportSignature) {
  EXPECT_THAT(Msg(Flip(kSigData + 134 + 10)), StartsWith("qe_report.signature:"));
  EXPECT_THAT(Msg(Flip(kSigData + 134 + 384 + 3)), StartsWith("qe_report.signature:"));
}

TEST_F(tdx_verify, FlippedAttestationKeyOrAuthDataFailsBinding) {
  EXPECT_THAT(Msg(Flip(kSigData + 64 + 7)), StartsWith("qe_report.binding:"));
  EXPECT_THAT(Msg(Flip(kSigData + 134 + 384 + 64 + 2 + 1)),
              StartsWith("qe_report.binding:"));
}

TEST_F(tdx_verify, FlippedPckCertificateFailsChain) {
  std::string_view text = AsString(quote_);
  size_t pem = text.find("-----BEGIN CERTIFICATE-----");
  ASSERT_NE(pem, std::string_view::npos);
  // Inside the leaf's base64: a changed TBS or signature byte, or an undecodable certificate.
  for (size_t at : {pem + 200, pem + 600, pem + 900}) {
    Bytes q = quote_;
    q[at] = q[at] == 'A' ? 'B' : 'A';
    EXPECT_THAT(Msg(Verify(q, coll_)), StartsWith("pck.chain:")) << at;
  }
}

TEST_F(tdx_verify, FlippedTcbInfoFailsItsSignature) {
  auto c = coll_;
  size_t at = c.tcb_info.find("UpToDate");
  ASSERT_NE(at, std::string::npos);
  c.tcb_info[at] = 'u';
  collateral::SealDcapCollateral(c);
  EXPECT_THAT(Msg(Verify(quote_, c)), StartsWith("tcb_info.signature:"));
  c = coll_;
  c.tcb_info_signature[10] ^= 1;
  collateral::SealDcapCollateral(c);
  EXPECT_THAT(Msg(Verify(quote_, c)), StartsWith("tcb_info.signature:"));
}

TEST_F(tdx_verify, FlippedQeIdentityFailsItsSignature) {
  auto c = coll_;
  size_t at = c.qe_identity.find("\"isvprodid\":2");
  ASSERT_NE(at, std::string::npos);
  c.qe_identity[at + 12] = '3';
  collateral::SealDcapCollateral(c);
  EXPECT_THAT(Msg(Verify(quote_, c)), StartsWith("qe_identity.signature:"));
}

TEST_F(tdx_verify, ExpiredTcbInfoFails) {
  auto c = coll_;
  c.pck_crl.reset();
  c.root_ca_crl.reset();
  collateral::SealDcapCollateral(c);
  opts_.allow_missing_crls = true;
  opts_.time = At("2025-07-19T12:00:00Z");  // after tcbInfo nextUpdate 2025-07-19T10:16:03Z
  CheckList checks;
  absl::Status s = Verify(quote_, c, &checks);
  EXPECT_THAT(Msg(s), StartsWith("tcb_info.validity: expired"));
  opts_.time = At("2025-06-19T10:20:00Z");  // before the QE identity's issueDate 10:32:27
  EXPECT_THAT(Msg(Verify(quote_, c)), StartsWith("qe_identity.validity: not yet valid"));
}

TEST_F(tdx_verify, StaleCrlFails) {
  opts_.time = At("2025-08-20T00:00:00Z");
  EXPECT_THAT(Msg(Verify(quote_, coll_)), HasSubstr("crl is stale"));
}

TEST_F(tdx_verify, PckCrlOfTheOtherCaIsRefused) {
  // The SGX sample's PCK CRL is issued by the Processor CA; this PCK comes from the Platform CA.
  auto c = coll_;
  c.pck_crl = Bundle("phala-dcap-qvl/sgx_quote_collateral.json").pck_crl;
  collateral::SealDcapCollateral(c);
  EXPECT_THAT(Msg(Verify(quote_, c)), StartsWith("crl.pck: pck_crl (platform ca): crl issuer"));
}

TEST_F(tdx_verify, RootCrlMustBeTheRootsOwn) {
  auto c = coll_;
  c.root_ca_crl = c.pck_crl;  // issued by the PCK Platform CA, not the root
  collateral::SealDcapCollateral(c);
  EXPECT_THAT(Msg(Verify(quote_, c)), StartsWith("crl.root_ca: root_ca_crl: crl issuer"));
}

TEST_F(tdx_verify, MissingCrlsAreRefusedByDefault) {
  auto c = coll_;
  c.pck_crl.reset();
  collateral::SealDcapCollateral(c);
  EXPECT_THAT(Msg(Verify(quote_, c)), StartsWith("crl.pck: collateral has no pck_crl"));
}

TEST_F(tdx_verify, WrongTcbInfoForThePlatform) {
  // T4's TCB Info (another FMSPC, signed by the 2018 TCB Signing cert) at its own time.
  auto c = FromPcs("go-tdx-guest/sample_tcbInfo_response", "go-tdx-guest/sample_qeIdentity_response",
                   "go-tdx-guest/tcb_info_issuer_chain.pem", "", "");
  opts_.allow_missing_crls = true;
  opts_.time = At("2025-07-01T00:00:00Z");
  // The 2018 TCB Signing certificate expired on 2025-05-21.
  EXPECT_THAT(Msg(Verify(quote_, c)), StartsWith("tcb_signing.chain:"));
}

TEST_F(tdx_verify, CollateralSignerMustBeTheTcbSigningCertificate) {
  // The PCK Platform CA chains to the root too, but it does not sign collateral.
  auto c = coll_;
  c.tcb_info_issuer_chain = {c.pck_crl_issuer_chain[0]};
  collateral::SealDcapCollateral(c);
  EXPECT_THAT(Msg(Verify(quote_, c)), StartsWith("tcb_signing.chain: tcb_info_issuer_chain"));
}

TEST_F(tdx_verify, ConfiguredExtraRootsDoNotDisplaceTheBuiltinRoot) {
  opts_.extra_trusted_roots = {*IntelSgxRootCa()};
  VerifiedQuote out;
  ASSERT_TRUE(Verify(quote_, coll_, nullptr, &out).ok());
  EXPECT_TRUE(out.builtin_root);
  opts_.allow_simulation_roots = true;
  ASSERT_TRUE(Verify(quote_, coll_, nullptr, &out).ok());
  EXPECT_TRUE(out.builtin_root);  // the pinned root is tried first
}

TEST_F(tdx_verify, TruncatedQuoteFailsStructure) {
  Bytes q(quote_.begin(), quote_.begin() + 1000);
  EXPECT_THAT(Msg(Verify(q, coll_)), StartsWith("quote.structure:"));
}

TEST_F(tdx_verify, WarmPathReplaysCachedChecks) {
  VerificationCache cache;
  CheckList cold, warm;
  VerifiedQuote a, b;
  ASSERT_TRUE(Verify(quote_, coll_, &cold, &a, &cache).ok());
  EXPECT_FALSE(a.cache_hit);
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_TRUE(Verify(quote_, coll_, &warm, &b, &cache).ok());
  EXPECT_TRUE(b.cache_hit);
  EXPECT_EQ(cold.checks().size(), warm.checks().size());
  bool cached = false;
  for (const Check& c : warm.checks()) cached |= c.detail.find("(cached)") != std::string::npos;
  EXPECT_TRUE(cached);
  EXPECT_EQ(b.tcb.status, "UpToDate");
  // Per-quote checks still run on a hit.
  Bytes q = quote_;
  q[0x0B8] ^= 1;
  EXPECT_THAT(Msg(Verify(q, coll_, nullptr, nullptr, &cache)), StartsWith("quote.signature:"));
  // Outside the window the cold path runs again and names what expired.
  opts_.time = At("2025-08-20T00:00:00Z");
  EXPECT_THAT(Msg(Verify(quote_, coll_, nullptr, nullptr, &cache)), HasSubstr("stale"));
  // A different trust configuration is a different entry.
  opts_.time = At(kT1Time);
  opts_.allow_missing_crls = true;
  VerifiedQuote c;
  ASSERT_TRUE(Verify(quote_, coll_, nullptr, &c, &cache).ok());
  EXPECT_FALSE(c.cache_hit);
}

TEST_F(tdx_verify, CacheWindowEndsAtTheEarliestNextUpdate) {
  VerificationCache cache;
  VerifiedQuote v;
  ASSERT_TRUE(Verify(quote_, coll_, nullptr, &v, &cache).ok());
  EXPECT_LE(v.valid_until, At("2025-07-19T10:16:03Z"));  // tcbInfo nextUpdate bounds it
  EXPECT_GT(v.valid_until, At(kT1Time));
}

}  // namespace
}  // namespace twi::tdx
