// The local channel between the server NodeAttestor (which holds the RecordTable and listens)
// and the CredentialComposer (which takes records), two processes of one SPIRE server.
//
// Access control is the file system first and the kernel second: the socket lives in a
// directory that only the server's user can enter (created 0700; an existing one must be owned
// by that user and closed to group and others), the socket itself is 0600, and every
// connection's peer credentials (SO_PEERCRED) must carry the server's own uid.
//
// Wire format (both directions): u32 big-endian body length (at most kMaxFrameBytes), body.
// Request body: u8 op (1 = Put, 2 = Take), then length-prefixed fields (u16 big-endian length,
// bytes): Put: agent ID, key hash, attestation digest, EAR digest; Take: agent ID, key hash.
// Response body: u8 absl status code, field message, and for a successful Take the fields
// attestation digest and EAR digest.
#pragma once

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attestors/keybinding/records.h"

namespace twi::keybinding {

inline constexpr size_t kMaxFrameBytes = 8192;

// One request body (without its length prefix) applied to `table`; the response body. Never
// fails: malformed requests get an INVALID_ARGUMENT response (the fuzzed entry point).
std::string HandleRecordsRequest(RecordTable* table, std::string_view body);

// Creates the socket's directory 0700 if missing, else checks that it is ours and closed to
// group and others. FAILED_PRECONDITION naming the path and mode otherwise.
absl::Status PrepareSocketDir(const std::string& socket_path);

class RecordServer {
 public:
  // Listens on `socket_path` (a stale socket file there is replaced) and serves `table`.
  static absl::StatusOr<std::unique_ptr<RecordServer>> Start(const std::string& socket_path,
                                                             std::shared_ptr<RecordTable> table);
  ~RecordServer();  // stops serving, joins its threads, removes the socket file
  const std::string& path() const { return path_; }
  // Connections refused by the peer-uid check so far.
  int refused_peers() const { return refused_.load(); }

 private:
  RecordServer() = default;
  void AcceptLoop();
  struct Conn;
  void Serve(Conn* c);

  std::string path_;
  std::shared_ptr<RecordTable> table_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // pipe: written at stop to end AcceptLoop
  std::thread accept_thread_;
  struct Conn {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::mutex mu_;
  std::list<Conn> conns_;
  bool stopping_ = false;
  std::atomic<int> refused_{0};
};

struct TakenRecord {
  Bytes attestation_digest;
  Bytes ear_digest;
};

// Talks to a RecordServer. Connects on first use and again after any failure; each call waits
// at most `timeout` in all. Thread-safe (calls are serialized).
class RecordClient {
 public:
  RecordClient(std::string socket_path, std::chrono::milliseconds timeout);
  ~RecordClient();

  absl::Status Put(const std::string& agent_id, ByteView key_hash, ByteView attestation_digest,
                   ByteView ear_digest);
  // NOT_FOUND when no live record matches; UNAVAILABLE when the server cannot be reached or
  // does not answer in time.
  absl::StatusOr<TakenRecord> Take(const std::string& agent_id, ByteView key_hash);

 private:
  absl::StatusOr<std::string> Call(const std::string& request);
  absl::StatusOr<std::string> CallOnce(const std::string& request,
                                       std::chrono::steady_clock::time_point deadline);
  void CloseLocked();

  std::string path_;
  std::chrono::milliseconds timeout_;
  std::mutex mu_;
  int fd_ = -1;
};

}  // namespace twi::keybinding
