// End to end: the real twi-workloadattestor binary through the host harness, attesting this
// test's own child processes, as SPIRE's agent does on every Workload API call.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "attestors/appraisal/selectors.h"
#include "attestors/core/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/e2e/e2e_util.h"

namespace twi::e2e {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;


// A child running /bin/sleep; returns once its exec has happened (so /proc/<pid>/exe names
// sleep, not this test binary).
pid_t SpawnSleep() {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string want = std::filesystem::canonical("/bin/sleep");
  for (int i = 0; i < 500; ++i) {
    std::error_code ec;
    if (std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec) == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pid;
}

void Reap(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

class WorkloadE2eTest : public ::testing::Test {
 protected:
  void Start(const std::string& hcl) {
    plugin_ = Launch(kWorkload, "WorkloadAttestor");
    ASSERT_TRUE(plugin_);
    absl::Status s = plugin_->Load("example.org", hcl, false);
    ASSERT_TRUE(s.ok()) << s;
  }
  void TearDown() override {
    if (plugin_) ShutdownAndCheckClean(*plugin_);
  }
  std::unique_ptr<host::PluginProcess> plugin_;
};

TEST_F(WorkloadE2eTest, AttestsAChildProcess) {
  Start("ima_path = \"\"\n");
  pid_t child = SpawnSleep();
  auto sel = host::AttestWorkload(*plugin_, child);
  std::string exe = std::filesystem::canonical("/bin/sleep");
  Reap(child);
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_THAT(*sel, Contains("twi:uid:" + std::to_string(getuid())));
  EXPECT_THAT(*sel, Contains("twi:gid:" + std::to_string(getgid())));
  EXPECT_THAT(*sel, Contains("twi:path:" + exe));
  EXPECT_THAT(*sel, Contains("twi:sha256:" + FileSha256(exe)));
  EXPECT_THAT(*sel, Contains(StartsWith("twi:cgroup:")));
  for (const auto& v : *sel) {
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::WorkloadSelectors(), v.substr(4))) << v;
  }
  // No TEE on this machine and no simulation: no TEE selectors.
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:tee:"))));
}

TEST_F(WorkloadE2eTest, AttestReferenceMatchesAttest) {
  Start("ima_path = \"\"\n");
  pid_t child = SpawnSleep();
  auto by_pid = host::AttestWorkload(*plugin_, child);
  auto by_ref = host::AttestWorkload(*plugin_, child, /*by_reference=*/true);
  Reap(child);
  ASSERT_TRUE(by_pid.ok() && by_ref.ok());
  EXPECT_EQ(*by_pid, *by_ref);
  auto other = host::AttestReferenceRaw(*plugin_, "type.googleapis.com/spiffe.broker.WorkloadK8sReference", "");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(other.status().message()),
              HasSubstr("unsupported workload reference type \"type.googleapis.com/spiffe.broker.WorkloadK8sReference\""));
}

TEST_F(WorkloadE2eTest, TeeContextFromTheSimulator) {
  Start("ima_path = \"\"\nsimulate = \"sev-snp\"\n");
  auto sel = host::AttestWorkload(*plugin_, getpid());
  ASSERT_TRUE(sel.ok()) << sel.status();
  // Issue 15 item 9: simulated values are marked, so an entry written for real hardware
  // (tee:sev-snp, sev-snp:measurement:...) never matches a simulated agent.
  EXPECT_THAT(*sel, Contains("twi:tee:simulated-sev-snp"));
  EXPECT_THAT(*sel, Not(Contains("twi:tee:sev-snp")));
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:sev-snp:"))));
  EXPECT_THAT(*sel, Contains(StartsWith("twi:simulated-sev-snp:measurement:")));
  EXPECT_THAT(*sel, Contains("twi:simulated-sev-snp:policy-debug:false"));
  for (const auto& v : *sel) {
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::WorkloadSelectors(), v.substr(4))) << v;
  }
}

TEST_F(WorkloadE2eTest, TdxTeeContextFromTheSimulator) {
  Start("ima_path = \"\"\nsimulate = \"tdx\"\n");
  auto sel = host::AttestWorkload(*plugin_, getpid());
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_THAT(*sel, Contains("twi:tee:simulated-tdx"));
  EXPECT_THAT(*sel, Not(Contains("twi:tee:tdx")));
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:tdx:"))));
  EXPECT_THAT(*sel, Contains(StartsWith("twi:simulated-tdx:mrtd:")));
  EXPECT_THAT(*sel, Contains(StartsWith("twi:simulated-tdx:rtmr3:")));
  EXPECT_THAT(*sel, Contains("twi:simulated-tdx:debug:false"));
  EXPECT_THAT(*sel, Not(Contains(StartsWith("twi:simulated-sev-snp:"))));
  for (const auto& v : *sel) {
    EXPECT_TRUE(appraisal::MatchesDocumented(appraisal::WorkloadSelectors(), v.substr(4))) << v;
  }
}

TEST_F(WorkloadE2eTest, MissingProcessIsAnError) {
  Start("ima_path = \"\"\n");
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);  // reaped: the pid names no process now
  auto sel = host::AttestWorkload(*plugin_, child);
  EXPECT_EQ(sel.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(sel.status().message()), HasSubstr("process " + std::to_string(child)));
  auto bad = host::AttestWorkload(*plugin_, -5);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(WorkloadE2eTest, ProcessExitingDuringAttestationNeverYieldsWrongSelectors) {
  // Races a kill against Attest many times. Every answer must be either the child's full,
  // correct selectors or NOT_FOUND: never a partial or mixed set.
  Start("ima_path = \"\"\n");
  std::string exe = std::filesystem::canonical("/bin/sleep");
  std::string want_hash = "twi:sha256:" + FileSha256(exe);
  std::mt19937 rng(42);
  int ok = 0, gone = 0;
  for (int i = 0; i < 40; ++i) {
    pid_t child = SpawnSleep();
    std::thread killer([&, delay = rng() % 800] {
      std::this_thread::sleep_for(std::chrono::microseconds(delay));
      kill(child, SIGKILL);
    });
    auto sel = host::AttestWorkload(*plugin_, child);
    killer.join();
    waitpid(child, nullptr, 0);
    if (sel.ok()) {
      ++ok;
      EXPECT_THAT(*sel, Contains("twi:path:" + exe));
      EXPECT_THAT(*sel, Contains(want_hash));
    } else {
      ++gone;
      EXPECT_EQ(sel.status().code(), absl::StatusCode::kNotFound) << sel.status();
      EXPECT_THAT(std::string(sel.status().message()), HasSubstr("process " + std::to_string(child)));
    }
  }
  EXPECT_EQ(ok + gone, 40);
}

TEST_F(WorkloadE2eTest, BadConfigListsEveryProblem) {
  plugin_ = Launch(kWorkload, "WorkloadAttestor");
  absl::Status s = plugin_->Load("example.org", "proc_rot = \"/proc\"\nmax_executable_bytes = -1\n", false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("invalid configuration (2 problems)"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("unknown key \"proc_rot\" (did you mean \"proc_root\"?"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("\"max_executable_bytes\" must be between 1 and"));
}

}  // namespace
}  // namespace twi::e2e
