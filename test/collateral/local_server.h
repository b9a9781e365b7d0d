// Runs test/collateral/kds_server.py on 127.0.0.1 with an ephemeral port for one test, and
// talks to its /_admin/ interface. Each test gets its own server process, so tests stay
// parallel-safe. With a `tls_dir` it serves HTTPS with a self-signed certificate written there
// (tls_dir/cert.pem).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "attestors/collateral/http.h"
#include "gtest/gtest.h"

extern char** environ;

namespace twi::collateral::testing {

class LocalServer {
 public:
  explicit LocalServer(const std::string& tls_dir = "") : tls_(!tls_dir.empty()) {
    CurlOptions admin;
    admin.tls_skip_verification = tls_;
    admin_http_ = std::make_unique<CurlHttpGetter>(admin);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::string script = std::string(TWI_SOURCE_DIR) + "/test/collateral/kds_server.py";
    std::string tls_flag = "--tls", dir = tls_dir;
    char* argv[] = {const_cast<char*>("python3"), script.data(),
                    tls_ ? tls_flag.data() : nullptr, dir.data(), nullptr};
    if (posix_spawnp(&pid_, "python3", &fa, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    stdin_fd_ = in[1];  // closing it (or our death) stops the server
    // Read "PORT <n>\n", waiting at most 20 s for python to start on a busy machine.
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    while (pid_ > 0 && line.find('\n') == std::string::npos && poll(&p, 1, 20000) > 0) {
      char buf[64];
      ssize_t n = read(out[0], buf, sizeof(buf));
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    if (line.rfind("PORT ", 0) == 0) {
      int port = 0;
      if (absl::SimpleAtoi(line.substr(5, line.find('\n') - 5), &port)) port_ = port;
    }
  }

  ~LocalServer() {
    if (stdin_fd_ >= 0) close(stdin_fd_);
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
    }
  }

  bool ok() const { return port_ > 0; }
  std::string base_url() const {
    return absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", port_);
  }

  // Routes `target` (path + query) to the bytes of `file` with `status`, after `fail429` 429s.
  // Every answer waits `delay_ms` first.
  void Route(const std::string& target, const std::string& file, int status = 200,
             int fail429 = 0, const std::string& retry_after = "", int delay_ms = 0) {
    std::string q = absl::StrCat("target=", Escape(target), "&file=", Escape(file),
                                 "&status=", status, "&fail429=", fail429,
                                 "&delay_ms=", delay_ms);
    if (!retry_after.empty()) absl::StrAppend(&q, "&retry_after=", Escape(retry_after));
    Admin("route?" + q);
  }
  // Same with response headers (name, value).
  void RouteWithHeaders(const std::string& target, const std::string& file,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        int status = 200, int delay_ms = 0) {
    std::string q = absl::StrCat("target=", Escape(target), "&file=", Escape(file),
                                 "&status=", status, "&delay_ms=", delay_ms);
    for (const auto& [name, value] : headers) {
      absl::StrAppend(&q, "&header=", Escape(name + ": " + value));
    }
    Admin("route?" + q);
  }
  // Answers 400 unless the request carries header `name: value` (as Azure IMDS does for
  // "Metadata: true").
  void RouteRequiringHeader(const std::string& target, const std::string& file,
                            const std::string& name, const std::string& value) {
    Admin(absl::StrCat("route?target=", Escape(target), "&file=", Escape(file),
                       "&require_header=", Escape(name + ": " + value)));
  }
  int Count(const std::string& target = "*") {
    int n = -1;
    EXPECT_TRUE(absl::SimpleAtoi(Admin("count?target=" + Escape(target)), &n));
    return n;
  }
  std::string Log() { return Admin("log"); }
  void Reset() { Admin("reset"); }

 private:
  std::string Admin(const std::string& command) {
    auto r = admin_http_->Get(base_url() + "/_admin/" + command);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->status, 200) << command;
    return r->body;
  }
  static std::string Escape(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/') {
        out.push_back(static_cast<char>(c));
      } else {
        absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
      }
    }
    return out;
  }

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
  bool tls_ = false;
  std::unique_ptr<CurlHttpGetter> admin_http_;
};

}  // namespace twi::collateral::testing
