// Fuzzes CertTableExtent: it walks a certificate table written by the (untrusted) host into the
// SNP_GET_EXT_REPORT buffer, to cut that buffer down before it leaves the guest.
#include <cstddef>
#include <cstdint>

#include "attestors/sevsnp/collect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto extent = twi::sevsnp::CertTableExtent(twi::ByteView(data, size));
  if (extent.ok() && *extent > size) __builtin_trap();  // never points past the buffer
  return 0;
}
