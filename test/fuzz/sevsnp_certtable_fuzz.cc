// Fuzzes the extended-report certificate table parser (GUID table, offsets relative to the
// table) and the certificate parsing that follows it. A table that parses must survive a
// serialize/parse round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attestors/core/x509.h"
#include "attestors/sevsnp/abi.h"

using namespace twi::sevsnp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto entries = ParseCertTable(twi::ByteView(data, size));
  if (!entries.ok()) return 0;
  for (const CertTableEntry& e : *entries) {
    auto cert = twi::Certificate::Parse(e.data);
    if (cert.ok()) (void)ParseAmdExtensions(*cert);
  }
  twi::Bytes again = SerializeCertTable(*entries);
  auto reparsed = ParseCertTable(again);
  if (!reparsed.ok() || reparsed->size() != entries->size()) std::abort();
  for (size_t i = 0; i < entries->size(); ++i) {
    if ((*reparsed)[i].guid != (*entries)[i].guid || (*reparsed)[i].data != (*entries)[i].data) {
      std::abort();
    }
  }
  return 0;
}
