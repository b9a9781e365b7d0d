// Google Cloud vTPM verification cost (simulated GCE evidence: an AK certificate under the
// simulated RSA-2048 root + intermediate, a software RSA-2048 AK's quote over 8 SHA-256 PCRs)
// against its floor: two bare OpenSSL RSA-2048 PKCS#1 v1.5 SHA-256 verifications (the AK
// certificate's signature and the quote's), keys prepared. Warm: the AK certificate in the
// AkCertCache, as a server holds it for an agent that attests again; cold: parse, path building
// and the chain's signatures every time. main() prints both verify/raw throughput ratios.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <cstdio>

#include "attestors/gcp/verify.h"
#include "test/bench/ratio_reporter.h"
#include "test/gcp/soft_ak.h"

namespace twi::gcp {
namespace {

const Bytes kNonce = ToBytes("bench-challenge");

struct Fixture {
  testing::SoftAk ak = testing::SoftAk::Create();
  Bytes cert;
  testing::SoftQuote quote;
  VerifyOptions options;
  Bytes quote_raw_sig, cert_tbs, cert_sig;
  EVP_PKEY* issuer_key = nullptr;
  AkCertCache cache;

  Fixture() {
    auto ca = testing::Ca();
    cert = *ca->IssueAkCert(ak.spki);
    quote = testing::MakeQuote(ak.key.get(), kNonce);
    options.time = std::chrono::system_clock::now();
    options.cas = testing::CaSetOf(*ca);
    options.allow_simulated_ca = true;
    options.nonce = kNonce;
    quote_raw_sig.assign(quote.signature.begin() + 6, quote.signature.end());
    // The certificate's TBS bytes and signature, for the raw baseline.
    auto parsed = Certificate::Parse(cert);
    unsigned char* tbs = nullptr;
    int n = i2d_re_X509_tbs(parsed->get(), &tbs);
    cert_tbs.assign(tbs, tbs + n);
    OPENSSL_free(tbs);
    const ASN1_BIT_STRING* sig = nullptr;
    X509_get0_signature(&sig, nullptr, parsed->get());
    cert_sig.assign(sig->data, sig->data + sig->length);
    issuer_key = X509_get0_pubkey(ca->intermediate());
  }
  Evidence evidence() const {
    Evidence e;
    e.ak_cert = cert;
    e.quote = quote.attest;
    e.signature = quote.signature;
    e.pcrs = quote.pcrs;
    return e;
  }
};

Fixture& F() {
  static Fixture* f = new Fixture;
  return *f;
}

bool RawVerify(EVP_PKEY* key, ByteView sig, ByteView msg) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size()) == 1;
}

// The floor: the AK certificate's signature and the quote's.
void BM_RawRsa2048VerifyTwice(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    bool ok = RawVerify(f.issuer_key, f.cert_sig, f.cert_tbs) &&
              RawVerify(f.ak.key.get(), f.quote_raw_sig, f.quote.attest);
    if (!ok) state.SkipWithError("raw verify failed");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_RawRsa2048VerifyTwice);

void BM_VerifyGcpWarm(benchmark::State& state) {
  Fixture& f = F();
  Evidence e = f.evidence();
  for (auto _ : state) {
    CheckList checks;
    VerifiedGcp out;
    absl::Status s = VerifyGcp(e, f.options, checks, &out, {.ak_cert = &f.cache});
    if (!s.ok() || !out.quote.pcr_digest_ok) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_VerifyGcpWarm);

void BM_VerifyGcpCold(benchmark::State& state) {
  Fixture& f = F();
  Evidence e = f.evidence();
  for (auto _ : state) {
    CheckList checks;
    VerifiedGcp out;
    absl::Status s = VerifyGcp(e, f.options, checks, &out);
    if (!s.ok()) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_VerifyGcpCold);

}  // namespace
}  // namespace twi::gcp

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  twi::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double raw = reporter.cpu_ns("BM_RawRsa2048VerifyTwice");
  double warm = reporter.cpu_ns("BM_VerifyGcpWarm");
  double cold = reporter.cpu_ns("BM_VerifyGcpCold");
  if (raw > 0 && warm > 0 && cold > 0) {
    std::printf("gcp verify/raw (2x rsa-2048) throughput ratio: warm %.3f, cold %.3f (cpu)\n",
                raw / warm, raw / cold);
  }
  benchmark::Shutdown();
  return 0;
}
