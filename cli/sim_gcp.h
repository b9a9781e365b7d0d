// `twi sim gcp`: provisions a TPM (swtpm) as a simulated GCE vTPM.
#pragma once

#include <string>
#include <vector>

namespace twi::cli {

// args[0] == "gcp". Exit 0 provisioned, 1 failed, 2 usage.
int SimGcp(const std::vector<std::string>& args);

}  // namespace twi::cli
