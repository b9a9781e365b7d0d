// Fuzzes the parser of Azure THIM's JSON answer (vcekCert, certificateChain, tcbm): whatever it
// accepts is one DER VCEK and a bounded chain.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attestors/azure/thim.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = twi::azure::ParseThimResponse(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r.ok()) return 0;
  if (r->vcek.empty() || r->chain.size() > 4 || r->tcbm.size() > 32) std::abort();
  return 0;
}
