// Fuzzes QE Identity handling: the input as signed Enclave Identity text and as a PCS response
// wrapping it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attestors/collateral/dcap_json.h"

using namespace twi::collateral;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ParseEnclaveIdentity(in);
  if (auto signed_json = ExtractSignedJson(in, "enclaveIdentity"); signed_json.ok()) {
    (void)ParseEnclaveIdentity(signed_json->body);
  }
  return 0;
}
