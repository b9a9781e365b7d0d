// Byte helpers: hex, little-endian reads at spec offsets, constant-time compare.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace twi {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsString(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Lowercase hex of `b`.
std::string HexEncode(ByteView b);
// Short form for messages: the first `max_bytes` bytes in hex, then "..." when cut.
std::string ShortHex(ByteView b, size_t max_bytes = 8);
// Accepts upper or lower case; whitespace is not allowed. Errors name the offending position.
absl::StatusOr<Bytes> HexDecode(std::string_view hex);

// Constant-time equality (lengths compared in the clear).
bool ConstantTimeEqual(ByteView a, ByteView b);
bool IsAllZero(ByteView b);

// Little-endian readers. The caller guarantees bounds (use ByteCursor for untrusted sizes).
uint16_t LoadLe16(const uint8_t* p);
uint32_t LoadLe32(const uint8_t* p);
uint64_t LoadLe64(const uint8_t* p);
void StoreLe32(uint8_t* p, uint32_t v);
void StoreLe64(uint8_t* p, uint64_t v);

// Bounds-checked reader over untrusted bytes. Every read names the field in its error.
class ByteCursor {
 public:
  explicit ByteCursor(ByteView data) : data_(data) {}
  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }
  absl::StatusOr<uint8_t> U8(std::string_view field);
  absl::StatusOr<uint16_t> U16Le(std::string_view field);
  absl::StatusOr<uint32_t> U32Le(std::string_view field);
  absl::StatusOr<uint64_t> U64Le(std::string_view field);
  absl::StatusOr<ByteView> Take(size_t n, std::string_view field);

 private:
  ByteView data_;
  size_t offset_ = 0;
};

}  // namespace twi
