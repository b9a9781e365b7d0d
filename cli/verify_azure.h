// `twi verify --type azure-sev-snp`: an Azure SEV-SNP CVM's HCL report and vTPM quote, offline.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "attestors/core/bytes.h"

namespace twi::cli {

// Exit 0 verified, 1 rejected (including malformed input), 2 usage errors.
int VerifyAzureSnp(const std::vector<std::string>& args);
// `twi verify --type azure-tdx` (cli/verify_azure_tdx.cc), same exit codes.
int VerifyAzureTdx(const std::vector<std::string>& args);

// What every Azure type reads: --hcl-report, --quote and --signature (raw, hex or PEM, as
// ReadBlob), --pcrs (JSON text, for ParsePcrsJson), --nonce (hex; empty warns). Returns a usage error ("" when fine): missing flags, bad hex,
// unreadable files. Contents are not judged here (that is exit 1, not 2).
struct AzureFiles {
  Bytes hcl_report, quote, signature, nonce;
  std::string pcrs_text;
};
std::string ReadAzureFiles(std::map<std::string, std::string>& opt, bool have_nonce,
                          AzureFiles* out);

}  // namespace twi::cli
