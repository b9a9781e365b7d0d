// Builds Azure HCL reports (abi.h layout) for simulators and tests: the runtime-claims JSON
// (RSA JWKs such as HCLAkPub, vm-configuration, user-data), the REPORT_DATA that binds it
// (digest || zeros), and the HCL report wrapping a hardware report (an SNP ATTESTATION_REPORT,
// or a TDREPORT padded with zeros to 1184 bytes) and the claims.
//
// The order a simulator follows: BuildRuntimeClaims -> HclReportData -> its hardware report
// over that REPORT_DATA -> BuildHclReport. The result parses with ParseHclReport and passes
// CheckBinding. Nothing here is evidence: there is no paravisor and no signature.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/azure/abi.h"
#include "attestors/core/bytes.h"
#include "attestors/core/crypto.h"

namespace twi::azure {

// One RSA public key as a JWK: modulus and exponent big-endian (leading zeros are dropped).
struct JwkSpec {
  std::string kid;                   // "HCLAkPub", "HCLEkPub"
  std::vector<std::string> key_ops;  // ["sign"] for the AK, ["encrypt"] for the EK
  Bytes n, e;
};

struct RuntimeClaimsSpec {
  std::vector<JwkSpec> keys;
  std::optional<std::string> vm_unique_id;  // vm-configuration.vmUniqueId
  bool console_enabled = false, secure_boot = true, tpm_enabled = true, tpm_persisted = true;
  // user-data: uppercase hex, 64 zero bytes by default as on Azure (nullopt: no user-data key,
  // as the SEV-SNP simulator's claims have always been written).
  std::optional<Bytes> user_data = Bytes(64, 0);
};

// A JwkSpec from an RSA public (or private) key.
absl::StatusOr<JwkSpec> RsaJwkSpec(std::string kid, std::vector<std::string> key_ops,
                                   EVP_PKEY* key);

// The runtime-claims JSON, compact, in Azure's key order.
std::string BuildRuntimeClaims(const RuntimeClaimsSpec& spec);

// REPORT_DATA binding `claims` with the hash type (abi.h HashType): digest || zeros (64 bytes).
absl::StatusOr<Bytes> HclReportData(ByteView claims, HashType hash = HashType::kSha256);

struct HclReportSpec {
  ReportType type = ReportType::kSnp;
  // kSnp: the 1184-byte SNP report; kTdx: the 1024-byte TDREPORT (zero-padded here).
  ByteView hw_report;
  ByteView runtime_claims;
  HashType hash = HashType::kSha256;
  // Bytes after the report up to this size are filled with zeros, as the 2600-byte NV index
  // holds them (0: no padding).
  size_t pad_to = 0;
};

// The HCL report; INVALID_ARGUMENT for a hardware report of the wrong size or claims too large.
absl::StatusOr<Bytes> BuildHclReport(const HclReportSpec& spec);

// base64url without padding (RFC 4648 section 5), as JWKs and Azure's IMDS use it.
std::string Base64UrlEncode(ByteView data);

}  // namespace twi::azure
