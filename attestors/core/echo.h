// How text that came from untrusted input is echoed into errors and logs: bounded and with
// control characters escaped, so a peer can neither inflate an error or log line (a payload
// listing a million items must not become a million-item message) nor forge structure in it
// (newlines, the log's field separators, terminal escapes).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace twi {

// Limits used by default: 256 bytes of text, 8 list items.
inline constexpr size_t kEchoMaxBytes = 256;
inline constexpr size_t kEchoMaxItems = 8;

// `s` with bytes < 0x20 and 0x7f written as \xNN and backslashes doubled; longer than
// `max_bytes` input is cut there and "... (N more bytes)" appended. Bytes >= 0x80 pass
// through (JSON writers replace invalid UTF-8).
std::string EchoText(std::string_view s, size_t max_bytes = kEchoMaxBytes);

// Like EchoText, but backslashes stay as they are: for values written into a JSON log line,
// where the JSON writer already makes quotes and backslashes unambiguous and only control
// characters need to become visible text (a re-rendered plain-text line must not break).
std::string EchoControls(std::string_view s, size_t max_bytes = kEchoMaxBytes);

// The first `max_items` items (each through EchoText), joined by ", ", then "and N more".
std::string EchoList(std::span<const std::string> items, size_t max_items = kEchoMaxItems);

}  // namespace twi
