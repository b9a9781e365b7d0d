// Fuzzes the CCEL table parser and the CCEL replay (the first 56 bytes as the ACPI table, the
// whole input as the log area).
#include <cstdint>
#include <cstdlib>

#include "attestors/tdx/ccel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::ByteView in(data, size);
  auto table = twi::tdx::ParseCcelTable(in.first(size < 56 ? size : 56));
  if (table.ok() && table->cc_type != 2) std::abort();
  auto replay = twi::tdx::ReplayCcel(in);
  if (replay.ok()) {
    for (const auto& r : replay->rtmr) {
      if (r.size() != 48) std::abort();
    }
  }
  return 0;
}
