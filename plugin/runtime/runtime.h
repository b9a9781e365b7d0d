// The plugin runtime: what turns a binary into a plugin that an unmodified SPIRE loads
// (spec section 7): magic-cookie check, unix-socket gRPC server, the handshake line,
// health, go-plugin's broker/controller/stdio services, SPIRE's Init and Config services,
// and an orderly exit on Shutdown or SIGTERM.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace grpc {
class Channel;
class Service;
class Status;
}  // namespace grpc

namespace twi::runtime {

// absl and gRPC share code numbers.
grpc::Status ToGrpc(const absl::Status& s);

// What a plugin does with its configuration. Configure and Validate must go through the same
// builder. Both may be called concurrently with the plugin's RPCs.
class Configurable {
 public:
  virtual ~Configurable() = default;
  // Builds and applies the config; INVALID_ARGUMENT listing every problem otherwise.
  virtual absl::Status Configure(const std::string& trust_domain, const std::string& hcl) = 0;
  // Builds the config without applying it. Returns notes (warnings) on success.
  virtual absl::StatusOr<std::vector<std::string>> Validate(const std::string& trust_domain,
                                                           const std::string& hcl) = 0;
  virtual void Deinit() {}
};

// The host's services, reached through the broker's ConnInfo with service id 1.
class HostServices {
 public:
  // Waits up to `wait` for ConnInfo id 1, then dials it once (lazily) and returns the channel.
  // UNAVAILABLE when the host never announced it.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(std::chrono::milliseconds wait);
  // The names SPIRE listed in InitRequest.host_service_names.
  bool Offers(const std::string& service_name) const;

  // Called by the runtime.
  void SetConnInfo(const std::string& network, const std::string& address);
  void SetNames(std::vector<std::string> names);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> target_;
  std::vector<std::string> names_;
  std::shared_ptr<grpc::Channel> channel_;
};

struct PluginSpec {
  std::string module;        // binary name, used as the log module
  std::string plugin_type;   // SPIRE plugin type and magic cookie, e.g. "NodeAttestor"
  std::string service_name;  // fully qualified plugin-type service
  grpc::Service* service = nullptr;
  Configurable* configurable = nullptr;
  // The evidence kinds built in (TWI_KINDS), shown by --version and the start log; "" for
  // plugins that handle no evidence.
  std::string evidence_kinds;
};

// Runs the plugin until the host shuts it down. Returns the process exit code.
int Run(const PluginSpec& spec, int argc, char** argv);

// The process's host services (valid for the life of the process).
HostServices* Host();

// The handshake line for a unix socket path (exposed for tests).
std::string HandshakeLine(const std::string& socket_path);

}  // namespace twi::runtime
