#include "attestors/core/str.h"
#include "attestors/core/bytes.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace twi {

std::string HexEncode(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(b.size() * 2, '\0');
  for (size_t i = 0; i < b.size(); ++i) {
    out[2 * i] = kDigits[b[i] >> 4];
    out[2 * i + 1] = kDigits[b[i] & 0xF];
  }
  return out;
}

std::string ShortHex(ByteView b, size_t max_bytes) {
  if (b.size() <= max_bytes) return HexEncode(b);
  return HexEncode(b.first(max_bytes)) + "...";
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<Bytes> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        twi::StrCat("hex string has odd length ", hex.size()));
  }
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("invalid hex character at position %d", hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

bool ConstantTimeEqual(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  uint8_t acc = 0;
  for (size_t i = 0; i < a.size(); ++i) acc |= a[i] ^ b[i];
  return acc == 0;
}

bool IsAllZero(ByteView b) {
  uint8_t acc = 0;
  for (uint8_t x : b) acc |= x;
  return acc == 0;
}

uint16_t LoadLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t LoadLe64(const uint8_t* p) { return uint64_t{LoadLe32(p)} | uint64_t{LoadLe32(p + 4)} << 32; }
void StoreLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void StoreLe64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

absl::StatusOr<ByteView> ByteCursor::Take(size_t n, std::string_view field) {
  if (n > remaining()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "truncated input: %s needs %d bytes at offset 0x%x, only %d left", field, n, offset_,
        remaining()));
  }
  ByteView out = data_.subspan(offset_, n);
  offset_ += n;
  return out;
}

absl::StatusOr<uint8_t> ByteCursor::U8(std::string_view field) {
  auto b = Take(1, field);
  if (!b.ok()) return b.status();
  return (*b)[0];
}
absl::StatusOr<uint16_t> ByteCursor::U16Le(std::string_view field) {
  auto b = Take(2, field);
  if (!b.ok()) return b.status();
  return LoadLe16(b->data());
}
absl::StatusOr<uint32_t> ByteCursor::U32Le(std::string_view field) {
  auto b = Take(4, field);
  if (!b.ok()) return b.status();
  return LoadLe32(b->data());
}
absl::StatusOr<uint64_t> ByteCursor::U64Le(std::string_view field) {
  auto b = Take(8, field);
  if (!b.ok()) return b.status();
  return LoadLe64(b->data());
}

}  // namespace twi
