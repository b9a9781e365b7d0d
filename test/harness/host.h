// A stand-in for SPIRE's plugin host, for end-to-end tests and the quickstart. It launches a
// plugin binary the way SPIRE's catalog does (spec sections 1-4): environment with the magic
// cookie, handshake line on stdout, plaintext gRPC over the announced unix socket, the broker
// stream with ConnInfo id 1 pointing at our host-services server (AgentStore), the stdio
// stream, Init, Configure or Validate, Deinit, Controller/Shutdown with a 2 s grace period.
// It also relays node attestation between an agent and a server plugin as SPIRE does (4.5,
// 4.6), including SPIRE's checks on the returned agent ID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace grpc {
class Channel;
class Server;
}  // namespace grpc

namespace twi::host {

// Host service names as SPIRE lists them in InitRequest.
inline constexpr char kAgentStoreService[] = "spire.hostservice.server.agentstore.v1.AgentStore";
inline constexpr char kMetricsService[] = "spire.hostservice.common.metrics.v1.Metrics";
inline constexpr char kIdentityProviderService[] =
    "spire.hostservice.server.identityprovider.v1.IdentityProvider";

// SPIRE's AgentStore: the IDs of attested agents, in memory.
class AgentStore {
 public:
  void Add(const std::string& id);
  bool Has(const std::string& id) const;
  int lookups() const;
  void CountLookup();

 private:
  mutable std::mutex mu_;
  std::set<std::string> ids_;
  int lookups_ = 0;
};

struct LaunchOptions {
  std::string path;
  std::vector<std::string> args;
  std::string plugin_type = "NodeAttestor";  // magic cookie key
  std::string cookie_value;                  // default: plugin_type (tests set a wrong one)
  std::map<std::string, std::string> extra_env;
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(60)};
  // Serve AgentStore (server process) on the broker's ConnInfo id 1.
  std::shared_ptr<AgentStore> agent_store;
  // Echo the plugin's stderr lines to our stderr as they arrive.
  bool echo_stderr = false;
  // How long Shutdown waits for the exit before SIGKILL: SPIRE's 2 s, longer for a plugin
  // under valgrind (its leak check runs at exit).
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(2)};
};

class PluginProcess {
 public:
  // Starts the plugin, reads and checks the handshake, dials it, opens the broker stream and
  // sends ConnInfo id 1, and opens the stdio stream. Fails like SPIRE would.
  static absl::StatusOr<std::unique_ptr<PluginProcess>> Launch(LaunchOptions opts);
  ~PluginProcess();

  absl::StatusOr<std::vector<std::string>> Init(const std::vector<std::string>& host_services);
  absl::Status Configure(const std::string& trust_domain, const std::string& hcl);
  struct Validation {
    bool valid = false;
    std::vector<std::string> notes;
  };
  absl::StatusOr<Validation> Validate(const std::string& trust_domain, const std::string& hcl);
  absl::Status Deinit();
  // Controller/Shutdown, then waits up to 2 s for exit; SIGKILL after that (error returned).
  absl::Status Shutdown();

  // Init + Configure as SPIRE does at load (host service names per plugin type/side).
  absl::Status Load(const std::string& trust_domain, const std::string& hcl, bool server_side);

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const std::string& handshake_line() const { return handshake_; }
  const std::string& socket_path() const { return socket_path_; }
  pid_t pid() const { return pid_; }
  bool exited() const { return exited_; }
  int exit_status() const { return exit_status_; }
  // stderr lines so far; lines that are not valid hclog JSON entries (spec 1.5) are also
  // listed in log_format_errors().
  std::vector<std::string> stderr_lines() const;
  // stderr is read by a thread: a line the plugin wrote before answering an RPC may arrive a
  // little after the answer. Waits (polling) until `done(lines)` holds or `timeout` passes;
  // returns the lines read by then.
  std::vector<std::string> WaitForStderr(
      const std::function<bool(const std::vector<std::string>&)>& done,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  std::vector<std::string> log_format_errors() const;
  // Bytes written to stdout after the handshake line (must stay 0).
  size_t stray_stdout_bytes() const;

 private:
  PluginProcess() = default;
  void ReadStderr(int fd);
  void DrainStdout(int fd);
  bool WaitExit(std::chrono::milliseconds timeout);

  LaunchOptions opts_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_status_ = -1;
  std::string handshake_;
  std::string socket_path_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string host_socket_;
  std::unique_ptr<grpc::Server> host_server_;
  std::shared_ptr<void> host_service_impl_;
  struct Streams;
  std::unique_ptr<Streams> streams_;
  std::thread stderr_thread_, stdout_thread_;
  mutable std::mutex mu_;
  std::vector<std::string> stderr_lines_;
  std::vector<std::string> log_errors_;
  size_t stray_stdout_ = 0;
};

// Checks one stderr line as SPIRE parses it: when it is a JSON object, @level, @message and
// @timestamp must be strings, the level known and the timestamp exactly six fractional digits.
// Returns "" when fine.
std::string CheckLogLine(const std::string& line);

// Hooks to tamper with node attestation messages in transit (tests).
struct RelayHooks {
  std::function<void(std::string&)> payload;
  std::function<void(std::string&)> challenge;
  std::function<void(std::string&)> challenge_response;
};

struct NodeAttestationResult {
  absl::Status status;  // as the agent would see it: code + "nodeattestor(<name>): ..." message
  std::string spiffe_id;
  std::vector<std::string> selectors;  // "<plugin name>:<value>" as in registration entries
  bool can_reattest = false;
  std::vector<std::string> warnings;   // SPIRE's warnings about the agent ID
  int challenges = 0;
};

// Relays one node attestation between an agent and a server plugin as SPIRE does.
NodeAttestationResult AttestNode(PluginProcess& agent, PluginProcess& server,
                                 const std::string& trust_domain,
                                 const std::string& plugin_name = "twi",
                                 const RelayHooks& hooks = {},
                                 AgentStore* store = nullptr);

// Workload attestation as SPIRE's agent calls it: Attest{pid}, or AttestReference with a
// spiffe.broker.WorkloadPIDReference. Returns "<plugin name>:<value>" selectors.
absl::StatusOr<std::vector<std::string>> AttestWorkload(PluginProcess& plugin, int pid,
                                                        bool by_reference = false,
                                                        const std::string& plugin_name = "twi");
// AttestReference with an arbitrary Any type URL (tests of unsupported reference types).
absl::StatusOr<std::vector<std::string>> AttestReferenceRaw(PluginProcess& plugin,
                                                            const std::string& type_url,
                                                            const std::string& value);

}  // namespace twi::host
