// Shared by the TDX tests: the vectors under test/testdata/tdx, their collateral and a pinned
// clock.
#pragma once

#include <optional>
#include <string>

#include "attestors/collateral/dcap_bundle.h"
#include "attestors/collateral/dcap_json.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "gtest/gtest.h"

namespace twi::tdx {

// Status messages as std::string, for gmock string matchers.
inline std::string Msg(const absl::Status& s) { return std::string(s.message()); }

inline TimePoint At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

// A file under test/testdata/tdx/ (empty, with a test failure, when missing).
inline Bytes ReadFile(const std::string& rel) {
  auto b = ReadFileBytes(std::string(TWI_TESTDATA) + "/tdx/" + rel);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : Bytes();
}
inline std::string ReadText(const std::string& rel) {
  Bytes b = ReadFile(rel);
  return std::string(b.begin(), b.end());
}

// A nine-key bundle file.
inline collateral::DcapCollateral Bundle(const std::string& rel) {
  auto c = collateral::ParseDcapBundle(ReadText(rel));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : collateral::DcapCollateral();
}

// Collateral assembled from PCS-style responses ({"tcbInfo": {...}, "signature": ...}),
// issuer chains and DER CRLs ("" = none).
inline collateral::DcapCollateral FromPcs(const std::string& tcb_response,
                                          const std::string& qe_response,
                                          const std::string& signing_chain,
                                          const std::string& pck_crl, const std::string& root_crl,
                                          const std::string& pck_crl_chain = "") {
  collateral::DcapCollateral c;
  auto tcb = collateral::ExtractSignedJson(ReadText(tcb_response), "tcbInfo");
  auto qe = collateral::ExtractSignedJson(ReadText(qe_response), "enclaveIdentity");
  EXPECT_TRUE(tcb.ok() && qe.ok());
  c.tcb_info = tcb->body;
  c.tcb_info_signature = *HexDecode(tcb->signature);
  c.qe_identity = qe->body;
  c.qe_identity_signature = *HexDecode(qe->signature);
  c.tcb_info_issuer_chain = *ParsePemBundle(ReadText(signing_chain));
  c.qe_identity_issuer_chain = c.tcb_info_issuer_chain;
  if (!pck_crl.empty()) c.pck_crl = *Crl::Parse(ReadFile(pck_crl));
  if (!root_crl.empty()) c.root_ca_crl = *Crl::Parse(ReadFile(root_crl));
  if (!pck_crl_chain.empty()) c.pck_crl_issuer_chain = *ParsePemBundle(ReadText(pck_crl_chain));
  collateral::SealDcapCollateral(c);
  return c;
}

}  // namespace twi::tdx
