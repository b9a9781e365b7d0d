// Event-log replay cost: parse + replay of a synthetic 100-event crypto-agile log (SHA-256),
// against the same 100 SHA-256 extends done directly with OpenSSL in the same run (the floor
// any replay pays), plus a real log (vector P3, Ubuntu 24.04 on SEV-SNP).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdio>

#include "attestors/core/file.h"
#include "attestors/eventlog/tcg.h"
#include "test/bench/ratio_reporter.h"
#include "test/tpm/event_log_builder.h"

namespace {

using twi::Bytes;

// `n` events of 64 data bytes spread over PCRs 0-9, SHA-256 only.
Bytes SyntheticLog(int n) {
  twi::tpm::testing::EventLogBuilder b;
  for (int i = 0; i < n; ++i) b.Event(i % 10, 0x0D, Bytes(64, static_cast<uint8_t>(i)));
  return b.log;
}

void BM_ReplaySynthetic100(benchmark::State& state) {
  Bytes log = SyntheticLog(100);
  for (auto _ : state) {
    auto parsed = twi::eventlog::Parse(log);
    auto replay = twi::eventlog::Replay(*parsed, twi::eventlog::kAlgSha256);
    benchmark::DoNotOptimize(replay);
  }
}
BENCHMARK(BM_ReplaySynthetic100);

void BM_RawSha256Extends100(benchmark::State& state) {
  uint8_t pcr[32] = {0}, digest[32] = {1};
  for (auto _ : state) {
    for (int i = 0; i < 100; ++i) {
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      unsigned int len = 0;
      EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
      EVP_DigestUpdate(ctx, pcr, 32);
      EVP_DigestUpdate(ctx, digest, 32);
      EVP_DigestFinal_ex(ctx, pcr, &len);
      EVP_MD_CTX_free(ctx);
    }
    benchmark::DoNotOptimize(pcr);
  }
}
BENCHMARK(BM_RawSha256Extends100);

void BM_ReplayUbuntuSnpLog(benchmark::State& state) {
  auto log = twi::ReadFileBytes(std::string(TWI_TESTDATA) + "/eventlog/ubuntu-2404-amd-sevsnp.bin");
  if (!log.ok()) {
    state.SkipWithError("vector missing");
    return;
  }
  size_t events = 0;
  for (auto _ : state) {
    auto parsed = twi::eventlog::Parse(*log);
    auto replay = twi::eventlog::Replay(*parsed, twi::eventlog::kAlgSha256);
    events = parsed->events.size();
    benchmark::DoNotOptimize(replay);
  }
  state.counters["events"] = static_cast<double>(events);
}
BENCHMARK(BM_ReplayUbuntuSnpLog);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  twi::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double replay = reporter.cpu_ns("BM_ReplaySynthetic100");
  double raw = reporter.cpu_ns("BM_RawSha256Extends100");
  if (replay > 0 && raw > 0) {
    std::printf("100-event log: parse+replay %.1f us, raw extends %.1f us, ratio %.2f\n",
                replay / 1e3, raw / 1e3, replay / raw);
  }
  benchmark::Shutdown();
  return 0;
}
