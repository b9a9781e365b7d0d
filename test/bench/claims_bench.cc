// Cost of the claims mapper per attestation, next to a baseline every attestation already
// pays: one ECDSA P-256 verification (the instance key's transcript signature). The policy is
// larger than a real one: 20 refsets of 5 versions, 20 rules. Compare the rows' times:
//   build/bench/claims_bench
#include <benchmark/benchmark.h>

#include "attestors/appraisal/claims_mapper.h"
#include "attestors/appraisal/ear.h"
#include "attestors/core/crypto.h"

namespace twi::appraisal {
namespace {

const TimePoint kNow = std::chrono::system_clock::from_time_t(1'800'000'000);

std::string Image(int i) {
  std::string h = std::to_string(i);
  return std::string(96 - h.size(), 'a') + h;
}

ClaimsPolicy BigPolicy() {
  ClaimsPolicy p;
  p.policy_id = "bench";
  for (int s = 0; s < 20; ++s) {
    RefSet set{"set" + std::to_string(s), {}};
    for (int v = 0; v < 5; ++v) {
      RefVersion ver;
      ver.name = "v" + std::to_string(v);
      ver.fields.push_back({"sev_snp_measurement", Predicate::Kind::kAnyOf, {Image(s * 10 + v)}, false, 0});
      set.versions.push_back(ver);
    }
    p.refsets.push_back(set);
    Rule r;
    r.name = "rule" + std::to_string(s);
    r.refset = set.name;
    r.when.push_back({"tee", Predicate::Kind::kAnyOf, {"sev-snp", "tdx"}, false, 0});
    r.emit = {"claim:workload:w" + std::to_string(s)};
    p.rules.push_back(r);
  }
  return p;
}

const Claims kClaims = {{"tee", "sev-snp"}, {"debug", "false"}, {"sev_snp_measurement", Image(194)}};

void BM_BaselineEcdsaP256Verify(benchmark::State& state) {
  auto key = GenerateP256Key();
  Bytes msg(200, 1);
  auto sig = SignSha256(key->get(), msg);
  for (auto _ : state) benchmark::DoNotOptimize(VerifySha256(key->get(), msg, *sig));
}
BENCHMARK(BM_BaselineEcdsaP256Verify);

void BM_EvaluateBigPolicy(benchmark::State& state) {
  ClaimsPolicy p = BigPolicy();
  for (auto _ : state) benchmark::DoNotOptimize(Evaluate(p, kClaims, kNow));
}
BENCHMARK(BM_EvaluateBigPolicy);

void BM_BuildAndSignEar(benchmark::State& state) {
  auto key = GenerateP256Key();
  Evaluation e = Evaluate(BigPolicy(), kClaims, kNow);
  EarFacts f;
  f.iat = kNow;
  f.status = e.status;
  f.claims_policy = true;
  f.claims_recognized = true;
  f.trace = TraceJson(e);
  for (auto _ : state) benchmark::DoNotOptimize(SignEarJwt(BuildEar(f), key->get()));
}
BENCHMARK(BM_BuildAndSignEar);

}  // namespace
}  // namespace twi::appraisal

BENCHMARK_MAIN();
