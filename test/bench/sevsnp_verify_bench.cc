// SEV-SNP verification cost: the warm path (endorsement chain cached) against a bare OpenSSL
// ECDSA P-384 verify of the same signed bytes, and the cold path (RSA-PSS chain + extensions).
// The architecture's budget is "one ECDSA verify plus parsing" per report when warm; main()
// prints the warm/raw throughput ratio (target >= 0.8).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "attestors/sevsnp/verify.h"
#include "test/bench/ratio_reporter.h"

namespace twi::sevsnp {
namespace {

Bytes ReadFile(const std::string& rel) {
  std::ifstream f(std::string(TWI_TESTDATA) + "/sevsnp/" + rel, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// S1: a real Milan report, its VCEK and the KDS chain, verified at 2024-01-01.
struct Fixture {
  Bytes report = ReadFile("go-sev-guest/attestation.bin");
  Bytes vcek_der = ReadFile("go-sev-guest/vcek.testcer");
  std::vector<Certificate> chain = *ParseCertificates(ReadFile("go-sev-guest/ask_ark_milan.pem"));
  VerifyOptions options;
  Fixture() { options.time = *ParseRfc3339("2024-01-01T00:00:00Z"); }
};

const Fixture& F() {
  static const Fixture* f = new Fixture;
  return *f;
}

void BM_RawOpenSslEcdsaP384Verify(benchmark::State& state) {
  auto cert = Certificate::FromDer(F().vcek_der);
  auto report = ParseReport(F().report);
  Bytes sig = *SignatureDer(*report);
  ByteView msg = report->signed_bytes();
  for (auto _ : state) {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, cert->public_key());
    int rc = EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size());
    if (rc != 1) state.SkipWithError("raw verify failed");
    benchmark::DoNotOptimize(rc);
  }
}
BENCHMARK(BM_RawOpenSslEcdsaP384Verify);

// Wire bytes in (report + VCEK DER), verified result out, cache warm.
void BM_WarmVerifyReportBytes(benchmark::State& state) {
  VerificationCache cache;
  CheckList warmup;
  if (!VerifyReportBytes(F().report, F().vcek_der, F().chain, F().options, warmup, &cache).ok()) {
    state.SkipWithError("warm-up verification failed");
  }
  for (auto _ : state) {
    CheckList checks;
    auto r = VerifyReportBytes(F().report, F().vcek_der, {}, F().options, checks, &cache);
    if (!r.ok() || !r->cache_hit) state.SkipWithError("warm verification failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_WarmVerifyReportBytes);

// No cache: parse the VCEK, build and verify VCEK <- ASK <- ARK (three RSA-4096 PSS
// verifications), decode extensions, then the report signature.
void BM_ColdVerifyReportBytes(benchmark::State& state) {
  for (auto _ : state) {
    CheckList checks;
    auto r = VerifyReportBytes(F().report, F().vcek_der, F().chain, F().options, checks);
    if (!r.ok()) state.SkipWithError("cold verification failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ColdVerifyReportBytes);

}  // namespace
}  // namespace twi::sevsnp

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  twi::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double raw = reporter.ns("BM_RawOpenSslEcdsaP384Verify");
  double warm = reporter.ns("BM_WarmVerifyReportBytes");
  double cold = reporter.ns("BM_ColdVerifyReportBytes");
  if (raw > 0 && warm > 0) {
    std::printf("warm/raw throughput ratio: %.3f (target >= 0.8)\n", raw / warm);
  }
  if (warm > 0 && cold > 0) {
    std::printf("cold path: %.1f us per report, %.1f us above warm (chain verification)\n",
                cold / 1e3, (cold - warm) / 1e3);
  }
  benchmark::Shutdown();
  return 0;
}
