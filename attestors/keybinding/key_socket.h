// The local socket between the twi KeyManager and the twi agent NodeAttestor (option A1 of
// spire-keybinding-services.md 6.3). The KeyManager listens on `<dir>/keys.sock`; `<dir>` is
// created 0700 or must already be owned by this uid with no group/other access, the socket is
// 0600, and each side checks the other's uid (SO_PEERCRED) equals its own. One request and one
// response per connection, each a 4-byte big-endian length then a twi.v1 KeySocket message
// (proto/twi/v1/keybinding.proto), at most kMaxFrameBytes; reads and writes time out.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "attestors/keybinding/pending_key.h"
#include "twi/v1/keybinding.pb.h"

namespace twi::keybinding {

inline constexpr size_t kMaxFrameBytes = 16 * 1024;
inline constexpr std::chrono::milliseconds kSocketTimeout{5000};

// Checks (creating it 0700 when absent) the directory of `socket_path`: a real directory, owned
// by this process's effective uid, no group or other permission bits. FAILED_PRECONDITION naming
// the directory and what is wrong otherwise. Also refuses relative paths and paths too long for
// a unix socket address.
absl::Status PrepareSocketDir(const std::string& socket_path, bool create);

// The answer to one request frame's bytes (what the server sends back; exposed for the fuzz
// target): parses them and asks `service`. Errors travel as code + message.
twi::v1::KeySocketResponse HandleKeySocketRequest(const PendingKeyService& service,
                                                  ByteView request);

class KeySocketServer {
 public:
  // Binds `socket_path` (replacing a stale socket there) and serves `service` on a thread.
  static absl::StatusOr<std::unique_ptr<KeySocketServer>> Start(
      const std::string& socket_path, std::shared_ptr<const PendingKeyService> service);
  ~KeySocketServer();  // stops the thread, removes the socket
  const std::string& path() const { return path_; }

 private:
  KeySocketServer() = default;
  void Serve();
  void Handle(int fd) const;

  std::string path_;
  std::shared_ptr<const PendingKeyService> service_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: wakes the accept loop to exit
  std::thread thread_;
};

// The agent NodeAttestor's side: each call connects, checks the server's uid, asks, closes.
// UNAVAILABLE "twi KeyManager socket \"...\" unreachable: ..." when nothing answers.
class KeySocketClient final : public PendingKeyService {
 public:
  explicit KeySocketClient(std::string socket_path) : path_(std::move(socket_path)) {}
  absl::StatusOr<PendingKey> GetPendingKey() const override;
  absl::StatusOr<Bytes> SignBindingTranscript(ByteView nonce, ByteView payload_digest,
                                              uint64_t generation) const override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace twi::keybinding
