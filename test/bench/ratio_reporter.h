// A console reporter that keeps each benchmark's adjusted real time per iteration, so a bench
// binary's main() can print ratios against a baseline measured in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace twi::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      ns_[r.benchmark_name()] = r.GetAdjustedRealTime();
      cpu_ns_[r.benchmark_name()] = r.GetAdjustedCPUTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // Nanoseconds per iteration of `name` (0 when it did not run).
  double ns(const std::string& name) const {
    auto it = ns_.find(name);
    return it == ns_.end() ? 0 : it->second;
  }
  // CPU nanoseconds per iteration: steadier than wall time on a loaded machine.
  double cpu_ns(const std::string& name) const {
    auto it = cpu_ns_.find(name);
    return it == cpu_ns_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> ns_;
  std::map<std::string, double> cpu_ns_;
};

}  // namespace twi::bench
