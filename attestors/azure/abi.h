// Azure confidential VM HCL report (spec 4.1): the paravisor's blob in vTPM NV 0x01400001 that
// carries the hardware report (SNP ATTESTATION_REPORT or a TDX TDREPORT) and the runtime-claims
// JSON whose hash the hardware report's REPORT_DATA binds. Little-endian throughout.
//
// Parsing only: every declared length is checked against the buffer and against the other
// lengths (report size = 0x4D4 + variable size, data size = 20 + variable size) before a byte
// is read, and nothing is trusted. Binding, signatures and the AK are checked in verify.h.
// Errors are INVALID_ARGUMENT "<structure>: <detail>" with got/want; echoed text is bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/crypto.h"

namespace twi::azure {

inline constexpr uint32_t kHclSignature = 0x414C4348;  // "HCLA"
inline constexpr size_t kHwReportOffset = 0x20;
inline constexpr size_t kHwReportSize = 1184;           // SNP report, or TDREPORT + 160 zeros
inline constexpr size_t kTdReportSize = 1024;
inline constexpr size_t kRuntimeDataOffset = 0x4C0;    // data size, version, type, hash type
inline constexpr size_t kRuntimeDataHeaderSize = 20;
inline constexpr size_t kVarDataOffset = 0x4D4;        // runtime-claims JSON
// The NV index holds at most 2600 bytes; a little headroom for larger future claims.
inline constexpr size_t kMaxHclReportSize = 16 * 1024;

enum class ReportType : uint32_t { kSnp = 2, kTdx = 4 };
enum class HashType : uint32_t { kSha256 = 1, kSha384 = 2, kSha512 = 3 };

struct HclReport {
  uint32_t version = 0;       // 1 or 2
  uint32_t report_size = 0;   // bytes in use
  uint32_t request_type = 0;
  uint32_t status = 0;
  Bytes hw_report;            // kHwReportSize bytes at 0x20
  uint32_t data_size = 0;     // 20 + variable size
  uint32_t data_version = 0;
  uint32_t report_type = 0;   // ReportType
  uint32_t hash_type = 0;     // HashType
  Bytes runtime_claims;       // the variable data, byte-exact (what the binding hashes)

  bool is_snp() const { return report_type == static_cast<uint32_t>(ReportType::kSnp); }
  bool is_tdx() const { return report_type == static_cast<uint32_t>(ReportType::kTdx); }
  // The TDREPORT of a TDX HCL report (the first 1024 bytes of the hardware report).
  ByteView td_report() const { return ByteView(hw_report.data(), kTdReportSize); }
  // REPORT_DATA of the hardware report (SNP: 0x50; TDREPORT: REPORTMACSTRUCT 0x80), 64 bytes.
  ByteView report_data() const;
};

absl::StatusOr<HclReport> ParseHclReport(ByteView data);

// Digest of `data` with the HCL hash type; INVALID_ARGUMENT for an unknown type.
absl::StatusOr<Bytes> HashRuntimeClaims(uint32_t hash_type, ByteView data);

// One RSA JWK of the runtime claims as a public key.
struct Jwk {
  std::string kid;
  std::vector<std::string> key_ops;
  std::shared_ptr<EVP_PKEY> key;
  Bytes spki;  // DER SubjectPublicKeyInfo
};

struct RuntimeClaims {
  std::vector<Jwk> keys;
  // vm-configuration
  std::optional<std::string> vm_unique_id;
  std::optional<bool> console_enabled, secure_boot, tpm_enabled, tpm_persisted;
  // user-data: hex (uppercase on Azure), mirroring NV 0x01400002
  std::optional<std::string> user_data;

  const Jwk* FindKey(std::string_view kid) const;
};

inline constexpr size_t kMaxRuntimeClaimsSize = 64 * 1024;
inline constexpr size_t kMaxJwks = 16;

// Parses the runtime-claims JSON (bounded in size and key count). Keys are RSA JWKs (n, e
// base64url without padding); an RSA key of another kty is kept out, a malformed RSA key is an
// error naming its kid.
absl::StatusOr<RuntimeClaims> ParseRuntimeClaims(ByteView json);

// RSA public key from JWK n and e (base64url, padding tolerated), moduli 1024..8192 bits.
absl::StatusOr<EvpPkeyPtr> RsaKeyFromJwk(std::string_view n_b64url, std::string_view e_b64url);

// DER SubjectPublicKeyInfo of an RSA key from its big-endian modulus and exponent (non-empty).
Bytes RsaSpki(ByteView n, ByteView e);

// base64url (RFC 4648 section 5) decoding; padding optional; anything else is an error.
absl::StatusOr<Bytes> Base64UrlDecode(std::string_view s);

}  // namespace twi::azure
