// Azure SEV-SNP verification cost (A1, a real Azure Milan CVM: HCL report, VCEK chain, vTPM
// quote with 24 SHA-256 PCRs), warm (the VCEK chain in the verification cache, as a server holds
// it), against its floor: one bare OpenSSL ECDSA P-384 verification (the SNP report) plus one
// RSA-2048 PKCS#1 v1.5 verification (the quote), both over the same bytes, keys prepared.
// BM_ParseHclAndRuntimeClaims and BM_SevSnpVerifyWarm show where the rest goes. main() prints
// the verify/raw throughput ratio (target >= 0.7).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdio>

#include "attestors/azure/verify.h"
#include "attestors/core/file.h"
#include "attestors/sevsnp/abi.h"
#include "nlohmann/json.hpp"
#include "test/bench/ratio_reporter.h"

namespace twi::azure {
namespace {

Bytes Read(const std::string& name) {
  return *ReadFileBytes(std::string(TWI_TESTDATA) + "/azure/derived/a1/" + name);
}

struct Fixture {
  Bytes hcl, quote, signature, vcek, snp_sig_der, quote_raw_sig;
  std::vector<Certificate> chain;
  Certificate vcek_cert;
  tpm::PcrBanks pcrs;
  VerifyOptions options;
  std::shared_ptr<EVP_PKEY> ak;
  sevsnp::AttestationReport report;
  sevsnp::VerificationCache cache;

  Fixture()
      : hcl(Read("hcl-report.bin")),
        quote(Read("quote.bin")),
        signature(Read("signature.bin")),
        vcek_cert((*ParseCertificates(Read("vcek.pem")))[0]) {
    auto certs = *ParseCertificates(Read("vcek.pem"));
    vcek = certs[0].der();
    chain.assign(certs.begin() + 1, certs.end());
    Bytes text = Read("pcrs.json");
    auto j = nlohmann::json::parse(text.begin(), text.end());
    for (const auto& [i, hex] : j["sha256"].items()) {
      pcrs[TPM2_ALG_SHA256][static_cast<uint32_t>(std::stoul(i))] = *HexDecode(hex.get<std::string>());
    }
    options.snp.time = *ParseRfc3339("2026-01-01T00:00:00Z");
    options.nonce = ToBytes("challenge");
    HclReport parsed = *ParseHclReport(hcl);
    report = *sevsnp::ParseReport(parsed.hw_report);
    snp_sig_der = *sevsnp::SignatureDer(report);
    ak = ParseRuntimeClaims(parsed.runtime_claims)->FindKey("HCLAkPub")->key;
    quote_raw_sig.assign(signature.begin() + 6, signature.end());
  }
};

Fixture& F() {
  static Fixture* f = new Fixture;
  return *f;
}

bool RawVerify(EVP_PKEY* key, const EVP_MD* md, ByteView sig, ByteView msg) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size()) == 1;
}

// The floor: the two signature verifications any verifier of this evidence must do.
void BM_RawP384PlusRsa2048Verify(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    bool ok = RawVerify(f.vcek_cert.public_key(), EVP_sha384(), f.snp_sig_der,
                        f.report.signed_bytes()) &&
              RawVerify(f.ak.get(), EVP_sha256(), f.quote_raw_sig, f.quote);
    if (!ok) state.SkipWithError("raw verify failed");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_RawP384PlusRsa2048Verify);

// HCL bytes, VCEK, quote, signature and PCRs in; every check out (HCL parse, runtime-claims
// JSON and JWK -> key, binding, SNP report with the cached chain, VMPL, quote and PCR digest).
void BM_VerifyAzureSnpWarm(benchmark::State& state) {
  Fixture& f = F();
  Evidence e;
  e.hcl_report = f.hcl;
  e.vcek = f.vcek;
  e.chain = f.chain;
  e.quote = f.quote;
  e.signature = f.signature;
  e.pcrs = f.pcrs;
  {
    CheckList warm;
    VerifiedAzureSnp out;
    (void)VerifyAzureSnp(e, f.options, warm, &out, &f.cache);  // fills the cache
  }
  for (auto _ : state) {
    CheckList checks;
    VerifiedAzureSnp out;
    absl::Status s = VerifyAzureSnp(e, f.options, checks, &out, &f.cache);
    if (!s.ok() || !out.quote.pcr_digest_ok) state.SkipWithError("verification failed");
    if (!out.snp.cache_hit) state.SkipWithError("cache miss");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_VerifyAzureSnpWarm);

// The parts, to see where time beyond the two signatures goes.
void BM_ParseHclAndRuntimeClaims(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    auto hcl = ParseHclReport(f.hcl);
    auto claims = ParseRuntimeClaims(hcl->runtime_claims);
    if (!claims.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(claims);
  }
}
BENCHMARK(BM_ParseHclAndRuntimeClaims);

void BM_SevSnpVerifyWarm(benchmark::State& state) {
  Fixture& f = F();
  Bytes hw = ParseHclReport(f.hcl)->hw_report;
  for (auto _ : state) {
    CheckList checks;
    auto v = sevsnp::VerifyReportBytes(hw, f.vcek, f.chain, f.options.snp, checks, &f.cache);
    if (!v.ok()) state.SkipWithError("snp verify failed");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_SevSnpVerifyWarm);

}  // namespace
}  // namespace twi::azure

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  twi::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double raw = reporter.ns("BM_RawP384PlusRsa2048Verify");
  double verify = reporter.ns("BM_VerifyAzureSnpWarm");
  if (raw > 0 && verify > 0) {
    std::printf("azure snp verify/raw throughput ratio: %.3f wall, %.3f cpu (target >= 0.7)\n",
                raw / verify,
                reporter.cpu_ns("BM_RawP384PlusRsa2048Verify") / reporter.cpu_ns("BM_VerifyAzureSnpWarm"));
  }
  benchmark::Shutdown();
  return 0;
}
