// Issue 15, performed for real against the real twi-workloadattestor binary: each test makes
// a process try to wear another workload's selectors and asserts what must not appear and
// what must. Where this machine cannot perform an attack, the test skips and says why (the
// decision logic is also covered at the seams in test/process/hardening_test.cc).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <functional>
#include <thread>

#include "attestors/core/crypto.h"
#include "attestors/process/hash_guard.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/e2e/e2e_util.h"

namespace twi::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string ReadLink(const std::string& path) {
  std::error_code ec;
  return std::filesystem::read_symlink(path, ec).string();
}

// A child process killed and reaped at scope exit.
struct Kid {
  pid_t pid = -1;
  ~Kid() { Stop(); }
  void Stop() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    pid = -1;
  }
};

// Forks a child that runs `setup` and reports its outcome through a pipe: "" means ready
// (the child then execs `exe` or, when `exe` is empty, waits to be killed); anything else is
// the reason it could not set up. Returns that line.
std::string ForkReady(Kid& kid, const std::function<std::string()>& setup,
                      std::vector<std::string> exe = {}) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
  kid.pid = ::fork();
  if (kid.pid == 0) {
    ::close(fds[0]);
    std::string err = setup();
    if (!err.empty()) {
      (void)!::write(fds[1], err.data(), err.size());
      ::_exit(1);
    }
    if (exe.empty()) {
      (void)!::write(fds[1], "\n", 1);
      for (;;) ::pause();
    }
    std::vector<char*> argv;
    for (auto& a : exe) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());  // success closes the pipe (O_CLOEXEC): EOF means ready
    std::string e = "exec " + exe[0] + " failed: " + std::strerror(errno);
    (void)!::write(fds[1], e.data(), e.size());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (exe.empty() && out.find('\n') != std::string::npos) break;
  }
  ::close(fds[0]);
  if (out == "\n") out.clear();
  return out;
}

class AttackE2eTest : public ::testing::Test {
 protected:
  std::unique_ptr<host::PluginProcess> Start(const std::string& hcl) {
    auto p = Launch(kWorkload, "WorkloadAttestor");
    if (!p) return nullptr;
    absl::Status s = p->Load("example.org", hcl, false);
    EXPECT_TRUE(s.ok()) << s;
    return p;
  }
  void TearDown() override {
    for (auto& p : plugins_) ShutdownAndCheckClean(*p);
  }
  host::PluginProcess& Plugin(const std::string& hcl = "ima_path = \"\"\n") {
    plugins_.push_back(Start(hcl));
    return *plugins_.back();
  }
  std::vector<std::unique_ptr<host::PluginProcess>> plugins_;
  TempDir dir_;
};

// --- 1. exe masquerade through prctl(PR_SET_MM_MAP) in a user namespace -----------------

TEST_F(AttackE2eTest, ExeMasqueradeIsReportedAsWeakIntegrity) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  Kid kid;
  kid.pid = ::fork();
  if (kid.pid == 0) {
    ::dup2(out[1], 1);
    ::execl(TWI_MASQUERADE, "twi-masquerade", "65534", "/usr/bin/true", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(out[0]);
  if (line != "ok") {
    GTEST_SKIP() << "this machine refused the masquerade (helper said \"" << line
                 << "\"): unprivileged user namespaces or PR_SET_MM_MAP are unavailable";
  }
  const std::string victim = std::filesystem::canonical("/usr/bin/true");
  // The attack worked: the kernel now names a binary the process never ran.
  ASSERT_EQ(ReadLink("/proc/" + std::to_string(kid.pid) + "/exe"), victim);

  auto& weak = Plugin();
  auto sel = host::AttestWorkload(weak, kid.pid);
  ASSERT_TRUE(sel.ok()) << sel.status();
  // What /proc says (the masquerade) comes with the warning that it can be chosen.
  EXPECT_THAT(*sel, Contains("twi:path:" + victim));
  EXPECT_THAT(*sel, Contains("twi:sha256:" + FileSha256(victim)));
  EXPECT_THAT(*sel, Contains("twi:exe-integrity:weak"));
  EXPECT_THAT(*sel, Not(Contains("twi:exe-integrity:strong")));
  EXPECT_THAT(*sel, Contains("twi:uid:65534"));  // the uid is what entries must rely on
  auto warned = [](const std::vector<std::string>& lines) {
    for (const auto& l : lines) {
      if (l.find("exe-integrity is weak") != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(warned(weak.WaitForStderr(warned))) << "Configure must warn when exe-integrity is weak";

  // A host that forbids unprivileged user namespaces (through the proc_sys_root seam: this
  // machine's own user.max_user_namespaces is not ours to change) reports strong.
  std::filesystem::create_directories(dir_.path() + "/sys/user");
  std::ofstream(dir_.path() + "/sys/user/max_user_namespaces") << "0\n";
  auto& strong = Plugin("ima_path = \"\"\nproc_sys_root = \"" + dir_.path() + "/sys\"\n");
  auto s2 = host::AttestWorkload(strong, kid.pid);
  ASSERT_TRUE(s2.ok()) << s2.status();
  EXPECT_THAT(*s2, Contains("twi:exe-integrity:strong"));
  EXPECT_THAT(*s2, Not(Contains("twi:exe-integrity:weak")));
}

// --- 2. forged container and pod ids in a cgroup subtree -------------------------------

// The directory of the hierarchy the attestor reads first: the v1 name=systemd one on a
// hybrid host, the unified one on a pure cgroup v2 host.
std::string PrimaryCgroupMount() {
  for (const char* d : {"/sys/fs/cgroup/systemd", "/sys/fs/cgroup"}) {
    if (::access((std::string(d) + "/cgroup.procs").c_str(), W_OK) == 0) return d;
  }
  return "";
}

// Creates `rel` (and its parents) under `mount`, removing them at scope exit.
struct CgroupDirs {
  std::string mount;
  std::vector<std::string> made;
  bool Make(const std::string& rel) {
    std::string path = mount;
    for (const auto& part : std::filesystem::path(rel)) {
      if (part == "/") continue;
      path += "/" + part.string();
      if (::mkdir(path.c_str(), 0755) == 0) {
        made.push_back(path);
      } else if (errno != EEXIST) {
        return false;
      }
    }
    return true;
  }
  bool Move(const std::string& rel, pid_t pid) {
    std::ofstream f(mount + rel + "/cgroup.procs");
    f << pid << "\n";
    f.flush();
    return f.good();
  }
  ~CgroupDirs() {
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
  }
};

const std::string kVictim = "ce9da201e0c0d1a0dc00f0e71a714a16e81c1aad236d31def0b9d2993134b65a";
const std::string kVictimPodSlice = "kubepods-besteffort-pod11e9577d_7d5a_bfdc_b64f_3f0468e068a2.slice";
const std::string kVictimPod = "11e9577d-7d5a-bfdc-b64f-3f0468e068a2";

TEST_F(AttackE2eTest, ForgedContainerAndPodIdsAreRefused) {
  const std::string mount = PrimaryCgroupMount();
  if (mount.empty()) GTEST_SKIP() << "no writable cgroup hierarchy to build a subtree in";
  auto& plugin = Plugin();
  const int n = 200000 + ::getpid() % 100000;  // a uid no real login uses
  const std::string mine(64, 'a');
  struct Case {
    std::string rel;
    std::vector<std::string> must, must_not;
  } cases[] = {
      // A login user's delegated subtree shaped like the victim's pod and container.
      {"/user.slice/user-" + std::to_string(n) + ".slice/user@" + std::to_string(n) +
           ".service/app.slice/" + kVictimPodSlice + "/cri-containerd-" + kVictim + ".scope",
       {"twi:rootless-container-id:" + std::to_string(n) + ":" + kVictim},
       {"twi:container-id:" + kVictim, "twi:pod-uid:" + kVictimPod}},
      // A container with a writable cgroupfs nesting the victim's layout below its own scope.
      {"/system.slice/docker-" + mine + ".scope/kubepods.slice/" + kVictimPodSlice +
           "/cri-containerd-" + kVictim + ".scope",
       {"twi:container-id:" + mine},
       {"twi:container-id:" + kVictim, "twi:pod-uid:" + kVictimPod}},
      // Not under any runtime-owned prefix.
      {"/twi-e2e-" + std::to_string(n) + "/" + kVictimPodSlice + "/cri-containerd-" + kVictim +
           ".scope",
       {},
       {"twi:container-id:" + kVictim, "twi:pod-uid:" + kVictimPod}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rel);
    CgroupDirs dirs{mount, {}};
    ASSERT_TRUE(dirs.Make(c.rel)) << std::strerror(errno);
    Kid kid;
    ASSERT_EQ(ForkReady(kid, [] { return std::string(); }), "");
    ASSERT_TRUE(dirs.Move(c.rel, kid.pid));
    auto sel = host::AttestWorkload(plugin, kid.pid);
    ASSERT_TRUE(sel.ok()) << sel.status();
    EXPECT_THAT(*sel, Contains("twi:cgroup:" + c.rel));
    for (const auto& m : c.must) EXPECT_THAT(*sel, Contains(m));
    for (const auto& m : c.must_not) EXPECT_THAT(*sel, Not(Contains(m)));
    kid.Stop();  // empty the cgroup before its directories go
  }

  // cgroup v1: the id from another hierarchy than the reported cgroup: path is never used.
  if (mount != "/sys/fs/cgroup/systemd" || ::access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) != 0) {
    return;  // no second writable hierarchy here
  }
  CgroupDirs primary{mount, {}};
  CgroupDirs pids{"/sys/fs/cgroup/pids", {}};
  const std::string plain = "/twi-e2e-" + std::to_string(n) + "/plain";
  ASSERT_TRUE(primary.Make(plain));
  ASSERT_TRUE(pids.Make("/docker/" + kVictim));
  Kid kid;
  ASSERT_EQ(ForkReady(kid, [] { return std::string(); }), "");
  ASSERT_TRUE(primary.Move(plain, kid.pid));
  ASSERT_TRUE(pids.Move("/docker/" + kVictim, kid.pid));
  auto sel = host::AttestWorkload(plugin, kid.pid);
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_THAT(*sel, Contains("twi:cgroup:" + plain));
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:container-id:"))));
  kid.Stop();
}

// --- 3. a path resolved in another mount namespace --------------------------------------

TEST_F(AttackE2eTest, PathFromAnotherMountNamespaceIsQualified) {
  // An unprivileged process (uid 65534) makes its own user and mount namespaces, binds its
  // own file over /usr/bin/true and runs it: /proc/<pid>/exe then reads "/usr/bin/true".
  const std::string own = dir_.path() + "/own";
  std::filesystem::copy_file(std::filesystem::canonical("/bin/sleep"), own);
  ::chmod(own.c_str(), 0755);
  ::chmod(dir_.path().c_str(), 0755);
  const std::string victim = std::filesystem::canonical("/usr/bin/true");
  Kid kid;
  std::string err = ForkReady(
      kid,
      [&]() -> std::string {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0) {
          return "cannot drop to uid 65534";
        }
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
          return std::string("unshare(CLONE_NEWUSER|CLONE_NEWNS): ") + std::strerror(errno);
        }
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount(own.c_str(), victim.c_str(), nullptr, MS_BIND, nullptr) != 0) {
          return std::string("bind mount: ") + std::strerror(errno);
        }
        return "";
      },
      {victim, "30"});
  if (!err.empty()) GTEST_SKIP() << "cannot build a mount namespace here: " << err;
  const std::string proc = "/proc/" + std::to_string(kid.pid);
  ASSERT_EQ(ReadLink(proc + "/exe"), victim);  // what the attacker wants us to report
  struct stat ns;
  ASSERT_EQ(::stat((proc + "/ns/mnt").c_str(), &ns), 0);
  auto sel = host::AttestWorkload(Plugin(), kid.pid);
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_THAT(*sel, Not(Contains("twi:path:" + victim)));
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:path:"))));
  EXPECT_THAT(*sel, Contains("twi:mnt-ns-path:" + std::to_string(ns.st_ino) + ":" + victim));
  EXPECT_THAT(*sel, Contains("twi:sha256:" + FileSha256(own)));  // the bytes really run
  EXPECT_THAT(*sel, Not(Contains("twi:sha256:" + FileSha256(victim))));
}

// --- 4 and 6. executables on FUSE; a read that never returns -----------------------------

#ifdef TWI_STALLFS
struct FuseMount {
  std::string dir;
  pid_t daemon = -1;
  ~FuseMount() {
    if (daemon > 0) {
      ::kill(daemon, SIGKILL);  // aborts the connection: stalled reads fail with ENOTCONN
      ::waitpid(daemon, nullptr, 0);
    }
    if (!dir.empty()) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

// Mounts twi-stallfs serving `source` as <dir>/app; "" on success, else why not.
std::string MountStallFs(FuseMount& m, const std::string& source) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) return "/dev/fuse is not available";
  std::filesystem::create_directories(m.dir);
  m.daemon = ::fork();
  if (m.daemon == 0) {
    ::execl(TWI_STALLFS, "twi-stallfs", source.c_str(), m.dir.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 1000; ++i) {
    struct statfs s;
    if (::statfs(m.dir.c_str(), &s) == 0 && s.f_type == 0x65735546) return "";
    int st;
    if (::waitpid(m.daemon, &st, WNOHANG) == m.daemon) {
      m.daemon = -1;
      return "twi-stallfs exited (cannot mount FUSE here)";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return "twi-stallfs did not mount";
}
#endif

TEST_F(AttackE2eTest, FuseExecutableGetsNoDigestAndNeverStallsAttest) {
#ifndef TWI_STALLFS
  GTEST_SKIP() << "built without libfuse3 (scripts/deps.sh installs libfuse3-dev)";
#else
  FuseMount fs{dir_.path() + "/fuse"};
  std::string why = MountStallFs(fs, std::filesystem::canonical("/bin/sleep"));
  if (!why.empty()) GTEST_SKIP() << why;
  const std::string app = std::filesystem::canonical(fs.dir + "/app");
  Kid kid;
  ASSERT_EQ(ForkReady(kid, [] { return std::string(); }, {app, "30"}), "");
  // A short deadline: if the agent read the file, a hostile server could stall it.
  auto sel = host::AttestWorkload(Plugin("ima_path = \"\"\nhash_timeout_ms = 200\n"), kid.pid);
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_THAT(*sel, Contains("twi:sha256-omitted:fuse"));
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:sha256:"))));
  EXPECT_THAT(*sel, Contains("twi:path:" + app));

  // A read that never returns, against the hashing guard the plugin uses: the call fails
  // with a clear error once its (small) deadline passes, and the slot stays taken until the
  // read returns, so stalled reads cannot pile up threads.
  process::HashGuardOptions o;
  o.max_concurrent = 1;
  o.timeout = std::chrono::milliseconds(100);
  process::HashGuard guard(o);
  int fd = ::open((fs.dir + "/slow").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto r = guard.Hash(1000, fd, 1 << 20, false, fs.dir + "/slow");
  ::close(fd);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("/slow did not finish within 100 ms (hash_timeout_ms; a stalled read"));
  EXPECT_EQ(guard.in_flight(), 1);
  ::kill(fs.daemon, SIGKILL);  // the server goes away: the read fails, the worker ends
  ::waitpid(fs.daemon, nullptr, 0);
  fs.daemon = -1;
  guard.WaitIdle();
  EXPECT_EQ(guard.in_flight(), 0);
#endif
}

// --- 6. re-hash on every call: the per-uid budget ---------------------------------------

TEST_F(AttackE2eTest, TouchingTheExecutableBeforeEachCallHitsTheUidBudget) {
  const std::string exe = dir_.path() + "/big";
  std::filesystem::copy_file(std::filesystem::canonical("/bin/sleep"), exe);
  ::chmod(exe.c_str(), 0755);
  const auto size = std::filesystem::file_size(exe);
  auto& plugin = Plugin("ima_path = \"\"\nhash_budget_bytes_per_uid = " + std::to_string(size * 3 / 2) + "\n");
  Kid kid;
  ASSERT_EQ(ForkReady(kid, [] { return std::string(); }, {exe, "30"}), "");
  auto first = host::AttestWorkload(plugin, kid.pid);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(*first, Contains("twi:sha256:" + FileSha256(exe)));
  auto cached = host::AttestWorkload(plugin, kid.pid);  // unchanged file: a cache hit, free
  ASSERT_TRUE(cached.ok()) << cached.status();
  // The attacker touches its executable: a new ctime, so the cache misses.
  ASSERT_EQ(::utimensat(AT_FDCWD, exe.c_str(), nullptr, 0), 0);
  auto second = host::AttestWorkload(plugin, kid.pid);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted) << second.status();
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("uid " + std::to_string(::getuid()) + " used its hashing budget"));
}

// --- 7. names that are not UTF-8 ---------------------------------------------------------

TEST_F(AttackE2eTest, NonUtf8ExecutableAndCgroupNamesDoNotBreakTheResponse) {
  const std::string exe = dir_.path() + "/sl\xff" "eep";
  std::filesystem::copy_file(std::filesystem::canonical("/bin/sleep"), exe);
  ::chmod(exe.c_str(), 0755);
  Kid kid;
  ASSERT_EQ(ForkReady(kid, [] { return std::string(); }, {exe, "30"}), "");
  const std::string mount = PrimaryCgroupMount();
  CgroupDirs dirs{mount, {}};
  const std::string bad_cgroup = "/twi-e2e-\xfe" + std::to_string(::getpid());
  bool moved = !mount.empty() && dirs.Make(bad_cgroup) && dirs.Move(bad_cgroup, kid.pid);
  auto sel = host::AttestWorkload(Plugin(), kid.pid);
  // Before the fix the host rejected the whole response (protobuf string not UTF-8).
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:path:"))));
  EXPECT_THAT(*sel, Contains("twi:sha256:" + FileSha256(exe)));
  EXPECT_THAT(*sel, Contains("twi:uid:" + std::to_string(::getuid())));
  if (moved) {
    EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:cgroup:"))));
  } else {
    // Without a writable cgroup hierarchy (not root) only the executable half runs.
    std::cerr << "note: no writable cgroup hierarchy, cgroup name part not performed\n";
  }
  kid.Stop();
}

// --- 8. which uid ------------------------------------------------------------------------

TEST_F(AttackE2eTest, DifferingUidsAreNotReportedAsOne) {
  if (::geteuid() != 0) GTEST_SKIP() << "setresuid to arbitrary ids needs root";
  Kid kid;
  ASSERT_EQ(ForkReady(kid,
                      []() -> std::string {
                        return ::setresuid(1000, 2000, 3000) == 0 ? "" : "setresuid failed";
                      }),
            "");
  auto sel = host::AttestWorkload(Plugin(), kid.pid);
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:uid:"))));
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:user:"))));
  EXPECT_THAT(*sel, Contains("twi:real-uid:1000"));
  EXPECT_THAT(*sel, Contains("twi:effective-uid:2000"));
  EXPECT_THAT(*sel, Contains("twi:saved-uid:3000"));
  EXPECT_THAT(*sel, Contains("twi:gid:" + std::to_string(::getgid())));
}

}  // namespace
}  // namespace twi::e2e
