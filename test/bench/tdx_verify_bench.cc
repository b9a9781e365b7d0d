// TDX quote verification cost (T1, a real v4 quote with its collateral at 2025-07-01): the warm
// path (PCK chain and collateral cached) against two bare OpenSSL ECDSA P-256 verifications of
// the same bytes (QE report by the PCK key, quote by the attestation key), and the cold path
// (PCK chain, CRLs, TCB Signing chain, TCB Info and QE Identity signatures and parsing).
// main() prints the warm/raw throughput ratio (target >= 0.7) and the cold-collateral cost.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "attestors/tdx/verify.h"
#include "test/bench/ratio_reporter.h"

namespace twi::tdx {
namespace {

std::string ReadFile(const std::string& rel) {
  std::ifstream f(std::string(TWI_TESTDATA) + "/tdx/" + rel, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct Fixture {
  Bytes quote = ToBytes(ReadFile("phala-dcap-qvl/tdx_quote"));
  collateral::DcapCollateral collateral =
      *collateral::ParseDcapBundle(ReadFile("phala-dcap-qvl/tdx_quote_collateral.json"));
  VerifyOptions options;
  Fixture() { options.time = *ParseRfc3339("2025-07-01T00:00:00Z"); }
};

const Fixture& F() {
  static const Fixture* f = new Fixture;
  return *f;
}

bool RawVerify(EVP_PKEY* key, ByteView msg, const Bytes& der) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key);
  return EVP_DigestVerify(ctx.get(), der.data(), der.size(), msg.data(), msg.size()) == 1;
}

// The baseline: the two ECDSA P-256 verifications a quote needs, keys and DER signatures
// prepared outside the loop.
void BM_RawTwoOpenSslP256Verifies(benchmark::State& state) {
  auto q = ParseQuote(F().quote);
  auto pck = (*ParsePemBundle(AsString(q->qe.pck_chain)))[0];
  auto att = P256KeyFromXy(q->attestation_key);
  Bytes qe_sig = *RawSignatureToDer(q->qe.qe_report_signature);
  Bytes quote_sig = *RawSignatureToDer(q->signature);
  for (auto _ : state) {
    bool ok = RawVerify(pck.public_key(), q->qe.qe_report.raw, qe_sig) &&
              RawVerify(att->get(), q->signed_region, quote_sig);
    if (!ok) state.SkipWithError("raw verify failed");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_RawTwoOpenSslP256Verifies);

// Quote bytes in, verified result (TCB status) out, cache warm.
void BM_WarmVerifyQuoteBytes(benchmark::State& state) {
  VerificationCache cache;
  CheckList warmup;
  VerifiedQuote first;
  if (!VerifyQuoteBytes(F().quote, F().collateral, F().options, warmup, &first, &cache).ok()) {
    state.SkipWithError("warm-up verification failed");
  }
  for (auto _ : state) {
    CheckList checks;
    VerifiedQuote out;
    absl::Status s = VerifyQuoteBytes(F().quote, F().collateral, F().options, checks, &out, &cache);
    if (!s.ok() || !out.cache_hit) state.SkipWithError("warm verification failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_WarmVerifyQuoteBytes);

// No cache: everything, with the collateral bundle already parsed (as a server holds it).
void BM_ColdVerifyQuoteBytes(benchmark::State& state) {
  for (auto _ : state) {
    CheckList checks;
    VerifiedQuote out;
    absl::Status s = VerifyQuoteBytes(F().quote, F().collateral, F().options, checks, &out);
    if (!s.ok()) state.SkipWithError("cold verification failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ColdVerifyQuoteBytes);

// Parsing the nine-key bundle itself (PEM chains, CRLs, hex), once per collateral refresh.
void BM_ParseCollateralBundle(benchmark::State& state) {
  std::string text = ReadFile("phala-dcap-qvl/tdx_quote_collateral.json");
  for (auto _ : state) {
    auto c = collateral::ParseDcapBundle(text);
    if (!c.ok()) state.SkipWithError("bundle parse failed");
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_ParseCollateralBundle);

}  // namespace
}  // namespace twi::tdx

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  twi::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double raw = reporter.ns("BM_RawTwoOpenSslP256Verifies");
  double warm = reporter.ns("BM_WarmVerifyQuoteBytes");
  double cold = reporter.ns("BM_ColdVerifyQuoteBytes");
  double bundle = reporter.ns("BM_ParseCollateralBundle");
  if (raw > 0 && warm > 0) {
    std::printf("warm/raw throughput ratio: %.3f wall, %.3f cpu (target >= 0.7)\n", raw / warm,
                reporter.cpu_ns("BM_RawTwoOpenSslP256Verifies") /
                    reporter.cpu_ns("BM_WarmVerifyQuoteBytes"));
  }
  if (warm > 0 && cold > 0) {
    std::printf("cold collateral: %.1f us per quote, %.1f us above warm; bundle parse %.1f us\n",
                cold / 1e3, (cold - warm) / 1e3, bundle / 1e3);
  }
  benchmark::Shutdown();
  return 0;
}
