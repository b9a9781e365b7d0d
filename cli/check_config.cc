#include <cstdio>

#include "attestors/core/file.h"
#include "cli/commands.h"
#include "nlohmann/json.hpp"
#include "plugin/config/configs.h"

namespace twi::cli {

int CheckConfig(const std::vector<std::string>& args) {
  std::string side, file, td = "example.org";
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--side" && i + 1 < args.size()) {
      side = args[++i];
    } else if (args[i] == "--trust-domain" && i + 1 < args.size()) {
      td = args[++i];
    } else if (!args[i].empty() && args[i][0] != '-' && file.empty()) {
      file = args[i];
    } else {
      std::fprintf(stderr, "twi check-config: unexpected argument \"%s\"\n", args[i].c_str());
      return 2;
    }
  }
  if (file.empty() || (side != "agent" && side != "server" && side != "workload")) {
    std::fprintf(stderr, "usage: twi check-config --side agent|server|workload [--trust-domain TD] FILE\n");
    return 2;
  }
  auto text = ReadFileToString(file);
  if (!text.ok()) {
    std::fprintf(stderr, "twi: %s\n", std::string(text.status().message()).c_str());
    return 2;
  }
  auto printed = config::EffectiveConfigJson(side, *text, td);
  if (!printed.ok()) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(), std::string(printed.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", printed->c_str());
  return 0;
}

}  // namespace twi::cli
