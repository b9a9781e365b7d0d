// The agent's and the server's `gcp { ... }` blocks (Google Cloud confidential VMs, issue 9).
//   agent:  the GCE vTPM (tcti), which of its AKs (ak), the PCRs to quote, the event log, and
//           which TEE's evidence rides along (tee);
//   server: the GCE vTPM CAs (ca_bundle), the TEE every GCP attestation must carry
//           (require_tee, verified with the sev_snp / tdx blocks), the projects accepted, and
//           the PCR policy of attestors/tpm/policy.h for the vTPM quotes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attestors/tpm/collect.h"
#include "attestors/tpm/policy.h"
#include "plugin/config/reader.h"

namespace twi::config {

struct GcpAgentSettings {
  std::string tcti;  // "" (default): GCP evidence is not offered
  std::string ak = "rsa";  // GCE's RSA (NV 0x01C10000/1) or ECC (0x01C10002/3) AK
  std::vector<std::string> pcr_banks = {"sha256"};
  std::vector<uint32_t> pcrs = {0, 1, 2, 3, 4, 5, 6, 7};
  // "auto": SEV-SNP or TDX, whichever the VM has (none when neither); or exactly one of
  // "sev-snp", "tdx" (Configure fails without it), "none".
  std::string tee = "auto";
  std::string event_log_path = tpm::kDefaultEventLogPath;
};

struct GcpServerSettings {
  bool enabled = false;  // the block is present
  std::vector<std::string> ca_bundle;  // PEM files: roots and intermediates
  std::string require_tee;             // "sev-snp", "tdx" or "none"; required with the block
  std::vector<std::string> allowed_project_ids;
  bool allow_non_production = false;
  tpm::TpmPolicy policy;
  std::vector<uint32_t> selector_pcrs;
};

// Read every key of the block `r` (problems recorded) and call r.Finish().
void ReadGcpAgentSettings(Reader& r, GcpAgentSettings* out);
void ReadGcpServerSettings(Reader& r, GcpServerSettings* out, std::vector<std::string>* warnings);

}  // namespace twi::config
