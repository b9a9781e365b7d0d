// Test helpers for the process attestor: temp dirs, fixture /proc trees, real children.
// Suite names start with "process_" so `ctest -R process` selects them.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "attestors/core/bytes.h"
#include "attestors/core/crypto.h"

extern char** environ;

namespace twi::process::testing {

inline std::string TestData(const std::string& rel) {
  return std::string(TWI_TESTDATA) + "/process/" + rel;
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
}

inline bool Has(const std::vector<std::string>& s, const std::string& v) {
  return std::find(s.begin(), s.end(), v) != s.end();
}
inline std::vector<std::string> WithPrefix(const std::vector<std::string>& s,
                                           const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& v : s) {
    if (v.rfind(prefix, 0) == 0) out.push_back(v);
  }
  return out;
}

inline std::string FileSha256Hex(const std::string& path) {
  return HexEncode(Sha256(AsBytes(ReadFileOrDie(path))));
}

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "twi-process-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// One fake /proc/<pid> directory.
struct FakeProcess {
  int pid = 4242;
  std::string comm = "fixture";
  char state = 'S';
  uint64_t start_time = 123456;
  uint64_t flags = 4194560;  // PF_RANDOMIZE | PF_FORKNOEXEC-style user process flags
  uint32_t uid = 1000;
  uint32_t gid = 1000;
  std::vector<uint32_t> groups = {1000, 27};
  std::string cgroup = "0::/system.slice/fixture.service\n";
  std::string exe_target = TestData("bin/fixture-exe");  // "" = no exe (kernel thread)
  // ns/mnt: the test's own mount namespace unless a test says otherwise.
  std::string mnt_ns_target = "/proc/self/ns/mnt";
  // Real, effective, saved, fs; empty = all `uid` / `gid`.
  std::vector<uint32_t> uids;
  std::vector<uint32_t> gids;
};

// A /proc/<pid>/stat line with all 52 fields, as Linux 6.x prints it.
inline std::string StatLine(int pid, const std::string& comm, char state, uint64_t start,
                            uint64_t flags = 4194560) {
  std::ostringstream s;
  s << pid << " (" << comm << ") " << state << " 1 " << pid << " " << pid
    << " 0 -1 " << flags << " 1020 0 0 0 3 1 0 0 20 0 1 0 " << start
    << " 2424832 224 18446744073709551615 94000000000000 94000000016000 140730000000000 0 0 0 0"
    << " 0 0 0 17 1 0 0 0 0 0 94000000020000 94000000021000 94000001000000 140730000001000"
    << " 140730000001100 140730000001100 140730000004000 0\n";
  return s.str();
}

inline std::string StatusText(const FakeProcess& p) {
  std::ostringstream s;
  s << "Name:\t" << p.comm << "\nUmask:\t0022\nState:\t" << p.state << " (sleeping)\nTgid:\t"
    << p.pid << "\nNgid:\t0\nPid:\t" << p.pid << "\nPPid:\t1\nTracerPid:\t0\n";
  auto ids = [&](const char* name, const std::vector<uint32_t>& v, uint32_t all) {
    s << name;
    for (int i = 0; i < 4; ++i) s << "\t" << (v.empty() ? all : v[i]);
    s << "\n";
  };
  ids("Uid:", p.uids, p.uid);
  ids("Gid:", p.gids, p.gid);
  s << "FDSize:\t64\nGroups:\t";
  for (uint32_t g : p.groups) s << g << " ";
  s << "\nNStgid:\t" << p.pid << "\nVmPeak:\t    2368 kB\nThreads:\t1\n";
  return s.str();
}

inline std::string ProcDirOf(const std::string& root, int pid) {
  return root + "/" + std::to_string(pid);
}

inline void WriteFakeProcess(const std::string& root, const FakeProcess& p) {
  std::string dir = ProcDirOf(root, p.pid);
  std::filesystem::create_directories(dir);
  WriteFile(dir + "/stat", StatLine(p.pid, p.comm, p.state, p.start_time, p.flags));
  WriteFile(dir + "/status", StatusText(p));
  WriteFile(dir + "/cgroup", p.cgroup);
  std::error_code ec;
  std::filesystem::remove(dir + "/exe", ec);
  if (!p.exe_target.empty()) std::filesystem::create_symlink(p.exe_target, dir + "/exe");
  std::filesystem::create_directories(dir + "/ns");
  std::filesystem::remove(dir + "/ns/mnt", ec);
  std::filesystem::create_symlink(p.mnt_ns_target, dir + "/ns/mnt");
}

// A real child process, killed and reaped on destruction.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    // glibc's posix_spawn returns after the exec, so /proc/<pid>/exe is the new program.
    if (::posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ) != 0) pid_ = -1;
  }
  ~Child() { Stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// A pid with no process (searching down from the top of the pid range).
inline int UnusedPid() {
  int max = std::stoi(ReadFileOrDie("/proc/sys/kernel/pid_max"));
  for (int p = max - 1; p > 1; --p) {
    if (::kill(p, 0) != 0 && errno == ESRCH) return p;
  }
  return -1;
}

}  // namespace twi::process::testing

#include <openssl/evp.h>

namespace twi::process::testing {

// An ima-ng line for `name` with file digest `sha256`, template hash computed as the kernel
// does (SHA-1 over length-prefixed "sha256:\0<digest>" and "<name>\0").
inline std::string ImaNgLine(int pcr, const Bytes& sha256, const std::string& name) {
  Bytes data;
  auto put = [&](const Bytes& f) {
    uint32_t n = static_cast<uint32_t>(f.size());
    for (int i = 0; i < 4; ++i) data.push_back(static_cast<uint8_t>(n >> (8 * i)));
    data.insert(data.end(), f.begin(), f.end());
  };
  // Built from strings that already hold the NULs (GCC 12 misreads push_back after an
  // exact-size allocation as an overflow).
  Bytes d = ToBytes(std::string("sha256:", 8));
  d.insert(d.end(), sha256.begin(), sha256.end());
  Bytes n = ToBytes(name + std::string(1, '\0'));
  put(d);
  put(n);
  uint8_t th[20];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), th, &len, EVP_sha1(), nullptr);
  return std::to_string(pcr) + " " + HexEncode(ByteView(th, len)) +
         " ima-ng sha256:" + HexEncode(sha256) + " " + name + "\n";
}

}  // namespace twi::process::testing

namespace twi::process::testing {

// Closes an fd at scope exit.
class UniqueFdForTest {
 public:
  ~UniqueFdForTest() { reset(-1); }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace twi::process::testing
