// Agent-side TPM cost on swtpm (started here, port 24250): TpmCollector::Quote (PCR reads in
// batches, the AK from a persistent handle or a saved context, the PCR-digest self-check)
// against the bare Esys_Quote with the same AK kept loaded, measured in the same run; plus
// credential activation. main() prints the raw/collector throughput ratios.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "attestors/tpm/collect.h"
#include "attestors/tpm/esys.h"
#include "test/bench/ratio_reporter.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::tpm {
namespace {

constexpr uint32_t kAkHandle = 0x81000100;
const std::vector<PcrBankSelection> kPcrs = {{TPM2_ALG_SHA256, {0, 1, 2, 3, 4, 5, 6, 7}}};

twi::testing::Swtpm* g_swtpm = nullptr;

std::unique_ptr<TpmCollector> Open(uint32_t ak_handle) {
  auto c = TpmCollector::Open({.tcti = g_swtpm->tcti(), .ak_handle = ak_handle});
  if (!c.ok() || !(*c)->Ak().ok()) return nullptr;
  return std::move(*c);
}

// The baseline: Esys_Quote over the same selection with the persistent AK, nothing else.
void BM_RawEsysQuote(benchmark::State& state) {
  if (Open(kAkHandle) == nullptr) return state.SkipWithError("no AK");
  auto conn = EsysConnection::Open(g_swtpm->tcti());
  if (!conn.ok()) return state.SkipWithError("no TPM");
  auto ak = (*conn)->FromTpmPublic(kAkHandle);
  if (!ak.ok()) return state.SkipWithError("no AK handle");
  TPM2B_DATA nonce{};
  nonce.size = 32;
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[0] = 0xFF;
  for (auto _ : state) {
    TPM2B_ATTEST* quoted = nullptr;
    TPMT_SIGNATURE* sig = nullptr;
    TSS2_RC rc = Esys_Quote((*conn)->ctx(), ak->get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &nonce, &scheme, &sel, &quoted, &sig);
    Esys_Free(quoted);
    Esys_Free(sig);
    if (rc != TSS2_RC_SUCCESS) return state.SkipWithError("Esys_Quote failed");
  }
}
BENCHMARK(BM_RawEsysQuote)->Unit(benchmark::kMillisecond);

void CollectorQuote(benchmark::State& state, uint32_t ak_handle) {
  std::unique_ptr<TpmCollector> tpm = Open(ak_handle);
  if (tpm == nullptr) return state.SkipWithError("no TPM");
  const Bytes nonce(32, 0);
  for (auto _ : state) {
    if (!tpm->Quote(kPcrs, nonce).ok()) return state.SkipWithError("Quote failed");
  }
}
void BM_CollectorQuotePersistentAk(benchmark::State& state) { CollectorQuote(state, kAkHandle); }
void BM_CollectorQuoteTransientAk(benchmark::State& state) { CollectorQuote(state, 0); }
BENCHMARK(BM_CollectorQuotePersistentAk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CollectorQuoteTransientAk)->Unit(benchmark::kMillisecond);

void BM_ActivateCredentialTransientAk(benchmark::State& state) {
  std::unique_ptr<TpmCollector> tpm = Open(0);
  if (tpm == nullptr) return state.SkipWithError("no TPM");
  auto ek = tpm->Ek();
  auto ak = tpm->Ak();
  auto cred = tpm->MakeCredential(ek->public_area, ak->name, Bytes(32, 7));
  if (!cred.ok()) return state.SkipWithError("MakeCredential failed");
  for (auto _ : state) {
    if (!tpm->ActivateCredential(cred->credential_blob, cred->encrypted_secret).ok()) {
      return state.SkipWithError("ActivateCredential failed");
    }
  }
}
BENCHMARK(BM_ActivateCredentialTransientAk)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace twi::tpm

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!twi::testing::Swtpm::Installed()) {
    std::printf("swtpm not installed: nothing to measure\n");
    return 0;
  }
  twi::testing::Swtpm swtpm;
  std::string error = swtpm.Start(24250, {});
  if (!error.empty()) {
    std::fprintf(stderr, "swtpm: %s\n", error.c_str());
    return 1;
  }
  twi::tpm::g_swtpm = &swtpm;
  twi::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  // Times are in each benchmark's unit (ms here).
  const double raw = reporter.ns("BM_RawEsysQuote");
  for (const char* name : {"BM_CollectorQuotePersistentAk", "BM_CollectorQuoteTransientAk"}) {
    const double ms = reporter.ns(name);
    if (raw > 0 && ms > 0) {
      std::printf("%s: %.2f ms, throughput ratio vs raw Esys_Quote (%.2f ms) = %.2f\n", name, ms,
                  raw, raw / ms);
    }
  }
  benchmark::Shutdown();
  return 0;
}
