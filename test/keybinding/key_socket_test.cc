// The KeyManager's local socket: round trip, generation mismatch, directory permissions, and
// the peer-uid check against a child running as another uid.
#include "attestors/keybinding/key_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/keybinding/binding.h"
#include "plugin/keymanager/key_store.h"
#include "twi/v1/keybinding.pb.h"

namespace twi::keybinding {
namespace {

using ::testing::HasSubstr;

class KeySocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/twi-keysock-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_);
    path_ = base_ + "/keys/keys.sock";
    store_ = std::make_shared<keymanager::KeyStore>();
  }
  void TearDown() override { std::filesystem::remove_all(base_); }
  std::string base_, path_;
  std::shared_ptr<keymanager::KeyStore> store_;
};

TEST_F(KeySocketTest, PendingKeyAndPopRoundTrip) {
  auto server = KeySocketServer::Start(path_, store_);
  ASSERT_TRUE(server.ok()) << server.status();
  struct stat st;
  ASSERT_EQ(::stat((base_ + "/keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  KeySocketClient client(path_);
  EXPECT_THAT(client.GetPendingKey().status().message(), HasSubstr("no pending key"));
  auto pub = store_->GenerateKey("agent-svid-A", keymanager::pb::EC_P256);
  ASSERT_TRUE(pub.ok());
  auto k = client.GetPendingKey();
  ASSERT_TRUE(k.ok()) << k.status();
  EXPECT_EQ(k->key_id, "agent-svid-A");
  EXPECT_EQ(AsString(k->spki), pub->pkix_data());
  EXPECT_EQ(k->generation, 1u);
  EXPECT_EQ(k->fingerprint, pub->fingerprint());

  const Bytes nonce(32, 7), payload = ToBytes("payload");
  auto sig = client.SignBindingTranscript(nonce, Sha256(payload), 1);
  ASSERT_TRUE(sig.ok()) << sig.status();
  twi::v1::SvidKey svid;
  svid.set_spki(pub->pkix_data());
  svid.set_generation(1);
  EXPECT_TRUE(VerifyPop(svid, nonce, payload, *sig).ok());
}

TEST_F(KeySocketTest, GenerationMismatchRefused) {
  auto server = KeySocketServer::Start(path_, store_);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(store_->GenerateKey("agent-svid-A", keymanager::pb::EC_P256).ok());
  ASSERT_TRUE(store_->GenerateKey("agent-svid-B", keymanager::pb::EC_P256).ok());
  auto sig = KeySocketClient(path_).SignBindingTranscript(Bytes(32, 1), Bytes(32, 2), 1);
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(sig.status().message(), HasSubstr("generation got 1, want 2"));
  // Wrong sizes: the KeyManager builds the transcript, so it checks them.
  sig = KeySocketClient(path_).SignBindingTranscript(Bytes(31, 1), Bytes(32, 2), 2);
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(sig.status().message(), HasSubstr("nonce is 31 bytes, want 32"));
}

TEST_F(KeySocketTest, ServerDownIsUnavailable) {
  {
    auto server = KeySocketServer::Start(path_, store_);
    ASSERT_TRUE(server.ok()) << server.status();
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
  auto k = KeySocketClient(path_).GetPendingKey();
  EXPECT_EQ(k.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(k.status().message(), HasSubstr("unreachable: connect:"));
}

TEST_F(KeySocketTest, OpenDirectoryRefusedOnBothSides) {
  std::filesystem::create_directories(base_ + "/keys");
  ::chmod((base_ + "/keys").c_str(), 0755);
  auto server = KeySocketServer::Start(path_, store_);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(server.status().message(),
              HasSubstr("has mode 0755, want no group or other access (0700)"));
  auto k = KeySocketClient(path_).GetPendingKey();
  EXPECT_EQ(k.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(k.status().message(), HasSubstr("has mode 0755"));
}

TEST_F(KeySocketTest, SymlinkedDirectoryAndNonSocketRefused) {
  std::filesystem::create_directories(base_ + "/real");
  ::chmod((base_ + "/real").c_str(), 0700);
  std::filesystem::create_directory_symlink(base_ + "/real", base_ + "/keys");
  auto server = KeySocketServer::Start(path_, store_);
  EXPECT_THAT(server.status().message(), HasSubstr("is not a directory (a symlink is refused)"));
  std::string file = base_ + "/real/keys.sock";
  { std::ofstream(file) << "x"; }
  server = KeySocketServer::Start(file, store_);
  EXPECT_THAT(server.status().message(), HasSubstr("exists and is not a socket"));
  EXPECT_TRUE(std::filesystem::exists(file));
}

TEST_F(KeySocketTest, BadPathsRefused) {
  EXPECT_THAT(KeySocketServer::Start("relative/keys.sock", store_).status().message(),
              HasSubstr("must be an absolute file path"));
  EXPECT_THAT(KeySocketServer::Start("/" + std::string(200, 'a') + "/k.sock", store_)
                  .status().message(),
              HasSubstr("longer than a unix socket address allows"));
}

// Runs `fn` in a child as uid/gid 65534; returns its exit status (77: could not switch).
int RunAsNobody(const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
      ::_exit(77);
    }
    ::_exit(fn());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

// Connects and sends a GetPendingKey frame built before the fork; exit 0 when the reply
// refuses with PERMISSION_DENIED naming the uids, 1 when the connect fails, 2 otherwise.
int ConnectAndAsk(const std::string& path, const std::string& frame) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return 1;
  // The KeyManager may refuse (and close) before reading: no SIGPIPE, read its answer anyway.
  (void)::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
  char buf[2048];
  ssize_t n = 0, r;
  while (n < static_cast<ssize_t>(sizeof(buf)) && (r = ::read(fd, buf + n, sizeof(buf) - n)) > 0) n += r;
  if (n < 4) return 2;
  twi::v1::KeySocketResponse resp;
  if (!resp.ParseFromArray(buf + 4, static_cast<int>(n - 4))) return 2;
  bool refused = resp.code() == static_cast<int>(absl::StatusCode::kPermissionDenied) &&
                 resp.message().find("client uid 65534 is not this process's uid") != std::string::npos &&
                 !resp.has_pending_key();
  return refused ? 0 : 2;
}

TEST_F(KeySocketTest, OtherUidRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a child as another uid";
  auto server = KeySocketServer::Start(path_, store_);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(store_->GenerateKey("agent-svid-A", keymanager::pb::EC_P256).ok());
  twi::v1::KeySocketRequest req;
  req.mutable_get_pending_key();
  std::string body = req.SerializeAsString();
  std::string frame = std::string(3, '\0') + static_cast<char>(body.size()) + body;
  // First lock: the 0700 directory keeps another uid from reaching the socket at all.
  ::chmod(base_.c_str(), 0755);
  EXPECT_EQ(RunAsNobody([&] { return ConnectAndAsk(path_, frame); }), 1);
  // Second lock: with the directory and socket opened up (an operator's mistake), the
  // KeyManager still refuses a peer whose uid is not its own.
  ::chmod((base_ + "/keys").c_str(), 0755);
  ::chmod(path_.c_str(), 0666);
  EXPECT_EQ(RunAsNobody([&] { return ConnectAndAsk(path_, frame); }), 0);
}

TEST_F(KeySocketTest, OversizedAndGarbageFramesRefused) {
  auto server = KeySocketServer::Start(path_, store_);
  ASSERT_TRUE(server.ok()) << server.status();
  auto ask = [&](const std::string& frame) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path_.data(), path_.size());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::write(fd, frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
    char buf[2048];
    ssize_t n = 0, r;
    while ((r = ::read(fd, buf + n, sizeof(buf) - n)) > 0) n += r;
    ::close(fd);
    twi::v1::KeySocketResponse resp;
    EXPECT_GE(n, 4);
    resp.ParseFromArray(buf + 4, static_cast<int>(n - 4));
    return resp;
  };
  auto r = ask(std::string("\x00\x10\x00\x00", 4));
  EXPECT_EQ(r.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.message(), HasSubstr("frame of 1048576 bytes, more than the limit of 16384"));
  r = ask(std::string("\x00\x00\x00\x02\xff\xff", 6));
  EXPECT_THAT(r.message(), HasSubstr("does not parse"));
  r = ask(std::string("\x00\x00\x00\x00", 4));
  EXPECT_THAT(r.message(), HasSubstr("unknown key socket request"));
  // The server still answers afterwards.
  EXPECT_THAT(KeySocketClient(path_).GetPendingKey().status().message(), HasSubstr("no pending key"));
}

}  // namespace
}  // namespace twi::keybinding
