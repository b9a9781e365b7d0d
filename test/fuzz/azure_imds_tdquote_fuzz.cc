// Fuzzes the parser of Azure IMDS's /acc/tdquote answer (JSON with a base64url quote): bounded,
// and whatever it accepts goes on to the DCAP quote parser as the collector's output would.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attestors/azure/imds_tdquote.h"
#include "attestors/tdx/abi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto quote = twi::azure::ParseTdQuoteResponse(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!quote.ok()) return 0;
  if (quote->empty() || quote->size() > size) std::abort();
  (void)twi::tdx::ParseQuote(*quote);
  return 0;
}
