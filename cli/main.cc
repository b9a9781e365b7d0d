// twi: the operators' command-line tool.
//
//   twi version
//   twi check-config --side agent|server|workload [--trust-domain TD] FILE
//
// Exit codes: 0 success, 1 the input was rejected, 2 usage errors.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "plugin/config/docs.h"
#include "twi_version.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: twi <command> [options]\n"
               "commands:\n"
               "  version                                   print the version\n"
               "  docs [TABLE]                              print the config and selector reference tables\n"
               "  check-config --side agent|server|workload [--trust-domain TD] FILE\n"
               "                                            parse plugin_data and print the effective config\n"
               "                                            or every problem\n"
               "%s",
               twi::cli::ExtraUsage().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "version" || cmd == "--version") {
    std::printf("twi %s\n", TWI_VERSION);
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    Usage();
    return 0;
  }
  if (cmd == "check-config") return twi::cli::CheckConfig(args);
  if (cmd == "docs") {
    // The README's reference tables, generated from the code.
    for (const char* const* n = twi::config::TableNames(); *n != nullptr; ++n) {
      if (!args.empty() && args[0] != *n) continue;
      std::printf("<!-- %s -->\n%s<!-- /%s -->\n\n", *n, twi::config::MarkdownTable(*n).c_str(), *n);
    }
    return 0;
  }
  int rc = twi::cli::RunExtra(cmd, args);
  if (rc >= 0) return rc;
  std::fprintf(stderr, "twi: unknown command \"%s\"\n", cmd.c_str());
  return Usage();
}
