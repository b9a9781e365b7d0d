#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace twi::cli {

// `twi sim tdx ...`; args[0] is "tdx".
int SimTdx(const std::vector<std::string>& args);
// `twi sim azure ...` (sim_azure.cc); args[0] is "azure".
int SimAzure(const std::vector<std::string>& args);
// Writes (truncates) one output file of `twi sim`; false when it cannot (defined in sim.cc).
bool WriteOutput(const std::filesystem::path& p, std::string_view data);

}  // namespace twi::cli
