// Shared by the Azure tests: the vectors under test/testdata/azure (see PROVENANCE.md there)
// in the verifier's terms (vector ids A1-A9 follow the project's vector index, section 3).
#pragma once

#include <openssl/evp.h>

#include <string>

#include "attestors/azure/verify.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace twi::azure::testing {

inline Bytes ReadFile(const std::string& rel) {
  auto b = ReadFileBytes(std::string(TWI_TESTDATA) + "/azure/" + rel);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : Bytes();
}

inline TimePoint At(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : TimePoint{};
}

// A TPMT_SIGNATURE for a raw RSASSA-SHA256 signature (Azure's quote files carry only the bytes).
inline Bytes RsassaSha256(ByteView raw) {
  Bytes out = {0x00, 0x14, 0x00, 0x0B, static_cast<uint8_t>(raw.size() >> 8),
               static_cast<uint8_t>(raw.size() & 0xFF)};
  out.insert(out.end(), raw.begin(), raw.end());
  return out;
}

// One Azure SNP vector: owned bytes behind an Evidence.
struct Vector {
  Bytes hcl, vcek, quote, signature, nonce;
  std::vector<Certificate> chain;
  tpm::PcrBanks pcrs;
  TimePoint at{};

  Evidence evidence() const {
    Evidence e;
    e.hcl_report = hcl;
    e.vcek = vcek;
    e.chain = chain;
    e.quote = quote;
    e.signature = signature;
    e.pcrs = pcrs;
    return e;
  }
  VerifyOptions options() const {
    VerifyOptions o;
    o.snp.time = at;
    o.nonce = nonce;
    return o;
  }
};

inline std::vector<Certificate> Certs(const std::string& rel) {
  Bytes b = ReadFile(rel);
  auto c = ParseCertificates(b);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : std::vector<Certificate>{};
}

inline Bytes B64Url(const std::string& s) {
  auto b = Base64UrlDecode(s);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : Bytes();
}

inline Bytes Hex(const std::string& s) {
  auto b = HexDecode(s);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : Bytes();
}

// The quote triple of trustee's hex JSON ({"signature","message","pcrs"}).
inline void HexQuote(const nlohmann::json& q, Vector& v) {
  v.signature = RsassaSha256(Hex(q["signature"].get<std::string>()));
  v.quote = Hex(q["message"].get<std::string>());
  uint32_t i = 0;
  for (const auto& p : q["pcrs"]) v.pcrs[TPM2_ALG_SHA256][i++] = Hex(p.get<std::string>());
}

// A1 (v1 JSON) and A2 (v2 JSON): hex quote, base64url HCL report and DER VCEK.
inline Vector TrusteeV1V2(const std::string& file) {
  Bytes text = ReadFile("trustee/" + file);
  auto j = nlohmann::json::parse(text.begin(), text.end());
  Vector v;
  v.hcl = B64Url(j["hcl_report"].get<std::string>());
  v.vcek = B64Url(j["vcek"].get<std::string>());
  HexQuote(j["tpm_quote"], v);
  v.chain = Certs("trustee/milan_ask_ark_asvk.pem");
  v.at = At("2026-01-01T00:00:00Z");
  v.nonce = ToBytes("challenge");
  return v;
}

// A1 in its v0 shape: byte arrays and a PEM VCEK.
inline Vector TrusteeV0() {
  Bytes text = ReadFile("trustee/evidence-v0.json");
  auto j = nlohmann::json::parse(text.begin(), text.end());
  Vector v;
  v.hcl = j["report"].get<Bytes>();
  v.vcek = ToBytes(j["vcek"].get<std::string>());
  v.signature = RsassaSha256(j["quote"]["signature"].get<Bytes>());
  v.quote = j["quote"]["message"].get<Bytes>();
  uint32_t i = 0;
  for (const auto& p : j["quote"]["pcrs"]) v.pcrs[TPM2_ALG_SHA256][i++] = p.get<Bytes>();
  v.chain = Certs("trustee/milan_ask_ark_asvk.pem");
  v.at = At("2026-01-01T00:00:00Z");
  v.nonce = ToBytes("challenge");
  return v;
}

// quote.bin (bincode): u64-LE length + raw signature, u64-LE length + TPMS_ATTEST, u64-LE
// count + count x 32-byte SHA-256 PCRs.
inline void BincodeQuote(const Bytes& b, Vector& v) {
  ByteCursor c(b);
  auto sig = c.Take(*c.U64Le("sig len"), "sig");
  auto att = c.Take(*c.U64Le("attest len"), "attest");
  ASSERT_TRUE(sig.ok() && att.ok());
  uint64_t n = *c.U64Le("pcr count");
  v.signature = RsassaSha256(*sig);
  v.quote.assign(att->begin(), att->end());
  for (uint32_t i = 0; i < n; ++i) {
    auto p = c.Take(32, "pcr");
    ASSERT_TRUE(p.ok());
    v.pcrs[TPM2_ALG_SHA256][i].assign(p->begin(), p->end());
  }
  EXPECT_EQ(c.remaining(), 0u);
}

// A3: standalone HCL report + vcek.pem (VCEK, ASK, ARK); quote from quote.bin (bincode) or
// tpm-quote-v1.json (hex).
inline Vector A3(bool bincode) {
  Vector v;
  v.hcl = ReadFile("trustee/hcl-report.bin");
  auto certs = Certs("trustee/vcek.pem");
  EXPECT_GE(certs.size(), 1u);
  if (!certs.empty()) {
    v.vcek = certs[0].der();
    v.chain.assign(certs.begin() + 1, certs.end());
  }
  if (bincode) {
    BincodeQuote(ReadFile("trustee/quote.bin"), v);
  } else {
    Bytes text = ReadFile("trustee/tpm-quote-v1.json");
    HexQuote(nlohmann::json::parse(text.begin(), text.end()), v);
  }
  v.at = At("2024-01-01T00:00:00Z");
  v.nonce = ToBytes("challenge");
  return v;
}

}  // namespace twi::azure::testing
