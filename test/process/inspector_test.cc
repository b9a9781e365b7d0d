// ProcessInspector against real child processes and fixture /proc trees.
#include "attestors/process/inspector.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "test/process/process_test_util.h"

namespace twi::process {
namespace {

using testing::Child;
using testing::FakeProcess;
using testing::FileSha256Hex;
using testing::ProcDirOf;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::TestData;
using testing::WriteFakeProcess;
using testing::WriteFile;

using Selectors = std::vector<std::string>;

using testing::Has;
using testing::WithPrefix;
std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? buf : "";
}
std::string SleepPath() { return RealPath("/bin/sleep"); }

std::unique_ptr<ProcessInspector> MustCreate(ProcessOptions o) {
  auto p = ProcessInspector::Create(std::move(o));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : nullptr;
}

ProcessOptions RealOptions() {
  ProcessOptions o;
  o.ima_path = "";  // the test machine's IMA state is not ours to assume
  return o;
}

// A fixture /proc with one fake process, and options pointing at it.
struct Fixture {
  TempDir dir;
  std::string root = dir / "proc";
  FakeProcess proc;
  ProcessOptions options;
  Fixture() {
    options.proc_root = root;
    options.proc_sys_root = dir / "sys";  // absent: exe-integrity:weak
    options.ima_path = "";
    options.passwd_file = "";
    options.group_file = "";
  }
  void Write() { WriteFakeProcess(root, proc); }
  std::string Path(const std::string& name) const { return ProcDirOf(root, proc.pid) + "/" + name; }
};

// --- Real processes -------------------------------------------------------------------

TEST(process_inspector, RealChild) {
  Child child({"/bin/sleep", "30"});
  ASSERT_GT(child.pid(), 0);
  auto inspector = MustCreate(RealOptions());
  auto a = inspector->Attest(child.pid());
  ASSERT_TRUE(a.ok()) << a.status();
  const Selectors& s = a->selectors;
  EXPECT_TRUE(Has(s, "uid:" + std::to_string(::geteuid())));
  EXPECT_TRUE(Has(s, "gid:" + std::to_string(::getegid())));
  EXPECT_TRUE(Has(s, "path:" + SleepPath()));
  EXPECT_TRUE(Has(s, "sha256:" + FileSha256Hex(SleepPath())));  // independent digest
  IdNameMap users = ParseIdNameFile(ReadFileOrDie("/etc/passwd"));
  if (users.count(::geteuid())) {
    EXPECT_TRUE(Has(s, "user:" + users.at(::geteuid())));
  }
  EXPECT_EQ(WithPrefix(s, "cgroup:").size(), 1u);
  EXPECT_TRUE(WithPrefix(s, "ima:").empty());
  EXPECT_TRUE(WithPrefix(s, "exe-deleted:").empty());
}

TEST(process_inspector, PidThatDoesNotExist) {
  int pid = testing::UnusedPid();
  ASSERT_GT(pid, 0);
  auto a = MustCreate(RealOptions())->Attest(pid);
  ASSERT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(a.status().message()),
            "process " + std::to_string(pid) + " not found (no /proc/" + std::to_string(pid) + ")");
}

TEST(process_inspector, NonPositivePid) {
  auto inspector = MustCreate(RealOptions());
  for (int pid : {0, -1, -4242}) {
    auto a = inspector->Attest(pid);
    ASSERT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(a.status().message()),
              "pid must be positive, got " + std::to_string(pid));
  }
}

TEST(process_inspector, RealProcessExitsDuringAttestation) {
  Child child({"/bin/sleep", "30"});
  ProcessOptions o = RealOptions();
  o.before_recheck = [&](int) { child.Stop(); };  // killed and reaped at the worst moment
  const int pid = child.pid();
  auto a = MustCreate(o)->Attest(pid);
  ASSERT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  const std::string want = "process " + std::to_string(pid) + " exited during attestation (";
  EXPECT_EQ(a.status().message().substr(0, want.size()), want) << a.status();
}

TEST(process_inspector, RealZombie) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ASSERT_GT(pid, 0);
  // Wait until it is a zombie (exited, not yet reaped).
  for (int i = 0; i < 500; ++i) {
    siginfo_t info{};
    if (::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) break;
    ::usleep(2000);
  }
  auto a = MustCreate(RealOptions())->Attest(pid);
  int st;
  ::waitpid(pid, &st, 0);
  ASSERT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(a.status().message()), "process " + std::to_string(pid) +
                                                   " has exited (state Z in /proc/" +
                                                   std::to_string(pid) + "/stat)");
}

TEST(process_inspector, DeletedExecutable) {
  TempDir dir;
  const std::string app = dir / "app";
  std::filesystem::copy_file(SleepPath(), app);
  std::filesystem::permissions(app, std::filesystem::perms::owner_all);
  const std::string digest = FileSha256Hex(app);
  Child child({app, "30"});
  ASSERT_GT(child.pid(), 0);
  std::filesystem::remove(app);
  auto a = MustCreate(RealOptions())->Attest(child.pid());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(Has(a->selectors, "exe-deleted:true"));
  EXPECT_TRUE(WithPrefix(a->selectors, "path:").empty());
  EXPECT_TRUE(Has(a->selectors, "sha256:" + digest));  // the running bytes, via /proc/<pid>/exe
  EXPECT_TRUE(Has(a->notes, "executable of process " + std::to_string(child.pid()) +
                                " was deleted (was " + app + "): no path selector"));
}

TEST(process_inspector, NameEndingInDeletedIsNotDeleted) {
  TempDir dir;
  const std::string app = dir / "app (deleted)";
  std::filesystem::copy_file(SleepPath(), app);
  std::filesystem::permissions(app, std::filesystem::perms::owner_all);
  Child child({app, "30"});
  auto a = MustCreate(RealOptions())->Attest(child.pid());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(Has(a->selectors, "path:" + app));
  EXPECT_TRUE(WithPrefix(a->selectors, "exe-deleted:").empty());
}

TEST(process_inspector, CacheFollowsReplacedExecutable) {
  TempDir dir;
  const std::string app = dir / "app";
  const std::string sleep_bytes = ReadFileOrDie(SleepPath());
  WriteFile(app, sleep_bytes);
  std::filesystem::permissions(app, std::filesystem::perms::owner_all);
  auto inspector = MustCreate(RealOptions());
  auto sha = [](const std::string& bytes) { return "sha256:" + HexEncode(Sha256(AsBytes(bytes))); };

  Child a({app, "30"});
  auto first = inspector->Attest(a.pid());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(Has(first->selectors, sha(sleep_bytes)));
  EXPECT_EQ(inspector->exe_cache_stats().misses, 1u);
  EXPECT_EQ(inspector->exe_cache_stats().hits, 0u);
  ASSERT_TRUE(inspector->Attest(a.pid()).ok());
  EXPECT_EQ(inspector->exe_cache_stats().hits, 1u);

  // Replaced by rename (new inode), as package managers do; trailing bytes still run.
  const std::string v2 = sleep_bytes + std::string("\0twi-v2", 7);
  WriteFile(dir / "app.new", v2);
  std::filesystem::permissions(dir / "app.new", std::filesystem::perms::owner_all);
  std::filesystem::rename(dir / "app.new", app);
  Child b({app, "30"});
  auto second = inspector->Attest(b.pid());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(Has(second->selectors, sha(v2)));
  EXPECT_TRUE(Has(second->selectors, "path:" + app));
  EXPECT_EQ(inspector->exe_cache_stats().misses, 2u);
  // The old process still runs the old bytes, now unlinked. Unlinking changed the inode's
  // ctime, so its identity changed: hashed once more (conservative), then cached again.
  auto old = inspector->Attest(a.pid());
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(Has(old->selectors, sha(sleep_bytes)));
  EXPECT_TRUE(Has(old->selectors, "exe-deleted:true"));
  EXPECT_EQ(inspector->exe_cache_stats().misses, 3u);
  ASSERT_TRUE(inspector->Attest(a.pid()).ok());
  EXPECT_EQ(inspector->exe_cache_stats().hits, 2u);

  // Modified in place (same inode; only possible once nothing runs it: ETXTBSY).
  b.Stop();
  const std::string v3 = sleep_bytes + std::string("\0twi-v3", 7);
  WriteFile(app, v3);
  Child c({app, "30"});
  auto third = inspector->Attest(c.pid());
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(Has(third->selectors, sha(v3)));
  EXPECT_EQ(inspector->exe_cache_stats().misses, 4u);
  EXPECT_EQ(inspector->exe_cache_stats().entries, 4u);

  inspector->ClearExeCache();
  ASSERT_TRUE(inspector->Attest(c.pid()).ok());
  EXPECT_EQ(inspector->exe_cache_stats().misses, 5u);
}

TEST(process_inspector, SizeCapAndHashingOff) {
  Child child({"/bin/sleep", "30"});
  ProcessOptions o = RealOptions();
  o.max_exe_hash_bytes = 1000;
  auto a = MustCreate(o)->Attest(child.pid());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(WithPrefix(a->selectors, "sha256:").empty());
  EXPECT_TRUE(Has(a->selectors, "path:" + SleepPath()));
  const auto size = std::filesystem::file_size(SleepPath());
  EXPECT_TRUE(Has(a->notes, "executable " + SleepPath() + " of process " +
                                std::to_string(child.pid()) + " is " + std::to_string(size) +
                                " bytes, above max_exe_hash_bytes 1000: no sha256 selector"))
      << ::testing::PrintToString(a->notes);

  o = RealOptions();
  o.hash_executable = false;
  auto off = MustCreate(o);
  auto b = off->Attest(child.pid());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(WithPrefix(b->selectors, "sha256:").empty());
  EXPECT_EQ(off->exe_cache_stats().misses, 0u);
}

TEST(process_inspector, ConcurrentAttest) {
  Child child({"/bin/sleep", "30"});
  auto inspector = MustCreate(RealOptions());
  auto want = inspector->Attest(child.pid());
  ASSERT_TRUE(want.ok());
  std::atomic<int> same{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto a = inspector->Attest(child.pid());
        if (a.ok() && a->selectors == want->selectors) ++same;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(same.load(), 200);
}

TEST(process_inspector, PermissionDeniedNamesThePath) {
  // Attest a process of another user without ptrace rights over it: as root, from a child
  // that drops to "nobody" and attests this (root) test process; otherwise pid 1 directly.
  int target = ::geteuid() == 0 ? ::getpid() : 1;
  std::string message;
  absl::StatusCode code = absl::StatusCode::kOk;
  if (::geteuid() == 0) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
      auto p = ProcessInspector::Create(RealOptions());
      auto a = p.ok() ? (*p)->Attest(target) : absl::StatusOr<ProcessAttestation>(p.status());
      std::string out = std::to_string(static_cast<int>(a.status().code())) + " " +
                        std::string(a.status().message());
      (void)!::write(fds[1], out.data(), out.size());
      ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
    ::close(fds[0]);
    int st;
    ::waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "could not drop privileges";
    code = static_cast<absl::StatusCode>(std::stoi(out));
    message = out.substr(out.find(' ') + 1);
  } else {
    auto a = MustCreate(RealOptions())->Attest(target);
    code = a.status().code();
    message = std::string(a.status().message());
  }
  EXPECT_EQ(code, absl::StatusCode::kPermissionDenied) << message;
  const std::string t = std::to_string(target);
  EXPECT_EQ(message, "process " + t + ": cannot open /proc/" + t + "/exe: permission denied");
}

// --- Fixture /proc trees ----------------------------------------------------------------

TEST(process_inspector, FixtureKnownAnswer) {
  Fixture f;
  f.Write();
  WriteFile(f.dir / "passwd",
            "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n");
  WriteFile(f.dir / "group", "root:x:0:\nsudo:x:27:alice\nalice:x:1000:\n");
  f.options.passwd_file = f.dir / "passwd";
  f.options.group_file = f.dir / "group";
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_TRUE(a.ok()) << a.status();
  const std::string exe = TestData("bin/fixture-exe");
  EXPECT_EQ(a->selectors,
            (Selectors{
                "uid:1000",
                "user:alice",
                "gid:1000",
                "group:alice",
                "supplementary-gid:1000",
                "supplementary-gid:27",
                "supplementary-group:alice",
                "supplementary-group:sudo",
                "path:" + exe,
                "sha256:c4ddabc1025fedf940e2daa62d6c6148cadc5932f52871882391fea860782e2a",
                "exe-integrity:weak",
                "cgroup:/system.slice/fixture.service",
                "systemd-unit:fixture.service",
            }));
  EXPECT_TRUE(a->notes.empty()) << ::testing::PrintToString(a->notes);
}

TEST(process_inspector, UnknownNamesAreOmitted) {
  Fixture f;
  f.proc.uid = 4321;
  f.proc.gid = 4321;
  f.proc.groups = {};
  f.Write();
  WriteFile(f.dir / "passwd", "root:x:0:0:root:/root:/bin/bash\n");
  f.options.passwd_file = f.dir / "passwd";
  f.options.group_file = f.dir / "no-such-group-file";
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(WithPrefix(a->selectors, "user:").empty());
  EXPECT_TRUE(WithPrefix(a->selectors, "group:").empty());
  EXPECT_TRUE(WithPrefix(a->selectors, "supplementary-").empty());
  EXPECT_TRUE(Has(a->notes, "cannot stat " + f.dir / "no-such-group-file" +
                                ": no such file or directory: no group selectors"));
}

TEST(process_inspector, NamesFollowPasswdEditsAfterTheInterval) {
  Fixture f;
  f.Write();
  WriteFile(f.dir / "passwd", "alice:x:1000:1000::/:/bin/sh\n");
  f.options.passwd_file = f.dir / "passwd";
  f.options.names_recheck_interval = std::chrono::hours(1);
  auto slow = MustCreate(f.options);
  f.options.names_recheck_interval = std::chrono::milliseconds(0);
  auto every_call = MustCreate(f.options);
  EXPECT_TRUE(Has(slow->Attest(4242)->selectors, "user:alice"));
  EXPECT_TRUE(Has(every_call->Attest(4242)->selectors, "user:alice"));
  ::usleep(20000);  // a distinct mtime/ctime
  WriteFile(f.dir / "passwd", "bob:x:1000:1000::/:/bin/sh\n");
  EXPECT_TRUE(Has(slow->Attest(4242)->selectors, "user:alice"));  // within its hour
  EXPECT_TRUE(Has(every_call->Attest(4242)->selectors, "user:bob"));
}

TEST(process_inspector, FixtureContainerRuntimes) {
  struct RuntimeCase {
    const char* file;
    std::vector<std::string> want;  // selectors after the cgroup: one
  } cases[] = {
      {"docker_v2_systemd.txt",
       {"container-id:d142880e8427abeec12975fd55911ea2cbd390b656a4d2bad821df997d529975"}},
      {"k8s_containerd_v2_systemd.txt",
       {"container-id:ce9da201e0c0d1a0dc00f0e71a714a16e81c1aad236d31def0b9d2993134b65a",
        "pod-uid:11e9577d-7d5a-bfdc-b64f-3f0468e068a2"}},
      {"crio_hybrid_v1.txt",
       {"container-id:7ba054769ba41cbb44f0753903870712d5f63adfa395d6cff31aeea03bdba261",
        "pod-uid:9c1026be-55ac-9641-31b5-250f067b74c6"}},
      {"podman_conmon_v2.txt", {}},
      {"user_service_v2.txt",
       {"systemd-unit:user@1000.service", "systemd-user-unit:myapp.service"}},
      {"user_session_v2.txt", {}},
  };
  for (const RuntimeCase& c : cases) {
    SCOPED_TRACE(c.file);
    Fixture f;
    f.proc.cgroup = ReadFileOrDie(TestData(std::string("cgroup/") + c.file));
    f.Write();
    auto a = MustCreate(f.options)->Attest(4242);
    ASSERT_TRUE(a.ok()) << a.status();
    auto it = std::find_if(a->selectors.begin(), a->selectors.end(),
                           [](const std::string& s) { return s.rfind("cgroup:", 0) == 0; });
    ASSERT_NE(it, a->selectors.end());
    EXPECT_EQ(Selectors(it + 1, a->selectors.end()), c.want);
  }
}

TEST(process_inspector, FixtureOtherHierarchiesNeverSupplyIds) {
  Fixture f;
  f.proc.cgroup = ReadFileOrDie(TestData("cgroup/conflict_v1.txt"));
  f.Write();
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(WithPrefix(a->selectors, "container-id:").empty());
  EXPECT_TRUE(Has(a->selectors, "cgroup:/system.slice/foo.service"));
}

TEST(process_inspector, FixtureStartTimeChangesDuringAttestation) {
  Fixture f;
  f.Write();
  f.options.before_recheck = [&](int pid) {
    // The pid now names another process instance.
    WriteFile(f.Path("stat"), testing::StatLine(pid, "other", 'S', 999999));
  };
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(a.status().message()),
            "process 4242 exited during attestation (start time changed from 123456 to 999999)");
}

TEST(process_inspector, FixtureProcessVanishesDuringAttestation) {
  Fixture f;
  f.Write();
  f.options.before_recheck = [&](int) { std::filesystem::remove_all(ProcDirOf(f.root, 4242)); };
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(a.status().message()),
            "process 4242 exited during attestation (cannot stat " + f.Path("exe") +
                ": no such file or directory)");
}

TEST(process_inspector, FixtureExecDuringAttestation) {
  Fixture f;
  f.Write();
  f.options.before_recheck = [&](int) {
    std::filesystem::remove(f.Path("exe"));
    std::filesystem::create_symlink(SleepPath(), f.Path("exe"));
  };
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_EQ(a.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(a.status().message()),
            "process 4242 executed a new program during attestation (" + f.Path("exe") +
                " changed); retry");
}

TEST(process_inspector, FixtureErrors) {
  struct ErrCase {
    const char* what;
    std::function<void(Fixture&)> mutate;
    absl::StatusCode code;
    std::function<std::string(const Fixture&)> message;
  } cases[] = {
      {"zombie",
       [](Fixture& f) {
         f.proc.state = 'Z';
         f.Write();
       },
       absl::StatusCode::kNotFound,
       [](const Fixture& f) {
         return "process 4242 has exited (state Z in " + f.Path("stat") + ")";
       }},
      {"missing status",
       [](Fixture& f) {
         f.Write();
         std::filesystem::remove(f.Path("status"));
       },
       absl::StatusCode::kInternal,
       [](const Fixture& f) {
         return "process 4242: cannot open " + f.Path("status") + ": no such file or directory";
       }},
      {"malformed status",
       [](Fixture& f) {
         f.Write();
         WriteFile(f.Path("status"), "Name:\tx\n");
       },
       absl::StatusCode::kInternal,
       [](const Fixture& f) {
         return "process 4242: malformed " + f.Path("status") + ": status has no Uid line";
       }},
      {"malformed stat",
       [](Fixture& f) {
         f.Write();
         WriteFile(f.Path("stat"), "4242 (x) S 1\n");
       },
       absl::StatusCode::kInternal,
       [](const Fixture& f) {
         return "process 4242: malformed " + f.Path("stat") +
                ": stat has 4 fields, want at least 22";
       }},
      {"pid mismatch",
       [](Fixture& f) {
         f.Write();
         WriteFile(f.Path("stat"), testing::StatLine(4243, "x", 'S', 1));
       },
       absl::StatusCode::kInternal,
       [](const Fixture& f) {
         return "process 4242: " + f.Path("stat") + " names pid 4243, want 4242";
       }},
      {"malformed cgroup",
       [](Fixture& f) {
         f.Write();
         WriteFile(f.Path("cgroup"), "garbage\n");
       },
       absl::StatusCode::kInternal,
       [](const Fixture& f) {
         return "process 4242: malformed " + f.Path("cgroup") +
                ": cgroup line 1 has fewer than 3 ':'-separated fields";
       }},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.what);
    Fixture f;
    c.mutate(f);
    auto a = MustCreate(f.options)->Attest(4242);
    ASSERT_EQ(a.status().code(), c.code) << a.status();
    EXPECT_EQ(std::string(a.status().message()), c.message(f));
  }
}

TEST(process_inspector, FixtureKernelThread) {
  Fixture f;
  f.proc.exe_target = "";
  f.proc.flags = 0x04208040;  // PF_KTHREAD set, as kthreadd's children show
  f.proc.uid = 0;
  f.proc.gid = 0;
  f.proc.groups = {};
  f.proc.cgroup = "0::/\n";
  f.Write();
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->selectors, (Selectors{"uid:0", "gid:0", "cgroup:/"}));
  EXPECT_TRUE(Has(a->notes, "process 4242 has no executable (kernel thread)"));
}

TEST(process_inspector, FixtureUserProcessWithoutExeHasExited) {
  // A user process whose exe link is gone is exiting (its mm is released before it shows as
  // a zombie): it must not be reported with a partial set of selectors.
  Fixture f;
  f.proc.exe_target = "";
  f.Write();
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_EQ(a.status().code(), absl::StatusCode::kNotFound) << a.status();
  EXPECT_NE(std::string(a.status().message()).find("process 4242 exited during attestation"), std::string::npos)
      << a.status();
}

TEST(process_inspector, FixtureExitingFlagMeansExited) {
  Fixture f;
  f.proc.flags = 4194560 | 0x4;  // PF_EXITING
  f.Write();
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_EQ(a.status().code(), absl::StatusCode::kNotFound) << a.status();
}

// --- IMA through the inspector ------------------------------------------------------------

struct ImaCase {
  const char* list;
  std::vector<std::string> want;  // the ima: selectors
};

TEST(process_inspector, FixtureIma) {
  const ImaCase cases[] = {
      {"ima_ng.txt", {"ima:measured:true", "ima:pcr:10"}},
      {"ima_ng_nomatch.txt", {"ima:measured:false"}},
      {"ima_sig.txt", {"ima:measured:true", "ima:pcr:10"}},
      {"ima_sha1.txt", {"ima:measured:true", "ima:pcr:10"}},
      {"ima_mixed.txt", {"ima:measured:true", "ima:pcr:10", "ima:pcr:11"}},
      {"ima_truncated.txt", {"ima:measured:false"}},
      {"ima_malformed.txt", {"ima:measured:false"}},
      {"ima_forged.txt", {"ima:measured:false"}},
  };
  for (const ImaCase& c : cases) {
    SCOPED_TRACE(c.list);
    Fixture f;
    f.Write();
    f.options.ima_path = TestData(std::string("ima/") + c.list);
    auto inspector = MustCreate(f.options);
    ASSERT_TRUE(inspector->ima_enabled()) << inspector->ima_status();
    auto a = inspector->Attest(4242);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(WithPrefix(a->selectors, "ima:"), c.want);
  }
}

TEST(process_inspector, FixtureImaTaintIsNoted) {
  Fixture f;
  f.Write();
  f.options.ima_path = TestData("ima/ima_malformed.txt");
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(Has(a->notes, "ima list " + f.options.ima_path +
                                " is trusted only up to line 3: template hash is not hex"));
}

TEST(process_inspector, FixtureImaListGrows) {
  Fixture f;
  f.Write();
  const std::string list = f.dir / "ascii_runtime_measurements";
  const std::string base = ReadFileOrDie(TestData("ima/ima_ng_nomatch.txt"));
  WriteFile(list, base);
  f.options.ima_path = list;
  auto inspector = MustCreate(f.options);
  EXPECT_TRUE(Has(inspector->Attest(4242)->selectors, "ima:measured:false"));
  const Bytes digest = Sha256(AsBytes(ReadFileOrDie(TestData("bin/fixture-exe"))));
  WriteFile(list, base + testing::ImaNgLine(10, digest, "/usr/bin/fixture-exe"));
  EXPECT_TRUE(Has(inspector->Attest(4242)->selectors, "ima:measured:true"));
  auto stats = inspector->ima_stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->lines, 8u);
  EXPECT_EQ(stats->refreshes, 2u);
}

TEST(process_inspector, FixtureImaByPath) {
  Fixture f;
  f.Write();
  const std::string exe = TestData("bin/fixture-exe");
  WriteFile(f.dir / "list", ReadFileOrDie(TestData("ima/ima_ng_nomatch.txt")) +
                                testing::ImaNgLine(10, Bytes(32, 0x11), exe));
  f.options.ima_path = f.dir / "list";
  f.options.hash_executable = false;
  // Path matching off: nothing to compare, so no ima selectors at all.
  auto a = MustCreate(f.options)->Attest(4242);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(WithPrefix(a->selectors, "ima:").empty());
  EXPECT_TRUE(Has(a->notes, "no executable digest to look up in the ima list: no ima selectors"));
  f.options.ima_match_path = true;
  a = MustCreate(f.options)->Attest(4242);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(WithPrefix(a->selectors, "ima:"), (Selectors{"ima:measured:true", "ima:pcr:10"}));
  EXPECT_TRUE(Has(a->notes, "ima match for process 4242 is by path " + exe + " only (pcrs 10)"));
}

// --- Options ----------------------------------------------------------------------------

TEST(process_inspector, CreateReportsEveryBadOption) {
  ProcessOptions o;
  o.proc_root = "";
  o.max_exe_hash_bytes = 0;
  o.exe_cache_entries = 0;
  o.ima_path = "";
  o.ima_required = true;
  o.names_recheck_interval = std::chrono::milliseconds(-1);
  auto p = ProcessInspector::Create(o);
  ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(p.status().message()),
            "invalid process options: proc_root is empty; max_exe_hash_bytes is 0 while "
            "hash_executable is set; exe_cache_entries is 0; names_recheck_interval is negative; "
            "ima_required is set but ima_path is empty");
}

TEST(process_inspector, MissingImaList) {
  ProcessOptions o = RealOptions();
  o.ima_path = "/nonexistent/ima/list";
  auto p = ProcessInspector::Create(o);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE((*p)->ima_enabled());
  EXPECT_EQ((*p)->ima_status(),
            "cannot open /nonexistent/ima/list: no such file or directory: ima selectors are off");
  o.ima_required = true;
  auto q = ProcessInspector::Create(o);
  ASSERT_EQ(q.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(q.status().message()),
            "cannot open /nonexistent/ima/list: no such file or directory");
}

}  // namespace
}  // namespace twi::process
