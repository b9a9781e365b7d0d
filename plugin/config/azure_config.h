// The agent's and the server's `azure { ... }` blocks (issue 9): Azure confidential VMs.
//   agent:  the vTPM (tcti), which PCR banks and indices to quote, the event log, where the
//           VCEK comes from (THIM at IMDS, none, or the simulated host);
//   server: which Azure CVM kinds are accepted and the vTPM's PCR / event-log policy (the SNP
//           report is judged by the sev_snp block, as plain SEV-SNP evidence is).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attestors/tpm/policy.h"
#include "plugin/config/reader.h"

namespace twi::config {

struct AzureAgentSettings {
  bool enabled = false;  // the block is present
  std::string tcti = "device:/dev/tpmrm0";
  std::vector<std::string> pcr_banks = {"sha256"};
  std::vector<uint32_t> pcrs = {0, 1, 2, 3, 4, 5, 6, 7};
  std::string event_log_path = "/sys/kernel/security/tpm0/binary_bios_measurements";
  std::string vcek_source = "imds";  // "imds", "none"
  std::string imds_url = "http://169.254.169.254";
  // The vTPM is a simulated Azure CVM (`twi sim azure`); provisioned on first start when empty.
  bool simulate = false;
};

struct AzureServerSettings {
  bool enabled = false;  // the block is present
  bool accept_sev_snp = true;
  tpm::TpmPolicy policy;
  std::vector<uint32_t> selector_pcrs;
};

// Read every key of the block `r` (problems recorded) and call r.Finish().
void ReadAzureAgentSettings(Reader& r, AzureAgentSettings* out, std::vector<std::string>* warnings);
void ReadAzureServerSettings(Reader& r, AzureServerSettings* out, std::vector<std::string>* warnings);

}  // namespace twi::config
