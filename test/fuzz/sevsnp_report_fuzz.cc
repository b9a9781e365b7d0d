// Fuzzes the SEV-SNP ATTESTATION_REPORT parser and everything that reads a parsed report
// without a certificate: signature conversion, TCB decoding per product, policy appraisal,
// selectors and claims.
#include <cstddef>
#include <cstdint>

#include "attestors/core/checks.h"
#include "attestors/sevsnp/abi.h"
#include "attestors/sevsnp/policy.h"

using namespace twi::sevsnp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::ByteView in(data, size);
  for (Product hint : {Product::kUnknown, Product::kMilan, Product::kTurin}) {
    auto report = ParseReport(in, {hint});
    if (!report.ok()) continue;
    (void)SignatureDer(*report);
    if (report->product == Product::kUnknown) (void)SetProduct(*report, Product::kGenoa);
    twi::CheckList checks;
    SnpPolicy policy;
    policy.min_tcb.snp = 8;
    policy.min_tcb.fmc = 1;
    policy.min_firmware = MinFirmware{1, 55, 0};
    policy.measurements.push_back(twi::Bytes(48, 0));
    (void)Appraise(*report, policy, checks);
    (void)Selectors(*report);
    (void)Claims(*report);
  }
  return 0;
}
