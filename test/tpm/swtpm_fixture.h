// A real software TPM for tests: swtpm_setup manufactures a TPM state (EK certificates from a
// throwaway local CA, platform certificate; cached per PCR bank list in the build's test cache),
// each test gets a fresh copy of it in a temporary directory, and `swtpm socket` serves that on
// 127.0.0.1:port (control channel on port + 1) until the fixture is torn down.
//
// Ports: each test passes its own (ctest runs test cases in parallel, one process each). The
// agent-side TPM tests use 24210 upward, the verifier-side ones 23210-23299.
//
// Usage:
//   class MyTest : public SwtpmTest {};
//   TEST_F(MyTest, Foo) {
//     TWI_START_SWTPM(24210);               // skips the test when swtpm is not installed
//     auto tpm = TpmCollector::Open({.tcti = swtpm().tcti()});
//   }
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace twi::testing {

class Swtpm {
 public:
  struct Options {
    std::string pcr_banks = "sha256";  // swtpm_setup --pcr-banks: "sha1,sha256", ...
  };

  Swtpm() = default;
  Swtpm(const Swtpm&) = delete;
  Swtpm& operator=(const Swtpm&) = delete;
  ~Swtpm() { Stop(); }

  static bool Installed() {
    return !Which("swtpm").empty() && !Which("swtpm_setup").empty() &&
           !Which("swtpm_localca").empty();
  }

  // Manufactures a TPM and starts serving it; "" on success, else what failed (with the tool's
  // output).
  std::string Start(int port, const Options& options) {
    port_ = port;
    char tmpl[] = "/tmp/twi-swtpm-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return "mkdtemp failed";
    dir_ = tmpl;
    const std::string state = dir_ + "/state";
    std::filesystem::create_directories(state);
#ifdef TWI_TEST_CACHE_DIR
    // swtpm_setup takes about a second, most of a test's time: manufacture once per bank list
    // (under a lock, parallel tests wait for the first) and give every test its own copy.
    std::string banks = options.pcr_banks;
    std::replace(banks.begin(), banks.end(), ',', '-');  // swtpm splits its options at commas
    const std::string cache = std::string(TWI_TEST_CACHE_DIR) + "/swtpm-" + banks;
    std::filesystem::create_directories(TWI_TEST_CACHE_DIR);
    int lock = open((cache + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0) return "cannot open " + cache + ".lock";
    if (flock(lock, LOCK_EX) != 0) {
      close(lock);
      return "cannot lock " + cache + ".lock";
    }
    std::string error;
    if (!std::filesystem::exists(cache + "/state/tpm2-00.permall")) {
      std::error_code ec;
      std::filesystem::remove_all(cache + ".tmp", ec);
      std::filesystem::remove_all(cache, ec);  // a partial one from an interrupted run
      error = Manufacture(cache + ".tmp", options);
      if (error.empty()) std::filesystem::rename(cache + ".tmp", cache, ec);
      if (error.empty() && ec) error = "cannot rename " + cache + ".tmp: " + ec.message();
    }
    close(lock);  // releases the lock
    if (!error.empty()) return error;
    std::filesystem::copy_file(cache + "/state/tpm2-00.permall", state + "/tpm2-00.permall");
#else
    std::string error = Manufacture(dir_, options);
    if (!error.empty()) return error;
#endif

    const std::string log = dir_ + "/swtpm.log";
    pid_ = Run({"swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state, "--server",
                "type=tcp,port=" + std::to_string(port) + ",bindaddr=127.0.0.1", "--ctrl",
                "type=tcp,port=" + std::to_string(port + 1) + ",bindaddr=127.0.0.1", "--flags",
                "not-need-init,startup-clear", "--log", "file=" + log + ",level=1"},
               log + ".out", /*wait=*/false);
    if (pid_ <= 0) return "cannot start swtpm";
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "swtpm exited (port " + std::to_string(port) + " in use?): " + ReadFile(log) +
               ReadFile(log + ".out");
      }
      if (Connectable(port) && Connectable(port + 1)) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return "swtpm did not listen on port " + std::to_string(port) + " within 5 s";
  }

  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (waitpid(pid_, &status, WNOHANG) == 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
      }
      pid_ = -1;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }

  // A TPM Reset, as at a reboot: swtpm's CMD_INIT on the control channel, then
  // TPM2_Startup(CLEAR). Loaded objects and saved object contexts are gone afterwards, the
  // persistent state (seeds, NV, persistent keys) stays. "" or what failed.
  std::string PowerCycle() {
    const std::string init("\x00\x00\x00\x02\x00\x00\x00\x00", 8);  // CMD_INIT, flags 0
    std::string r = Exchange(port_ + 1, init, 4);
    if (r != std::string(4, '\0')) return "CMD_INIT failed";
    const std::string startup("\x80\x01\x00\x00\x00\x0c\x00\x00\x01\x44\x00\x00", 12);
    r = Exchange(port_, startup, 10);
    if (r.size() != 10 || r.substr(6, 4) != std::string(4, '\0')) return "TPM2_Startup failed";
    return "";
  }

  std::string tcti() const { return "swtpm:port=" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

 private:
  // swtpm_setup into DIR/state with a private local CA in DIR/ca (so tests neither need nor
  // touch /var/lib/swtpm-localca); "" or what failed with the tool's output.
  static std::string Manufacture(const std::string& dir, const Options& options) {
    const std::string state = dir + "/state", ca = dir + "/ca";
    std::filesystem::create_directories(state);
    std::filesystem::create_directories(ca);
    WriteFile(dir + "/localca.conf", "statedir = " + ca + "\nsigningkey = " + ca +
                                         "/signkey.pem\nissuercert = " + ca +
                                         "/issuercert.pem\ncertserial = " + ca + "/certserial\n");
    WriteFile(dir + "/localca.options",
              "--platform-manufacturer twi\n--platform-version 2.1\n--platform-model swtpm\n");
    WriteFile(dir + "/swtpm_setup.conf",
              "create_certs_tool = " + Which("swtpm_localca") + "\ncreate_certs_tool_config = " +
                  dir + "/localca.conf\ncreate_certs_tool_options = " + dir + "/localca.options\n");
    const std::string setup_log = dir + "/setup.log";
    int rc = Run({"swtpm_setup", "--tpm2", "--tpmstate", state, "--create-ek-cert",
                  "--create-platform-cert", "--pcr-banks", options.pcr_banks, "--config",
                  dir + "/swtpm_setup.conf", "--overwrite"},
                 setup_log, /*wait=*/true);
    if (rc != 0) return "swtpm_setup failed: " + ReadFile(setup_log);
    return "";
  }

  static std::string Which(const std::string& tool) {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/bin:/bin");
    for (std::string d; std::getline(ss, d, ':');) {
      std::string candidate = d + "/" + tool;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
  }

  // A connected socket to 127.0.0.1:port, or -1.
  static int Connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  static bool Connectable(int port) {
    int fd = Connect(port);
    if (fd >= 0) close(fd);
    return fd >= 0;
  }

  // Sends `request` on a fresh connection to `port` and reads `response_size` bytes back.
  static std::string Exchange(int port, const std::string& request, size_t response_size) {
    int fd = Connect(port);
    if (fd < 0) return "";
    std::string response;
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[64];
      while (response.size() < response_size) {
        ssize_t n = read(fd, buf, std::min(sizeof(buf), response_size - response.size()));
        if (n <= 0) break;
        response.append(buf, static_cast<size_t>(n));
      }
    }
    close(fd);
    return response;
  }

  static void WriteFile(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // fork + execvp with stdout/stderr to `log`; waits and returns the exit status when `wait`,
  // else returns the child's pid.
  static int Run(const std::vector<std::string>& args, const std::string& log, bool wait) {
    // Everything the child needs is prepared before fork: it only calls async-signal-safe
    // functions until exec.
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      // A test that aborts (ASan, a ctest timeout) must not leave swtpm holding its port.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execvp(argv[0], argv.data());
      _exit(127);
    }
    if (!wait) return pid;
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }

  int port_ = 0;
  pid_t pid_ = -1;
  std::string dir_;
};

class SwtpmTest : public ::testing::Test {
 protected:
  void TearDown() override { swtpm_.Stop(); }
  Swtpm& swtpm() { return swtpm_; }

 private:
  Swtpm swtpm_;
};

}  // namespace twi::testing

// Starts the fixture's swtpm on `port` (and port + 1); skips the test when swtpm is not
// installed, fails it when swtpm does not come up.
#define TWI_START_SWTPM(port, ...)                                                   \
  do {                                                                              \
    if (!::twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed"; \
    std::string twi_swtpm_error_ =                                                  \
        swtpm().Start((port), ::twi::testing::Swtpm::Options{__VA_ARGS__});          \
    ASSERT_EQ(twi_swtpm_error_, "");                                                \
  } while (0)
