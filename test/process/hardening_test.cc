// Issue 15: the paths by which a local process could wear another workload's selectors,
// exercised at the inspector's seams (the live attacks run through the real plugin binary in
// test/e2e/workload_e2e_test.cc).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "attestors/process/exe_integrity.h"
#include "attestors/process/hash_guard.h"
#include "attestors/process/inspector.h"
#include "attestors/process/utf8.h"
#include "test/process/process_test_util.h"

namespace twi::process {
namespace {

using testing::FakeProcess;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::TestData;
using testing::WriteFakeProcess;
using testing::WriteFile;
using Selectors = std::vector<std::string>;

using testing::Has;
bool HasPrefix(const Selectors& s, const std::string& p) { return !testing::WithPrefix(s, p).empty(); }

struct HardeningFixture {
  TempDir dir;
  FakeProcess proc;
  ProcessOptions options;
  HardeningFixture() {
    options.proc_root = dir / "proc";
    options.proc_sys_root = dir / "sys";
    options.ima_path = "";
    options.passwd_file = "";
    options.group_file = "";
  }
  absl::StatusOr<ProcessAttestation> Attest() {
    WriteFakeProcess(options.proc_root, proc);
    auto p = ProcessInspector::Create(options);
    if (!p.ok()) return p.status();
    inspector = *std::move(p);
    return inspector->Attest(proc.pid);
  }
  std::unique_ptr<ProcessInspector> inspector;
};

// --- 1. exe-integrity from the host's user namespace settings ---------------------------

TEST(process_hardening, ExeIntegrityFollowsUsernsSettings) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> files;
    bool strong;
    std::string reason;
  } cases[] = {
      {{{"user/max_user_namespaces", "0\n"}}, true, "user.max_user_namespaces = 0"},
      {{{"user/max_user_namespaces", "96364\n"}, {"kernel/unprivileged_userns_clone", "0\n"}},
       true, "kernel.unprivileged_userns_clone = 0"},
      {{{"user/max_user_namespaces", "96364\n"},
        {"kernel/apparmor_restrict_unprivileged_userns", "1\n"}},
       true, "kernel.apparmor_restrict_unprivileged_userns = 1"},
      {{{"user/max_user_namespaces", "96364\n"},
        {"kernel/unprivileged_userns_clone", "1\n"},
        {"kernel/apparmor_restrict_unprivileged_userns", "0\n"}},
       false,
       "unprivileged user namespaces are allowed (user.max_user_namespaces = 96364, "
       "kernel.unprivileged_userns_clone = 1, kernel.apparmor_restrict_unprivileged_userns = 0): "
       "a process can point /proc/<pid>/exe at any executable it can open"},
      {{{"user/max_user_namespaces", "garbage\n"}}, false, ""},
  };
  for (const Case& c : cases) {
    TempDir dir;
    for (const auto& [rel, text] : c.files) {
      std::filesystem::create_directories(std::filesystem::path(dir / rel).parent_path());
      WriteFile(dir / rel, text);
    }
    ExeIntegrity e = ReadExeIntegrity(dir.path());
    EXPECT_EQ(e.strong, c.strong) << e.reason;
    if (!c.reason.empty()) {
      EXPECT_EQ(e.reason, c.reason);
    }
  }
  ExeIntegrity none = ReadExeIntegrity("/nonexistent");
  EXPECT_FALSE(none.strong);  // unreadable: fail closed
  EXPECT_EQ(none.reason,
            "unprivileged user namespaces are allowed (no setting readable under /nonexistent): a "
            "process can point /proc/<pid>/exe at any executable it can open");
}

TEST(process_hardening, ExeIntegritySelectorFollowsTheHost) {
  HardeningFixture f;
  f.options.exe_integrity_recheck_interval = std::chrono::milliseconds(0);  // every call
  auto a = f.Attest();
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(Has(a->selectors, "exe-integrity:weak"));
  std::filesystem::create_directories(f.dir / "sys/user");
  WriteFile(f.dir / "sys/user/max_user_namespaces", "0\n");
  auto b = f.inspector->Attest(f.proc.pid);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(Has(b->selectors, "exe-integrity:strong"));
  EXPECT_FALSE(Has(b->selectors, "exe-integrity:weak"));
}

// --- 3. another mount namespace ----------------------------------------------------------

TEST(process_hardening, ForeignMountNamespaceGetsNoPathSelector) {
  HardeningFixture f;
  f.proc.mnt_ns_target = "/proc/self/ns/net";  // an nsfs inode other than our mnt ns
  struct stat ns;
  ASSERT_EQ(::stat("/proc/self/ns/net", &ns), 0);
  auto a = f.Attest();
  ASSERT_TRUE(a.ok()) << a.status();
  const std::string exe = TestData("bin/fixture-exe");
  EXPECT_FALSE(Has(a->selectors, "path:" + exe));
  EXPECT_TRUE(Has(a->selectors, "mnt-ns-path:" + std::to_string(ns.st_ino) + ":" + exe));
  EXPECT_TRUE(HasPrefix(a->selectors, "sha256:"));  // the bytes run are still the bytes run
  EXPECT_TRUE(Has(a->notes, "process 4242 is in another mount namespace (inode " +
                                std::to_string(ns.st_ino) + "): mnt-ns-path, no path"))
      << ::testing::PrintToString(a->notes);

  // An agent that cannot tell its own namespace treats every process as foreign.
  HardeningFixture g;
  g.options.agent_mnt_ns = "/nonexistent/ns/mnt";
  auto b = g.Attest();
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(HasPrefix(b->selectors, "path:"));
  EXPECT_TRUE(HasPrefix(b->selectors, "mnt-ns-path:"));
}

// --- 4. untrusted file systems (the fstatfs seam; the e2e test mounts a real FUSE fs) ----

TEST(process_hardening, NoDigestOnFuseOrNetworkFileSystems) {
  for (auto [magic, name] : {std::pair<uint64_t, std::string>{0x65735546, "fuse"},
                             {0x6969, "nfs"}, {0xFF534D42, "cifs"}, {0x01021997, "9p"},
                             {0x00C36400, "ceph"}}) {
    HardeningFixture f;
    f.options.fs_type = [magic = magic](int, const std::string&) -> absl::StatusOr<uint64_t> {
      return magic;
    };
    auto a = f.Attest();
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_FALSE(HasPrefix(a->selectors, "sha256:")) << name;
    EXPECT_TRUE(Has(a->selectors, "sha256-omitted:" + name));
    EXPECT_EQ(f.inspector->exe_cache_stats().misses, 0u);  // nothing hashed or cached
    EXPECT_EQ(f.inspector->exe_cache_stats().entries, 0u);
  }
  HardeningFixture ext4;
  auto a = ext4.Attest();  // the real fstatfs of the fixture's file system
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(HasPrefix(a->selectors, "sha256:"));
  EXPECT_FALSE(HasPrefix(a->selectors, "sha256-omitted:"));
}

// --- 6. hashing limits -------------------------------------------------------------------

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    r = fds[0];
    w = fds[1];
  }
  void CloseWrite() {
    if (w >= 0) ::close(w);
    w = -1;
  }
  ~Pipe() {
    CloseWrite();
    ::close(r);
  }
};

TEST(process_hardening, StalledReadTimesOutWithAClearError) {
  HashGuardOptions o;
  o.max_concurrent = 1;
  o.timeout = std::chrono::milliseconds(50);
  HashGuard guard(o);
  Pipe stalled;  // nobody writes: read() never returns until the write end closes
  auto r = guard.Hash(1000, stalled.r, 4096, false, "/proc/7/exe (/mnt/fuse/app)");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_EQ(std::string(r.status().message()),
            "hashing /proc/7/exe (/mnt/fuse/app) did not finish within 50 ms (hash_timeout_ms; a "
            "stalled read on a slow or hostile file system?)");
  // The stalled worker keeps its slot: the next call cannot pile up another thread.
  EXPECT_EQ(guard.in_flight(), 1);
  Pipe other;
  auto busy = guard.Hash(1001, other.r, 10, false, "/proc/8/exe (/usr/bin/app)");
  ASSERT_EQ(busy.status().code(), absl::StatusCode::kResourceExhausted) << busy.status();
  EXPECT_EQ(std::string(busy.status().message()),
            "no hashing slot for /proc/8/exe (/usr/bin/app) within 50 ms (1 hashes running, "
            "max_concurrent_hashes)");
  stalled.CloseWrite();  // the read returns (end of file): the worker ends, the slot frees
  guard.WaitIdle();
  EXPECT_EQ(guard.in_flight(), 0);
  int fd = ::open(TestData("bin/fixture-exe").c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  ::fstat(fd, &st);
  auto ok = guard.Hash(1001, fd, st.st_size, false, "fixture");
  ::close(fd);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(HexEncode(ok->sha256), testing::FileSha256Hex(TestData("bin/fixture-exe")));
}

TEST(process_hardening, PerUidBudget) {
  HashGuardOptions o;
  o.uid_budget_bytes = 100;
  o.budget_window = std::chrono::hours(1);
  HashGuard guard(o);
  TempDir dir;
  WriteFile(dir / "f", std::string(60, 'x'));
  auto hash = [&](uint32_t uid) {
    int fd = ::open((dir / "f").c_str(), O_RDONLY | O_CLOEXEC);
    auto r = guard.Hash(uid, fd, 60, false, "f");
    ::close(fd);
    return r;
  };
  EXPECT_TRUE(hash(1000).ok());
  auto second = hash(1000);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(second.status().message()),
            "uid 1000 used its hashing budget (60 of 100 bytes per 3600000 ms; f needs 60): no "
            "digest until the window ends");
  EXPECT_TRUE(hash(1001).ok());  // another user is not affected
}

TEST(process_hardening, InspectorChargesTheRealUidAndCachesWithinBudget) {
  HardeningFixture f;
  auto size = std::filesystem::file_size(TestData("bin/fixture-exe"));
  f.options.hash_limits.uid_budget_bytes = size;  // exactly one miss
  f.options.hash_limits.budget_window = std::chrono::hours(1);
  auto a = f.Attest();
  ASSERT_TRUE(a.ok()) << a.status();
  auto hit = f.inspector->Attest(f.proc.pid);  // cached: costs nothing
  ASSERT_TRUE(hit.ok()) << hit.status();
  f.inspector->ClearExeCache();  // as if the file had been touched (new ctime)
  auto again = f.inspector->Attest(f.proc.pid);
  ASSERT_EQ(again.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(again.status().message()).find("uid 1000 used its hashing budget"),
            std::string::npos)
      << again.status();
}

// --- 7. invalid UTF-8 --------------------------------------------------------------------

TEST(process_hardening, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("/usr/bin/app"));
  EXPECT_TRUE(IsValidUtf8("/opt/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80"));
  for (std::string bad : {"\xff", "a\x80", "\xc3", "\xc0\xaf" /* overlong '/' */,
                          "\xed\xa0\x80" /* surrogate */, "\xf4\x90\x80\x80" /* > U+10FFFF */,
                          "\xe2\x82"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << EscapeBytes(bad, 10);
  }
  EXPECT_EQ(EscapeBytes("a\\b\xff\n", 10), "a\\\\b\\xff\\x0a");
  EXPECT_EQ(EscapeBytes("abcdef", 3), "abc...");
}

TEST(process_hardening, InvalidUtf8ValuesAreLeftOutWithANote) {
  HardeningFixture f;
  const std::string exe = f.dir / "app\xff";
  std::filesystem::copy_file(TestData("bin/fixture-exe"), exe);
  f.proc.exe_target = exe;
  f.proc.cgroup = "0::/system.slice/bad\xfe.service\n";
  auto a = f.Attest();
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(HasPrefix(a->selectors, "path:"));
  EXPECT_FALSE(HasPrefix(a->selectors, "cgroup:"));
  EXPECT_FALSE(HasPrefix(a->selectors, "systemd-unit:"));
  EXPECT_TRUE(HasPrefix(a->selectors, "sha256:"));
  EXPECT_TRUE(Has(a->selectors, "uid:1000"));
  for (const auto& s : a->selectors) EXPECT_TRUE(IsValidUtf8(s)) << EscapeBytes(s, 100);
  EXPECT_TRUE(std::count_if(a->notes.begin(), a->notes.end(), [](const std::string& n) {
                return n.find("left out, not valid UTF-8: ") != std::string::npos;
              }) == 3);
  EXPECT_TRUE(std::any_of(a->notes.begin(), a->notes.end(), [](const std::string& n) {
    return n == "selector of process 4242 left out, not valid UTF-8: "
                "cgroup:/system.slice/bad\\xfe.service";
  })) << ::testing::PrintToString(a->notes);
}

// --- 8. which uid ------------------------------------------------------------------------

TEST(process_hardening, DifferingIdsGetTheirOwnSelectors) {
  HardeningFixture f;
  WriteFile(f.dir / "passwd", "alice:x:1000:1000::/:/bin/sh\nroot:x:0:0::/:/bin/sh\n");
  f.options.passwd_file = f.dir / "passwd";
  f.proc.uids = {1000, 0, 0, 0};  // a set-uid-root program run by alice
  f.proc.gids = {1000, 1000, 1000, 1000};
  auto a = f.Attest();
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_FALSE(HasPrefix(a->selectors, "uid:"));
  EXPECT_FALSE(HasPrefix(a->selectors, "user:"));
  EXPECT_TRUE(Has(a->selectors, "real-uid:1000"));
  EXPECT_TRUE(Has(a->selectors, "effective-uid:0"));
  EXPECT_TRUE(Has(a->selectors, "saved-uid:0"));
  EXPECT_TRUE(Has(a->selectors, "gid:1000"));
  EXPECT_FALSE(HasPrefix(a->selectors, "real-gid:"));
  // Only the fs id differs: still no plain uid.
  f.proc.uids = {1000, 1000, 1000, 0};
  auto b = f.Attest();
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(HasPrefix(b->selectors, "uid:"));
  EXPECT_TRUE(Has(b->selectors, "real-uid:1000"));
}

}  // namespace
}  // namespace twi::process
