// Fuzzes the GCE instance-information extension parser (strict DER over OpenSSL's ASN.1
// primitives): whatever it accepts has safe, bounded text fields and re-encodes to a value that
// parses to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attestors/gcp/abi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto info = twi::gcp::ParseInstanceInfo(twi::ByteView(data, size));
  if (!info.ok()) return 0;
  for (const std::string* s : {&info->zone, &info->project_id, &info->instance_name}) {
    if (!twi::gcp::IsValidTextField(*s)) std::abort();
  }
  auto der = twi::gcp::EncodeInstanceInfo(*info);
  if (!der.ok()) std::abort();
  auto again = twi::gcp::ParseInstanceInfo(*der);
  if (!again.ok() || again->zone != info->zone || again->project_id != info->project_id ||
      again->instance_name != info->instance_name || again->instance_id != info->instance_id ||
      again->project_number != info->project_number ||
      again->is_production != info->is_production ||
      again->security_version != info->security_version) {
    std::abort();
  }
  return 0;
}
