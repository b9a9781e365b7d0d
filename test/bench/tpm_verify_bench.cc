// TPM quote verification cost (A7, a real Azure vTPM quote: RSA-2048 RSASSA-SHA256, 24 SHA-256
// PCRs) against one bare OpenSSL RSA-2048 verification of the same signature over the same
// bytes, software MakeCredential (RSA-2048 and ECC P-256 EKs) and a 100-event log replay.
// main() prints the verify/raw throughput ratio (target >= 0.7) and the other costs.
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cstdio>

#include "attestors/core/file.h"
#include "attestors/eventlog/tcg.h"
#include "attestors/tpm/credential.h"
#include "attestors/tpm/verify.h"
#include "test/bench/ratio_reporter.h"
#include "test/tpm/event_log_builder.h"

namespace twi::tpm {
namespace {

Bytes Read(const std::string& rel) {
  return *ReadFileBytes(std::string(TWI_TESTDATA) + "/tpm/" + rel);
}

// A7's bincode quote.bin: u64-LE length + signature, u64-LE length + TPMS_ATTEST, u64-LE count
// + 32-byte SHA-256 PCRs.
struct Fixture {
  AkKey ak;
  Bytes raw_sig, attest, signature;
  PcrBanks pcrs;
  VerifyOptions options;
  Fixture() : ak(*AkKey::Parse(Read("kinvolk-azure-cvm-tooling/akpub.pem"))) {
    Bytes b = Read("kinvolk-azure-cvm-tooling/quote.bin");
    ByteCursor c(b);
    ByteView sig = *c.Take(*c.U64Le("len"), "sig");
    ByteView att = *c.Take(*c.U64Le("len"), "attest");
    uint64_t n = *c.U64Le("count");
    for (uint32_t i = 0; i < n; ++i) {
      ByteView p = *c.Take(32, "pcr");
      pcrs[TPM2_ALG_SHA256][i].assign(p.begin(), p.end());
    }
    raw_sig.assign(sig.begin(), sig.end());
    attest.assign(att.begin(), att.end());
    signature = {0x00, 0x14, 0x00, 0x0B, static_cast<uint8_t>(sig.size() >> 8),
                 static_cast<uint8_t>(sig.size())};
    signature.insert(signature.end(), sig.begin(), sig.end());
    options.nonce = ToBytes("challenge");
    options.allow_ak_without_attributes = true;
  }
};

const Fixture& F() {
  static const Fixture* f = new Fixture;
  return *f;
}

// The baseline: one RSA-2048 PKCS#1 v1.5 SHA-256 verification, key and signature prepared.
void BM_RawOpenSslRsa2048Verify(benchmark::State& state) {
  for (auto _ : state) {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, F().ak.key.get()) == 1 &&
              EVP_DigestVerify(ctx.get(), F().raw_sig.data(), F().raw_sig.size(),
                               F().attest.data(), F().attest.size()) == 1;
    if (!ok) state.SkipWithError("raw verify failed");
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_RawOpenSslRsa2048Verify);

// Quote bytes, signature bytes and PCR values in; every check (parse, magic, type, nonce,
// signature, PCR digest over 24 values) out. The AK is parsed once, as a server holds it.
void BM_VerifyQuote(benchmark::State& state) {
  for (auto _ : state) {
    CheckList checks;
    VerifiedQuote out;
    absl::Status s = VerifyQuote(F().ak, F().attest, F().signature, F().pcrs, F().options, checks,
                                 &out);
    if (!s.ok() || !out.pcr_digest_ok) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_VerifyQuote);

Public RsaEk() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  TPMT_PUBLIC a{};
  a.type = TPM2_ALG_RSA;
  a.nameAlg = TPM2_ALG_SHA256;
  a.objectAttributes = 0x000300B2;
  a.parameters.rsaDetail.symmetric = {TPM2_ALG_AES, {.aes = 128}, {.aes = TPM2_ALG_CFB}};
  a.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  a.parameters.rsaDetail.keyBits = 2048;
  BIGNUM* n = nullptr;
  EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n);
  a.unique.rsa.size = 256;
  BN_bn2binpad(n, a.unique.rsa.buffer, 256);
  BN_free(n);
  return *PublicFromArea(a);
}

Public EccEk() {
  EvpPkeyPtr key = *GenerateP256Key();
  TPMT_PUBLIC a{};
  a.type = TPM2_ALG_ECC;
  a.nameAlg = TPM2_ALG_SHA256;
  a.objectAttributes = 0x000300B2;
  a.parameters.eccDetail.symmetric = {TPM2_ALG_AES, {.aes = 128}, {.aes = TPM2_ALG_CFB}};
  a.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  a.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  a.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  for (auto [name, coord] : {std::pair{OSSL_PKEY_PARAM_EC_PUB_X, &a.unique.ecc.x},
                             std::pair{OSSL_PKEY_PARAM_EC_PUB_Y, &a.unique.ecc.y}}) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key.get(), name, &bn);
    coord->size = 32;
    BN_bn2binpad(bn, coord->buffer, 32);
    BN_free(bn);
  }
  return *PublicFromArea(a);
}

void MakeCredentialBench(benchmark::State& state, const Public& ek) {
  Bytes name(34, 0x11);
  name[0] = 0x00;
  name[1] = 0x0B;
  Bytes secret(32, 0x42);
  for (auto _ : state) {
    auto c = MakeCredential(ek, name, secret);
    if (!c.ok()) state.SkipWithError("makecredential failed");
    benchmark::DoNotOptimize(c);
  }
}
void BM_MakeCredentialRsa2048(benchmark::State& state) {
  static const Public ek = RsaEk();
  MakeCredentialBench(state, ek);
}
BENCHMARK(BM_MakeCredentialRsa2048);
void BM_MakeCredentialEccP256(benchmark::State& state) {
  static const Public ek = EccEk();
  MakeCredentialBench(state, ek);
}
BENCHMARK(BM_MakeCredentialEccP256);

// Parse, replay and compare a 100-event log (over PCRs 0-7) against quoted PCRs it matches,
// plus facts.
void BM_VerifyEventLog100(benchmark::State& state) {
  testing::EventLogBuilder b;
  for (int i = 0; i < 100; ++i) b.Event(i % 8, 0x0000000D, Bytes(64, static_cast<uint8_t>(i)));  // EV_IPL
  const Bytes& log = b.log;
  VerifiedQuote q;
  q.pcr_digest_ok = true;
  auto replay = eventlog::Replay(*eventlog::Parse(log), eventlog::kAlgSha256);
  for (const auto& [index, value] : *replay) q.pcrs[TPM2_ALG_SHA256][index] = value;
  for (auto _ : state) {
    CheckList checks;
    EventLogFacts facts;
    absl::Status s = VerifyEventLog(q, log, checks, &facts);
    if (!s.ok() || facts.matched_pcrs.size() != 8) state.SkipWithError("replay failed");
    benchmark::DoNotOptimize(facts);
  }
}
BENCHMARK(BM_VerifyEventLog100);

}  // namespace
}  // namespace twi::tpm

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  twi::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  double raw = reporter.ns("BM_RawOpenSslRsa2048Verify");
  double verify = reporter.ns("BM_VerifyQuote");
  if (raw > 0 && verify > 0) {
    std::printf("quote verify/raw throughput ratio: %.3f wall, %.3f cpu (target >= 0.7)\n",
                raw / verify,
                reporter.cpu_ns("BM_RawOpenSslRsa2048Verify") / reporter.cpu_ns("BM_VerifyQuote"));
  }
  double rsa = reporter.ns("BM_MakeCredentialRsa2048");
  double ecc = reporter.ns("BM_MakeCredentialEccP256");
  if (rsa > 0 || ecc > 0) {
    std::printf("makecredential: rsa-2048 ek %.1f us, ecc p-256 ek %.1f us\n", rsa / 1e3, ecc / 1e3);
  }
  double log = reporter.ns("BM_VerifyEventLog100");
  if (log > 0) std::printf("event log: 100-event parse + replay + compare %.1f us\n", log / 1e3);
  benchmark::Shutdown();
  return 0;
}
