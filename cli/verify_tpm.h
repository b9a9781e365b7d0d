// `twi verify --type tpm-quote`: verifies a TPM 2.0 quote offline against a given AK.
#pragma once

#include <string>
#include <vector>

namespace twi::cli {

// Exit 0 verified, 1 rejected (including malformed input), 2 usage errors.
int VerifyTpmQuote(const std::vector<std::string>& args);

}  // namespace twi::cli
