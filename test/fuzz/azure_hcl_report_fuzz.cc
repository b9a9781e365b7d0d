// Fuzzes the Azure HCL report parser and the checks after it: every accepted input has its
// declared lengths consistent with the buffer, and the binding, the runtime claims and the whole
// SEV-SNP + quote verification (with no VCEK, so the SNP step refuses) run on it without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attestors/azure/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::ByteView in(data, size);
  auto hcl = twi::azure::ParseHclReport(in);
  if (!hcl.ok()) return 0;
  if (hcl->report_size != twi::azure::kVarDataOffset + hcl->runtime_claims.size() ||
      hcl->report_size > size || hcl->hw_report.size() != twi::azure::kHwReportSize) {
    std::abort();
  }
  twi::CheckList checks;
  (void)twi::azure::CheckBinding(*hcl, checks);
  (void)twi::azure::ParseRuntimeClaims(hcl->runtime_claims);
  twi::azure::Evidence evidence;
  evidence.hcl_report = in;
  twi::azure::VerifyOptions options;
  options.nonce = twi::ToBytes("challenge");
  twi::CheckList all;
  twi::azure::VerifiedAzureSnp out;
  if (twi::azure::VerifyAzureSnp(evidence, options, all, &out).ok()) std::abort();
  return 0;
}
