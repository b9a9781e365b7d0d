// The `twi` subcommands. Each returns the process exit code (0 ok, 1 rejected, 2 usage).
#pragma once

#include <string>
#include <vector>

namespace twi::cli {

int CheckConfig(const std::vector<std::string>& args);
int Verify(const std::vector<std::string>& args);
int Sim(const std::vector<std::string>& args);
int Collect(const std::vector<std::string>& args);  // cli/collect.cc
int Inspect(const std::vector<std::string>& args);  // cli/inspect.cc
int Tpm(const std::vector<std::string>& args);      // cli/tpm_info.cc: tpm info

// Commands added by evidence kinds (verify, sim); returns -1 for an unknown command.
int RunExtra(const std::string& cmd, const std::vector<std::string>& args);
std::string ExtraUsage();

}  // namespace twi::cli
