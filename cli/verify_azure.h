// `twi verify --type azure-sev-snp`: an Azure SEV-SNP CVM's HCL report and vTPM quote, offline.
#pragma once

#include <string>
#include <vector>

namespace twi::cli {

// Exit 0 verified, 1 rejected (including malformed input), 2 usage errors.
int VerifyAzureSnp(const std::vector<std::string>& args);

}  // namespace twi::cli
