// The Azure SEV-SNP verifier on every Azure vector of the index (A1-A9) with its documented
// result, and negatives: edited runtime claims, REPORT_DATA not matching, bad declared lengths.
#include "attestors/azure/verify.h"

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "attestors/tpm/abi.h"
#include "gtest/gtest.h"
#include "test/azure/testdata.h"

namespace twi::azure {
namespace {

using testing::ReadFile;
using testing::Vector;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

bool Passed(const CheckList& checks, const std::string& name) {
  for (const auto& c : checks.checks()) if (c.name == name && c.passed) return true;
  return false;
}

absl::Status Verify(const Vector& v, CheckList& checks, VerifiedAzureSnp* out,
                    const VerifyOptions* options = nullptr) {
  return VerifyAzureSnp(v.evidence(), options ? *options : v.options(), checks, out);
}

void ExpectValid(const Vector& v) {
  CheckList checks;
  VerifiedAzureSnp out;
  absl::Status s = Verify(v, checks, &out);
  ASSERT_TRUE(s.ok()) << s;
  for (const char* name : {"hcl.structure", "hcl.binding", "report.signature", "cert.chain",
                           "snp.vmpl", "ak.hcl_key", "quote.signature", "quote.nonce", "pcr.digest"}) {
    EXPECT_TRUE(Passed(checks, name)) << name;
  }
  EXPECT_TRUE(out.quote.pcr_digest_ok);
  EXPECT_EQ(out.snp.report.vmpl, 0u);
  auto claims = Claims(out);
  EXPECT_EQ(claims["measurement"].size(), 96u);
  EXPECT_EQ(claims["ak_pub_sha256"].size(), 64u);
  EXPECT_EQ(claims["report_data_binding"].size(), 64u);
  EXPECT_FALSE(claims["vm_id"].empty());
}

TEST(AzureVectors, A1V1AllValid) {
  Vector v = testing::TrusteeV1V2("evidence-v1.json");
  ExpectValid(v);
  CheckList checks;
  VerifiedAzureSnp out;
  ASSERT_TRUE(Verify(v, checks, &out).ok());
  EXPECT_EQ(out.snp.report.policy.raw, 0x3001Fu);
  EXPECT_EQ(HexEncode(out.quote.pcrs[TPM2_ALG_SHA256][0]).substr(0, 8), "e15c4479");
  ASSERT_NE(out.claims.FindKey("HCLEkPub"), nullptr);
}

TEST(AzureVectors, A1V0SameVmValid) {
  Vector v0 = testing::TrusteeV0();
  ExpectValid(v0);
  CheckList c0, c1;
  VerifiedAzureSnp o0, o1;
  ASSERT_TRUE(Verify(v0, c0, &o0).ok());
  ASSERT_TRUE(Verify(testing::TrusteeV1V2("evidence-v1.json"), c1, &o1).ok());
  EXPECT_EQ(o0.claims.vm_unique_id, o1.claims.vm_unique_id);
}

TEST(AzureVectors, A2V2ValidWithUserData) {
  Vector v = testing::TrusteeV1V2("evidence-v2.json");
  auto attest = tpm::ParseAttest(v.quote);
  ASSERT_TRUE(attest.ok());
  const auto& extra = attest->attest.extraData;
  v.nonce.assign(extra.buffer, extra.buffer + extra.size);
  ASSERT_EQ(v.nonce.size(), 48u);
  EXPECT_EQ(HexEncode(v.nonce).substr(0, 8), "982f5c6e");
  ExpectValid(v);
  VerifyOptions o = v.options();
  o.expected_user_data = v.nonce;
  CheckList checks;
  VerifiedAzureSnp out;
  ASSERT_TRUE(Verify(v, checks, &out, &o).ok());
  EXPECT_TRUE(Passed(checks, "user_data"));
  // Another expected value is refused at user_data, before any signature.
  o.expected_user_data = ToBytes("challenge");
  CheckList refused;
  absl::Status s = Verify(v, refused, &out, &o);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "user_data: got ")) << s;
}

TEST(AzureVectors, A3ValidWithBothQuoteEncodings) {
  ExpectValid(testing::A3(/*bincode=*/true));
  ExpectValid(testing::A3(/*bincode=*/false));
}

TEST(AzureVectors, A3AkPublicAreaMustMatchTheJwk) {
  Vector v = testing::A3(true);
  // An AK public area whose key differs from HCLAkPub is refused by ak.public_match.
  TPMT_PUBLIC area{};
  area.type = TPM2_ALG_RSA;
  area.nameAlg = TPM2_ALG_SHA256;
  area.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_FIXEDTPM |
                          TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;
  area.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
  area.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
  area.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
  area.parameters.rsaDetail.keyBits = 2048;
  area.unique.rsa.size = 256;
  for (int i = 0; i < 256; ++i) area.unique.rsa.buffer[i] = static_cast<uint8_t>(0x80 | i);
  auto pub = tpm::PublicFromArea(area);
  ASSERT_TRUE(pub.ok()) << pub.status();
  Evidence e = v.evidence();
  e.ak_public = *pub;
  CheckList checks;
  VerifiedAzureSnp out;
  absl::Status s = VerifyAzureSnp(e, v.options(), checks, &out);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "ak.public_match: ak public area spki sha256 got ")) << s;
}

TEST(AzureVectors, A4QuoteByAnotherAkRefusedAtSignature) {
  Vector v = testing::A3(true);
  v.quote = ReadFile("trustee/tpm-quote.msg");
  v.signature = testing::RsassaSha256(ReadFile("trustee/tpm-quote.sig"));
  CheckList checks;
  VerifiedAzureSnp out;
  absl::Status s = Verify(v, checks, &out);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "quote.signature: ")) << s;
  EXPECT_TRUE(Passed(checks, "hcl.binding"));
  EXPECT_TRUE(Passed(checks, "report.signature"));
}

TEST(AzureVectors, A5BindingValidButWrongVcekFails) {
  Bytes hcl = ReadFile("kinvolk-azure-cvm-tooling/hcl-report-snp.bin");
  auto parsed = ParseHclReport(hcl);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  CheckList binding;
  EXPECT_TRUE(CheckBinding(*parsed, binding).ok());
  auto claims = ParseRuntimeClaims(parsed->runtime_claims);
  ASSERT_TRUE(claims.ok()) << claims.status();
  const Jwk* ak = claims->FindKey("HCLAkPub");
  ASSERT_NE(ak, nullptr);
  EXPECT_EQ(ak->key_ops, std::vector<std::string>{"encrypt"});
  EXPECT_EQ(claims->FindKey("HCLEkPub"), nullptr);

  auto certs = testing::Certs("kinvolk-azure-cvm-tooling/certs.pem");  // A6
  ASSERT_GE(certs.size(), 3u);
  Vector v;
  v.hcl = hcl;
  v.vcek = certs[0].der();
  v.chain.assign(certs.begin() + 1, certs.end());
  testing::BincodeQuote(ReadFile("kinvolk-azure-cvm-tooling/quote.bin"), v);
  v.at = testing::At("2024-01-01T00:00:00Z");
  v.nonce = ToBytes("challenge");
  CheckList checks;
  VerifiedAzureSnp out;
  absl::Status s = Verify(v, checks, &out);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Passed(checks, "hcl.binding"));
  EXPECT_TRUE(Passed(checks, "cert.chain"));  // A6's chain itself is valid
  // The VCEK is another chip's: refused at its hwID before the signature would fail.
  EXPECT_TRUE(absl::StartsWith(Msg(s), "cert.hwid_match: ")) << s;
  EXPECT_FALSE(Passed(checks, "report.signature")) << s;
  EXPECT_FALSE(Passed(checks, "quote.signature"));
}

TEST(AzureVectors, A7QuoteValidWithAkpubNotWithA5Ak) {
  Vector v;
  testing::BincodeQuote(ReadFile("kinvolk-azure-cvm-tooling/quote.bin"), v);
  tpm::VerifyOptions o;
  o.nonce = ToBytes("challenge");
  o.allow_ak_without_attributes = true;
  auto ak = tpm::AkKey::Parse(ReadFile("kinvolk-azure-cvm-tooling/akpub.pem"));
  ASSERT_TRUE(ak.ok());
  CheckList checks;
  tpm::VerifiedQuote q;
  EXPECT_TRUE(tpm::VerifyQuote(*ak, v.quote, v.signature, v.pcrs, o, checks, &q).ok());

  auto hcl = ParseHclReport(ReadFile("kinvolk-azure-cvm-tooling/hcl-report-snp.bin"));
  ASSERT_TRUE(hcl.ok());
  auto claims = ParseRuntimeClaims(hcl->runtime_claims);
  ASSERT_TRUE(claims.ok());
  auto a5 = tpm::AkKey::FromSpki(claims->FindKey("HCLAkPub")->spki);
  ASSERT_TRUE(a5.ok());
  CheckList refused;
  absl::Status s = tpm::VerifyQuote(*a5, v.quote, v.signature, v.pcrs, o, refused, &q);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "quote.signature: ")) << s;
}

TEST(AzureVectors, A8TdxParsesAndBindsButIsNotSnp) {
  Bytes hcl = ReadFile("kinvolk-azure-cvm-tooling/hcl-report-tdx.bin");
  auto parsed = ParseHclReport(hcl);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->version, 2u);
  EXPECT_TRUE(parsed->is_tdx());
  EXPECT_EQ(parsed->td_report().size(), kTdReportSize);
  CheckList checks;
  EXPECT_TRUE(CheckBinding(*parsed, checks).ok());
  EXPECT_TRUE(ParseRuntimeClaims(parsed->runtime_claims).ok());
  Vector v;
  v.hcl = hcl;
  CheckList refused;
  VerifiedAzureSnp out;
  EXPECT_EQ(Msg(Verify(v, refused, &out)), "hcl.report_type: got 4, want 2 (snp)");
}

TEST(AzureVectors, A9RuntimeClaimsParse) {
  auto claims = ParseRuntimeClaims(ReadFile("kinvolk-azure-cvm-tooling/var-data.bin"));
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_NE(claims->FindKey("HCLAkPub"), nullptr);
  EXPECT_TRUE(claims->vm_unique_id.has_value());
}

// The SPKI written by hand equals OpenSSL's encoding of the same key, for every vector's keys.
TEST(AzureAbi, JwkSpkiMatchesOpenSsl) {
  for (const char* f : {"trustee/hcl-report.bin", "kinvolk-azure-cvm-tooling/hcl-report-snp.bin",
                        "kinvolk-azure-cvm-tooling/hcl-report-tdx.bin"}) {
    auto hcl = ParseHclReport(ReadFile(f));
    ASSERT_TRUE(hcl.ok()) << f;
    auto claims = ParseRuntimeClaims(hcl->runtime_claims);
    ASSERT_TRUE(claims.ok()) << f;
    ASSERT_FALSE(claims->keys.empty());
    for (const Jwk& k : claims->keys) {
      auto spki = PublicKeyToSpki(k.key.get());
      ASSERT_TRUE(spki.ok());
      EXPECT_EQ(HexEncode(*spki), HexEncode(k.spki)) << f << " " << k.kid;
    }
  }
  // Leading zero of n stripped, sign byte added: 0x00 0x80.. -> INTEGER 00 80..
  Bytes n(256, 0x80);
  n.insert(n.begin(), 0x00);
  auto key = PublicKeyFromSpki(RsaSpki(n, Bytes{0x01, 0x00, 0x01}));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(HexEncode(*PublicKeyToSpki(key->get())), HexEncode(RsaSpki(n, Bytes{0x01, 0x00, 0x01})));
}

// ---- negatives ----

absl::Status VerifyEdited(const Vector& v, CheckList& checks) {
  VerifiedAzureSnp out;
  return Verify(v, checks, &out);
}

TEST(AzureNegative, RuntimeClaimsEditedFailBinding) {
  Vector v = testing::A3(true);
  const std::string needle = "\"vmUniqueId\":\"";
  auto it = std::search(v.hcl.begin(), v.hcl.end(), needle.begin(), needle.end());
  ASSERT_NE(it, v.hcl.end());
  uint8_t& c = *(it + static_cast<long>(needle.size()));
  c = c == '0' ? '1' : '0';
  CheckList checks;
  absl::Status s = VerifyEdited(v, checks);
  EXPECT_TRUE(absl::StartsWith(Msg(s), "hcl.binding: report_data got ")) << s;
  EXPECT_FALSE(Passed(checks, "report.signature"));
}

TEST(AzureNegative, ReportDataNotMatchingClaimsHash) {
  Vector v = testing::A3(true);
  v.hcl[kHwReportOffset + 0x50] ^= 1;
  CheckList checks;
  EXPECT_TRUE(absl::StartsWith(Msg(VerifyEdited(v, checks)), "hcl.binding: report_data got "));
  v = testing::A3(true);
  v.hcl[kHwReportOffset + 0x50 + 40] = 1;  // the zero half
  CheckList rest;
  EXPECT_TRUE(absl::StartsWith(Msg(VerifyEdited(v, rest)), "hcl.binding: report_data after the digest"));
}

TEST(AzureNegative, DeclaredLengths) {
  const Bytes good = ReadFile("trustee/hcl-report.bin");
  auto parsed = ParseHclReport(good);
  ASSERT_TRUE(parsed.ok());
  const uint32_t var = static_cast<uint32_t>(parsed->runtime_claims.size());

  Bytes truncated(good.begin(), good.begin() + kVarDataOffset + var - 1);
  EXPECT_EQ(Msg(ParseHclReport(truncated).status()),
            absl::StrCat("hcl.structure: variable data size got ", var, ", want at most ", var - 1,
                         " (the bytes after 0x4d4)"));
  EXPECT_EQ(Msg(ParseHclReport(ByteView(good.data(), 100)).status()),
            "hcl.structure: got 100 bytes, want at least 1236");

  Bytes huge = good;
  StoreLe32(huge.data() + kRuntimeDataOffset + 16, 0xFFFFFFFFu);
  EXPECT_TRUE(absl::StartsWith(Msg(ParseHclReport(huge).status()),
                               "hcl.structure: variable data size got 4294967295, want at most "));
  Bytes data_size = good;
  StoreLe32(data_size.data() + kRuntimeDataOffset, 7);
  EXPECT_EQ(Msg(ParseHclReport(data_size).status()),
            absl::StrCat("hcl.structure: runtime data size got 7, want ", 20 + var,
                         " (20 + variable size)"));
  Bytes report_size = good;
  StoreLe32(report_size.data() + 8, 0xFFFFFFFFu);
  EXPECT_EQ(Msg(ParseHclReport(report_size).status()),
            absl::StrCat("hcl.structure: report size got 4294967295, want ", kVarDataOffset + var,
                         " (0x4d4 + variable size)"));
  Bytes magic = good;
  magic[0] = 'X';
  EXPECT_EQ(Msg(ParseHclReport(magic).status()),
            "hcl.structure: signature got 58434c41, want 48434c41 (\"HCLA\")");
  Bytes hash = good;
  StoreLe32(hash.data() + kRuntimeDataOffset + 12, 9);
  auto h = ParseHclReport(hash);
  ASSERT_TRUE(h.ok());
  CheckList checks;
  EXPECT_EQ(Msg(CheckBinding(*h, checks)),
            "hcl.binding: hash type got 9, want 1 (sha256), 2 (sha384) or 3 (sha512)");
}

TEST(AzureNegative, RuntimeClaimsJson) {
  EXPECT_EQ(Msg(ParseRuntimeClaims(ToBytes("[1]")).status()),
            "runtime_claims.structure: not a JSON object");
  EXPECT_EQ(Msg(ParseRuntimeClaims(ToBytes("{}")).status()),
            "runtime_claims.structure: \"keys\" missing or not an array");
  EXPECT_EQ(Msg(ParseRuntimeClaims(ToBytes(R"({"keys":[{"kid":"HCLAkPub\n","kty":"RSA","n":"AQAB","e":"AQAB"}]})")).status()),
            "runtime_claims.structure: key \"HCLAkPub\\x0a\": n: modulus got 24 bits (at most), want 1024..8192");
  EXPECT_EQ(Msg(ParseRuntimeClaims(ToBytes(R"({"keys":[{"kid":"a","kty":"RSA","n":"!!","e":"AQAB"}]})")).status()),
            "runtime_claims.structure: key \"a\": n: base64url: invalid character");
  // An AK missing from otherwise valid claims is refused by ak.hcl_key in the verifier; here
  // the parser keeps non-RSA keys out.
  auto c = ParseRuntimeClaims(ToBytes(R"({"keys":[{"kid":"HCLAkPub","kty":"EC"}]})"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->FindKey("HCLAkPub"), nullptr);
}

}  // namespace
}  // namespace twi::azure
