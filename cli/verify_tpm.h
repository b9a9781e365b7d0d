// `twi verify --type tpm-quote`: verifies a TPM 2.0 quote offline against a given AK.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/tpm/verify.h"

namespace twi::cli {

// Exit 0 verified, 1 rejected (including malformed input), 2 usage errors.
int VerifyTpmQuote(const std::vector<std::string>& args);

// --pcrs: {"sha256": {"0": "<hex>", ...}, "sha1": {...}} -> PcrBanks (also --type azure-sev-snp).
absl::StatusOr<tpm::PcrBanks> ParsePcrsJson(const std::string& text);

}  // namespace twi::cli
