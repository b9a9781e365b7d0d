// Quote parsing (v3, v4, v5), declared lengths, certification data nesting and PCK extensions,
// on the real vectors and on targeted corruptions that must each fail with a specific error.
#include "attestors/tdx/abi.h"

#include "attestors/core/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tdx/testdata.h"

namespace twi::tdx {
namespace {

using ::testing::HasSubstr;

constexpr size_t kSigData = 0x27C;

void Put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}
void Put32(Bytes& b, size_t at, uint32_t v) { StoreLe32(&b[at], v); }

std::string ParseError(const Bytes& b) {
  auto q = ParseQuote(b);
  return q.ok() ? std::string("ok") : std::string(q.status().message());
}

TEST(tdx_abi, V4TdxQuote) {
  auto q = ParseQuote(ReadFile("phala-dcap-qvl/tdx_quote"));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->header.version, 4);
  EXPECT_EQ(q->header.att_key_type, kAttKeyEcdsaP256);
  EXPECT_EQ(q->header.tee_type, kTeeTypeTdx);
  EXPECT_EQ(q->header.qe_vendor_id, kIntelQeVendorId);
  EXPECT_EQ(q->body_type, BodyType::kTd10);
  ASSERT_TRUE(q->is_tdx());
  EXPECT_EQ(q->td->td_attributes, 0x10000000u);
  EXPECT_EQ(q->td->xfam, 0x602e7u);
  EXPECT_EQ(HexEncode(ByteView(q->td->tee_tcb_svn).first(3)), "060103");
  EXPECT_FALSE(q->td->debug());
  EXPECT_EQ(q->signed_region.size(), 0x278u);
  EXPECT_EQ(q->cert_data_type, kCertDataQeReport);
  EXPECT_EQ(q->qe.inner_type, kCertDataPckChain);
  EXPECT_EQ(HexEncode(q->qe.qe_auth_data), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(q->declared_size, 0x27Cu + 4300u);
  EXPECT_EQ(q->trailing_bytes, 70u);
  auto chain = ParsePemBundle(AsString(q->qe.pck_chain));
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(chain->size(), 3u);
  // Spec 2.3 binding rule holds on the wire.
  Bytes bound(q->attestation_key.begin(), q->attestation_key.end());
  bound.insert(bound.end(), q->qe.qe_auth_data.begin(), q->qe.qe_auth_data.end());
  EXPECT_EQ(Sha256(bound), Bytes(q->qe.qe_report.report_data.begin(),
                                 q->qe.qe_report.report_data.begin() + 32));
}

TEST(tdx_abi, V5Td15Quote) {
  auto q = ParseQuote(ReadFile("phala-dcap-qvl/tdx_quote_outdated"));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->header.version, 5);
  EXPECT_EQ(q->body_type, BodyType::kTd15);
  EXPECT_TRUE(q->td->tdx15);
  EXPECT_EQ(q->signed_region.size(), 48u + 6u + 648u);  // signature length at 0x2BE
  EXPECT_EQ(q->declared_size, 0x2C2u + 4300u);
}

TEST(tdx_abi, V3SgxQuote) {
  auto q = ParseQuote(ReadFile("phala-dcap-qvl/sgx_quote"));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->header.version, 3);
  EXPECT_EQ(q->body_type, BodyType::kSgxEnclave);
  EXPECT_FALSE(q->is_tdx());
  ASSERT_TRUE(q->enclave.has_value());
  EXPECT_EQ(q->cert_data_type, kCertDataPckChain);
  EXPECT_EQ(q->qe.qe_auth_data.size(), 32u);
  EXPECT_EQ(q->signed_region.size(), 432u);
  EXPECT_EQ(q->declared_size, 436u + 4164u);
  EXPECT_EQ(q->trailing_bytes, 0u);
}

TEST(tdx_abi, HeaderErrorsNameTheField) {
  Bytes b = ReadFile("phala-dcap-qvl/tdx_quote");
  Bytes v = b;
  Put16(v, 0, 6);
  EXPECT_THAT(ParseError(v), HasSubstr("quote version 6 at offset 0x00"));
  v = b;
  Put16(v, 2, 3);
  EXPECT_THAT(ParseError(v), HasSubstr("attestation key type 3"));
  v = b;
  Put32(v, 4, 0x82);
  EXPECT_THAT(ParseError(v), HasSubstr("tee type 0x00000082"));
  v = b;
  Put16(v, 0, 3);
  EXPECT_THAT(ParseError(v), HasSubstr("v3 quote with tee type 0x00000081"));
  EXPECT_THAT(ParseError(Bytes(b.begin(), b.begin() + 20)), HasSubstr("shorter than its 48-byte header"));
}

TEST(tdx_abi, V5BodyTypeAndSize) {
  Bytes b = ReadFile("phala-dcap-qvl/tdx_quote_outdated");
  Bytes v = b;
  Put16(v, 48, 4);
  EXPECT_THAT(ParseError(v), HasSubstr("v5 body type 4"));
  v = b;
  Put32(v, 50, 584);
  EXPECT_THAT(ParseError(v), HasSubstr("declares size 584 at offset 0x32, want 648"));
  v = b;
  Put16(v, 48, 1);
  Put32(v, 50, 384);
  EXPECT_THAT(ParseError(v), HasSubstr("does not fit tee type"));
}

TEST(tdx_abi, DeclaredLengthsRule) {
  Bytes b = ReadFile("phala-dcap-qvl/tdx_quote");
  Bytes v = b;
  Put32(v, 0x278, 5000);
  EXPECT_THAT(ParseError(v), HasSubstr("signature data length 5000 at offset 0x278 exceeds"));
  v = b;
  Put32(v, 0x278, 4200);  // shorter than its content
  EXPECT_THAT(ParseError(v), HasSubstr("certification data size"));
  v = b;
  Put16(v, kSigData + 128, 4);
  EXPECT_THAT(ParseError(v), HasSubstr("certification data type 4 at offset 0x2fc, want 6"));
  v = b;
  size_t inner = kSigData + 134 + 384 + 64 + 2 + 32;
  Put16(v, inner, 4);
  EXPECT_THAT(ParseError(v), HasSubstr("inner certification data type 4"));
  v = b;
  Put32(v, inner + 2, 10);
  EXPECT_THAT(ParseError(v), HasSubstr("certification data ends at offset"));
  // Trailing bytes are counted, never read: appending anything changes nothing else.
  v = b;
  v.insert(v.end(), {'x', 'y', 'z'});
  auto q = ParseQuote(v);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->trailing_bytes, 73u);
  // Truncation inside the signature data.
  EXPECT_THAT(ParseError(Bytes(b.begin(), b.begin() + 0x27C + 100)), HasSubstr("exceeds"));
}

TEST(tdx_abi, EmptyPckChainIsRejected) {
  Bytes b = ReadFile("phala-dcap-qvl/tdx_quote");
  size_t inner = kSigData + 134 + 384 + 64 + 2 + 32;
  uint32_t size = LoadLe32(&b[inner + 2]);
  std::fill(b.begin() + inner + 6, b.begin() + inner + 6 + size, 0);
  EXPECT_THAT(ParseError(b), HasSubstr("pck certificate chain is empty"));
}

TEST(tdx_abi, SignatureHelpers) {
  EXPECT_FALSE(RawSignatureToDer(Bytes(63)).ok());
  auto der = RawSignatureToDer(Bytes(64, 1));
  ASSERT_TRUE(der.ok());
  EXPECT_EQ((*der)[0], 0x30);
  EXPECT_THAT(std::string(P256KeyFromXy(Bytes(64, 0)).status().message()),
              HasSubstr("not a point on the curve"));
  auto q = ParseQuote(ReadFile("phala-dcap-qvl/tdx_quote"));
  EXPECT_TRUE(P256KeyFromXy(q->attestation_key).ok());
}

Certificate Leaf(const std::string& quote) {
  auto q = ParseQuote(ReadFile(quote));
  return (*ParsePemBundle(AsString(q->qe.pck_chain)))[0];
}

Bytes SgxExtension(const Certificate& c) {
  for (const auto& e : c.Extensions()) {
    if (e.oid == kSgxExtensionOid) return e.value;
  }
  return {};
}

TEST(tdx_abi, PckExtensions) {
  auto ext = ParsePckExtensions(Leaf("phala-dcap-qvl/tdx_quote"));
  ASSERT_TRUE(ext.ok()) << ext.status();
  EXPECT_EQ(HexEncode(ext->fmspc), "b0c06f000000");
  EXPECT_EQ(HexEncode(ext->pce_id), "0000");
  EXPECT_EQ(ext->pce_svn, 11);
  EXPECT_EQ(ext->ppid.size(), 16u);
  EXPECT_TRUE(ext->sgx_type.has_value());
  auto t3 = ParsePckExtensions(Leaf("phala-dcap-qvl/tdx_quote_outdated"));
  ASSERT_TRUE(t3.ok());
  EXPECT_EQ(t3->sgx_tcb[7], 3);  // index T3: component 8 = 3
  auto t4 = ParsePckExtensions(Leaf("go-tdx-guest/tdx_prod_quote_SPR_E4.dat"));
  ASSERT_TRUE(t4.ok());
  EXPECT_EQ(HexEncode(ByteView(t4->sgx_tcb).first(8)), "0303020202010002");
}

TEST(tdx_abi, PckExtensionErrors) {
  Bytes ext = SgxExtension(Leaf("phala-dcap-qvl/tdx_quote"));
  ASSERT_FALSE(ext.empty());
  EXPECT_THAT(std::string(DecodeSgxExtension(Bytes{0x01, 0x02}).status().message()),
              HasSubstr("not a der sequence"));
  // Renumber the FMSPC OID (...13.1.4 -> ...13.1.9): FMSPC is then missing.
  const Bytes fmspc_oid = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01, 0x04, 0x04, 0x06};
  auto at = std::search(ext.begin(), ext.end(), fmspc_oid.begin(), fmspc_oid.end());
  ASSERT_NE(at, ext.end());
  Bytes v = ext;
  v[at - ext.begin() + 9] = 0x09;
  EXPECT_THAT(std::string(DecodeSgxExtension(v).status().message()), HasSubstr("lacks .4 (fmspc)"));
  // Renumber it to .3 instead: PCE-ID twice.
  v = ext;
  v[at - ext.begin() + 9] = 0x03;
  EXPECT_THAT(std::string(DecodeSgxExtension(v).status().message()), HasSubstr("appears twice"));
  // A truncated value is not a sequence.
  EXPECT_FALSE(DecodeSgxExtension(ByteView(ext).first(ext.size() - 3)).ok());
  // A certificate without the extension (the root).
  auto q = ParseQuote(ReadFile("phala-dcap-qvl/tdx_quote"));
  auto root = (*ParsePemBundle(AsString(q->qe.pck_chain)))[2];
  EXPECT_THAT(std::string(ParsePckExtensions(root).status().message()), HasSubstr("lacks the sgx extension"));
}

}  // namespace
}  // namespace twi::tdx
