// The HCL report builder: what it builds parses with the abi parser, binds its runtime claims
// (CheckBinding) and names its AK as HCLAkPub with the key's own SPKI.
#include "attestors/azure/hcl_builder.h"

#include <openssl/rsa.h>

#include "attestors/azure/verify.h"
#include "gtest/gtest.h"

namespace twi::azure {
namespace {

EvpPkeyPtr Rsa2048() {
  EvpPkeyPtr k(EVP_RSA_gen(2048));
  EXPECT_NE(k, nullptr);
  return k;
}

TEST(HclBuilder, Base64UrlRoundTrips) {
  for (size_t n = 0; n < 70; ++n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 37 + n);
    auto back = Base64UrlDecode(Base64UrlEncode(b));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, b) << n;
  }
  EXPECT_EQ(Base64UrlEncode(ToBytes("\xfb\xff")), "-_8");
}

TEST(HclBuilder, TdxReportParsesAndBinds) {
  EvpPkeyPtr ak = Rsa2048();
  auto jwk = RsaJwkSpec("HCLAkPub", {"sign"}, ak.get());
  ASSERT_TRUE(jwk.ok()) << jwk.status();
  RuntimeClaimsSpec spec;
  spec.keys.push_back(*jwk);
  spec.vm_unique_id = "0F6C2C6E-1C8B-4B54-9A1E-5D2A0E5C0F11";
  const std::string claims = BuildRuntimeClaims(spec);
  auto rd = HclReportData(AsBytes(claims));
  ASSERT_TRUE(rd.ok());
  Bytes td_report(kTdReportSize, 0);
  std::copy(rd->begin(), rd->end(), td_report.begin() + 0x80);
  HclReportSpec hs;
  hs.type = ReportType::kTdx;
  hs.hw_report = td_report;
  hs.runtime_claims = AsBytes(claims);
  hs.pad_to = 2600;
  auto hcl_bytes = BuildHclReport(hs);
  ASSERT_TRUE(hcl_bytes.ok()) << hcl_bytes.status();
  EXPECT_EQ(hcl_bytes->size(), 2600u);
  auto hcl = ParseHclReport(*hcl_bytes);
  ASSERT_TRUE(hcl.ok()) << hcl.status();
  EXPECT_TRUE(hcl->is_tdx());
  EXPECT_TRUE(IsAllZero(ByteView(hcl->hw_report).subspan(kTdReportSize)));
  CheckList checks;
  EXPECT_TRUE(CheckBinding(*hcl, checks).ok());
  auto parsed = ParseRuntimeClaims(hcl->runtime_claims);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Jwk* key = parsed->FindKey("HCLAkPub");
  ASSERT_NE(key, nullptr);
  auto spki = PublicKeyToSpki(ak.get());
  ASSERT_TRUE(spki.ok());
  EXPECT_EQ(key->spki, *spki);
  EXPECT_EQ(parsed->vm_unique_id, spec.vm_unique_id);
}

// The SEV-SNP simulator's claims carry no user-data key; the default is Azure's 64 zero bytes.
TEST(HclBuilder, UserDataIsOptional) {
  RuntimeClaimsSpec spec;
  spec.vm_unique_id = "vm";
  EXPECT_NE(BuildRuntimeClaims(spec).find("\"user-data\":\"" + std::string(128, '0') + "\""),
            std::string::npos);
  spec.user_data.reset();
  EXPECT_EQ(BuildRuntimeClaims(spec),
            R"({"keys":[],"vm-configuration":{"console-enabled":false,"secure-boot":true,)"
            R"("tpm-enabled":true,"tpm-persisted":true,"vmUniqueId":"vm"}})");
}

TEST(HclBuilder, SnpReportNeedsFullSize) {
  Bytes short_report(kTdReportSize, 0);
  HclReportSpec hs;
  hs.type = ReportType::kSnp;
  hs.hw_report = short_report;
  auto r = BuildHclReport(hs);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("want 1184"), std::string::npos);
}

}  // namespace
}  // namespace twi::azure
