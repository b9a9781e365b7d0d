// The agent's and the server's `tpm { ... }` blocks (issue 8).
//   agent:  which TPM (tcti), which EK/AK, which PCR banks and indices to quote, the event log;
//   server: how the TPM is trusted (ek_ca_files, ek_hashes, ak_ca_files: at least one) and the
//           PCR / event-log policy of attestors/tpm/policy.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attestors/core/bytes.h"
#include "attestors/tpm/policy.h"
#include "plugin/config/reader.h"

namespace twi::config {

struct TpmAgentSettings {
  // "" turns TPM evidence off; otherwise offered whenever this TCTI answers.
  std::string tcti = "device:/dev/tpmrm0";
  std::vector<std::string> pcr_banks = {"sha256"};
  std::vector<uint32_t> pcrs = {0, 1, 2, 3, 4, 5, 6, 7};
  std::string ek_alg = "rsa";  // "rsa" (RSA-2048) or "ecc" (NIST P-256), TCG EK profile
  uint32_t ek_handle = 0;      // persistent EK, 0 = derive from the profile template
  uint32_t ak_handle = 0;      // persist the AK there, 0 = a fresh AK per start
  uint32_t ak_cert_nv_index = 0;
  std::string event_log_path = "/sys/kernel/security/tpm0/binary_bios_measurements";
};

struct TpmServerSettings {
  bool enabled = false;  // the block is present
  std::vector<std::string> ek_ca_files;
  std::vector<Bytes> ek_hashes;  // SHA-256 of EK SubjectPublicKeyInfo
  std::vector<std::string> ak_ca_files;
  tpm::TpmPolicy policy;
  std::vector<uint32_t> selector_pcrs;
};

// Pieces shared with blocks that quote a vTPM (azure): `key` as a list of distinct PCR indices
// (0-23), fallback when absent; pcr_banks (distinct, non-empty); the PCR / event-log policy keys
// (pcrs, require_secure_boot, boot_loader_digests, allow_sha1_signatures).
std::vector<uint32_t> PcrList(Reader& r, std::string_view key, std::vector<uint32_t> fallback);
void ReadPcrBanks(Reader& r, std::vector<std::string>* banks);
void ReadTpmPolicy(Reader& r, tpm::TpmPolicy* policy);

// Read every key of the block `r` (problems recorded) and call r.Finish().
void ReadTpmAgentSettings(Reader& r, TpmAgentSettings* out);
void ReadTpmServerSettings(Reader& r, TpmServerSettings* out, std::vector<std::string>* warnings);

}  // namespace twi::config
