// Fuzzes PCK certificate handling: the input as a certificate (DER or PEM) whose SGX extension
// is decoded, and the same bytes as the SGX extension value itself.
#include <cstddef>
#include <cstdint>

#include "attestors/core/x509.h"
#include "attestors/tdx/abi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::ByteView in(data, size);
  if (auto cert = twi::Certificate::Parse(in); cert.ok()) {
    (void)twi::tdx::ParsePckExtensions(*cert);
  }
  (void)twi::tdx::DecodeSgxExtension(in);
  return 0;
}
