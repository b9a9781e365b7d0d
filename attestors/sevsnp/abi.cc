#include "attestors/sevsnp/abi.h"

#include <openssl/bn.h>
#include <openssl/ec.h>

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"

namespace twi::sevsnp {
namespace {


// Reserved ranges [begin, end) of the report that must be zero. The message names the range,
// the first offending offset and the bytes from there on.
absl::Status CheckReservedZero(ByteView raw, size_t begin, size_t end, std::string_view what) {
  for (size_t i = begin; i < end; ++i) {
    if (raw[i] != 0) {
      return Invalid(absl::StrFormat(
          "reserved bytes 0x%03x..0x%03x (%s) must be zero, got %s at offset 0x%03x", begin,
          end - 1, what, ShortHex(raw.subspan(i, end - i)), i));
    }
  }
  return absl::OkStatus();
}

template <size_t N>
void Copy(std::array<uint8_t, N>& dst, ByteView raw, size_t offset) {
  std::copy_n(raw.begin() + offset, N, dst.begin());
}

struct BnDeleter { void operator()(BIGNUM* p) const { BN_free(p); } };
struct EcdsaSigDeleter { void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); } };

}  // namespace

// ---- products and bit fields ----

const char* ProductName(Product p) {
  switch (p) {
    case Product::kMilan: return "milan";
    case Product::kGenoa: return "genoa";
    case Product::kTurin: return "turin";
    case Product::kUnknown: break;
  }
  return "unknown";
}

Product ProductFromName(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
  // productName carries a stepping suffix on some certificates ("Milan-B0").
  std::string_view base = lower;
  if (size_t dash = base.find('-'); dash != std::string_view::npos) base = base.substr(0, dash);
  if (base == "milan") return Product::kMilan;
  if (base == "genoa") return Product::kGenoa;
  if (base == "turin") return Product::kTurin;
  return Product::kUnknown;
}

// Family 19h: models 00h-0Fh are Milan; 10h-1Fh Genoa and A0h-AFh (Bergamo, Siena: Zen 4c)
// run SEV-SNP under Genoa's ARK/ASK and Genoa VCEKs. Family 1Ah models 00h-11h are Turin.
// Anything else (e.g. a later family 1Ah part) is unknown, never guessed.
Product ProductFromCpuid(uint8_t family, uint8_t model) {
  if (family == 0x19 && model <= 0x0F) return Product::kMilan;
  if (family == 0x19 && ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF))) {
    return Product::kGenoa;
  }
  if (family == 0x1A && model <= 0x11) return Product::kTurin;
  return Product::kUnknown;
}

TcbVersion DecodeTcb(uint64_t raw, Product product) {
  TcbVersion t;
  t.raw = raw;
  auto byte = [raw](int i) { return static_cast<uint8_t>(raw >> (8 * i)); };
  switch (product) {
    case Product::kMilan:
    case Product::kGenoa:
      t.bootloader = byte(0);
      t.tee = byte(1);
      t.snp = byte(6);
      t.microcode = byte(7);
      t.decoded = true;
      break;
    case Product::kTurin:
      t.fmc = byte(0);
      t.bootloader = byte(1);
      t.tee = byte(2);
      t.snp = byte(3);
      t.microcode = byte(7);
      t.has_fmc = true;
      t.decoded = true;
      break;
    case Product::kUnknown:
      break;  // never guess a layout (spec 1.6)
  }
  return t;
}

uint64_t EncodeTcb(const TcbVersion& t, Product product) {
  auto at = [](uint8_t v, int i) { return uint64_t{v} << (8 * i); };
  switch (product) {
    case Product::kMilan:
    case Product::kGenoa:
      return at(t.bootloader, 0) | at(t.tee, 1) | at(t.snp, 6) | at(t.microcode, 7);
    case Product::kTurin:
      return at(t.fmc, 0) | at(t.bootloader, 1) | at(t.tee, 2) | at(t.snp, 3) |
             at(t.microcode, 7);
    case Product::kUnknown:
      break;
  }
  return t.raw;
}

std::string TcbString(const TcbVersion& t) {
  if (!t.decoded) return absl::StrFormat("raw=0x%016x", t.raw);
  std::string s = absl::StrCat("bl=", t.bootloader, ",tee=", t.tee, ",snp=", t.snp,
                               ",ucode=", t.microcode);
  if (t.has_fmc) absl::StrAppend(&s, ",fmc=", t.fmc);
  return s;
}

GuestPolicy DecodePolicy(uint64_t raw) {
  GuestPolicy p;
  auto bit = [raw](int i) { return ((raw >> i) & 1) != 0; };
  p.raw = raw;
  p.abi_minor = static_cast<uint8_t>(raw);
  p.abi_major = static_cast<uint8_t>(raw >> 8);
  p.smt = bit(16);
  p.reserved_bit17 = bit(17);
  p.migrate_ma = bit(18);
  p.debug = bit(19);
  p.single_socket = bit(20);
  p.cxl_allow = bit(21);
  p.mem_aes_256_xts = bit(22);
  p.rapl_dis = bit(23);
  p.ciphertext_hiding = bit(24);
  p.page_swap_disable = bit(25);
  p.undefined_bits = raw & ~((uint64_t{1} << 26) - 1);
  return p;
}

PlatformInfo DecodePlatformInfo(uint64_t raw) {
  PlatformInfo p;
  auto bit = [raw](int i) { return ((raw >> i) & 1) != 0; };
  p.raw = raw;
  p.smt_en = bit(0);
  p.tsme_en = bit(1);
  p.ecc_en = bit(2);
  p.rapl_dis = bit(3);
  p.ciphertext_hiding_en = bit(4);
  p.alias_check_complete = bit(5);
  p.sev_tio_en = bit(7);
  p.unknown_bits = raw & ~uint64_t{0xBF};
  return p;
}

const char* SigningKeyName(SigningKey k) {
  switch (k) {
    case SigningKey::kVcek: return "vcek";
    case SigningKey::kVlek: return "vlek";
    case SigningKey::kNone: return "none";
  }
  return "reserved";
}

std::string FirmwareString(const FirmwareVersion& v) {
  return absl::StrCat(v.major, ".", v.minor, ".", v.build);
}

// ---- ATTESTATION_REPORT ----

absl::StatusOr<AttestationReport> ParseReport(ByteView data, const ParseOptions& options) {
  if (data.size() != kReportSize) {
    return Invalid(absl::StrFormat("attestation report is %d bytes, want %d", data.size(),
                                   kReportSize));
  }
  AttestationReport r;
  std::copy(data.begin(), data.end(), r.raw.begin());
  const uint8_t* p = r.raw.data();
  ByteView raw(r.raw);

  r.version = LoadLe32(p + 0x000);  // 0x000 VERSION
  if (r.version < 2) {
    return Invalid(absl::StrFormat("unsupported report version %d (want 2, 3, 4 or 5)", r.version));
  }
  if (r.version > 5) {
    return Invalid(absl::StrFormat("unknown report version %d (want 2, 3, 4 or 5)", r.version));
  }
  r.signature_algo = LoadLe32(p + 0x034);  // 0x034 SIGNATURE_ALGO
  if (r.signature_algo != kSignatureAlgoEcdsaP384Sha384) {
    return Invalid(absl::StrFormat(
        "unsupported SIGNATURE_ALGO %d at offset 0x034 (want 1, ecdsa p-384 with sha-384)",
        r.signature_algo));
  }
  uint32_t signer = LoadLe32(p + 0x048);  // 0x048 signer info
  if ((signer >> 5) != 0) {
    return Invalid(absl::StrFormat(
        "signer info 0x%08x at offset 0x048 sets reserved bits 31:5 (0x%08x)", signer,
        signer & ~uint32_t{0x1F}));
  }
  uint32_t key = (signer >> 2) & 0x7;
  if (key != 0 && key != 1 && key != 7) {
    return Invalid(absl::StrFormat(
        "signer info SIGNING_KEY %d at offset 0x048 is reserved (want 0 vcek, 1 vlek or 7 none)",
        key));
  }
  r.signer_info = {signer, (signer & 1) != 0, (signer & 2) != 0, static_cast<SigningKey>(key)};

  // Reserved ranges (spec 1.1 / 1.11). v2 has no CPUID bytes; only v5 has mitigation vectors.
  TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x04C, 0x050, "after signer info"));
  if (r.version == 2) {
    TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x188, 0x1A0, "v2 cpuid area"));
  } else {
    TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x18B, 0x1A0, "after cpuid"));
  }
  TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x1EB, 0x1EC, "after CURRENT_MAJOR"));
  TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x1EF, 0x1F0, "after COMMITTED_MAJOR"));
  if (r.version < 5) {
    TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x1F8, 0x208, "mitigation vectors before v5"));
  }
  TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x208, 0x2A0, "before SIGNATURE"));
  // Only the low 48 bytes of each 72-byte component can be nonzero for a P-384 signature.
  TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x2D0, 0x2E8, "SIGNATURE R high bytes"));
  TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x318, 0x330, "SIGNATURE S high bytes"));
  TWI_RETURN_IF_ERROR(CheckReservedZero(raw, 0x330, 0x4A0, "SIGNATURE tail"));

  r.guest_svn = LoadLe32(p + 0x004);                    // 0x004 GUEST_SVN
  r.policy = DecodePolicy(LoadLe64(p + 0x008));         // 0x008 POLICY
  Copy(r.family_id, raw, 0x010);                        // 0x010 FAMILY_ID
  Copy(r.image_id, raw, 0x020);                         // 0x020 IMAGE_ID
  r.vmpl = LoadLe32(p + 0x030);                         // 0x030 VMPL
  r.current_tcb.raw = LoadLe64(p + 0x038);              // 0x038 CURRENT_TCB
  r.platform_info = DecodePlatformInfo(LoadLe64(p + 0x040));  // 0x040 PLATFORM_INFO
  Copy(r.report_data, raw, 0x050);                      // 0x050 REPORT_DATA
  Copy(r.measurement, raw, 0x090);                      // 0x090 MEASUREMENT
  Copy(r.host_data, raw, 0x0C0);                        // 0x0C0 HOST_DATA
  Copy(r.id_key_digest, raw, 0x0E0);                    // 0x0E0 ID_KEY_DIGEST
  Copy(r.author_key_digest, raw, 0x110);                // 0x110 AUTHOR_KEY_DIGEST
  Copy(r.report_id, raw, 0x140);                        // 0x140 REPORT_ID
  Copy(r.report_id_ma, raw, 0x160);                     // 0x160 REPORT_ID_MA
  r.reported_tcb.raw = LoadLe64(p + 0x180);             // 0x180 REPORTED_TCB
  if (r.version >= 3) {
    r.cpuid_fam_id = p[0x188];                          // 0x188 CPUID_FAM_ID
    r.cpuid_mod_id = p[0x189];                          // 0x189 CPUID_MOD_ID
    r.cpuid_step = p[0x18A];                            // 0x18A CPUID_STEP
  }
  Copy(r.chip_id, raw, 0x1A0);                          // 0x1A0 CHIP_ID
  r.committed_tcb.raw = LoadLe64(p + 0x1E0);            // 0x1E0 COMMITTED_TCB
  r.current_fw = {p[0x1EA], p[0x1E9], p[0x1E8]};        // 0x1E8 CURRENT_BUILD, MINOR, MAJOR
  r.committed_fw = {p[0x1EE], p[0x1ED], p[0x1EC]};      // 0x1EC COMMITTED_BUILD, MINOR, MAJOR
  r.launch_tcb.raw = LoadLe64(p + 0x1F0);               // 0x1F0 LAUNCH_TCB
  if (r.version >= 5) {
    r.launch_mit_vector = LoadLe64(p + 0x1F8);          // 0x1F8 LAUNCH_MIT_VECTOR
    r.current_mit_vector = LoadLe64(p + 0x200);         // 0x200 CURRENT_MIT_VECTOR
  }
  Copy(r.signature_r, raw, 0x2A0);                      // 0x2A0 SIGNATURE R
  Copy(r.signature_s, raw, 0x2E8);                      // 0x2E8 SIGNATURE S

  Product product = options.product;
  if (r.version >= 3) {
    Product cpuid = ProductFromCpuid(r.cpuid_fam_id, r.cpuid_mod_id);
    if (cpuid == Product::kUnknown) {
      return Invalid(absl::StrFormat(
          "unsupported cpuid family 0x%02x model 0x%02x at offset 0x188 (want milan, genoa or "
          "turin)", r.cpuid_fam_id, r.cpuid_mod_id));
    }
    if (product != Product::kUnknown && product != cpuid) {
      return Invalid(absl::StrFormat("report cpuid says %s, but the caller expects %s",
                                     ProductName(cpuid), ProductName(product)));
    }
    product = cpuid;
  }
  if (product != Product::kUnknown) TWI_RETURN_IF_ERROR(SetProduct(r, product));
  return r;
}

absl::Status SetProduct(AttestationReport& r, Product product) {
  if (product == Product::kUnknown) return Invalid("cannot set an unknown product");
  if (r.product != Product::kUnknown && r.product != product) {
    return Invalid(absl::StrFormat("report product is %s, not %s", ProductName(r.product),
                                   ProductName(product)));
  }
  r.product = product;
  r.current_tcb = DecodeTcb(r.current_tcb.raw, product);
  r.reported_tcb = DecodeTcb(r.reported_tcb.raw, product);
  r.committed_tcb = DecodeTcb(r.committed_tcb.raw, product);
  r.launch_tcb = DecodeTcb(r.launch_tcb.raw, product);
  return absl::OkStatus();
}

absl::StatusOr<Bytes> SignatureDer(const AttestationReport& r) {
  // R and S are little-endian in the report; BN_lebin2bn reads them as such.
  std::unique_ptr<BIGNUM, BnDeleter> bn_r(BN_lebin2bn(r.signature_r.data(), 72, nullptr));
  std::unique_ptr<BIGNUM, BnDeleter> bn_s(BN_lebin2bn(r.signature_s.data(), 72, nullptr));
  if (!bn_r || !bn_s) return OpenSslError("BN_lebin2bn failed");
  if (BN_is_zero(bn_r.get()) || BN_is_zero(bn_s.get())) {
    return Invalid(absl::StrCat("report signature ", BN_is_zero(bn_r.get()) ? "r" : "s",
                                " is zero (SIGNATURE at 0x2a0 is empty)"));
  }
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  if (!sig || ECDSA_SIG_set0(sig.get(), bn_r.get(), bn_s.get()) != 1) {
    return OpenSslError("ECDSA_SIG_set0 failed");
  }
  bn_r.release();  // owned by sig now
  bn_s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return OpenSslError("encoding the report signature failed");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// ---- certificate table ----

const Guid kGuidVcek = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                        0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
const Guid kGuidVlek = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                        0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
const Guid kGuidAsk = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                       0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
const Guid kGuidArk = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                       0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

std::string GuidString(const Guid& g) {
  std::string h = HexEncode(g);
  return absl::StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-",
                      h.substr(16, 4), "-", h.substr(20));
}

namespace {
std::string EntryName(const Guid& g) {
  if (g == kGuidVcek) return "vcek";
  if (g == kGuidVlek) return "vlek";
  if (g == kGuidAsk) return "ask";
  if (g == kGuidArk) return "ark";
  return GuidString(g);
}
constexpr size_t kEntrySize = 24;
constexpr size_t kMaxEntries = 64;
}  // namespace

absl::StatusOr<std::vector<CertTableEntry>> ParseCertTable(ByteView table) {
  std::vector<CertTableEntry> entries;
  if (table.empty()) return entries;
  size_t pos = 0;
  while (true) {
    if (table.size() - pos < kEntrySize) {
      return Invalid(absl::StrFormat(
          "certificate table is not terminated: no all-zero entry within %d bytes (%d entries "
          "read)", table.size(), entries.size()));
    }
    ByteView e = table.subspan(pos, kEntrySize);
    pos += kEntrySize;
    if (IsAllZero(e)) break;
    // Real tables hold at most VCEK/VLEK, ASK, ARK and a few vendor blobs; the cap keeps a
    // hostile table from costing more than a handful of allocations.
    if (entries.size() == kMaxEntries) {
      return Invalid(absl::StrFormat("certificate table has more than %d entries", kMaxEntries));
    }
    CertTableEntry entry;
    std::copy_n(e.begin(), 16, entry.guid.begin());
    entry.offset = LoadLe32(e.data() + 16);
    entry.length = LoadLe32(e.data() + 20);
    if (IsAllZero(entry.guid)) {
      return Invalid(absl::StrFormat(
          "certificate table entry %d has a zero guid but offset 0x%x length 0x%x",
          entries.size(), entry.offset, entry.length));
    }
    entries.push_back(std::move(entry));
  }
  const size_t header_end = pos;  // the entry array including its terminator
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    CertTableEntry& en = entries[i];
    std::string name = EntryName(en.guid);
    for (size_t j = 0; j < i; ++j) {  // at most kMaxEntries^2 / 2 comparisons
      if (entries[j].guid == en.guid) {
        return Invalid(absl::StrFormat("certificate table has two %s entries (%d and %d)", name,
                                       j, i));
      }
    }
    if (en.length == 0) {
      return Invalid(absl::StrFormat("certificate table entry %d (%s) is empty", i, name));
    }
    uint64_t end = uint64_t{en.offset} + en.length;
    if (end > table.size()) {
      return Invalid(absl::StrFormat(
          "certificate table entry %d (%s) spans [0x%x, 0x%x), beyond the table size 0x%x", i,
          name, en.offset, end, table.size()));
    }
    if (en.offset < header_end) {
      return Invalid(absl::StrFormat(
          "certificate table entry %d (%s) at offset 0x%x overlaps the entry array (ends at "
          "0x%x)", i, name, en.offset, header_end));
    }
    order[i] = i;
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return entries[a].offset < entries[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const CertTableEntry& a = entries[order[k - 1]];
    const CertTableEntry& b = entries[order[k]];
    if (uint64_t{a.offset} + a.length > b.offset) {
      return Invalid(absl::StrFormat(
          "certificate table entries %d (%s) and %d (%s) overlap: [0x%x, 0x%x) and [0x%x, 0x%x)",
          order[k - 1], EntryName(a.guid), order[k], EntryName(b.guid), a.offset,
          uint64_t{a.offset} + a.length, b.offset, uint64_t{b.offset} + b.length));
    }
  }
  for (CertTableEntry& en : entries) {
    ByteView blob = table.subspan(en.offset, en.length);
    en.data.assign(blob.begin(), blob.end());
  }
  return entries;
}

Bytes SerializeCertTable(const std::vector<CertTableEntry>& entries) {
  size_t offset = (entries.size() + 1) * kEntrySize;
  Bytes out(offset, 0);
  for (size_t i = 0; i < entries.size(); ++i) {
    uint8_t* e = out.data() + i * kEntrySize;
    std::copy(entries[i].guid.begin(), entries[i].guid.end(), e);
    StoreLe32(e + 16, static_cast<uint32_t>(out.size()));
    StoreLe32(e + 20, static_cast<uint32_t>(entries[i].data.size()));
    out.insert(out.end(), entries[i].data.begin(), entries[i].data.end());
  }
  return out;
}

const CertTableEntry* FindCert(const std::vector<CertTableEntry>& entries, const Guid& guid) {
  for (const auto& e : entries) {
    if (e.guid == guid) return &e;
  }
  return nullptr;
}

// ---- VCEK / VLEK extensions ----

namespace {

constexpr absl::string_view kAmdOidPrefix = "1.3.6.1.4.1.3704.1.";

// One DER TLV spanning all of `v` (short or long length form up to 2 length bytes).
absl::Status ReadTlv(ByteView v, uint8_t want_tag, absl::string_view name, ByteView& content) {
  if (v.size() < 2) return Invalid(absl::StrCat(name, " is ", v.size(), " bytes, too short"));
  if (v[0] != want_tag) {
    return Invalid(absl::StrFormat("%s has DER tag 0x%02x, want 0x%02x", name, v[0], want_tag));
  }
  size_t len = v[1], hdr = 2;
  if (len == 0x81 || len == 0x82) {
    size_t n = len & 0x7F;
    if (v.size() < 2 + n) return Invalid(absl::StrCat(name, " has a truncated DER length"));
    len = n == 1 ? v[2] : (size_t{v[2]} << 8 | v[3]);
    hdr = 2 + n;
  } else if (len > 0x80) {
    return Invalid(absl::StrFormat("%s has an unsupported DER length form 0x%02x", name, v[1]));
  } else if (len == 0x80) {
    return Invalid(absl::StrCat(name, " uses the indefinite DER length"));
  }
  if (hdr + len != v.size()) {
    return Invalid(absl::StrFormat("%s DER length %d does not match its %d content bytes", name,
                                   len, v.size() - hdr));
  }
  content = v.subspan(hdr);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> DerInteger(ByteView v, absl::string_view name) {
  ByteView c;
  TWI_RETURN_IF_ERROR(ReadTlv(v, 0x02, name, c));
  if (c.empty()) return Invalid(absl::StrCat(name, " is an empty INTEGER"));
  if (c[0] & 0x80) return Invalid(absl::StrCat(name, " is negative (", ShortHex(c), ")"));
  // Leading zero bytes are tolerated (AMD encodes values >= 128 as 00 xx); the value must fit.
  size_t i = 0;
  while (i + 1 < c.size() && c[i] == 0) ++i;
  if (c.size() - i > 7) return Invalid(absl::StrCat(name, " is too large (", ShortHex(c), ")"));
  int64_t value = 0;
  for (; i < c.size(); ++i) value = value << 8 | c[i];
  return value;
}

absl::StatusOr<uint8_t> DerSpl(ByteView v, absl::string_view name) {
  TWI_ASSIGN_OR_RETURN(int64_t x, DerInteger(v, name));
  if (x > 255) return Invalid(absl::StrCat(name, " is ", x, ", want 0..255"));
  return static_cast<uint8_t>(x);
}

absl::StatusOr<std::string> DerString(ByteView v, absl::string_view name) {
  // IA5String per AMD; UTF8String tolerated. Only printable ASCII is accepted either way,
  // because these values end up in messages and selectors.
  ByteView c;
  uint8_t tag = v.empty() ? 0 : v[0];
  TWI_RETURN_IF_ERROR(ReadTlv(v, tag == 0x0C ? 0x0C : 0x16, name, c));
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i] < 0x20 || c[i] > 0x7E) {
      return Invalid(absl::StrFormat("%s has a non-printable byte 0x%02x at %d", name, c[i], i));
    }
  }
  return std::string(AsString(c));
}

absl::StatusOr<Bytes> HwId(ByteView v) {
  // AMD stores the raw id without a DER tag; some tools wrap it in an OCTET STRING.
  if ((v.size() == 66 && v[0] == 0x04 && v[1] == 64) ||
      (v.size() == 10 && v[0] == 0x04 && v[1] == 8)) {
    return Bytes(v.begin() + 2, v.end());
  }
  if (v.size() == 64 || v.size() == 8) return Bytes(v.begin(), v.end());
  return Invalid(absl::StrFormat(
      "hwID is %d bytes, want 64 or 8 raw bytes or a DER OCTET STRING of those", v.size()));
}

}  // namespace

absl::Status DecodeAmdExtension(std::string_view oid_std, ByteView value,
                                AmdCertExtensions& out) {
  absl::string_view oid(oid_std.data(), oid_std.size());
  if (!absl::StartsWith(oid, kAmdOidPrefix)) return absl::OkStatus();
  absl::string_view s = oid.substr(kAmdOidPrefix.size());
  if (s == "1") {
    TWI_ASSIGN_OR_RETURN(out.struct_version, DerInteger(value, "structVersion"));
  } else if (s == "2") {
    TWI_ASSIGN_OR_RETURN(out.product_name, DerString(value, "productName"));
  } else if (s == "3.1") {
    TWI_ASSIGN_OR_RETURN(out.bl_spl, DerSpl(value, "blSPL"));
  } else if (s == "3.2") {
    TWI_ASSIGN_OR_RETURN(out.tee_spl, DerSpl(value, "teeSPL"));
  } else if (s == "3.3") {
    TWI_ASSIGN_OR_RETURN(out.snp_spl, DerSpl(value, "snpSPL"));
  } else if (s == "3.8") {
    TWI_ASSIGN_OR_RETURN(out.ucode_spl, DerSpl(value, "ucodeSPL"));
  } else if (s == "3.9") {
    TWI_ASSIGN_OR_RETURN(out.fmc_spl, DerSpl(value, "fmcSPL"));
  } else if (s == "4") {
    TWI_ASSIGN_OR_RETURN(out.hwid, HwId(value));
  } else if (s == "5") {
    TWI_ASSIGN_OR_RETURN(out.csp_id, DerString(value, "cspId"));
  }
  // .3.4-.3.7 are reserved SPLs and anything else is unknown: ignored, not trusted.
  return absl::OkStatus();
}

absl::StatusOr<AmdCertExtensions> ParseAmdExtensions(const Certificate& cert) {
  AmdCertExtensions out;
  std::set<std::string> seen;
  for (const X509Extension& ext : cert.Extensions()) {
    if (!absl::StartsWith(ext.oid, kAmdOidPrefix)) continue;
    if (!seen.insert(ext.oid).second) {
      return Invalid(absl::StrCat("certificate ", cert.label(), " repeats extension ", ext.oid));
    }
    absl::Status s = DecodeAmdExtension(ext.oid, ext.value, out);
    if (!s.ok()) {
      return Invalid(absl::StrCat("certificate ", cert.label(), " extension ", ext.oid, ": ",
                                  s.message()));
    }
  }
  return out;
}

}  // namespace twi::sevsnp
