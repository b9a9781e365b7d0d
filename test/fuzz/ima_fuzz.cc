// Fuzzes the IMA list parsers: ascii lines, the binary entries (binary_runtime_measurements)
// and both incremental indexes over the same bytes.
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

  // The same bytes as a binary list, in two chunks, with SHA-1 and SHA-256 template digests.
  for (size_t digest_len : {size_t{20}, size_t{32}}) {
    twi::process::ImaIndex bin;
    twi::ByteView all(data, size);
    size_t used = bin.AddBinary(all.subspan(0, split), digest_len);
    if (used > split) std::abort();
    used += bin.AddBinary(all.subspan(used), digest_len);
    if (used > size || bin.indexed() > bin.lines()) std::abort();
    size_t n = 0;
    auto e = twi::process::ParseImaBinaryEntry(all, digest_len, &n);
    if (e.ok() && e->has_value() && (n == 0 || n > size)) std::abort();
  }

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
