#include "attestors/keybinding/key_socket.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "attestors/core/str.h"
#include "twi/v1/keybinding.pb.h"

namespace twi::keybinding {
namespace {

// Closes a descriptor at scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::string Quoted(const std::string& path) { return StrCat("\"", path.substr(0, 200), "\""); }

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::StatusOr<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(StrCat("socket path ", Quoted(path), " is ", path.size(),
                                             " bytes, longer than a unix socket address allows (",
                                             sizeof(addr.sun_path) - 1, ")"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

void SetTimeouts(int fd) {
  timeval tv{};
  tv.tv_sec = kSocketTimeout.count() / 1000;
  tv.tv_usec = (kSocketTimeout.count() % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// The peer's uid must be ours: the socket's directory keeps others out, this is the second lock.
absl::Status CheckPeer(int fd, std::string_view who) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::PermissionDeniedError(StrCat("cannot read the ", who, "'s credentials: ",
                                              std::strerror(errno)));
  }
  if (cred.uid != ::geteuid()) {
    return absl::PermissionDeniedError(
        StrCat(who, " uid ", cred.uid, " is not this process's uid ", ::geteuid()));
  }
  return absl::OkStatus();
}

absl::Status IoError(std::string_view what) {
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    return absl::DeadlineExceededError(StrCat(what, ": timed out after ",
                                              kSocketTimeout.count(), " ms"));
  }
  return absl::UnavailableError(StrCat(what, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError("write");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status ReadAll(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError("read");
    }
    if (r == 0) return absl::UnavailableError("read: connection closed early");
    p += r;
    n -= static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

absl::Status WriteFrame(int fd, const google::protobuf::Message& m) {
  std::string body = m.SerializeAsString();
  uint8_t len[4] = {static_cast<uint8_t>(body.size() >> 24), static_cast<uint8_t>(body.size() >> 16),
                    static_cast<uint8_t>(body.size() >> 8), static_cast<uint8_t>(body.size())};
  if (absl::Status s = WriteAll(fd, len, 4); !s.ok()) return s;
  return WriteAll(fd, reinterpret_cast<const uint8_t*>(body.data()), body.size());
}

absl::StatusOr<std::string> ReadFrameBytes(int fd) {
  uint8_t len[4];
  if (absl::Status s = ReadAll(fd, len, 4); !s.ok()) return s;
  size_t n = (size_t{len[0]} << 24) | (size_t{len[1]} << 16) | (size_t{len[2]} << 8) | len[3];
  if (n > kMaxFrameBytes) {
    return absl::InvalidArgumentError(
        StrCat("frame of ", n, " bytes, more than the limit of ", kMaxFrameBytes));
  }
  std::string body(n, '\0');
  if (absl::Status s = ReadAll(fd, reinterpret_cast<uint8_t*>(body.data()), n); !s.ok()) return s;
  return body;
}

absl::Status ReadFrame(int fd, google::protobuf::Message* m) {
  auto body = ReadFrameBytes(fd);
  if (!body.ok()) return body.status();
  if (!m->ParseFromString(*body)) {
    return absl::InvalidArgumentError(StrCat("frame of ", body->size(), " bytes does not parse"));
  }
  return absl::OkStatus();
}

twi::v1::KeySocketResponse ErrorResponse(const absl::Status& s) {
  twi::v1::KeySocketResponse r;
  r.set_code(static_cast<int>(s.code()));
  r.set_message(std::string(s.message().substr(0, 1024)));
  return r;
}

}  // namespace

absl::Status PrepareSocketDir(const std::string& socket_path, bool create) {
  if (socket_path.empty() || socket_path[0] != '/' || socket_path.back() == '/') {
    return absl::InvalidArgumentError(
        StrCat("socket path must be an absolute file path, got ", Quoted(socket_path)));
  }
  if (auto a = Address(socket_path); !a.ok()) return a.status();
  const std::string dir = DirOf(socket_path);
  if (create && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        StrCat("cannot create socket directory ", Quoted(dir), ": ", std::strerror(errno)));
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        StrCat("socket directory ", Quoted(dir), ": ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat("socket directory ", Quoted(dir), " is not a directory (a symlink is refused)"));
  }
  if (st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(StrCat("socket directory ", Quoted(dir),
                                                " is owned by uid ", st.st_uid, ", want ",
                                                ::geteuid(), " (this process)"));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::FailedPreconditionError(StrCat("socket directory ", Quoted(dir), " has mode ",
                                                mode, ", want no group or other access (0700)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<KeySocketServer>> KeySocketServer::Start(
    const std::string& socket_path, std::shared_ptr<const PendingKeyService> service) {
  if (absl::Status s = PrepareSocketDir(socket_path, /*create=*/true); !s.ok()) return s;
  auto addr = Address(socket_path);
  if (!addr.ok()) return addr.status();
  struct stat st;
  if (::lstat(socket_path.c_str(), &st) == 0) {
    // A socket left by a previous run (the directory is ours alone); anything else is not ours
    // to remove.
    if (!S_ISSOCK(st.st_mode)) {
      return absl::FailedPreconditionError(
          StrCat(Quoted(socket_path), " exists and is not a socket; refusing to replace it"));
    }
    ::unlink(socket_path.c_str());
  }
  std::unique_ptr<KeySocketServer> s(new KeySocketServer());
  s->path_ = socket_path;
  s->service_ = std::move(service);
  s->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  s->stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (s->listen_fd_ < 0 || s->stop_fd_ < 0) {
    return absl::InternalError(StrCat("cannot create a socket: ", std::strerror(errno)));
  }
  if (::bind(s->listen_fd_, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    return absl::FailedPreconditionError(
        StrCat("cannot bind ", Quoted(socket_path), ": ", std::strerror(errno)));
  }
  if (::chmod(socket_path.c_str(), 0600) != 0 || ::listen(s->listen_fd_, 16) != 0) {
    return absl::FailedPreconditionError(
        StrCat("cannot listen on ", Quoted(socket_path), ": ", std::strerror(errno)));
  }
  s->thread_ = std::thread([p = s.get()] { p->Serve(); });
  return s;
}

KeySocketServer::~KeySocketServer() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    // Only our own socket: a newer server may already have replaced it at the same path.
    struct stat st;
    if (!path_.empty() && ::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      ::unlink(path_.c_str());
    }
  }
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void KeySocketServer::Serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Fd conn(fd);
    SetTimeouts(fd);
    Handle(fd);
  }
}

void KeySocketServer::Handle(int fd) const {
  if (absl::Status peer = CheckPeer(fd, "client"); !peer.ok()) {
    (void)WriteFrame(fd, ErrorResponse(peer));
    return;
  }
  auto body = ReadFrameBytes(fd);
  (void)WriteFrame(fd, body.ok() ? HandleKeySocketRequest(*service_, AsBytes(*body))
                                 : ErrorResponse(body.status()));
}

twi::v1::KeySocketResponse HandleKeySocketRequest(const PendingKeyService& service,
                                                  ByteView request) {
  twi::v1::KeySocketRequest req;
  if (!req.ParseFromArray(request.data(), static_cast<int>(request.size()))) {
    return ErrorResponse(absl::InvalidArgumentError(
        StrCat("frame of ", request.size(), " bytes does not parse")));
  }
  twi::v1::KeySocketResponse resp;
  if (req.has_get_pending_key()) {
    auto k = service.GetPendingKey();
    if (!k.ok()) return ErrorResponse(k.status());
    auto* out = resp.mutable_pending_key();
    out->set_key_id(k->key_id);
    out->set_spki(std::string(AsString(k->spki)));
    out->set_generation(k->generation);
    out->set_fingerprint(k->fingerprint);
  } else if (req.has_sign_binding_transcript()) {
    const auto& r = req.sign_binding_transcript();
    auto sig = service.SignBindingTranscript(AsBytes(r.nonce()), AsBytes(r.payload_digest()),
                                             r.generation());
    if (!sig.ok()) return ErrorResponse(sig.status());
    resp.set_signature(std::string(AsString(*sig)));
  } else {
    return ErrorResponse(absl::InvalidArgumentError("unknown key socket request"));
  }
  return resp;
}

namespace {

absl::StatusOr<twi::v1::KeySocketResponse> Call(const std::string& path,
                                                const twi::v1::KeySocketRequest& req) {
  auto unreachable = [&](const absl::Status& why) {
    return absl::UnavailableError(
        StrCat("twi KeyManager socket ", Quoted(path), " unreachable: ", why.message()));
  };
  if (absl::Status s = PrepareSocketDir(path, /*create=*/false); !s.ok()) return unreachable(s);
  auto addr = Address(path);
  if (!addr.ok()) return unreachable(addr.status());
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.fd < 0) return unreachable(absl::InternalError(std::strerror(errno)));
  SetTimeouts(fd.fd);
  if (::connect(fd.fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    return unreachable(absl::UnavailableError(StrCat("connect: ", std::strerror(errno))));
  }
  if (absl::Status s = CheckPeer(fd.fd, "KeyManager"); !s.ok()) return s;
  if (absl::Status s = WriteFrame(fd.fd, req); !s.ok()) return unreachable(s);
  twi::v1::KeySocketResponse resp;
  if (absl::Status s = ReadFrame(fd.fd, &resp); !s.ok()) return unreachable(s);
  if (resp.code() != 0) {
    // The KeyManager's refusal, passed on with its code (bounded by the frame limit).
    int code = resp.code() > 0 && resp.code() <= 16 ? resp.code()
                                                    : static_cast<int>(absl::StatusCode::kUnknown);
    return absl::Status(static_cast<absl::StatusCode>(code),
                        StrCat("twi KeyManager: ", resp.message().substr(0, 512)));
  }
  return resp;
}

}  // namespace

absl::StatusOr<PendingKey> KeySocketClient::GetPendingKey() const {
  twi::v1::KeySocketRequest req;
  req.mutable_get_pending_key();
  auto resp = Call(path_, req);
  if (!resp.ok()) return resp.status();
  if (!resp->has_pending_key() || resp->pending_key().spki().empty()) {
    return absl::InternalError("twi KeyManager answered without a pending key");
  }
  const auto& k = resp->pending_key();
  return PendingKey{k.key_id(), ToBytes(k.spki()), k.generation(), k.fingerprint()};
}

absl::StatusOr<Bytes> KeySocketClient::SignBindingTranscript(ByteView nonce,
                                                             ByteView payload_digest,
                                                             uint64_t generation) const {
  twi::v1::KeySocketRequest req;
  auto* r = req.mutable_sign_binding_transcript();
  r->set_nonce(std::string(AsString(nonce)));
  r->set_payload_digest(std::string(AsString(payload_digest)));
  r->set_generation(generation);
  auto resp = Call(path_, req);
  if (!resp.ok()) return resp.status();
  if (resp->signature().empty()) {
    return absl::InternalError("twi KeyManager answered without a signature");
  }
  return ToBytes(resp->signature());
}

}  // namespace twi::keybinding
