#include "attestors/keybinding/records_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <algorithm>

#include "attestors/core/str.h"

namespace twi::keybinding {
namespace {

constexpr uint8_t kOpPut = 1;
constexpr uint8_t kOpTake = 2;
constexpr size_t kMaxConnections = 32;
// Once a frame has started, the rest must follow within this time (a stuck writer of the
// same uid must not hold a connection thread forever).
constexpr auto kFrameTimeout = std::chrono::seconds(2);

std::string Errno(std::string_view what) { return twi::StrCat(what, ": ", std::strerror(errno)); }

void AppendField(std::string* out, std::string_view field) {
  out->push_back(static_cast<char>(field.size() >> 8));
  out->push_back(static_cast<char>(field.size() & 0xff));
  out->append(field);
}

std::string Frame(const std::string& body) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((body.size() >> (24 - 8 * i)) & 0xff);
  return out + body;
}

// Reads fields in order from a body; any overrun makes the whole message invalid.
class FieldReader {
 public:
  explicit FieldReader(std::string_view body) : rest_(body) {}
  std::optional<uint8_t> Byte() {
    if (rest_.empty()) return std::nullopt;
    uint8_t b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  std::optional<std::string_view> Field() {
    if (rest_.size() < 2) return std::nullopt;
    size_t n = (static_cast<uint8_t>(rest_[0]) << 8) | static_cast<uint8_t>(rest_[1]);
    if (rest_.size() < 2 + n) return std::nullopt;
    std::string_view f = rest_.substr(2, n);
    rest_.remove_prefix(2 + n);
    return f;
  }
  bool AtEnd() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

std::string Response(const absl::Status& s, const std::string& extra = "") {
  std::string body(1, static_cast<char>(s.code()));
  AppendField(&body, std::string_view(s.message().data(), std::min<size_t>(s.message().size(), 1024)));
  return body + extra;
}

int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Reads exactly n bytes before `deadline` (nullopt deadline: wait for the first byte forever).
// Returns "" on success, else why not ("eof" when the peer closed before any byte).
std::string ReadFull(int fd, char* buf, size_t n, std::optional<std::chrono::steady_clock::time_point> deadline) {
  size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, deadline ? MillisLeft(*deadline) : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Errno("poll");
    if (r == 0) return "timed out";
    ssize_t k = ::recv(fd, buf + got, n - got, 0);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k < 0) return Errno("recv");
    if (k == 0) return got == 0 ? "eof" : "connection closed mid-message";
    got += static_cast<size_t>(k);
  }
  return "";
}

std::string WriteFull(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t k = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return Errno("send");
    sent += static_cast<size_t>(k);
  }
  return "";
}

// Reads one frame: waits for its first byte until `first_deadline` (nullopt: forever), the rest
// within kFrameTimeout or `first_deadline`, whichever is later.
std::string ReadFrame(int fd, std::string* body,
                      std::optional<std::chrono::steady_clock::time_point> first_deadline) {
  char len[4];
  std::string err = ReadFull(fd, len, 1, first_deadline);
  if (!err.empty()) return err;
  auto deadline = std::chrono::steady_clock::now() + kFrameTimeout;
  if (first_deadline && *first_deadline > deadline) deadline = *first_deadline;
  err = ReadFull(fd, len + 1, 3, deadline);
  if (!err.empty()) return err == "eof" ? "connection closed mid-message" : err;
  size_t n = 0;
  for (char c : len) n = (n << 8) | static_cast<uint8_t>(c);
  if (n == 0 || n > kMaxFrameBytes) return twi::StrCat("frame of ", n, " bytes, want 1-", kMaxFrameBytes);
  body->assign(n, '\0');
  err = ReadFull(fd, body->data(), n, deadline);
  return err == "eof" ? "connection closed mid-message" : err;
}

std::string ModeString(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

}  // namespace

absl::Status PrepareSocketDir(const std::string& socket_path) {
  std::filesystem::path p(socket_path);
  if (!p.is_absolute() || p.filename().empty()) {
    return absl::InvalidArgumentError(twi::StrCat("records socket \"", socket_path, "\" is not an absolute file path"));
  }
  if (socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return absl::InvalidArgumentError(twi::StrCat("records socket path has ", socket_path.size(),
                                                  " bytes, want at most ", sizeof(sockaddr_un{}.sun_path) - 1));
  }
  std::string dir = p.parent_path().string();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(twi::StrCat("records socket directory ", dir, ": ", Errno("mkdir")));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(twi::StrCat("records socket directory ", dir, ": ", Errno("stat")));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(twi::StrCat("records socket directory ", dir, " is not a directory"));
  }
  if (st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(twi::StrCat("records socket directory ", dir, " is owned by uid ",
                                                     st.st_uid, ", want ", ::geteuid()));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(twi::StrCat("records socket directory ", dir, " has mode ",
                                                     ModeString(st.st_mode),
                                                     ", want no group or other access (0700)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RecordServer>> RecordServer::Start(const std::string& socket_path,
                                                                  std::shared_ptr<RecordTable> table) {
  absl::Status s = PrepareSocketDir(socket_path);
  if (!s.ok()) return s;
  struct stat st {};
  if (::lstat(socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(twi::StrCat("records socket ", socket_path, " exists and is not a socket"));
    }
    ::unlink(socket_path.c_str());  // left by a previous server process
  }
  std::unique_ptr<RecordServer> srv(new RecordServer());
  srv->path_ = socket_path;
  srv->table_ = std::move(table);
  srv->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (srv->listen_fd_ < 0) return absl::InternalError(Errno("records socket"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  // The socket file is created 0600 (umask), before anyone can connect.
  mode_t old = ::umask(0177);
  int b = ::bind(srv->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (b != 0) return absl::FailedPreconditionError(twi::StrCat("records socket ", socket_path, ": ", Errno("bind")));
  if (::listen(srv->listen_fd_, 16) != 0) return absl::InternalError(Errno("listen"));
  if (::pipe2(srv->wake_, O_CLOEXEC) != 0) return absl::InternalError(Errno("pipe"));
  srv->accept_thread_ = std::thread([p = srv.get()] { p->AcceptLoop(); });
  return srv;
}

RecordServer::~RecordServer() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
    for (auto& c : conns_) {
      if (c.fd >= 0) ::shutdown(c.fd, SHUT_RDWR);
    }
  }
  if (wake_[1] >= 0) {
    char c = 0;
    (void)!::write(wake_[1], &c, 1);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  for (auto& c : conns_) {
    if (c.thread.joinable()) c.thread.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

void RecordServer::AcceptLoop() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::geteuid()) {
      // Only the server's own processes may read or write records.
      refused_.fetch_add(1);
      std::string msg = twi::StrCat("records socket: peer uid ", cred.uid, " is not the server's uid ", ::geteuid());
      (void)WriteFull(fd, Frame(Response(absl::PermissionDeniedError(msg))));
      ::close(fd);
      continue;
    }
    std::lock_guard<std::mutex> l(mu_);
    // Reap finished connection threads.
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (it->done.load()) {
        it->thread.join();
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
    if (stopping_ || conns_.size() >= kMaxConnections) {
      ::close(fd);
      continue;
    }
    Conn& c = conns_.emplace_back();
    c.fd = fd;
    c.thread = std::thread([this, &c] {
      Serve(&c);
      c.done.store(true);
    });
  }
}

void RecordServer::Serve(Conn* c) {
  const int fd = c->fd;
  for (;;) {
    std::string body;
    if (!ReadFrame(fd, &body, std::nullopt).empty()) break;
    if (!WriteFull(fd, Frame(HandleRecordsRequest(table_.get(), body))).empty()) break;
  }
  // Closed under the lock, so the stop path never shuts down a reused descriptor number.
  std::lock_guard<std::mutex> l(mu_);
  ::close(fd);
  c->fd = -1;
}

std::string HandleRecordsRequest(RecordTable* table, std::string_view body) {
  FieldReader r(body);
  auto op = r.Byte();
  auto id = r.Field();
  auto hash = r.Field();
  if (!op || !id || !hash) return Response(absl::InvalidArgumentError("malformed records request"));
  if (*op == kOpPut) {
    auto att = r.Field();
    auto ear = r.Field();
    if (!att || !ear || !r.AtEnd()) return Response(absl::InvalidArgumentError("malformed records Put"));
    return Response(table->Put(std::string(*id), AsBytes(*hash), AsBytes(*att), AsBytes(*ear)));
  }
  if (*op == kOpTake) {
    if (!r.AtEnd()) return Response(absl::InvalidArgumentError("malformed records Take"));
    auto rec = table->Take(std::string(*id), AsBytes(*hash));
    if (!rec.ok()) return Response(rec.status());
    std::string extra;
    AppendField(&extra, AsString(rec->attestation_digest));
    AppendField(&extra, AsString(rec->ear_digest));
    return Response(absl::OkStatus(), extra);
  }
  return Response(absl::InvalidArgumentError(twi::StrCat("unknown records operation ", int{*op})));
}

RecordClient::RecordClient(std::string socket_path, std::chrono::milliseconds timeout)
    : path_(std::move(socket_path)), timeout_(timeout) {}

RecordClient::~RecordClient() {
  std::lock_guard<std::mutex> l(mu_);
  CloseLocked();
}

void RecordClient::CloseLocked() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

absl::StatusOr<std::string> RecordClient::CallOnce(const std::string& request,
                                                   std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return absl::UnavailableError(Errno("records socket"));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof addr.sun_path) {
      ::close(fd);
      return absl::InvalidArgumentError("records socket path too long");
    }
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      // A unix socket whose backlog is full answers EAGAIN: treat it as down too.
      std::string why = Errno("connect");
      ::close(fd);
      return absl::UnavailableError(twi::StrCat("records socket ", path_, ": ", why));
    }
    fd_ = fd;
  }
  std::string err = WriteFull(fd_, Frame(request));
  if (!err.empty()) return absl::UnavailableError(twi::StrCat("records socket ", path_, ": ", err));
  std::string body;
  err = ReadFrame(fd_, &body, deadline);
  if (!err.empty()) return absl::UnavailableError(twi::StrCat("records socket ", path_, ": ", err));
  return body;
}

absl::StatusOr<std::string> RecordClient::Call(const std::string& request) {
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  std::lock_guard<std::mutex> l(mu_);
  const bool reused = fd_ >= 0;
  auto body = CallOnce(request, deadline);
  if (!body.ok()) {
    CloseLocked();
    // A kept connection may have been closed by a restarted server: one fresh attempt.
    if (reused && MillisLeft(deadline) > 0) {
      body = CallOnce(request, deadline);
      if (!body.ok()) CloseLocked();
    }
  }
  if (!body.ok()) return body.status();
  FieldReader r(*body);
  auto code = r.Byte();
  auto msg = r.Field();
  if (!code || !msg || *code > static_cast<uint8_t>(absl::StatusCode::kUnauthenticated)) {
    CloseLocked();
    return absl::UnavailableError("records socket: malformed response");
  }
  if (*code != 0) return absl::Status(static_cast<absl::StatusCode>(*code), std::string(*msg));
  return body->substr(3 + msg->size());
}

absl::Status RecordClient::Put(const std::string& agent_id, ByteView key_hash, ByteView attestation_digest,
                               ByteView ear_digest) {
  absl::Status s = CheckRecordKey(agent_id, key_hash);
  if (!s.ok()) return s;
  std::string req(1, static_cast<char>(kOpPut));
  AppendField(&req, agent_id);
  AppendField(&req, AsString(key_hash));
  AppendField(&req, AsString(attestation_digest));
  AppendField(&req, AsString(ear_digest));
  return Call(req).status();
}

absl::StatusOr<TakenRecord> RecordClient::Take(const std::string& agent_id, ByteView key_hash) {
  absl::Status s = CheckRecordKey(agent_id, key_hash);
  if (!s.ok()) return s;
  std::string req(1, static_cast<char>(kOpTake));
  AppendField(&req, agent_id);
  AppendField(&req, AsString(key_hash));
  auto rest = Call(req);
  if (!rest.ok()) return rest.status();
  FieldReader r(*rest);
  auto att = r.Field();
  auto ear = r.Field();
  if (!att || !ear || !r.AtEnd()) return absl::UnavailableError("records socket: malformed Take response");
  return TakenRecord{ToBytes(*att), ToBytes(*ear)};
}

}  // namespace twi::keybinding
