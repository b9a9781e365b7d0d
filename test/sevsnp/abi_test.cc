// Structural parsing of SEV-SNP reports, certificate tables and VCEK/VLEK extensions: real
// vectors for the positive paths, one targeted byte change per negative case.
#include "attestors/sevsnp/abi.h"

#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/sevsnp/testdata.h"

namespace twi::sevsnp {
namespace {

using ::testing::HasSubstr;


Bytes S1Report() { return ReadFile("go-sev-guest/attestation.bin"); }
Bytes S4Report() { return ReadFile("trustee/test-vlek-report.bin"); }  // v3, Milan, VLEK

std::string ParseError(const Bytes& b, ParseOptions o = {}) {
  auto r = ParseReport(b, o);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

TEST(sevsnp_abi, ParsesS1V2ReportFields) {
  auto r = ParseReport(S1Report());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->policy.raw, 0xB0000u);
  EXPECT_TRUE(r->policy.debug);
  EXPECT_TRUE(r->policy.smt);
  EXPECT_TRUE(r->policy.reserved_bit17);
  EXPECT_FALSE(r->policy.migrate_ma);
  EXPECT_EQ(r->vmpl, 0u);
  EXPECT_EQ(r->signature_algo, 1u);
  EXPECT_EQ(r->signer_info.signing_key, SigningKey::kVcek);
  EXPECT_EQ(r->report_data[0], 1);
  EXPECT_EQ(r->report_data[4], 5);
  EXPECT_TRUE(IsAllZero(ByteView(r->report_data).subspan(5)));
  EXPECT_EQ(HexEncode(ByteView(r->chip_id).first(4)), "3ac3fe21");
  EXPECT_EQ(r->reported_tcb.raw, 0x4405000000000002u);
  // v2: no CPUID, so no product and no TCB layout until the caller supplies one.
  EXPECT_EQ(r->product, Product::kUnknown);
  EXPECT_FALSE(r->reported_tcb.decoded);
  EXPECT_EQ(TcbString(r->reported_tcb), "raw=0x4405000000000002");
  EXPECT_EQ(FirmwareString(r->current_fw), "1.49.3");
  EXPECT_TRUE(IsAllZero(r->id_key_digest));
  EXPECT_EQ(r->report_id_ma[0], 0xFF);

  ASSERT_TRUE(SetProduct(*r, Product::kMilan).ok());
  EXPECT_EQ(TcbString(r->reported_tcb), "bl=2,tee=0,snp=5,ucode=68");
  EXPECT_THAT(std::string(SetProduct(*r, Product::kGenoa).message()),
              HasSubstr("report product is milan, not genoa"));
}

TEST(sevsnp_abi, ParsesS4V3ReportWithCpuidProduct) {
  auto r = ParseReport(S4Report());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 3u);
  EXPECT_EQ(r->product, Product::kMilan);
  EXPECT_EQ(r->cpuid_fam_id, 0x19);
  EXPECT_EQ(r->cpuid_mod_id, 0x01);
  EXPECT_EQ(r->cpuid_step, 0x01);
  EXPECT_EQ(r->vmpl, 1u);
  EXPECT_EQ(r->signer_info.raw, 0x4u);
  EXPECT_EQ(r->signer_info.signing_key, SigningKey::kVlek);
  EXPECT_FALSE(r->signer_info.author_key_en);
  EXPECT_EQ(r->platform_info.raw, 0x27u);
  EXPECT_TRUE(r->platform_info.smt_en);
  EXPECT_TRUE(r->platform_info.tsme_en);
  EXPECT_TRUE(r->platform_info.ecc_en);
  EXPECT_TRUE(r->platform_info.alias_check_complete);
  EXPECT_EQ(r->platform_info.unknown_bits, 0u);
  EXPECT_TRUE(IsAllZero(r->chip_id));
  EXPECT_EQ(TcbString(r->reported_tcb), "bl=4,tee=0,snp=24,ucode=217");
  EXPECT_EQ(TcbString(r->committed_tcb), "bl=4,tee=0,snp=24,ucode=219");
  EXPECT_EQ(FirmwareString(r->current_fw), "1.55.29");
}

TEST(sevsnp_abi, ParsesS2HexReport) {
  Bytes text = ReadFile("virtee-sev/report_milan.hex");
  std::string hex;
  for (uint8_t c : text) {
    if (!std::isspace(c)) hex.push_back(static_cast<char>(c));
  }
  auto bytes = HexDecode(hex);
  ASSERT_TRUE(bytes.ok());
  auto r = ParseReport(*bytes, {Product::kMilan});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->policy.raw, 0x30000u);
  EXPECT_EQ(TcbString(r->reported_tcb), "bl=3,tee=0,snp=8,ucode=115");
}

TEST(sevsnp_abi, RejectsWrongSizes) {
  EXPECT_EQ(ParseError(Bytes(100)), "attestation report is 100 bytes, want 1184");
  EXPECT_EQ(ParseError(Bytes()), "attestation report is 0 bytes, want 1184");
  Bytes longer = S1Report();
  longer.push_back(0);
  EXPECT_EQ(ParseError(longer), "attestation report is 1185 bytes, want 1184");
}

TEST(sevsnp_abi, VersionTable) {
  struct Case { uint32_t version; std::string error; };
  const Case cases[] = {
      {0, "unsupported report version 0 (want 2, 3, 4 or 5)"},
      {1, "unsupported report version 1 (want 2, 3, 4 or 5)"},
      {6, "unknown report version 6 (want 2, 3, 4 or 5)"},
      {0xFFFFFFFF, "unknown report version 4294967295 (want 2, 3, 4 or 5)"},
      {3, ""},
      {4, ""},  // not seen in the wild: parsed with the v3 layout
      {5, ""},  // the mitigation vectors of the v3 sample are zero, so this parses too
      {2, "reserved bytes 0x188..0x19f (v2 cpuid area) must be zero, got 1901010000000000... at "
          "offset 0x188"},
  };
  for (const Case& c : cases) {
    Bytes b = S4Report();
    StoreLe32(b.data(), c.version);
    auto r = ParseReport(b);
    if (c.error.empty()) {
      ASSERT_TRUE(r.ok()) << c.version << ": " << r.status();
      EXPECT_EQ(r->product, Product::kMilan);
    } else {
      ASSERT_FALSE(r.ok()) << c.version;
      EXPECT_EQ(r.status().message(), c.error) << c.version;
    }
  }
}

TEST(sevsnp_abi, RejectsSignatureAlgoAndSignerInfo) {
  Bytes b = S1Report();
  StoreLe32(b.data() + 0x34, 2);
  EXPECT_EQ(ParseError(b),
            "unsupported SIGNATURE_ALGO 2 at offset 0x034 (want 1, ecdsa p-384 with sha-384)");
  b = S1Report();
  StoreLe32(b.data() + 0x48, 0x20);
  EXPECT_EQ(ParseError(b),
            "signer info 0x00000020 at offset 0x048 sets reserved bits 31:5 (0x00000020)");
  b = S1Report();
  StoreLe32(b.data() + 0x48, 3 << 2);
  EXPECT_EQ(ParseError(b),
            "signer info SIGNING_KEY 3 at offset 0x048 is reserved (want 0 vcek, 1 vlek or 7 "
            "none)");
  b = S1Report();
  StoreLe32(b.data() + 0x48, 7 << 2 | 2);  // "none" parses; the verifier refuses it
  auto r = ParseReport(b);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->signer_info.signing_key, SigningKey::kNone);
  EXPECT_TRUE(r->signer_info.mask_chip_key);
}

TEST(sevsnp_abi, ReservedRangesNameOffsetAndBytes) {
  struct Case { size_t offset; uint8_t value; std::string error; };
  const Case cases[] = {
      {0x04D, 0x01, "reserved bytes 0x04c..0x04f (after signer info) must be zero, got 010000 at "
                    "offset 0x04d"},
      {0x19F, 0xAA, "reserved bytes 0x18b..0x19f (after cpuid) must be zero, got aa at offset "
                    "0x19f"},
      {0x1EB, 0x02, "reserved bytes 0x1eb..0x1eb (after CURRENT_MAJOR) must be zero, got 02 at "
                    "offset 0x1eb"},
      {0x1EF, 0x03, "reserved bytes 0x1ef..0x1ef (after COMMITTED_MAJOR) must be zero, got 03 "
                    "at offset 0x1ef"},
      {0x1F8, 0x01, "reserved bytes 0x1f8..0x207 (mitigation vectors before v5) must be zero, "
                    "got 0100000000000000... at offset 0x1f8"},
      {0x29F, 0xFF, "reserved bytes 0x208..0x29f (before SIGNATURE) must be zero, got ff at "
                    "offset 0x29f"},
      {0x2D0, 0x01, "reserved bytes 0x2d0..0x2e7 (SIGNATURE R high bytes) must be zero, got "
                    "0100000000000000... at offset 0x2d0"},
      {0x32F, 0x01, "reserved bytes 0x318..0x32f (SIGNATURE S high bytes) must be zero, got 01 "
                    "at offset 0x32f"},
      {0x49F, 0x10, "reserved bytes 0x330..0x49f (SIGNATURE tail) must be zero, got 10 at "
                    "offset 0x49f"},
  };
  for (const Case& c : cases) {
    Bytes b = S4Report();  // v3: exercises the after-cpuid range
    b[c.offset] = c.value;
    EXPECT_EQ(ParseError(b), c.error) << std::hex << c.offset;
  }
}

TEST(sevsnp_abi, CpuidProductDetection) {
  Bytes b = S4Report();
  b[0x188] = 0x17;
  EXPECT_EQ(ParseError(b), "unsupported cpuid family 0x17 model 0x01 at offset 0x188 (want "
                           "milan, genoa or turin)");
  EXPECT_EQ(ParseError(S4Report(), {Product::kGenoa}),
            "report cpuid says milan, but the caller expects genoa");
  struct Case { uint8_t fam, model; Product want; };
  const Case cases[] = {{0x19, 0x01, Product::kMilan}, {0x19, 0x00, Product::kMilan},
                        {0x19, 0x11, Product::kGenoa}, {0x19, 0x10, Product::kGenoa},
                        {0x1A, 0x02, Product::kTurin}, {0x1A, 0x11, Product::kTurin},
                        {0x19, 0x21, Product::kUnknown}, {0x17, 0x31, Product::kUnknown},
                        // Bergamo/Siena (Zen 4c) run SEV-SNP with Genoa VCEKs.
                        {0x19, 0xA0, Product::kGenoa}, {0x19, 0xAF, Product::kGenoa},
                        {0x19, 0xB0, Product::kUnknown}, {0x1A, 0x12, Product::kUnknown},
                        {0x1A, 0x50, Product::kUnknown}};
  for (const Case& c : cases) {
    EXPECT_EQ(ProductFromCpuid(c.fam, c.model), c.want) << int(c.fam) << "/" << int(c.model);
  }
  EXPECT_EQ(ProductFromName("Milan-B0"), Product::kMilan);
  EXPECT_EQ(ProductFromName("Genoa"), Product::kGenoa);
  EXPECT_EQ(ProductFromName("turin"), Product::kTurin);
  EXPECT_EQ(ProductFromName("Bergamo"), Product::kUnknown);
  EXPECT_EQ(ProductFromName(""), Product::kUnknown);
}

TEST(sevsnp_abi, TcbLayoutsPerProduct) {
  // Milan/Genoa: bl@0 tee@1 snp@6 ucode@7. Turin: fmc@0 bl@1 tee@2 snp@3 ucode@7.
  TcbVersion m = DecodeTcb(0xDB18000000000004, Product::kGenoa);
  EXPECT_EQ(TcbString(m), "bl=4,tee=0,snp=24,ucode=219");
  EXPECT_FALSE(m.has_fmc);
  TcbVersion t = DecodeTcb(0x4800000003020105, Product::kTurin);
  EXPECT_EQ(t.fmc, 5);
  EXPECT_EQ(t.bootloader, 1);
  EXPECT_EQ(t.tee, 2);
  EXPECT_EQ(t.snp, 3);
  EXPECT_EQ(t.microcode, 0x48);
  EXPECT_EQ(TcbString(t), "bl=1,tee=2,snp=3,ucode=72,fmc=5");
  EXPECT_EQ(EncodeTcb(t, Product::kTurin), 0x4800000003020105u);
  EXPECT_EQ(EncodeTcb(m, Product::kMilan), 0xDB18000000000004u);
  EXPECT_FALSE(DecodeTcb(0x1, Product::kUnknown).decoded);
}

TEST(sevsnp_abi, PolicyAndPlatformBits) {
  GuestPolicy p = DecodePolicy(0x3001F);
  EXPECT_EQ(p.abi_minor, 0x1F);
  EXPECT_EQ(p.abi_major, 0);
  EXPECT_TRUE(p.smt);
  EXPECT_TRUE(p.reserved_bit17);
  EXPECT_FALSE(p.debug);
  EXPECT_EQ(p.undefined_bits, 0u);
  p = DecodePolicy(0x3FE0000 | (uint64_t{1} << 40));
  EXPECT_TRUE(p.migrate_ma && p.debug && p.single_socket && p.cxl_allow && p.mem_aes_256_xts &&
              p.rapl_dis && p.ciphertext_hiding && p.page_swap_disable);
  EXPECT_EQ(p.undefined_bits, uint64_t{1} << 40);
  PlatformInfo pi = DecodePlatformInfo(0x65);  // the Turin sample: bit 6 is unknown
  EXPECT_TRUE(pi.smt_en && pi.ecc_en && pi.alias_check_complete);
  EXPECT_FALSE(pi.tsme_en);
  EXPECT_EQ(pi.unknown_bits, 0x40u);
  EXPECT_TRUE(DecodePlatformInfo(0x80).sev_tio_en);
}

TEST(sevsnp_abi, SignatureDerReversesLittleEndianComponents) {
  auto r = ParseReport(S1Report());
  ASSERT_TRUE(r.ok());
  auto der = SignatureDer(*r);
  ASSERT_TRUE(der.ok()) << der.status();
  const unsigned char* p = der->data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der->size()));
  ASSERT_NE(sig, nullptr);
  Bytes r_be(48);
  ASSERT_EQ(BN_bn2binpad(ECDSA_SIG_get0_r(sig), r_be.data(), 48), 48);
  ECDSA_SIG_free(sig);
  for (size_t i = 0; i < 48; ++i) EXPECT_EQ(r_be[i], r->signature_r[47 - i]) << i;

  Bytes zero = S1Report();
  std::fill(zero.begin() + 0x2A0, zero.begin() + 0x2E8, 0);
  auto z = ParseReport(zero);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(SignatureDer(*z).status().message(),
            "report signature r is zero (SIGNATURE at 0x2a0 is empty)");
}

// ---- certificate table ----

Bytes Entry(const Guid& g, uint32_t offset, uint32_t length) {
  Bytes e(24);
  std::copy(g.begin(), g.end(), e.begin());
  StoreLe32(e.data() + 16, offset);
  StoreLe32(e.data() + 20, length);
  return e;
}

Bytes Table(std::initializer_list<Bytes> entries, size_t total) {
  Bytes t;
  for (const Bytes& e : entries) t.insert(t.end(), e.begin(), e.end());
  t.resize(std::max(total, t.size()), 0);
  return t;
}

std::string TableError(const Bytes& t) {
  auto r = ParseCertTable(t);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

TEST(sevsnp_abi, CertTableRoundTrip) {
  Bytes vcek = ReadFile("go-sev-guest/vcek.testcer");
  Bytes other = {1, 2, 3};
  Bytes table = SerializeCertTable({{kGuidVcek, 0, 0, vcek}, {kGuidArk, 0, 0, other}});
  auto entries = ParseCertTable(table);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].offset, 72u);  // 2 entries + terminator
  EXPECT_EQ((*entries)[0].data, vcek);
  EXPECT_EQ((*entries)[1].offset, 72u + vcek.size());
  ASSERT_NE(FindCert(*entries, kGuidVcek), nullptr);
  EXPECT_EQ(FindCert(*entries, kGuidVlek), nullptr);
  EXPECT_EQ(GuidString(kGuidVcek), "63da758d-e664-4564-adc5-f4b93be8accd");
  // Kernels hand out page-sized buffers: trailing zeros after the blobs are fine.
  table.resize(8192, 0);
  EXPECT_TRUE(ParseCertTable(table).ok());
}

TEST(sevsnp_abi, CertTableEmptyInputs) {
  auto none = ParseCertTable({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto term = ParseCertTable(Bytes(24, 0));
  ASSERT_TRUE(term.ok());
  EXPECT_TRUE(term->empty());
}

TEST(sevsnp_abi, CertTableNegatives) {
  struct Case { const char* name; Bytes table; std::string error; };
  const Guid zero{};
  const Case cases[] = {
      {"truncated", Bytes(10, 1),
       "certificate table is not terminated: no all-zero entry within 10 bytes (0 entries "
       "read)"},
      {"unterminated", Table({Entry(kGuidVcek, 24, 4)}, 28),
       "certificate table is not terminated: no all-zero entry within 28 bytes (1 entries "
       "read)"},
      {"overflow", Table({Entry(kGuidVcek, 48, 100), Bytes(24)}, 60),
       "certificate table entry 0 (vcek) spans [0x30, 0x94), beyond the table size 0x3c"},
      {"u32 wrap", Table({Entry(kGuidVcek, 0xFFFFFFF0, 0x20), Bytes(24)}, 60),
       "certificate table entry 0 (vcek) spans [0xfffffff0, 0x100000010), beyond the table "
       "size 0x3c"},
      {"overlaps header", Table({Entry(kGuidVcek, 30, 8), Bytes(24)}, 64),
       "certificate table entry 0 (vcek) at offset 0x1e overlaps the entry array (ends at "
       "0x30)"},
      {"overlapping blobs",
       Table({Entry(kGuidVcek, 72, 16), Entry(kGuidAsk, 80, 16), Bytes(24)}, 100),
       "certificate table entries 0 (vcek) and 1 (ask) overlap: [0x48, 0x58) and [0x50, 0x60)"},
      {"empty blob", Table({Entry(kGuidArk, 48, 0), Bytes(24)}, 64),
       "certificate table entry 0 (ark) is empty"},
      {"duplicate", Table({Entry(kGuidVcek, 72, 4), Entry(kGuidVcek, 76, 4), Bytes(24)}, 80),
       "certificate table has two vcek entries (0 and 1)"},
      {"zero guid", Table({Entry(zero, 48, 4), Bytes(24)}, 60),
       "certificate table entry 0 has a zero guid but offset 0x30 length 0x4"},
      {"too many entries", [] {
         Bytes t;
         for (int i = 0; i < 65; ++i) {
           Guid g{};
           g[0] = static_cast<uint8_t>(i + 1);
           Bytes e = Entry(g, 0, 0);
           t.insert(t.end(), e.begin(), e.end());
         }
         t.resize(t.size() + 24, 0);
         return t;
       }(),
       "certificate table has more than 64 entries"},
  };
  for (const Case& c : cases) EXPECT_EQ(TableError(c.table), c.error) << c.name;
}

// ---- VCEK / VLEK extensions ----

AmdCertExtensions Extensions(const std::string& file) {
  auto cert = Certificate::Parse(ReadFile(file));
  EXPECT_TRUE(cert.ok()) << file << ": " << cert.status();
  auto ext = ParseAmdExtensions(*cert);
  EXPECT_TRUE(ext.ok()) << file << ": " << ext.status();
  return ext.ok() ? *ext : AmdCertExtensions{};
}

TEST(sevsnp_abi, MilanVcekExtensions) {
  AmdCertExtensions e = Extensions("go-sev-guest/vcek.testcer");
  EXPECT_EQ(e.struct_version, 0);
  EXPECT_EQ(e.product_name, "Milan-B0");
  EXPECT_EQ(e.bl_spl, 2);
  EXPECT_EQ(e.tee_spl, 0);
  EXPECT_EQ(e.snp_spl, 5);
  EXPECT_EQ(e.ucode_spl, 68);
  EXPECT_FALSE(e.fmc_spl.has_value());
  ASSERT_TRUE(e.hwid.has_value());
  auto report = ParseReport(S1Report());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(*e.hwid, Bytes(report->chip_id.begin(), report->chip_id.end()));
  EXPECT_FALSE(e.csp_id.has_value());
}

TEST(sevsnp_abi, TurinVcekExtensions) {
  AmdCertExtensions e = Extensions("virtee-sev/vcek_turin.der");
  EXPECT_EQ(e.struct_version, 1);
  EXPECT_EQ(e.product_name, "Turin");
  EXPECT_EQ(e.fmc_spl, 0);
  ASSERT_TRUE(e.hwid.has_value());
  EXPECT_EQ(HexEncode(*e.hwid), "1e550a8ee5cf9f4d");
}

TEST(sevsnp_abi, VlekExtensions) {
  AmdCertExtensions e = Extensions("trustee/test-vlek.der");
  EXPECT_EQ(e.product_name, "Milan");
  EXPECT_EQ(e.csp_id, "CN=cc-us-east-2.amazonaws.com");
  EXPECT_FALSE(e.hwid.has_value());
  EXPECT_EQ(e.bl_spl, 4);
  EXPECT_EQ(e.snp_spl, 24);
  EXPECT_EQ(e.ucode_spl, 217);  // encoded 02 02 00 d9
}

TEST(sevsnp_abi, S5BothHwidEncodingsParse) {
  AmdCertExtensions legacy = Extensions("trustee/test-vcek-invalid-legacy.der");
  AmdCertExtensions wrapped = Extensions("trustee/test-vcek-invalid-new.der");
  ASSERT_TRUE(legacy.hwid && wrapped.hwid);
  Bytes want(64);
  for (size_t i = 0; i < 64; ++i) want[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(*legacy.hwid, want);
  EXPECT_EQ(*wrapped.hwid, want);
}

TEST(sevsnp_abi, ExtensionValueNegatives) {
  const std::string p = "1.3.6.1.4.1.3704.1.";
  struct Case { std::string oid; Bytes value; std::string error; };
  const Case cases[] = {
      {"3.1", {}, "blSPL is 0 bytes, too short"},
      {"3.1", {0x04, 0x01, 0x02}, "blSPL has DER tag 0x04, want 0x02"},
      {"3.2", {0x02, 0x01, 0x80}, "teeSPL is negative (80)"},
      {"3.3", {0x02, 0x02, 0x01, 0x2C}, "snpSPL is 300, want 0..255"},
      {"3.8", {0x02, 0x01, 0x05, 0x00}, "ucodeSPL DER length 1 does not match its 2 content "
                                        "bytes"},
      {"3.9", {0x02, 0x00}, "fmcSPL is an empty INTEGER"},
      {"1", {0x02, 0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0}, "structVersion is too large "
                                                     "(0100000000000000...)"},
      {"2", {0x02, 0x01, 0x05}, "productName has DER tag 0x02, want 0x16"},
      {"2", {0x16, 0x02, 'M', 0x01}, "productName has a non-printable byte 0x01 at 1"},
      {"2", {0x16, 0x80}, "productName uses the indefinite DER length"},
      {"5", {0x16, 0x84, 0, 0, 0, 1}, "cspId has an unsupported DER length form 0x84"},
      {"5", {0x16, 0x81}, "cspId has a truncated DER length"},
      {"4", Bytes(13, 1), "hwID is 13 bytes, want 64 or 8 raw bytes or a DER OCTET STRING of "
                          "those"},
      {"4", Bytes(65, 1), "hwID is 65 bytes, want 64 or 8 raw bytes or a DER OCTET STRING of "
                          "those"},
  };
  for (const Case& c : cases) {
    AmdCertExtensions out;
    absl::Status s = DecodeAmdExtension(p + c.oid, c.value, out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.oid;
    EXPECT_EQ(s.message(), c.error) << c.oid;
  }
  // Leading zero bytes and unknown / reserved suffixes are tolerated.
  AmdCertExtensions out;
  EXPECT_TRUE(DecodeAmdExtension(p + "3.1", Bytes{0x02, 0x03, 0x00, 0x00, 0x07}, out).ok());
  EXPECT_EQ(out.bl_spl, 7);
  EXPECT_TRUE(DecodeAmdExtension(p + "3.4", Bytes{0xFF}, out).ok());
  EXPECT_TRUE(DecodeAmdExtension("2.5.29.19", Bytes{0xFF}, out).ok());
  EXPECT_TRUE(DecodeAmdExtension(p + "4", Bytes{0x04, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}, out).ok());
  EXPECT_EQ(out.hwid, (Bytes{1, 2, 3, 4, 5, 6, 7, 8}));
}

// Edits one extension of the S1 VCEK (the signature no longer matters to the parser).
Certificate EditedVcek(const std::string& oid, const Bytes& value, bool duplicate) {
  auto cert = Certificate::Parse(ReadFile("go-sev-guest/vcek.testcer"));
  EXPECT_TRUE(cert.ok());
  X509Ptr x(X509_dup(cert->get()));
  ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(os, value.data(), static_cast<int>(value.size()));
  if (!duplicate) {
    int idx = X509_get_ext_by_OBJ(x.get(), obj, -1);
    EXPECT_GE(idx, 0);
    X509_EXTENSION_free(X509_delete_ext(x.get(), idx));
  }
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, os);
  X509_add_ext(x.get(), ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(os);
  ASN1_OBJECT_free(obj);
  return Certificate::FromX509(x.get());
}

TEST(sevsnp_abi, CertificateExtensionErrorsNameTheExtension) {
  Certificate bad = EditedVcek("1.3.6.1.4.1.3704.1.3.1", {0x02, 0x01, 0x80}, false);
  EXPECT_EQ(ParseAmdExtensions(bad).status().message(),
            "certificate SEV-VCEK extension 1.3.6.1.4.1.3704.1.3.1: blSPL is negative (80)");
  Certificate dup = EditedVcek("1.3.6.1.4.1.3704.1.3.3", {0x02, 0x01, 0x05}, true);
  EXPECT_EQ(ParseAmdExtensions(dup).status().message(),
            "certificate SEV-VCEK repeats extension 1.3.6.1.4.1.3704.1.3.3");
}

}  // namespace
}  // namespace twi::sevsnp
