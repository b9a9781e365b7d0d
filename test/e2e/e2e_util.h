// Helpers for end-to-end tests that launch the real plugin binaries through the host harness.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "attestors/core/crypto.h"

#include "gtest/gtest.h"
#include "test/harness/host.h"

namespace twi::e2e {

inline constexpr char kAgent[] = "twi-agent-nodeattestor";
inline constexpr char kServer[] = "twi-server-nodeattestor";
inline constexpr char kWorkload[] = "twi-workloadattestor";

inline std::string Bin(const std::string& name) { return std::string(TWI_BIN_DIR) + "/" + name; }

// A fresh directory under the test temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    static int n = 0;
    path_ = ::testing::TempDir() + "/twi-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<host::PluginProcess> Launch(const std::string& bin, const std::string& type = "NodeAttestor",
                                                   std::shared_ptr<host::AgentStore> store = nullptr,
                                                   std::map<std::string, std::string> env = {}) {
  host::LaunchOptions o;
  o.path = Bin(bin);
  o.plugin_type = type;
  o.agent_store = std::move(store);
  o.extra_env = std::move(env);
  auto p = host::PluginProcess::Launch(o);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

// SHA-256 of a file's bytes, in hex (what a workload's sha256: selector must say).
inline std::string FileSha256(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return HexEncode(Sha256(AsBytes(data)));
}

inline bool ProcessAlive(pid_t pid) { return ::kill(pid, 0) == 0; }

// Shuts the plugin down as SPIRE does and checks it left nothing behind: the process exited
// with status 0 within 2 s and its socket file is gone; its logs were all valid hclog lines
// and it never wrote to stdout after the handshake.
inline void ShutdownAndCheckClean(host::PluginProcess& p) {
  EXPECT_TRUE(p.Deinit().ok());
  std::string socket = p.socket_path();
  absl::Status s = p.Shutdown();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(p.exited());
  EXPECT_EQ(p.exit_status(), 0);
  EXPECT_FALSE(ProcessAlive(p.pid()));
  EXPECT_FALSE(std::filesystem::exists(socket)) << socket;
  EXPECT_TRUE(p.log_format_errors().empty()) << p.log_format_errors()[0];
  EXPECT_EQ(p.stray_stdout_bytes(), 0u);
}

// An agent and a server node attestor loaded as SPIRE loads them, SPIRE's relay between
// them, and the clean-shutdown checks at the end of every test.
class NodePairTest : public ::testing::Test {
 protected:
  // `agent_extra` is appended to the agent's plugin_data, after its state_dir.
  void StartBoth(const std::string& server_hcl, const std::string& agent_extra = "") {
    store_ = std::make_shared<host::AgentStore>();
    agent_ = Launch(kAgent);
    server_ = Launch(kServer, "NodeAttestor", store_);
    ASSERT_TRUE(agent_ && server_);
    absl::Status a = agent_->Load("example.org", AgentHcl() + agent_extra, false);
    ASSERT_TRUE(a.ok()) << a;
    absl::Status s = server_->Load("example.org", server_hcl, true);
    ASSERT_TRUE(s.ok()) << s;
  }
  std::string AgentHcl() { return "state_dir = \"" + dir_.path() + "/agent\"\n"; }
  host::NodeAttestationResult Attest(const host::RelayHooks& hooks = {}) {
    return host::AttestNode(*agent_, *server_, "example.org", "twi", hooks, store_.get());
  }
  void TearDown() override {
    if (agent_) ShutdownAndCheckClean(*agent_);
    if (server_) ShutdownAndCheckClean(*server_);
  }

  TempDir dir_;
  std::shared_ptr<host::AgentStore> store_;
  std::unique_ptr<host::PluginProcess> agent_, server_;
};

}  // namespace twi::e2e
