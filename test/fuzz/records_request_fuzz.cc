// Fuzzes the records socket's request handler (attestors/keybinding/records_socket.h): any
// body gets a response whose first byte is a status code and whose message field fits.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "attestors/keybinding/records_socket.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static twi::keybinding::RecordTable table({std::chrono::seconds(60), 64, nullptr});
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string resp = twi::keybinding::HandleRecordsRequest(&table, body);
  if (resp.size() < 3 || static_cast<uint8_t>(resp[0]) > 16) __builtin_trap();
  size_t n = (static_cast<uint8_t>(resp[1]) << 8) | static_cast<uint8_t>(resp[2]);
  if (3 + n > resp.size()) __builtin_trap();
  return 0;
}
