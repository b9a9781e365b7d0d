// `twi verify --type gcp`: a Google Cloud VM's AK certificate, vTPM quote and optional SEV-SNP
// report or TDX quote, offline.
#pragma once

#include <string>
#include <vector>

namespace twi::cli {

// Exit 0 verified, 1 rejected (including malformed input), 2 usage errors.
int VerifyGcp(const std::vector<std::string>& args);

}  // namespace twi::cli
