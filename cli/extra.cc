#include "cli/commands.h"

namespace twi::cli {

int RunExtra(const std::string& cmd, const std::vector<std::string>& args) { return -1; }
std::string ExtraUsage() { return ""; }

}  // namespace twi::cli
