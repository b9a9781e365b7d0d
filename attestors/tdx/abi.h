// Intel DCAP quote wire formats (spec section 2): quote header (2.1), TDX 1.0 / 1.5 and SGX
// report bodies (2.2), ECDSA-256 signature data with certification data type 6 wrapping type 5
// (2.3), the QE report, and the SGX extensions of PCK certificates (2.5).
//
// Structural checks only: versions, key type, body type and size, declared lengths, the
// certification data nesting. Nothing here verifies a signature, trusts a certificate or judges
// a value (DEBUG, SEAMATTRIBUTES, TCB levels are for verify.h and policy.h). Declared lengths
// rule: bytes after the declared signature data (zero padding and appended text are seen in
// real files) are counted in `trailing_bytes` and never read. Errors are INVALID_ARGUMENT with
// a lowercase message naming the field and its absolute offset.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/x509.h"

namespace twi::tdx {

inline constexpr size_t kHeaderSize = 48;
inline constexpr size_t kEnclaveReportSize = 384;  // SGX report body / QE report
inline constexpr size_t kTd10BodySize = 584;
inline constexpr size_t kTd15BodySize = 648;
inline constexpr uint16_t kAttKeyEcdsaP256 = 2;
inline constexpr uint32_t kTeeTypeSgx = 0x00000000;
inline constexpr uint32_t kTeeTypeTdx = 0x00000081;
inline constexpr uint16_t kCertDataPckChain = 5;
inline constexpr uint16_t kCertDataQeReport = 6;
// Intel's QE vendor ID 939A7233-F79C-4CA9-940A-0DB3957F0607 (header offset 12).
extern const std::array<uint8_t, 16> kIntelQeVendorId;

// TDATTRIBUTES bits (spec 2.4).
inline constexpr uint64_t kTdAttrDebug = 1ull << 0;
inline constexpr uint64_t kTdAttrSeptVeDisable = 1ull << 28;

enum class BodyType : uint16_t { kSgxEnclave = 1, kTd10 = 2, kTd15 = 3 };
const char* BodyTypeName(BodyType t);  // "sgx", "td10", "td15"

// Header (48 bytes, spec 2.1).
struct QuoteHeader {
  uint16_t version = 0;                   // 0x00
  uint16_t att_key_type = 0;              // 0x02
  uint32_t tee_type = 0;                  // 0x04
  std::array<uint8_t, 16> qe_vendor_id{};  // 0x0C
  std::array<uint8_t, 20> user_data{};     // 0x1C
};

// SGX report body, 384 bytes (spec 2.3): the QE report and the body of v3 quotes. Offsets are
// relative to the start of the body.
struct EnclaveReport {
  std::array<uint8_t, 16> cpu_svn{};         // 0
  uint32_t misc_select = 0;                  // 16
  std::array<uint8_t, 16> isv_ext_prod_id{};  // 32
  std::array<uint8_t, 16> attributes{};      // 48
  std::array<uint8_t, 32> mr_enclave{};      // 64
  std::array<uint8_t, 32> mr_signer{};       // 128
  std::array<uint8_t, 64> config_id{};       // 192
  uint16_t isv_prod_id = 0;                  // 256
  uint16_t isv_svn = 0;                      // 258
  uint16_t config_svn = 0;                   // 260
  std::array<uint8_t, 16> isv_family_id{};   // 304
  std::array<uint8_t, 64> report_data{};     // 320
  std::array<uint8_t, kEnclaveReportSize> raw{};
  bool debug() const { return (attributes[0] & 0x02) != 0; }  // SGX ATTRIBUTES.DEBUG
};

using Mr = std::array<uint8_t, 48>;

// TD report body (spec 2.2): 584 bytes for TDX 1.0, 648 for TDX 1.5. Offsets relative.
struct TdReport {
  std::array<uint8_t, 16> tee_tcb_svn{};      // 0
  Mr mr_seam{};                               // 16
  Mr mr_signer_seam{};                        // 64
  std::array<uint8_t, 8> seam_attributes{};   // 112 (raw, compared bytewise to TCB Info)
  uint64_t td_attributes = 0;                 // 120
  uint64_t xfam = 0;                          // 128
  Mr mr_td{};                                 // 136
  Mr mr_config_id{};                          // 184
  Mr mr_owner{};                              // 232
  Mr mr_owner_config{};                       // 280
  std::array<Mr, 4> rtmr{};                   // 328, 376, 424, 472
  std::array<uint8_t, 64> report_data{};      // 520
  bool tdx15 = false;                         // body type 3
  std::array<uint8_t, 16> tee_tcb_svn2{};     // 584 (TDX 1.5)
  Mr mr_service_td{};                         // 600 (TDX 1.5)
  bool debug() const { return (td_attributes & kTdAttrDebug) != 0; }
};

// Certification data type 6 (spec 2.3), or the flat v3 equivalent.
struct QeCertification {
  EnclaveReport qe_report;
  std::array<uint8_t, 64> qe_report_signature{};  // r||s big-endian, by the PCK key
  Bytes qe_auth_data;
  uint16_t inner_type = 0;  // 5
  Bytes pck_chain;          // type-5 data: concatenated PEM (trailing NULs stripped)
};

struct Quote {
  QuoteHeader header;
  BodyType body_type = BodyType::kTd10;
  std::optional<TdReport> td;            // v4, v5 type 2/3
  std::optional<EnclaveReport> enclave;  // v3, v5 type 1
  Bytes signed_region;                   // header (+ v5 type/size) + body
  std::array<uint8_t, 64> signature{};        // r||s big-endian, by the attestation key
  std::array<uint8_t, 64> attestation_key{};  // X||Y big-endian
  uint16_t cert_data_type = 0;                // outer type (6 for v4/v5, 5 for v3)
  QeCertification qe;
  size_t declared_size = 0;   // bytes covered by the declared lengths
  size_t trailing_bytes = 0;  // bytes after them, never read
  bool is_tdx() const { return td.has_value(); }
};

absl::StatusOr<Quote> ParseQuote(ByteView data);
absl::StatusOr<EnclaveReport> ParseEnclaveReport(ByteView raw);  // exactly 384 bytes

// r||s (32 bytes each, big-endian) as DER `SEQUENCE { INTEGER r, INTEGER s }`.
absl::StatusOr<Bytes> RawSignatureToDer(ByteView rs);
// An EC P-256 public key from X||Y (64 bytes, no 0x04 prefix).
absl::StatusOr<EvpPkeyPtr> P256KeyFromXy(ByteView xy);

// ---- PCK certificate SGX extensions (spec 2.5, OID 1.2.840.113741.1.13.1) ----

inline constexpr std::string_view kSgxExtensionOid = "1.2.840.113741.1.13.1";

struct PckExtensions {
  Bytes ppid;                          // .1 (16)
  std::array<uint8_t, 16> sgx_tcb{};   // .2.1-.2.16
  uint16_t pce_svn = 0;                // .2.17
  std::array<uint8_t, 16> cpu_svn{};   // .2.18
  Bytes pce_id;                        // .3 (2)
  Bytes fmspc;                         // .4 (6)
  std::optional<int64_t> sgx_type;     // .5
};

// Decodes the SGX extension value (the extnValue contents). Every one of PPID, the 16 TCB
// components, PCESVN, CPUSVN, PCE-ID and FMSPC must be present exactly once. Exposed for fuzzing.
absl::StatusOr<PckExtensions> DecodeSgxExtension(ByteView value);
// The SGX extension of a PCK certificate (must appear exactly once).
absl::StatusOr<PckExtensions> ParsePckExtensions(const Certificate& pck);

}  // namespace twi::tdx
