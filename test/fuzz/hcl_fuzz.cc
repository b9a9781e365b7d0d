// Fuzz target for the HCL1 parser. Beyond "no crash", it checks two properties:
//  * every rejection is INVALID_ARGUMENT with a "line L, column C: " prefix (L, C >= 1);
//  * every accepted document, printed back as canonical HCL, parses to the same tree.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "plugin/hcl/hcl.h"

namespace {

using twi::hcl::Kind;
using twi::hcl::Member;
using twi::hcl::Pos;
using twi::hcl::Value;

[[noreturn]] void Fail(std::string_view why, std::string_view detail) {
  std::fprintf(stderr, "hcl_fuzz: %.*s: %.*s\n", static_cast<int>(why.size()), why.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void CheckPos(const Pos& p) {
  if (p.line < 1 || p.column < 1) Fail("bad position", absl::StrCat(p.line, ":", p.column));
}

void CheckPositions(const Value& v) {
  CheckPos(v.pos);
  for (const Value& e : v.list) CheckPositions(e);
  for (const Member& m : v.members) {
    CheckPos(m.pos);
    CheckPositions(m.value);
  }
}

// A quoted HCL string that decodes back to exactly `s`. '$' is escaped so that "${" in the
// data is not read back as an interpolation (whose contents would not be unescaped).
void PrintString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '$': out += "\\u0024"; break;
      default: out += c;
    }
  }
  out += '"';
}

void Print(std::string& out, const Value& v);

void PrintMembers(std::string& out, const Value& v) {
  for (const Member& m : v.members) {
    PrintString(out, m.key);
    out += " = ";
    Print(out, m.value);
    out += "\n";
  }
}

void Print(std::string& out, const Value& v) {
  switch (v.kind) {
    case Kind::kString: PrintString(out, v.str); break;
    case Kind::kBool: out += v.boolean ? "true" : "false"; break;
    case Kind::kNumber:
      if (v.is_integer) {
        absl::StrAppend(&out, v.integer);
      } else {
        std::string n = absl::StrFormat("%.17g", v.number);
        // Keep it a non-integer literal so it reads back with is_integer == false.
        if (n.find_first_of(".e") == std::string::npos) n += ".0";
        out += n;
      }
      break;
    case Kind::kList:
      out += "[";
      for (const Value& e : v.list) {
        Print(out, e);
        out += ", ";
      }
      out += "]";
      break;
    case Kind::kObject:
      out += "{\n";
      PrintMembers(out, v);
      out += "}";
      break;
  }
}

bool Same(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kString: return a.str == b.str;
    case Kind::kBool: return a.boolean == b.boolean;
    case Kind::kNumber:
      return a.is_integer == b.is_integer && (a.is_integer ? a.integer == b.integer : a.number == b.number);
    case Kind::kList:
      if (a.list.size() != b.list.size()) return false;
      for (size_t i = 0; i < a.list.size(); ++i) {
        if (!Same(a.list[i], b.list[i])) return false;
      }
      return true;
    case Kind::kObject:
      if (a.members.size() != b.members.size()) return false;
      for (size_t i = 0; i < a.members.size(); ++i) {
        if (a.members[i].key != b.members[i].key || !Same(a.members[i].value, b.members[i].value)) return false;
      }
      return true;
  }
  return false;
}

void CheckError(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kInvalidArgument) Fail("unexpected status code", s.ToString());
  int line = 0, column = 0;
  if (std::sscanf(std::string(s.message()).c_str(), "line %d, column %d: ", &line, &column) != 2 || line < 1 ||
      column < 1) {
    Fail("error without position", std::string(s.message()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Value> v = twi::hcl::Parse(text);
  if (!v.ok()) {
    CheckError(v.status());
    return 0;
  }
  if (v->kind != Kind::kObject) Fail("root is not an object", "");
  CheckPositions(*v);
  std::string printed;
  PrintMembers(printed, *v);
  absl::StatusOr<Value> again = twi::hcl::Parse(printed);
  if (!again.ok()) Fail("printed document does not parse", absl::StrCat(again.status().ToString(), "\n", printed));
  if (!Same(*v, *again)) Fail("printed document parses differently", printed);
  return 0;
}
