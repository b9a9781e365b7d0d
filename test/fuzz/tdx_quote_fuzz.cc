// Fuzzes the DCAP quote parser (v3/v4/v5, certification data 6 -> 5) and what reads a parsed
// quote before any trust decision: the embedded PCK chain and its SGX extension, verification
// up to its first collateral check, claims and selectors of a partial result, and policy.
#include <cstddef>
#include <cstdint>

#include "attestors/tdx/abi.h"
#include "attestors/tdx/policy.h"
#include "attestors/tdx/verify.h"

using namespace twi::tdx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto quote = ParseQuote(twi::ByteView(data, size));
  if (!quote.ok()) return 0;
  if (auto chain = twi::ParsePemBundle(twi::AsString(quote->qe.pck_chain)); chain.ok()) {
    (void)ParsePckExtensions((*chain)[0]);
  }
  (void)P256KeyFromXy(quote->attestation_key);
  (void)RawSignatureToDer(quote->signature);
  twi::CheckList checks;
  VerifiedQuote out;
  VerifyOptions options;
  options.allow_missing_crls = true;
  (void)VerifyQuote(*quote, twi::collateral::DcapCollateral{}, options, checks, &out);
  (void)Claims(out);
  (void)Selectors(out);
  out.has_tcb = true;
  out.tcb.status = "UpToDate";
  TdxPolicy policy;
  policy.mrtds.push_back(twi::Bytes(48, 0));
  policy.min_tee_tcb_svn.emplace();
  (void)Appraise(out, policy, checks);
  return 0;
}
