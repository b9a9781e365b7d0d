// twi-host: plays SPIRE's part for the twi plugins, for the quickstart and for debugging.
//
//   twi-host attest --agent-plugin BIN --server-plugin BIN [--agent-config FILE]
//                   [--server-config FILE] [--trust-domain TD] [--count N] [--parallel P]
//                   [--rss-every K] [--json] [--verbose]
//   twi-host workload --plugin BIN [--config FILE] --pid N [--reference] [--verbose]
//   twi-host validate --plugin BIN --side agent|server|workload --config FILE
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "attestors/core/str.h"
#include "absl/strings/str_cat.h"
#include "attestors/core/file.h"
#include "nlohmann/json.hpp"
#include "test/harness/host.h"

namespace {

using twi::host::PluginProcess;

struct Args {
  std::string cmd;
  std::map<std::string, std::string> opts;
  bool Has(const std::string& k) const { return opts.count(k) > 0; }
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = opts.find(k);
    return it == opts.end() ? def : it->second;
  }
};

int Usage() {
  std::fprintf(stderr,
               "usage:\n"
               "  twi-host attest --agent-plugin BIN --server-plugin BIN [--agent-config FILE]\n"
               "                  [--server-config FILE] [--trust-domain TD] [--count N] [--parallel P]\n"
               "                  [--rss-every K] [--json] [--verbose]\n"
               "  twi-host workload --plugin BIN [--config FILE] --pid N [--reference] [--count N] [--verbose]\n"
               "  twi-host validate --plugin BIN --side agent|server|workload --config FILE\n");
  return 2;
}

// An empty path reads as an empty config.
bool ReadFile(const std::string& path, std::string* out) {
  if (path.empty()) return true;
  auto text = twi::ReadFileToString(path);
  if (!text.ok()) {
    std::fprintf(stderr, "twi-host: %s\n", std::string(text.status().message()).c_str());
    return false;
  }
  *out = *std::move(text);
  return true;
}

// Nearest-rank percentile `q` of sorted samples.
double Percentile(const std::vector<double>& sorted, double q) {
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
}

std::unique_ptr<PluginProcess> Start(const std::string& bin, const std::string& type, bool verbose,
                                     std::shared_ptr<twi::host::AgentStore> store = nullptr) {
  twi::host::LaunchOptions o;
  o.path = bin;
  o.plugin_type = type;
  o.echo_stderr = verbose;
  if (const char* grace = std::getenv("TWI_HOST_SHUTDOWN_GRACE_S")) {  // e.g. under valgrind
    o.shutdown_grace = std::chrono::seconds(std::max(2, std::atoi(grace)));
  }
  o.agent_store = std::move(store);
  auto p = PluginProcess::Launch(o);
  if (!p.ok()) {
    std::fprintf(stderr, "twi-host: %s: %s\n", bin.c_str(), std::string(p.status().message()).c_str());
    return nullptr;
  }
  return *std::move(p);
}

void Stop(PluginProcess& p) {
  p.Deinit().IgnoreError();
  auto s = p.Shutdown();
  if (!s.ok()) std::fprintf(stderr, "twi-host: %s\n", std::string(s.message()).c_str());
}

// Resident set size of a process in KiB (from /proc/<pid>/status), or -1.
long RssKib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

int Attest(const Args& a) {
  std::string agent_cfg, server_cfg;
  if (!a.Has("--agent-plugin") || !a.Has("--server-plugin")) return Usage();
  if (!ReadFile(a.Get("--agent-config"), &agent_cfg) || !ReadFile(a.Get("--server-config"), &server_cfg)) return 1;
  std::string td = a.Get("--trust-domain", "example.org");
  int count = std::max(1, std::atoi(a.Get("--count", "1").c_str()));
  bool verbose = a.Has("--verbose"), json = a.Has("--json");
  auto store = std::make_shared<twi::host::AgentStore>();
  auto agent = Start(a.Get("--agent-plugin"), "NodeAttestor", verbose);
  auto server = Start(a.Get("--server-plugin"), "NodeAttestor", verbose, store);
  if (!agent || !server) return 1;
  for (auto [p, cfg, side] : {std::tuple{agent.get(), &agent_cfg, false}, std::tuple{server.get(), &server_cfg, true}}) {
    auto s = p->Load(td, *cfg, side);
    if (!s.ok()) {
      std::fprintf(stderr, "twi-host: loading the %s plugin: %s: %s\n", side ? "server" : "agent",
                   absl::StatusCodeToString(s.code()).c_str(), std::string(s.message()).c_str());
      return 1;
    }
  }
  long agent_rss = RssKib(agent->pid()), server_rss = RssKib(server->pid());
  // --parallel P: P attestations in flight at once through the one server plugin (every one
  // must succeed); --rss-every K: the server's RSS after every K attestations (the curve).
  const int parallel = std::max(1, std::atoi(a.Get("--parallel", "1").c_str()));
  const int rss_every = std::max(0, std::atoi(a.Get("--rss-every", "0").c_str()));
  std::vector<double> micros;
  std::vector<std::pair<int, long>> rss_curve;
  twi::host::NodeAttestationResult r;
  std::mutex mu;
  int next = 0, done = 0, failures = 0;
  auto worker = [&] {
    for (;;) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (next >= count || (failures > 0 && parallel == 1)) return;
        ++next;
      }
      auto t0 = std::chrono::steady_clock::now();
      auto one = twi::host::AttestNode(*agent, *server, td, "twi", {}, store.get());
      double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      std::lock_guard<std::mutex> l(mu);
      micros.push_back(us);
      ++done;
      if (!one.status.ok()) {
        if (failures++ == 0) r = one;
      } else if (failures == 0) {
        r = one;
      }
      if (rss_every > 0 && done % rss_every == 0) rss_curve.emplace_back(done, RssKib(server->pid()));
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  long server_rss_after = RssKib(server->pid());
  Stop(*agent);
  Stop(*server);
  if (!r.status.ok()) {
    if (json) {
      std::cout << nlohmann::json{{"ok", false}, {"code", absl::StatusCodeToString(r.status.code())},
                                  {"error", std::string(r.status.message())},
                                  {"failures", failures}, {"runs", done}}.dump(2) << "\n";
    } else {
      std::fprintf(stderr, "attestation failed: %s: %s\n", absl::StatusCodeToString(r.status.code()).c_str(),
                   std::string(r.status.message()).c_str());
    }
    return 1;
  }
  std::sort(micros.begin(), micros.end());
  auto pct = [&](double q) { return Percentile(micros, q); };
  if (json) {
    nlohmann::json j{{"ok", true}, {"agent_id", r.spiffe_id}, {"selectors", r.selectors},
                     {"can_reattest", r.can_reattest}, {"warnings", r.warnings}};
    j["idle_rss_kib"] = {{"agent", agent_rss}, {"server", server_rss}};
    j["server_rss_after_kib"] = server_rss_after;
    if (count > 1) {
      j["latency_us"] = {{"runs", count}, {"parallel", parallel}, {"p50", pct(0.5)},
                         {"p99", pct(0.99)}, {"max", micros.back()}};
    }
    if (!rss_curve.empty()) {
      nlohmann::json curve = nlohmann::json::array();
      for (const auto& [n, kib] : rss_curve) curve.push_back({n, kib});
      j["server_rss_curve_kib"] = curve;
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("agent ID:     %s\n", r.spiffe_id.c_str());
    std::printf("can_reattest: %s\n", r.can_reattest ? "true" : "false");
    std::printf("selectors:\n");
    for (const auto& s : r.selectors) std::printf("  %s\n", s.c_str());
    for (const auto& w : r.warnings) std::printf("warning: %s\n", w.c_str());
    if (count > 1) {
      std::printf("latency over %d attestations: p50 %.0f us, p99 %.0f us\n", count, pct(0.5), pct(0.99));
      std::printf("idle RSS after Configure: agent %ld KiB, server %ld KiB\n", agent_rss, server_rss);
    }
  }
  return 0;
}


int Workload(const Args& a) {
  std::string cfg;
  if (!a.Has("--plugin") || !a.Has("--pid")) return Usage();
  if (!ReadFile(a.Get("--config"), &cfg)) return 1;
  auto p = Start(a.Get("--plugin"), "WorkloadAttestor", a.Has("--verbose"));
  if (!p) return 1;
  auto s = p->Load(a.Get("--trust-domain", "example.org"), cfg, false);
  if (!s.ok()) {
    std::fprintf(stderr, "twi-host: loading the plugin: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  int count = std::max(1, std::atoi(a.Get("--count", "1").c_str()));
  long rss_before = RssKib(p->pid());
  std::vector<double> micros;
  absl::StatusOr<std::vector<std::string>> sel;
  for (int i = 0; i < count; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    sel = twi::host::AttestWorkload(*p, std::atoi(a.Get("--pid").c_str()), a.Has("--reference"));
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    if (!sel.ok()) break;
  }
  long rss_after = RssKib(p->pid());
  Stop(*p);
  if (count > 1 && sel.ok()) {
    std::sort(micros.begin(), micros.end());
    auto pct = [&](double q) { return Percentile(micros, q); };
    std::fprintf(stderr, "Attest over %d calls through the plugin: first %.0f us, p50 %.0f us, p99 %.0f us; "
                 "RSS %ld KiB after Configure, %ld KiB after the calls\n",
                 count, micros.front(), pct(0.5), pct(0.99), rss_before, rss_after);
  }
  if (!sel.ok()) {
    std::fprintf(stderr, "workload attestation failed: %s: %s\n", absl::StatusCodeToString(sel.status().code()).c_str(),
                 std::string(sel.status().message()).c_str());
    return 1;
  }
  for (const auto& v : *sel) std::printf("%s\n", v.c_str());
  return 0;
}

int Validate(const Args& a) {
  std::string cfg;
  if (!a.Has("--plugin") || !a.Has("--side")) return Usage();
  if (!ReadFile(a.Get("--config"), &cfg)) return 1;
  std::string side = a.Get("--side");
  auto p = Start(a.Get("--plugin"), side == "workload" ? "WorkloadAttestor" : "NodeAttestor", a.Has("--verbose"));
  if (!p) return 1;
  auto names = p->Init({});
  if (!names.ok()) return 1;
  auto v = p->Validate(a.Get("--trust-domain", "example.org"), cfg);
  Stop(*p);
  if (!v.ok()) {
    std::fprintf(stderr, "validate failed: %s\n", std::string(v.status().message()).c_str());
    return 1;
  }
  std::printf("valid: %s\n", v->valid ? "true" : "false");
  for (const auto& n : v->notes) std::printf("note: %s\n", n.c_str());
  return v->valid ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  Args a;
  a.cmd = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) return Usage();
    bool flag = k == "--json" || k == "--verbose" || k == "--reference";
    if (flag) {
      a.opts[k] = "";
    } else if (i + 1 < argc) {
      a.opts[k] = argv[++i];
    } else {
      return Usage();
    }
  }
  if (a.cmd == "attest") return Attest(a);
  if (a.cmd == "workload") return Workload(a);
  if (a.cmd == "validate") return Validate(a);
  return Usage();
}
