// AMD SEV-SNP wire formats: ATTESTATION_REPORT (spec 1.1), its bit fields (1.4-1.6), the
// extended-report certificate table (1.10) and the VCEK/VLEK X.509 extensions (1.8).
//
// Structural checks only: sizes, versions, the signature algorithm, reserved-must-be-zero
// ranges, table bounds, extension encodings. Nothing here verifies a signature, trusts a
// certificate or judges a value against policy (POLICY.DEBUG, VMPL, TCB floors are appraised
// by policy.h; POLICY bit 17 and undefined policy bits too, so a future firmware bit does not
// make reports unparseable). Every error is INVALID_ARGUMENT with a lowercase message.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/x509.h"

namespace twi::sevsnp {

inline constexpr size_t kReportSize = 0x4A0;        // 1184
inline constexpr size_t kSignedSize = 0x2A0;        // bytes 0x000..0x29F are signed
inline constexpr uint32_t kSignatureAlgoEcdsaP384Sha384 = 1;

enum class Product { kUnknown, kMilan, kGenoa, kTurin };

// "milan", "genoa", "turin" ("unknown" otherwise): the selector spelling.
const char* ProductName(Product p);
// From a VCEK/VLEK productName ("Milan-B0", "Genoa", "Turin") or a config value ("milan"):
// case-insensitive, stepping suffix ignored. kUnknown for anything else.
Product ProductFromName(std::string_view name);
// Spec 1.6: family 0x19 model 0x0X -> Milan, 0x19/0x1X -> Genoa, 0x1A -> Turin.
Product ProductFromCpuid(uint8_t family, uint8_t model);

// A TCB_VERSION (8 bytes) decoded with the product's layout (spec 1.6).
struct TcbVersion {
  uint64_t raw = 0;
  uint8_t bootloader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;
  uint8_t fmc = 0;       // Turin only
  bool has_fmc = false;  // true on Turin
  bool decoded = false;  // false until the product is known
};
TcbVersion DecodeTcb(uint64_t raw, Product product);
uint64_t EncodeTcb(const TcbVersion& tcb, Product product);
// "bl=2,tee=0,snp=5,ucode=68" (",fmc=N" appended on Turin); "raw=0x..." when not decoded.
std::string TcbString(const TcbVersion& tcb);

// POLICY (spec 1.4).
struct GuestPolicy {
  uint64_t raw = 0;
  uint8_t abi_minor = 0;
  uint8_t abi_major = 0;
  bool smt = false;                  // bit 16
  bool reserved_bit17 = false;       // bit 17, must be 1 (appraised by policy.h)
  bool migrate_ma = false;           // bit 18
  bool debug = false;                // bit 19
  bool single_socket = false;        // bit 20
  bool cxl_allow = false;            // bit 21
  bool mem_aes_256_xts = false;      // bit 22
  bool rapl_dis = false;             // bit 23
  bool ciphertext_hiding = false;    // bit 24
  bool page_swap_disable = false;    // bit 25
  uint64_t undefined_bits = 0;       // bits 63:26
};
GuestPolicy DecodePolicy(uint64_t raw);

// PLATFORM_INFO (spec 1.5). Unknown bits are kept, never an error (bit 6 is set on Turin).
struct PlatformInfo {
  uint64_t raw = 0;
  bool smt_en = false;                // bit 0
  bool tsme_en = false;               // bit 1
  bool ecc_en = false;                // bit 2
  bool rapl_dis = false;              // bit 3
  bool ciphertext_hiding_en = false;  // bit 4
  bool alias_check_complete = false;  // bit 5
  bool sev_tio_en = false;            // bit 7
  uint64_t unknown_bits = 0;          // bit 6 and 63:8
};
PlatformInfo DecodePlatformInfo(uint64_t raw);

enum class SigningKey : uint8_t { kVcek = 0, kVlek = 1, kNone = 7 };
const char* SigningKeyName(SigningKey k);  // "vcek", "vlek", "none"

// Signer info word at 0x048.
struct SignerInfo {
  uint32_t raw = 0;
  bool author_key_en = false;  // bit 0
  bool mask_chip_key = false;  // bit 1
  SigningKey signing_key = SigningKey::kVcek;  // bits 4:2
};

struct FirmwareVersion {
  uint8_t major = 0;
  uint8_t minor = 0;
  uint8_t build = 0;
};
std::string FirmwareString(const FirmwareVersion& v);  // "1.55.29"

struct AttestationReport {
  uint32_t version = 0;                      // 0x000 VERSION
  uint32_t guest_svn = 0;                    // 0x004 GUEST_SVN
  GuestPolicy policy;                        // 0x008 POLICY
  std::array<uint8_t, 16> family_id{};       // 0x010 FAMILY_ID
  std::array<uint8_t, 16> image_id{};        // 0x020 IMAGE_ID
  uint32_t vmpl = 0;                         // 0x030 VMPL
  uint32_t signature_algo = 0;               // 0x034 SIGNATURE_ALGO
  TcbVersion current_tcb;                    // 0x038 CURRENT_TCB
  PlatformInfo platform_info;                // 0x040 PLATFORM_INFO
  SignerInfo signer_info;                    // 0x048 signer info
  std::array<uint8_t, 64> report_data{};     // 0x050 REPORT_DATA
  std::array<uint8_t, 48> measurement{};     // 0x090 MEASUREMENT
  std::array<uint8_t, 32> host_data{};       // 0x0C0 HOST_DATA
  std::array<uint8_t, 48> id_key_digest{};   // 0x0E0 ID_KEY_DIGEST
  std::array<uint8_t, 48> author_key_digest{};  // 0x110 AUTHOR_KEY_DIGEST
  std::array<uint8_t, 32> report_id{};       // 0x140 REPORT_ID
  std::array<uint8_t, 32> report_id_ma{};    // 0x160 REPORT_ID_MA
  TcbVersion reported_tcb;                   // 0x180 REPORTED_TCB
  uint8_t cpuid_fam_id = 0;                  // 0x188 CPUID_FAM_ID (v3+)
  uint8_t cpuid_mod_id = 0;                  // 0x189 CPUID_MOD_ID (v3+)
  uint8_t cpuid_step = 0;                    // 0x18A CPUID_STEP (v3+)
  std::array<uint8_t, 64> chip_id{};         // 0x1A0 CHIP_ID
  TcbVersion committed_tcb;                  // 0x1E0 COMMITTED_TCB
  FirmwareVersion current_fw;                // 0x1E8 CURRENT_BUILD/MINOR/MAJOR
  FirmwareVersion committed_fw;              // 0x1EC COMMITTED_BUILD/MINOR/MAJOR
  TcbVersion launch_tcb;                     // 0x1F0 LAUNCH_TCB
  uint64_t launch_mit_vector = 0;            // 0x1F8 LAUNCH_MIT_VECTOR (v5)
  uint64_t current_mit_vector = 0;           // 0x200 CURRENT_MIT_VECTOR (v5)
  std::array<uint8_t, 72> signature_r{};     // 0x2A0 SIGNATURE R, little-endian
  std::array<uint8_t, 72> signature_s{};     // 0x2E8 SIGNATURE S, little-endian

  // Kept so the verifier hashes exactly the bytes that were signed.
  std::array<uint8_t, kReportSize> raw{};
  // From CPUID on v3+, else from ParseOptions or SetProduct; TCBs are decoded once known.
  Product product = Product::kUnknown;

  ByteView signed_bytes() const { return ByteView(raw.data(), kSignedSize); }
};

struct ParseOptions {
  // For v2 reports (no CPUID). On v3+ it must agree with CPUID when given.
  Product product = Product::kUnknown;
};

absl::StatusOr<AttestationReport> ParseReport(ByteView data, const ParseOptions& options = {});
// Sets the product of a report parsed without one and decodes its TCB_VERSIONs. Errors when
// the report already has a different product.
absl::Status SetProduct(AttestationReport& report, Product product);
// The report signature as DER `SEQUENCE { INTEGER r, INTEGER s }` (r/s reversed to big-endian).
absl::StatusOr<Bytes> SignatureDer(const AttestationReport& report);

// ---- extended-report certificate table (spec 1.10) ----

using Guid = std::array<uint8_t, 16>;
extern const Guid kGuidVcek;  // 63da758d-e664-4564-adc5-f4b93be8accd
extern const Guid kGuidVlek;  // a8074bc2-a25a-483e-aae6-39c045a0b8a1
extern const Guid kGuidAsk;   // 4ab7b379-bbac-4fe4-a02f-05aef327c782 (also the ASVK)
extern const Guid kGuidArk;   // c0b406a4-a803-4952-9743-3fb6014cd0ae
std::string GuidString(const Guid& g);  // canonical 8-4-4-4-12 form

struct CertTableEntry {
  Guid guid{};
  uint32_t offset = 0;  // relative to the start of the table
  uint32_t length = 0;
  Bytes data;           // the blob (a DER certificate, not parsed here)
};

// Entries up to the all-zero terminator. Rejects: truncated or unterminated tables, blobs
// outside the table, blobs overlapping the entry array or each other, empty blobs, duplicate
// GUIDs and more than 64 entries. An empty input (no table at all, as an empty auxblob) yields no entries.
absl::StatusOr<std::vector<CertTableEntry>> ParseCertTable(ByteView table);
// The inverse: entries, terminator, then blobs in entry order (offsets/lengths recomputed).
Bytes SerializeCertTable(const std::vector<CertTableEntry>& entries);
// The entry with `guid`, or nullptr.
const CertTableEntry* FindCert(const std::vector<CertTableEntry>& entries, const Guid& guid);

// ---- VCEK / VLEK extensions (spec 1.8) ----

struct AmdCertExtensions {
  std::optional<int64_t> struct_version;    // .1
  std::optional<std::string> product_name;  // .2
  std::optional<uint8_t> bl_spl;            // .3.1
  std::optional<uint8_t> tee_spl;           // .3.2
  std::optional<uint8_t> snp_spl;           // .3.3
  std::optional<uint8_t> ucode_spl;         // .3.8
  std::optional<uint8_t> fmc_spl;           // .3.9 (Turin)
  std::optional<Bytes> hwid;                // .4, unwrapped: 64 bytes (Milan/Genoa) or 8 (Turin)
  std::optional<std::string> csp_id;        // .5 (VLEK)
};

// Decodes one extension value (the extnValue contents) by OID suffix under 1.3.6.1.4.1.3704.1.
// Unknown suffixes are ignored. Exposed for fuzzing.
absl::Status DecodeAmdExtension(std::string_view oid, ByteView value, AmdCertExtensions& out);
// All 3704.1.* extensions of a certificate; duplicates are errors, missing ones stay unset
// (the verifier decides which it needs).
absl::StatusOr<AmdCertExtensions> ParseAmdExtensions(const Certificate& cert);

}  // namespace twi::sevsnp
