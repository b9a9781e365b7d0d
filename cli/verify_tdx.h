// `twi verify --type tdx`: verifies an Intel DCAP quote offline against a collateral bundle.
#pragma once

#include <string>
#include <vector>

namespace twi::cli {

// Exit 0 verified, 1 rejected (including malformed quote or collateral), 2 usage errors.
int VerifyTdx(const std::vector<std::string>& args);

}  // namespace twi::cli
