// Fuzzes VCEK/VLEK handling: the input as a certificate (DER or PEM) whose AMD extensions are
// decoded, and the same bytes as the value of every AMD extension (INTEGER SPLs, IA5Strings,
// raw or OCTET-STRING-wrapped hwID).
#include <cstddef>
#include <cstdint>
#include <string>

#include "attestors/core/x509.h"
#include "attestors/sevsnp/abi.h"

using namespace twi::sevsnp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::ByteView in(data, size);
  auto cert = twi::Certificate::Parse(in);
  if (cert.ok()) {
    (void)ParseAmdExtensions(*cert);
    (void)cert->subject();
    (void)cert->serial_hex();
  }
  static const char* const kSuffixes[] = {"1", "2", "3.1", "3.2", "3.3", "3.8", "3.9", "4", "5"};
  for (const char* s : kSuffixes) {
    AmdCertExtensions ext;
    (void)DecodeAmdExtension(std::string("1.3.6.1.4.1.3704.1.") + s, in, ext);
  }
  return 0;
}
