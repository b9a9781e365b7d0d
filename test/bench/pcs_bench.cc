// What the PCS/PCCS collateral source adds to a TDX attestation (T1's collateral, served from
// memory so the network is out of the measurement): a warm Get (every item cached, the bundle
// built before) and a cold one (four responses parsed: JSON envelopes, URL-encoded chains, CRLs,
// assembly and sealing), each against a warm VerifyQuoteBytes of T1 measured in the same run.
// main() prints both as ratios of the warm verification.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "attestors/collateral/pcs.h"
#include "attestors/tdx/verify.h"
#include "nlohmann/json.hpp"
#include "test/bench/ratio_reporter.h"

namespace twi::collateral {
namespace {

std::string ReadFile(const std::string& rel) {
  std::ifstream f(std::string(TWI_TESTDATA) + "/tdx/" + rel, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// T1's bundle split into PCS responses, answered from memory.
class MemoryPcs : public HttpGetter {
 public:
  MemoryPcs() {
    auto b = nlohmann::json::parse(ReadFile("phala-dcap-qvl/tdx_quote_collateral.json"));
    auto s = [&](const char* k) { return b[k].get<std::string>(); };
    auto der = [&](const char* k) { return std::string(AsString(*HexDecode(s(k)))); };
    Bytes fmspc = *HexDecode("b0c06f000000");
    routes_[PcsTcbInfoUrl(kBase, DcapTee::kTdx, fmspc)] = HttpResponse{
        200, "{\"tcbInfo\":" + s("tcb_info") + ",\"signature\":\"" + s("tcb_info_signature") + "\"}",
        {{"tcb-info-issuer-chain", UrlEncode(s("tcb_info_issuer_chain"))}}};
    routes_[PcsQeIdentityUrl(kBase, DcapTee::kTdx)] = HttpResponse{
        200, "{\"enclaveIdentity\":" + s("qe_identity") + ",\"signature\":\"" + s("qe_identity_signature") + "\"}",
        {{"sgx-enclave-identity-issuer-chain", UrlEncode(s("qe_identity_issuer_chain"))}}};
    routes_[PcsPckCrlUrl(kBase, PckCa::kPlatform)] =
        HttpResponse{200, der("pck_crl"), {{"sgx-pck-crl-issuer-chain", UrlEncode(s("pck_crl_issuer_chain"))}}};
    routes_[PcsRootCaCrlUrl(kBase)] = HttpResponse{200, der("root_ca_crl"), {}};
  }
  absl::StatusOr<HttpResponse> Get(const std::string& url) override { return routes_.at(url); }
  static constexpr char kBase[] = "http://pccs.invalid";

 private:
  std::map<std::string, HttpResponse> routes_;
};

struct Fixture {
  MemoryPcs http;
  FixedClock clock{*ParseRfc3339("2025-07-01T00:00:00Z")};
  Bytes fmspc = *HexDecode("b0c06f000000");
  Bytes quote = ToBytes(ReadFile("phala-dcap-qvl/tdx_quote"));
  std::unique_ptr<PcsClient> Client() {
    PcsOptions o;
    o.base_url = MemoryPcs::kBase;
    return *PcsClient::Create(o, &http, &clock);
  }
};

Fixture& F() {
  static Fixture* f = new Fixture;
  return *f;
}

void BM_WarmVerifyQuoteBytes(benchmark::State& state) {
  auto c = *F().Client()->Get(DcapTee::kTdx, F().fmspc, PckCa::kPlatform);
  tdx::VerificationCache cache;
  tdx::VerifyOptions o;
  o.time = F().clock.Now();
  for (auto _ : state) {
    CheckList checks;
    tdx::VerifiedQuote out;
    if (!tdx::VerifyQuoteBytes(F().quote, *c, o, checks, &out, &cache).ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_WarmVerifyQuoteBytes);

void BM_WarmGet(benchmark::State& state) {
  auto client = F().Client();
  for (auto _ : state) {
    auto c = client->Get(DcapTee::kTdx, F().fmspc, PckCa::kPlatform);
    if (!c.ok()) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_WarmGet);

void BM_ColdGet(benchmark::State& state) {
  for (auto _ : state) {
    auto c = F().Client()->Get(DcapTee::kTdx, F().fmspc, PckCa::kPlatform);
    if (!c.ok()) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_ColdGet);

}  // namespace
}  // namespace twi::collateral

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  twi::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double verify = reporter.ns("BM_WarmVerifyQuoteBytes");
  double warm = reporter.ns("BM_WarmGet"), cold = reporter.ns("BM_ColdGet");
  if (verify > 0 && warm > 0 && cold > 0) {
    std::printf("collateral source per attestation: warm get %.3fx, cold get %.2fx a warm verification\n",
                warm / verify, cold / verify);
  }
  return 0;
}
