// Runs the built `twi` (or any command line) and captures its exit code and output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace twi::cli::testing {

struct Run {
  int code = -1;
  std::string out;
};

// `cmd` through sh, stderr folded into out unless `stderr_too` is false.
inline Run Sh(const std::string& cmd, bool stderr_too = true) {
  FILE* f = popen((cmd + (stderr_too ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  Run r;
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) r.out.append(buf, n);
  int st = pclose(f);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string Twi() { return std::string(TWI_BIN_DIR) + "/twi"; }

}  // namespace twi::cli::testing
