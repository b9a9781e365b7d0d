// Cost of key binding on one node attestation, both sides in process (the evidence is an echo of
// the report data, so only what key binding adds is measured): the unbound round trip is the
// baseline; the bound one adds reading the pending key and a PoP signature over the KeyManager's
// socket (two unix-socket round trips) and the PoP verification. Prints bound/unbound ratios.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>

#include "attestors/appraisal/node_attester.h"
#include "attestors/appraisal/node_verifier.h"
#include "attestors/keybinding/key_socket.h"
#include "plugin/keymanager/key_store.h"
#include "test/bench/ratio_reporter.h"

namespace twi {
namespace {

class Echo final : public appraisal::EvidenceCollector, public appraisal::EvidenceAppraiser {
 public:
  twi::v1::EvidenceKind kind() const override { return twi::v1::EVIDENCE_KIND_SEV_SNP; }
  absl::StatusOr<twi::v1::Evidence> Collect(ByteView report_data) override {
    twi::v1::Evidence e;
    e.set_kind(kind());
    e.mutable_sev_snp()->set_report(std::string(AsString(report_data)));
    return e;
  }
  absl::StatusOr<appraisal::EvidenceResult> Appraise(const twi::v1::Evidence& e, ByteView want,
                                                     CheckList*) const override {
    if (!ConstantTimeEqual(AsBytes(e.sev_snp().report()), want)) {
      return absl::InvalidArgumentError("report data mismatch");
    }
    return appraisal::EvidenceResult{};
  }
};

std::shared_ptr<const appraisal::NodeVerifier> Verifier() {
  appraisal::VerifierOptions o;
  o.trust_domain = "example.org";
  std::vector<std::unique_ptr<appraisal::EvidenceAppraiser>> a;
  a.push_back(std::make_unique<Echo>());
  return std::make_shared<const appraisal::NodeVerifier>(std::move(o), std::move(a));
}

void RoundTrips(benchmark::State& state,
                std::shared_ptr<const keybinding::PendingKeyService> keys) {
  std::vector<std::unique_ptr<appraisal::EvidenceCollector>> c;
  c.push_back(std::make_unique<Echo>());
  appraisal::NodeAttester attester(*GenerateP256Key(), std::move(c), std::move(keys));
  auto verifier = Verifier();
  for (auto _ : state) {
    appraisal::NodeSession s(verifier);
    auto payload = attester.Payload();
    auto challenge = s.HandlePayload(*payload);
    auto resp = attester.Respond(*challenge, *payload);
    auto attrs = s.HandleChallengeResponse(*resp);
    if (!attrs.ok()) state.SkipWithError("attestation failed");
    benchmark::DoNotOptimize(attrs);
  }
}

void BM_Unbound(benchmark::State& state) { RoundTrips(state, nullptr); }

void BM_BoundInProcess(benchmark::State& state) {
  auto store = std::make_shared<keymanager::KeyStore>();
  (void)store->GenerateKey("agent-svid-A", keymanager::pb::EC_P256);
  RoundTrips(state, store);
}

void BM_BoundOverSocket(benchmark::State& state) {
  auto store = std::make_shared<keymanager::KeyStore>();
  (void)store->GenerateKey("agent-svid-A", keymanager::pb::EC_P256);
  const std::string dir = "/tmp/twi-kb-bench-" + std::to_string(::getpid());
  auto server = keybinding::KeySocketServer::Start(dir + "/keys.sock", store);
  if (!server.ok()) {
    state.SkipWithError("socket failed");
    return;
  }
  RoundTrips(state, std::make_shared<keybinding::KeySocketClient>(dir + "/keys.sock"));
  server->reset();
  std::filesystem::remove_all(dir);
}

BENCHMARK(BM_Unbound);
BENCHMARK(BM_BoundInProcess);
BENCHMARK(BM_BoundOverSocket);

}  // namespace
}  // namespace twi

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  twi::bench::RatioReporter r;
  benchmark::RunSpecifiedBenchmarks(&r);
  const double base = r.cpu_ns("BM_Unbound");
  if (base > 0) {
    std::printf("ratio bound (in process) / unbound round trip: %.2f (cpu)\n",
                r.cpu_ns("BM_BoundInProcess") / base);
    std::printf("ratio bound (over the socket) / unbound round trip: %.2f (wall %.2f)\n",
                r.cpu_ns("BM_BoundOverSocket") / base, r.ns("BM_BoundOverSocket") / r.ns("BM_Unbound"));
  }
  benchmark::Shutdown();
  return 0;
}
