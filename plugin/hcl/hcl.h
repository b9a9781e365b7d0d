// HCL1 parser for SPIRE's plugin_data (what SPIRE's HCL1 printer emits, and the JSON form).
//
// The document is parsed into a tree of Values. A body (the top level, or `{ ... }`) is an
// Object whose members keep their source order and may repeat a key. Labeled blocks are
// flattened the way HCL1 does it:  policy "a" { x = 1 }  ==  policy = { a = { x = 1 } }.
// The parser checks syntax only; which keys exist and what types they have is the config
// builder's job (plugin/config).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace twi::hcl {

struct Pos {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

enum class Kind { kString, kNumber, kBool, kList, kObject };
std::string_view KindName(Kind k);  // "string", "number", "bool", "list", "object"

struct Member;

struct Value {
  Kind kind = Kind::kObject;
  Pos pos;
  std::string str;           // kString (escapes decoded; heredoc body)
  double number = 0;         // kNumber
  bool is_integer = false;   // kNumber written without fraction/exponent and fits int64
  int64_t integer = 0;       // kNumber when is_integer
  bool boolean = false;      // kBool
  std::vector<Value> list;   // kList
  std::vector<Member> members;  // kObject, in source order, keys may repeat
};

struct Member {
  std::string key;  // unquoted
  Pos pos;          // position of the key
  Value value;
};

// Parses an HCL1 body (or a JSON object) into a kObject Value. Errors are INVALID_ARGUMENT
// with "line L, column C: <what>".
absl::StatusOr<Value> Parse(std::string_view text);

}  // namespace twi::hcl
