// Fuzzes the TDREPORT parser and Azure TDX verification after it. The input is a TDREPORT
// (first 1024 bytes) and a TD quote (the rest): every accepted TDREPORT must encode back to one
// with the same fields and match its own body, and the whole Azure TDX verification (no
// collateral, so it refuses) runs on an HCL report wrapping it without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attestors/azure/hcl_builder.h"
#include "attestors/azure/verify_tdx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace twi::azure;
  twi::ByteView in(data, size);
  const size_t n = std::min(size, kTdReportStructSize);
  auto report = ParseTdReport(in.first(n));
  if (!report.ok()) return 0;
  twi::Bytes again = EncodeTdReport(report->body, report->cpu_svn, report->mac);
  auto reparsed = ParseTdReport(again);
  if (!reparsed.ok()) std::abort();
  twi::CheckList match;
  if (!MatchTdReport(*reparsed, report->body, match).ok()) std::abort();

  const std::string claims = R"({"keys":[],"vm-configuration":{"vmUniqueId":"fuzz"}})";
  HclReportSpec spec;
  spec.type = ReportType::kTdx;
  spec.hw_report = in.first(n);
  spec.runtime_claims = twi::AsBytes(claims);
  auto hcl = BuildHclReport(spec);
  if (!hcl.ok()) std::abort();
  TdxEvidence evidence;
  evidence.hcl_report = *hcl;
  evidence.td_quote = in.subspan(n);
  TdxVerifyOptions options;
  options.nonce = twi::ToBytes("challenge");
  twi::CheckList checks;
  VerifiedAzureTdx out;
  if (VerifyAzureTdx(evidence, options, checks, &out).ok()) std::abort();
  (void)Claims(out);
  return 0;
}
