// Shared by the TPM tests: the vectors under test/testdata/tpm (see PROVENANCE.md there) in the
// shapes the verifier takes (AK, TPMS_ATTEST bytes, TPMT_SIGNATURE bytes, PCR banks, nonce).
#pragma once

#include <openssl/evp.h>

#include <string>

#include "attestors/core/bytes.h"
#include "attestors/core/file.h"
#include "attestors/tpm/verify.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace twi::tpm::testing {

inline std::string Msg(const absl::Status& s) { return std::string(s.message()); }

inline Bytes ReadFile(const std::string& rel) {
  auto b = ReadFileBytes(std::string(TWI_TESTDATA) + "/tpm/" + rel);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : Bytes();
}

// Standard base64 with padding (what the JSON vectors use).
inline Bytes Base64(const std::string& s) {
  Bytes out(3 * s.size() / 4 + 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  EXPECT_GE(n, 0) << "bad base64";
  if (n < 0) return {};
  size_t pad = 0;
  for (size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// One quote vector in the verifier's terms.
struct QuoteVector {
  Bytes ak;         // TPMT_PUBLIC, PEM or DER SPKI (AkKey::Parse)
  Bytes attest;     // TPMS_ATTEST
  Bytes signature;  // TPMT_SIGNATURE
  PcrBanks pcrs;
  Bytes nonce;
};

// P1: GCE Windows Shielded VM (AK TPMT_PUBLIC, SHA-1 bank quote, empty nonce).
inline QuoteVector P1() {
  Bytes text = ReadFile("go-attestation/windows_gcp_shielded_vm.json");
  auto j = nlohmann::json::parse(text.begin(), text.end());
  QuoteVector v;
  v.ak = Base64(j["AK"]["Public"].get<std::string>());
  v.attest = Base64(j["Quote"]["Quote"].get<std::string>());
  v.signature = Base64(j["Quote"]["Signature"].get<std::string>());
  for (const auto& p : j["Log"]["PCRs"]) {
    // DigestAlg is Go's crypto.Hash: 3 = SHA-1, 5 = SHA-256.
    uint16_t bank = p["DigestAlg"].get<int>() == 3 ? TPM2_ALG_SHA1 : TPM2_ALG_SHA256;
    v.pcrs[bank][p["Index"].get<uint32_t>()] = Base64(p["Digest"].get<std::string>());
  }
  return v;
}

// P1's raw legacy SHA-1 event log.
inline Bytes P1EventLog() {
  Bytes text = ReadFile("go-attestation/windows_gcp_shielded_vm.json");
  auto j = nlohmann::json::parse(text.begin(), text.end());
  return Base64(j["Log"]["Raw"].get<std::string>());
}

// P2: trustee's software-TPM quote (AK SPKI, 64-byte nonce, 24 SHA-256 PCRs).
inline QuoteVector P2() {
  Bytes text = ReadFile("trustee/tpm_evidence.json");
  auto j = nlohmann::json::parse(text.begin(), text.end());
  QuoteVector v;
  v.ak = Base64(j["ak_public"].get<std::string>());
  v.attest = Base64(j["tpm_quote"]["message"].get<std::string>());
  v.signature = Base64(j["tpm_quote"]["signature"].get<std::string>());
  uint32_t i = 0;
  for (const auto& p : j["tpm_quote"]["pcrs"]) v.pcrs[TPM2_ALG_SHA256][i++] = *HexDecode(p.get<std::string>());
  auto a = ParseAttest(v.attest);
  EXPECT_TRUE(a.ok());
  if (a.ok()) v.nonce.assign(a->attest.extraData.buffer, a->attest.extraData.buffer + a->attest.extraData.size);
  return v;
}

// A TPMT_SIGNATURE for a raw RSASSA-SHA256 signature (Azure's quote files carry only the bytes).
inline Bytes RsassaSha256(ByteView raw) {
  Bytes out = {0x00, 0x14, 0x00, 0x0B, static_cast<uint8_t>(raw.size() >> 8),
               static_cast<uint8_t>(raw.size() & 0xFF)};
  out.insert(out.end(), raw.begin(), raw.end());
  return out;
}

// Azure vTPM quote.bin (bincode): u64-LE length + raw signature, u64-LE length + TPMS_ATTEST,
// u64-LE count + count x 32-byte SHA-256 PCRs (0..count-1). Nonce "challenge".
inline QuoteVector AzureBincode(const std::string& quote_rel, const std::string& ak_rel) {
  Bytes b = ReadFile(quote_rel);
  ByteCursor c(b);
  QuoteVector v;
  v.ak = ReadFile(ak_rel);
  auto sig = c.Take(*c.U64Le("sig len"), "sig");
  auto att = c.Take(*c.U64Le("attest len"), "attest");
  uint64_t n = *c.U64Le("pcr count");
  EXPECT_TRUE(sig.ok() && att.ok());
  v.signature = RsassaSha256(*sig);
  v.attest.assign(att->begin(), att->end());
  for (uint32_t i = 0; i < n; ++i) {
    auto p = c.Take(32, "pcr");
    EXPECT_TRUE(p.ok());
    if (p.ok()) v.pcrs[TPM2_ALG_SHA256][i].assign(p->begin(), p->end());
  }
  EXPECT_EQ(c.remaining(), 0u);
  v.nonce = ToBytes("challenge");
  return v;
}

inline absl::Status Verify(const QuoteVector& v, VerifiedQuote* out, CheckList* checks = nullptr,
                           bool allow_spki = true) {
  auto ak = AkKey::Parse(v.ak);
  if (!ak.ok()) return ak.status();
  VerifyOptions o;
  o.nonce = v.nonce;
  o.allow_empty_nonce = v.nonce.empty();  // P1 was quoted without qualifying data
  o.allow_ak_without_attributes = allow_spki;
  CheckList local;
  return VerifyQuote(*ak, v.attest, v.signature, v.pcrs, o, checks ? *checks : local, out);
}

}  // namespace twi::tpm::testing
