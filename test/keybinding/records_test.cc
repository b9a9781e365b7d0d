// Binding records (S1): the table (consume once, expiry on an injected clock, several keys
// per agent ID, bounded size) and its unix-socket server and client (file modes, peer-uid
// refusal, fail-closed client, lazy reconnect, malformed frames).
#include "attestors/keybinding/records.h"
#include "attestors/keybinding/records_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/core/crypto.h"

namespace twi::keybinding {
namespace {

using ::testing::HasSubstr;

class ManualClock final : public Clock {
 public:
  TimePoint Now() const override { return now_; }
  void Advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  TimePoint now_ = std::chrono::system_clock::from_time_t(1'800'000'000);
};

const std::string kId = "spiffe://example.org/spire/agent/twi/abc";
Bytes KeyHash(uint8_t b) { return Bytes(32, b); }
const Bytes kDigest = Sha256(ToBytes("attestation"));

TEST(RecordTableTest, TakeConsumesOnce) {
  RecordTable t;
  ASSERT_TRUE(t.Put(kId, KeyHash(1), kDigest, {}).ok());
  auto r = t.Take(kId, KeyHash(1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->attestation_digest, kDigest);
  EXPECT_TRUE(r->ear_digest.empty());
  auto again = t.Take(kId, KeyHash(1));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(again.status().message(), HasSubstr("no binding record"));
}

TEST(RecordTableTest, OtherKeyOrOtherIdFindsNothing) {
  RecordTable t;
  ASSERT_TRUE(t.Put(kId, KeyHash(1), kDigest, {}).ok());
  EXPECT_EQ(t.Take(kId, KeyHash(2)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(t.Take(kId + "x", KeyHash(1)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(t.Take(kId, KeyHash(1)).ok());  // the failed look-ups consumed nothing
}

TEST(RecordTableTest, ExpiresAfterTtl) {
  ManualClock clock;
  RecordTable t({std::chrono::seconds(60), 16, &clock});
  ASSERT_TRUE(t.Put(kId, KeyHash(1), kDigest, {}).ok());
  ASSERT_TRUE(t.Put(kId, KeyHash(2), kDigest, {}).ok());
  clock.Advance(std::chrono::seconds(59));
  EXPECT_TRUE(t.Take(kId, KeyHash(1)).ok());
  clock.Advance(std::chrono::seconds(1));
  auto r = t.Take(kId, KeyHash(2));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("expired"));
  EXPECT_EQ(t.size(), 0u);
}

TEST(RecordTableTest, ExpiredRecordsAreDroppedAndFreeRoom) {
  ManualClock clock;
  RecordTable t({std::chrono::seconds(60), 2, &clock});
  ASSERT_TRUE(t.Put(kId, KeyHash(1), kDigest, {}).ok());
  ASSERT_TRUE(t.Put(kId, KeyHash(2), kDigest, {}).ok());
  absl::Status full = t.Put(kId, KeyHash(3), kDigest, {});
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.message(), HasSubstr("table full"));
  clock.Advance(std::chrono::seconds(61));
  EXPECT_TRUE(t.Put(kId, KeyHash(3), kDigest, {}).ok());
  EXPECT_EQ(t.size(), 1u);
}

TEST(RecordTableTest, RefusesBadFields) {
  RecordTable t;
  EXPECT_THAT(t.Put("", KeyHash(1), kDigest, {}).message(), HasSubstr("agent ID has 0 bytes"));
  EXPECT_THAT(t.Put(kId, Bytes(31, 1), kDigest, {}).message(), HasSubstr("key hash has 31 bytes, want 32"));
  EXPECT_THAT(t.Put(kId, KeyHash(1), Bytes(65, 0), {}).message(), HasSubstr("digest too long"));
  EXPECT_EQ(t.Take(std::string(2049, 'a'), KeyHash(1)).status().code(), absl::StatusCode::kInvalidArgument);
}

// Spec 6.5 row 3: two attestations for one agent ID with different keys (a retry after a
// timeout, or a duplicated agent) leave two records; each key finds only its own, once.
TEST(RecordTableTest, TwoKeysForOneIdConcurrently) {
  RecordTable t;
  constexpr int kRounds = 200;
  std::atomic<int> taken[2] = {0, 0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 2; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < kRounds; ++i) {
        ASSERT_TRUE(t.Put(kId, KeyHash(static_cast<uint8_t>(k + 1)), kDigest, {}).ok());
        if (t.Take(kId, KeyHash(static_cast<uint8_t>(k + 1))).ok()) taken[k]++;
      }
    });
    // A second taker per key races the owner: a record is never handed out twice.
    threads.emplace_back([&, k] {
      for (int i = 0; i < kRounds; ++i) {
        if (t.Take(kId, KeyHash(static_cast<uint8_t>(k + 1))).ok()) taken[k]++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(taken[0].load(), kRounds);
  EXPECT_EQ(taken[1].load(), kRounds);
  EXPECT_EQ(t.size(), 0u);
}

class RecordSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/twi-records-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter_++);
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_);
    path_ = base_ + "/kb/records.sock";
    table_ = std::make_shared<RecordTable>();
  }
  void TearDown() override { std::filesystem::remove_all(base_); }
  void StartServer() {
    auto s = RecordServer::Start(path_, table_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  static inline int counter_ = 0;
  std::string base_, path_;
  std::shared_ptr<RecordTable> table_;
  std::unique_ptr<RecordServer> server_;
};

TEST_F(RecordSocketTest, PutAndTakeOverTheSocket) {
  StartServer();
  struct stat dir {}, sock {};
  ASSERT_EQ(::stat((base_ + "/kb").c_str(), &dir), 0);
  ASSERT_EQ(::stat(path_.c_str(), &sock), 0);
  EXPECT_EQ(dir.st_mode & 07777, 0700u);
  EXPECT_EQ(sock.st_mode & 07777, 0600u);
  RecordClient client(path_, std::chrono::seconds(2));
  ASSERT_TRUE(client.Put(kId, KeyHash(7), kDigest, Sha256(ToBytes("ear"))).ok());
  auto r = client.Take(kId, KeyHash(7));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->attestation_digest, kDigest);
  EXPECT_EQ(r->ear_digest, Sha256(ToBytes("ear")));
  auto again = client.Take(kId, KeyHash(7));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kNotFound);
  server_.reset();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(RecordSocketTest, RefusesAnOpenDirectory) {
  std::filesystem::create_directories(base_ + "/kb");
  ::chmod((base_ + "/kb").c_str(), 0755);
  auto s = RecordServer::Start(path_, table_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.status().message(), HasSubstr("has mode 0755, want no group or other access"));
}

TEST_F(RecordSocketTest, ReplacesAStaleSocketButNotAFile) {
  StartServer();
  server_.reset();
  StartServer();  // nothing left behind blocks a restart
  server_.reset();
  std::filesystem::create_directories(base_ + "/kb");
  { std::ofstream(path_) << "x"; }
  auto s = RecordServer::Start(path_, table_);
  EXPECT_THAT(s.status().message(), HasSubstr("exists and is not a socket"));
}

TEST_F(RecordSocketTest, ClientFailsClosedWhenTheServerIsDown) {
  RecordClient client(path_, std::chrono::seconds(2));
  auto r = client.Take(kId, KeyHash(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("connect"));
}

TEST_F(RecordSocketTest, ClientGivesUpOnASilentServer) {
  // Listening but never answering: connect succeeds (backlog), the answer never comes.
  std::filesystem::create_directories(base_ + "/kb");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path_.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  RecordClient client(path_, std::chrono::milliseconds(200));
  auto r = client.Take(kId, KeyHash(1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("timed out"));
  ::close(fd);
}

TEST_F(RecordSocketTest, ClientReconnectsAfterAServerRestart) {
  StartServer();
  RecordClient client(path_, std::chrono::seconds(2));
  ASSERT_TRUE(client.Put(kId, KeyHash(1), kDigest, {}).ok());
  server_.reset();  // its connection to the client is gone with it
  StartServer();
  ASSERT_TRUE(client.Put(kId, KeyHash(2), kDigest, {}).ok());
  EXPECT_TRUE(client.Take(kId, KeyHash(2)).ok());
}

TEST_F(RecordSocketTest, MalformedRequestsAreRefusedAndTheServerGoesOn) {
  StartServer();
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path_.c_str());
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const char bad[] = {0, 0, 0, 2, 9, 0};  // unknown op, truncated field
  ASSERT_EQ(::write(fd, bad, sizeof bad), static_cast<ssize_t>(sizeof bad));
  char resp[64];
  ssize_t n = ::read(fd, resp, sizeof resp);
  ASSERT_GE(n, 5);
  EXPECT_EQ(resp[4], static_cast<char>(absl::StatusCode::kInvalidArgument));
  const char huge[] = {0x7f, 0, 0, 0};  // a frame far beyond kMaxFrameBytes: connection dropped
  ASSERT_EQ(::write(fd, huge, sizeof huge), static_cast<ssize_t>(sizeof huge));
  EXPECT_EQ(::read(fd, resp, sizeof resp), 0);
  ::close(fd);
  RecordClient client(path_, std::chrono::seconds(2));
  EXPECT_TRUE(client.Put(kId, KeyHash(1), kDigest, {}).ok());
}

// The file modes keep other users out; the peer-uid check is the second wall. Opened here
// (0711 dir, 0666 socket) so a child under another uid reaches the check itself.
TEST_F(RecordSocketTest, RefusesAPeerWithAnotherUid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a child under another uid";
  StartServer();
  ASSERT_EQ(::chmod((base_ + "/kb").c_str(), 0711), 0);
  ASSERT_EQ(::chmod(path_.c_str(), 0666), 0);
  ASSERT_TRUE(table_->Put(kId, KeyHash(1), kDigest, {}).ok());
  const std::string path = path_;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Raw system calls only: the parent has threads.
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(10);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(11);
    char resp[256];
    ssize_t n = ::read(fd, resp, sizeof resp);
    if (n < 5) ::_exit(12);
    ::_exit(resp[4] == static_cast<char>(absl::StatusCode::kPermissionDenied) ? 0 : 13);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 setresuid, 11 connect, 12 no answer, 13 other code";
  EXPECT_EQ(server_->refused_peers(), 1);
  EXPECT_EQ(table_->size(), 1u);  // nothing was taken
}

}  // namespace
}  // namespace twi::keybinding
