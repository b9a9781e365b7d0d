// The selector table in attestors/process/inspector.h must match what the code emits:
// every documented kind is produced by some fixture, and every produced kind is documented.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "attestors/process/inspector.h"
#include "test/process/process_test_util.h"

namespace twi::process {
namespace {

using testing::FakeProcess;
using testing::ReadFileOrDie;
using testing::TempDir;
using testing::TestData;
using testing::WriteFakeProcess;
using testing::WriteFile;

// "uid:1000" -> "uid", "ima:pcr:10" -> "ima:pcr", "exe-deleted:true" -> "exe-deleted".
std::string KindOf(const std::string& value) {
  size_t colon = value.find(':');
  std::string kind = value.substr(0, colon);
  if (kind == "ima") kind = value.substr(0, value.find(':', colon + 1));
  return kind;
}

std::set<std::string> DocumentedKinds() {
  std::string header =
      ReadFileOrDie(std::string(TWI_SOURCE_DIR) + "/attestors/process/inspector.h");
  std::set<std::string> kinds;
  std::regex row(R"(^// \| `([a-z0-9-]+(?::[a-z]+)?):)");
  std::istringstream in(header);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) {
      std::string k = m[1];
      if (k.rfind("ima:", 0) != 0 && k.find(':') != std::string::npos) k = k.substr(0, k.find(':'));
      kinds.insert(k);
    }
  }
  return kinds;
}

TEST(process_selector_table, MatchesEmittedKinds) {
  std::set<std::string> documented = DocumentedKinds();
  ASSERT_GE(documented.size(), 15u);

  std::set<std::string> emitted;
  auto attest = [&](FakeProcess p, const std::string& ima, bool deleted_exe,
                    FsTypeFn fs_type = nullptr) {
    TempDir dir;
    std::string exe = dir / "exe-copy";
    std::filesystem::copy_file(TestData("bin/fixture-exe"), exe);
    p.exe_target = exe;
    testing::UniqueFdForTest held;
    if (deleted_exe) {
      // An unlinked file reached through this process's fd link: link count 0, like a
      // replaced binary still running.
      held.reset(::open(exe.c_str(), O_RDONLY | O_CLOEXEC));
      std::filesystem::remove(exe);
      p.exe_target = "/proc/self/fd/" + std::to_string(held.get());
    }
    WriteFakeProcess(dir / "proc", p);
    WriteFile(dir / "passwd", "alice:x:1000:1000::/:/bin/sh\n");
    WriteFile(dir / "group", "alice:x:1000:\nsudo:x:27:\n");
    ProcessOptions o;
    o.proc_root = dir / "proc";
    o.passwd_file = dir / "passwd";
    o.group_file = dir / "group";
    o.ima_path = ima;
    o.fs_type = fs_type;
    auto inspector = ProcessInspector::Create(o);
    ASSERT_TRUE(inspector.ok()) << inspector.status();
    auto a = (*inspector)->Attest(p.pid);
    ASSERT_TRUE(a.ok()) << a.status();
    for (const auto& s : a->selectors) emitted.insert(KindOf(s));
  };
  FakeProcess k8s;
  k8s.cgroup = ReadFileOrDie(TestData("cgroup/k8s_containerd_v2_systemd.txt"));
  attest(k8s, TestData("ima/ima_ng.txt"), false);
  FakeProcess user;
  user.cgroup = ReadFileOrDie(TestData("cgroup/user_service_v2.txt"));
  attest(user, "", true);
  FakeProcess rootless;
  rootless.cgroup = ReadFileOrDie(TestData("cgroup/podman_v2_rootless.txt"));
  rootless.uids = {1000, 0, 0, 0};  // differing ids: real-/effective-/saved- kinds
  rootless.gids = {1000, 1000, 5, 1000};
  rootless.mnt_ns_target = "/proc/1/ns/net";  // any other nsfs inode: another namespace
  attest(rootless, "", false, [](int, const std::string&) -> absl::StatusOr<uint64_t> {
    return 0x65735546;  // FUSE_SUPER_MAGIC
  });

  EXPECT_EQ(emitted, documented);
}

}  // namespace
}  // namespace twi::process
