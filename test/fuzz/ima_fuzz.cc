// Fuzzes the IMA ascii list parser: single lines and the incremental index.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "attestors/process/ima.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  twi::process::ImaIndex index;
  // Feed in two chunks split at the first byte's value, as an append-only list arrives.
  size_t split = size ? data[0] % (size + 1) : 0;
  size_t consumed = index.Add(text.substr(0, split));
  if (consumed > split) std::abort();
  consumed += index.Add(text.substr(consumed));
  if (consumed > size) std::abort();
  if (consumed < size && text.substr(consumed).find('\n') != std::string_view::npos) std::abort();
  if (index.indexed() > index.lines()) std::abort();

  size_t start = 0;
  while (start < size) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    auto e = twi::process::ParseImaLine(line);
    if (e.ok() && e->violation && !e->digest.empty()) std::abort();
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return 0;
}
