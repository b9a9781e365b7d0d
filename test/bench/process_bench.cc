// Latency of ProcessInspector::Attest for a real child process (every Workload API call
// pays it), next to the floor of reading /proc/<pid>/status once.
//
// Each benchmark times every call itself and reports p50/p99 in microseconds as counters
// (Google Benchmark's own time column is the mean). Run:
//   build/bench/process_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "attestors/process/inspector.h"
#include "attestors/process/proc_io.h"
#include "test/process/process_test_util.h"

namespace twi::process {
namespace {

using Clock = std::chrono::steady_clock;

// One /bin/sleep for the whole run, killed at exit (it shares our stdout).
testing::Child& Workload() {
  static testing::Child child({"/bin/sleep", "3600"});
  return child;
}

void Report(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) {
    return us[std::min(us.size() - 1, static_cast<size_t>(p * us.size()))];
  };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = us.back();
}

template <typename F>
void Timed(benchmark::State& state, F&& f) {
  std::vector<double> us;
  us.reserve(static_cast<size_t>(state.max_iterations));
  for (auto _ : state) {
    auto t0 = Clock::now();
    f();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  Report(state, us);
}

std::unique_ptr<ProcessInspector> Inspector(const std::string& ima_path = "") {
  ProcessOptions o;
  o.ima_path = ima_path;
  auto p = ProcessInspector::Create(o);
  if (!p.ok()) std::abort();
  return *std::move(p);
}

// Floor: open + read + close of one /proc file.
void BM_ReadProcStatus(benchmark::State& state) {
  const std::string path = "/proc/" + std::to_string(Workload().pid()) + "/status";
  Timed(state, [&] {
    auto text = ReadFileAt(AT_FDCWD, path.c_str(), path, 1 << 16);
    if (!text.ok()) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(text);
  });
}

// Every call after the first: the executable digest comes from the cache.
void BM_AttestWarm(benchmark::State& state) {
  auto inspector = Inspector();
  const int pid = Workload().pid();
  if (!inspector->Attest(pid).ok()) state.SkipWithError("attest failed");
  Timed(state, [&] {
    auto a = inspector->Attest(pid);
    if (!a.ok()) state.SkipWithError("attest failed");
    benchmark::DoNotOptimize(a);
  });
  state.counters["cache_hits"] = static_cast<double>(inspector->exe_cache_stats().hits);
}

// A new executable each call: the cache is cleared, so the binary is hashed again.
void BM_AttestCold(benchmark::State& state) {
  auto inspector = Inspector();
  const int pid = Workload().pid();
  std::vector<double> us;
  for (auto _ : state) {
    inspector->ClearExeCache();
    auto t0 = Clock::now();
    auto a = inspector->Attest(pid);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!a.ok()) state.SkipWithError("attest failed");
  }
  Report(state, us);
  state.counters["exe_bytes"] =
      static_cast<double>(inspector->exe_cache_stats().bytes_hashed /
                          std::max<uint64_t>(1, inspector->exe_cache_stats().misses));
}

// Warm, with an IMA list of 20000 entries that contains the executable's digest.
void BM_AttestWarmWithIma(benchmark::State& state) {
  static testing::TempDir* dir = new testing::TempDir();
  const std::string list = *dir / "ascii_runtime_measurements";
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += testing::ImaNgLine(10, Sha256(AsBytes(std::to_string(i))),
                               "/usr/lib/file-" + std::to_string(i));
  }
  char exe[4096];
  ssize_t n =
      ::readlink(("/proc/" + std::to_string(Workload().pid()) + "/exe").c_str(), exe, sizeof(exe));
  std::string exe_path(exe, n > 0 ? static_cast<size_t>(n) : 0);
  text += testing::ImaNgLine(10, Sha256(AsBytes(testing::ReadFileOrDie(exe_path))), exe_path);
  testing::WriteFile(list, text);
  auto inspector = Inspector(list);
  const int pid = Workload().pid();
  auto first = inspector->Attest(pid);
  if (!first.ok() || std::find(first->selectors.begin(), first->selectors.end(),
                               "ima:measured:true") == first->selectors.end()) {
    state.SkipWithError("ima not matched");
  }
  Timed(state, [&] {
    auto a = inspector->Attest(pid);
    benchmark::DoNotOptimize(a);
  });
}

BENCHMARK(BM_ReadProcStatus)->Iterations(20000);
BENCHMARK(BM_AttestWarm)->Iterations(20000);
BENCHMARK(BM_AttestCold)->Iterations(2000);
BENCHMARK(BM_AttestWarmWithIma)->Iterations(20000);

}  // namespace
}  // namespace twi::process

BENCHMARK_MAIN();
