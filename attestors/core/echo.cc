#include "attestors/core/echo.h"

#include <cstdio>

#include "attestors/core/str.h"

namespace twi {

namespace {

std::string Echo(std::string_view s, size_t max_bytes, bool double_backslashes) {
  std::string out;
  size_t n = s.size() < max_bytes ? s.size() : max_bytes;
  out.reserve(n + 16);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else if (c == '\\' && double_backslashes) {
      out += "\\\\";
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > n) out += StrCat("... (", s.size() - n, " more bytes)");
  return out;
}

}  // namespace

std::string EchoText(std::string_view s, size_t max_bytes) { return Echo(s, max_bytes, true); }

std::string EchoControls(std::string_view s, size_t max_bytes) { return Echo(s, max_bytes, false); }

std::string EchoList(std::span<const std::string> items, size_t max_items) {
  std::string out;
  size_t n = items.size() < max_items ? items.size() : max_items;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    out += EchoText(items[i]);
  }
  if (items.size() > n) out += StrCat(n > 0 ? " and " : "", items.size() - n, " more");
  return out;
}

}  // namespace twi
