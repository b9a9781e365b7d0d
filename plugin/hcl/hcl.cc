// HCL1 parser: a hand-written lexer feeding a recursive-descent parser. The accepted
// language follows what HashiCorp's HCL1 accepts (and what its printer emits), with the
// differences called out where they are made.
#include "plugin/hcl/hcl.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace twi::hcl {

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kString: return "string";
    case Kind::kNumber: return "number";
    case Kind::kBool: return "bool";
    case Kind::kList: return "list";
    case Kind::kObject: return "object";
  }
  return "unknown";
}

namespace {

// attestors/core/status.h cannot be included here: with Debian's abseil, absl::string_view
// is not std::string_view and its Annotate() does not compile. Same macro, local name.
#define HCL_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status hcl_status_ = (expr);       \
    if (!hcl_status_.ok()) return hcl_status_; \
  } while (0)

// absl::StrCat does not take std::string_view with this abseil build.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Deep enough for any real plugin_data, shallow enough that neither the recursive parser
// nor the recursive destructor of Value can exhaust the stack on hostile input.
constexpr int kMaxDepth = 64;
// Keys and identifiers quoted in error messages are cut here so a hostile input cannot
// turn one error into a megabyte log line.
constexpr size_t kMaxQuoted = 40;

enum class Tok { kEof, kIdent, kString, kHeredoc, kNumber, kLBrace, kRBrace, kLBrack, kRBrack,
                 kAssign, kColon, kComma };

struct Token {
  Tok type = Tok::kEof;
  Pos pos;
  std::string text;  // identifier name, or decoded string / heredoc body
  double number = 0;
  bool is_integer = false;
  int64_t integer = 0;
};

absl::Status ErrorAt(Pos p, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrFormat("line %d, column %d: %s", p.line, p.column, what));
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < kMaxQuoted; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += absl::StrFormat("\\x%02x", c);
    }
  }
  if (s.size() > kMaxQuoted) out += "...";
  return out + "\"";
}

std::string DescribeChar(char ch) {
  const unsigned char c = static_cast<unsigned char>(ch);
  if (c == '\n') return "end of line";
  if (c >= 0x20 && c < 0x7f) return absl::StrFormat("'%c'", c);
  return absl::StrFormat("byte 0x%02x", c);
}

std::string Describe(const Token& t) {
  switch (t.type) {
    case Tok::kEof: return "end of input";
    case Tok::kIdent: return t.text == "null" ? "null" : absl::StrCat("identifier ", Quote(t.text));
    case Tok::kString: return "string";
    case Tok::kHeredoc: return "heredoc";
    case Tok::kNumber: return "number";
    case Tok::kLBrace: return "'{'";
    case Tok::kRBrace: return "'}'";
    case Tok::kLBrack: return "'['";
    case Tok::kRBrack: return "']'";
    case Tok::kAssign: return "'='";
    case Tok::kColon: return "':'";
    case Tok::kComma: return "','";
  }
  return "token";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
// HCL1 identifiers may continue with '-' and '.', e.g. `cache-dir` or `a.b`.
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '-' || c == '.'; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  // In JSON mode strings use JSON escapes (no `${}` handling) and heredocs do not exist.
  Lexer(std::string_view src, bool json) : src_(src), json_(json) {}

  absl::Status Next(Token& t) {
    HCL_RETURN_IF_ERROR(SkipSpaceAndComments());
    t.pos = Here();
    t.text.clear();
    t.is_integer = false;
    if (AtEnd()) {
      t.type = Tok::kEof;
      return absl::OkStatus();
    }
    const char c = src_[off_];
    switch (c) {
      case '{': return Punct(t, Tok::kLBrace);
      case '}': return Punct(t, Tok::kRBrace);
      case '[': return Punct(t, Tok::kLBrack);
      case ']': return Punct(t, Tok::kRBrack);
      case '=': return Punct(t, Tok::kAssign);
      case ':': return Punct(t, Tok::kColon);
      case ',': return Punct(t, Tok::kComma);
      case '"': t.type = Tok::kString; return LexString(t);
      default: break;
    }
    if (c == '<' && Peek(1) == '<' && !json_) {
      t.type = Tok::kHeredoc;
      return LexHeredoc(t);
    }
    if (c == '-' || IsDigit(c)) {
      t.type = Tok::kNumber;
      return LexNumber(t);
    }
    if (IsIdentStart(c)) {
      const size_t start = off_;
      while (!AtEnd() && IsIdentChar(src_[off_])) Bump();
      t.type = Tok::kIdent;
      t.text = std::string(src_.substr(start, off_ - start));
      return absl::OkStatus();
    }
    return ErrorAt(t.pos, absl::StrCat("unexpected character ", DescribeChar(c)));
  }

 private:
  bool AtEnd() const { return off_ >= src_.size(); }
  // '\0' past the end; callers that care about a real NUL byte check AtEnd() first.
  char Peek(size_t ahead = 0) const { return off_ + ahead < src_.size() ? src_[off_ + ahead] : '\0'; }
  std::string DescribeNext() const { return AtEnd() ? "end of input" : DescribeChar(src_[off_]); }
  Pos Here() const {
    constexpr size_t kMax = std::numeric_limits<int>::max();
    return {line_, static_cast<int>(std::min(off_ - line_start_ + 1, kMax))};
  }
  void Bump() {
    if (src_[off_] == '\n' && line_ < std::numeric_limits<int>::max()) {
      ++line_;
      line_start_ = off_ + 1;
    }
    ++off_;
  }
  void BumpTo(size_t end) {
    while (off_ < end) Bump();
  }
  absl::Status Punct(Token& t, Tok type) {
    t.type = type;
    Bump();
    return absl::OkStatus();
  }

  absl::Status SkipSpaceAndComments() {
    while (!AtEnd()) {
      const char c = src_[off_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        Bump();
      } else if (c == '#' || (c == '/' && Peek(1) == '/')) {
        while (!AtEnd() && src_[off_] != '\n') Bump();
      } else if (c == '/' && Peek(1) == '*') {
        const Pos start = Here();
        const size_t end = src_.find("*/", off_ + 2);
        if (end == std::string_view::npos) {
          return ErrorAt(start, "unterminated comment, expected '*/' before end of input");
        }
        BumpTo(end + 2);
      } else {
        break;
      }
    }
    return absl::OkStatus();
  }

  absl::Status LexString(Token& t) {
    const Pos start = t.pos;
    Bump();  // opening quote
    int braces = 0;  // > 0 inside an HCL1 interpolation `${...}`
    while (true) {
      if (AtEnd()) return ErrorAt(start, "unterminated string, expected closing '\"' before end of input");
      const char c = src_[off_];
      if (braces > 0) {
        // Interpolations are application syntax in HCL1: keep them verbatim, and like HCL1
        // let them contain quotes and newlines without ending the string.
        if (c == '{') ++braces;
        if (c == '}') --braces;
        t.text += c;
        Bump();
        if (c == '\\' && !AtEnd()) {
          t.text += src_[off_];
          Bump();
        }
      } else if (c == '"') {
        Bump();
        return absl::OkStatus();
      } else if (c == '\n') {
        return ErrorAt(start, "unterminated string, expected closing '\"' before end of line");
      } else if (c == '\\') {
        HCL_RETURN_IF_ERROR(LexEscape(t.text, start));
      } else if (c == '$' && Peek(1) == '{' && !json_) {
        t.text += "${";
        Bump();
        Bump();
        braces = 1;
      } else {
        t.text += c;
        Bump();
      }
    }
  }

  absl::Status LexEscape(std::string& out, Pos string_start) {
    const Pos at = Here();
    Bump();  // backslash
    if (AtEnd()) return ErrorAt(string_start, "unterminated string, expected closing '\"' before end of input");
    const char e = src_[off_];
    const char* simple = nullptr;
    switch (e) {
      case '"': simple = "\""; break;
      case '\\': simple = "\\"; break;
      case 'n': simple = "\n"; break;
      case 't': simple = "\t"; break;
      case 'r': simple = "\r"; break;
      case 'b': simple = "\b"; break;
      case 'f': simple = "\f"; break;
      case '/': simple = json_ ? "/" : nullptr; break;
      case 'a': simple = json_ ? nullptr : "\a"; break;
      case 'v': simple = json_ ? nullptr : "\v"; break;
      default: break;
    }
    if (simple != nullptr) {
      out += simple;
      Bump();
      return absl::OkStatus();
    }
    if (e != 'u' && (e != 'U' || json_)) {
      return ErrorAt(at, absl::StrCat("invalid escape in string, expected one of ",
                                      json_ ? "\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX"
                                            : "\\\" \\\\ \\n \\t \\r \\a \\b \\f \\v \\uXXXX \\UXXXXXXXX",
                                      ", found '\\' followed by ", DescribeChar(e)));
    }
    Bump();
    uint32_t cp = 0;
    HCL_RETURN_IF_ERROR(ReadHex(e == 'u' ? 4 : 8, e, at, cp));
    if (json_ && cp >= 0xD800 && cp <= 0xDBFF && Peek() == '\\' && Peek(1) == 'u') {
      // JSON spells characters outside the BMP as a UTF-16 surrogate pair.
      uint32_t low = 0;
      bool ok = off_ + 6 <= src_.size();
      for (size_t i = 2; ok && i < 6; ++i) {
        const int h = HexValue(src_[off_ + i]);
        ok = h >= 0;
        low = low * 16 + static_cast<uint32_t>(h);
      }
      if (ok && low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        BumpTo(off_ + 6);
      }
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      return ErrorAt(at, absl::StrFormat("invalid escape in string, expected a unicode character, "
                                         "found unpaired surrogate U+%04X", cp));
    }
    if (cp > 0x10FFFF) {
      return ErrorAt(at, absl::StrFormat("invalid escape in string, expected a code point up to "
                                         "U+10FFFF, found U+%X", cp));
    }
    AppendUtf8(out, cp);
    return absl::OkStatus();
  }

  absl::Status ReadHex(int digits, char letter, Pos at, uint32_t& cp) {
    for (int i = 0; i < digits; ++i) {
      const int h = AtEnd() ? -1 : HexValue(src_[off_]);
      if (h < 0) {
        return ErrorAt(at, absl::StrCat("invalid escape in string, expected ", digits, " hex digits after '\\",
                                        std::string(1, letter), "', found ", DescribeNext()));
      }
      cp = cp * 16 + static_cast<uint32_t>(h);
      Bump();
    }
    return absl::OkStatus();
  }

  absl::Status LexHeredoc(Token& t) {
    const Pos start = t.pos;
    Bump();
    Bump();  // "<<"
    const bool indented = Peek() == '-';
    if (indented) Bump();
    const size_t a0 = off_;
    while (!AtEnd() && (IsIdentStart(src_[off_]) || IsDigit(src_[off_]))) Bump();
    const std::string_view anchor = src_.substr(a0, off_ - a0);
    if (anchor.empty()) {
      return ErrorAt(Here(), absl::StrCat("expected heredoc anchor after '", indented ? "<<-" : "<<",
                                          "', found ", DescribeNext()));
    }
    const std::string unterminated =
        absl::StrCat("unterminated heredoc, expected a line ", Quote(anchor), " before end of input");
    if (Peek() == '\r' && Peek(1) == '\n') Bump();
    if (AtEnd()) return ErrorAt(start, unterminated);
    if (src_[off_] != '\n') {
      return ErrorAt(Here(), absl::StrCat("expected end of line after heredoc anchor ", Quote(anchor),
                                          ", found ", DescribeNext()));
    }
    Bump();
    std::vector<std::string_view> lines;
    std::string_view closing_indent;
    while (true) {
      if (AtEnd()) return ErrorAt(start, unterminated);
      size_t end = src_.find('\n', off_);
      if (end == std::string_view::npos) end = src_.size();
      const std::string_view line = src_.substr(off_, end - off_);
      // Like HCL1, the closing line may be indented and may end in '\r'.
      const size_t ws = line.find_first_not_of(" \t");
      std::string_view rest = ws == std::string_view::npos ? std::string_view() : line.substr(ws);
      while (!rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
      if (rest == anchor) {
        closing_indent = line.substr(0, ws);
        BumpTo(end);  // the newline after the anchor is ordinary whitespace
        break;
      }
      lines.push_back(line);
      BumpTo(end < src_.size() ? end + 1 : end);
    }
    // `<<-` removes the closing line's indentation from every line, but (as in HCL1) only
    // when every line has it. Unlike HCL1, an empty line does not cancel the unindenting,
    // so a blank line between paragraphs does not change the whole text.
    bool strip = indented && !closing_indent.empty();
    for (size_t i = 0; strip && i < lines.size(); ++i) {
      strip = lines[i].substr(0, closing_indent.size()) == closing_indent ||
              lines[i].find_first_not_of(" \t\r") == std::string_view::npos;
    }
    for (std::string_view line : lines) {
      if (strip) line = line.size() >= closing_indent.size() ? line.substr(closing_indent.size()) : "";
      absl::StrAppend(&t.text, AV(line), "\n");
    }
    return absl::OkStatus();
  }

  absl::Status LexNumber(Token& t) {
    const size_t s0 = off_;
    const bool neg = src_[off_] == '-';
    if (neg) {
      Bump();
      if (!IsDigit(Peek())) return ErrorAt(Here(), absl::StrCat("expected digit after '-', found ", DescribeNext()));
    }
    int base = 10;
    bool is_float = false;
    size_t d0 = off_;
    if (Peek() == '0' && (Peek(1) == 'x' || Peek(1) == 'X')) {
      Bump();
      Bump();
      base = 16;
      d0 = off_;
      while (!AtEnd() && HexValue(src_[off_]) >= 0) Bump();
      if (off_ == d0) return ErrorAt(Here(), absl::StrCat("expected hex digit after '0x', found ", DescribeNext()));
    } else {
      while (IsDigit(Peek())) Bump();
      if (Peek() == '.') {
        Bump();
        if (!IsDigit(Peek())) {
          return ErrorAt(Here(), absl::StrCat("expected digit after '.' in number, found ", DescribeNext()));
        }
        while (IsDigit(Peek())) Bump();
        is_float = true;
      }
      if (Peek() == 'e' || Peek() == 'E') {
        Bump();
        if (Peek() == '+' || Peek() == '-') Bump();
        if (!IsDigit(Peek())) {
          return ErrorAt(Here(), absl::StrCat("expected digit in exponent, found ", DescribeNext()));
        }
        while (IsDigit(Peek())) Bump();
        is_float = true;
      }
      // HCL1 hands integer literals to Go's ParseInt with base 0: a leading 0 means octal.
      if (!is_float && off_ - d0 > 1 && src_[d0] == '0') base = 8;
    }
    if (!AtEnd() && IsIdentChar(src_[off_])) {
      return ErrorAt(Here(), absl::StrCat("unexpected character ", DescribeChar(src_[off_]), " in number"));
    }
    const std::string_view text = src_.substr(s0, off_ - s0);
    const std::string out_of_range = absl::StrCat("number ", Quote(text), " is out of range");
    if (!is_float) {
      uint64_t mag = 0;
      bool overflow = false;
      double approx = 0;
      for (size_t i = d0; i < off_; ++i) {
        const int d = HexValue(src_[i]);
        if (d >= base) {
          return ErrorAt({t.pos.line, t.pos.column + static_cast<int>(i - s0)},
                         absl::StrCat("expected octal digit after leading 0, found ", DescribeChar(src_[i])));
        }
        const uint64_t ud = static_cast<uint64_t>(d);
        const uint64_t ub = static_cast<uint64_t>(base);
        if (mag > (std::numeric_limits<uint64_t>::max() - ud) / ub) overflow = true;
        if (!overflow) mag = mag * ub + ud;
        approx = approx * base + d;
      }
      const uint64_t limit = neg ? (uint64_t{1} << 63) : static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      if (!overflow && mag <= limit) {
        t.is_integer = true;
        t.integer = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
        t.number = static_cast<double>(t.integer);
        return absl::OkStatus();
      }
      if (base != 10) {
        // Too big for int64: kept as an (inexact) double, as documented for is_integer.
        t.number = neg ? -approx : approx;
        if (!std::isfinite(t.number)) return ErrorAt(t.pos, out_of_range);
        return absl::OkStatus();
      }
    }
    if (!absl::SimpleAtod(AV(text), &t.number) || !std::isfinite(t.number)) return ErrorAt(t.pos, out_of_range);
    return absl::OkStatus();
  }

  std::string_view src_;
  bool json_;
  size_t off_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

class Parser {
 public:
  Parser(std::string_view src, bool json) : lex_(src, json), json_(json) {}

  absl::StatusOr<Value> Run() {
    Value root;
    root.kind = Kind::kObject;
    root.pos = {1, 1};
    HCL_RETURN_IF_ERROR(Advance());
    if (json_) {
      HCL_RETURN_IF_ERROR(ParseJsonObject(root, 1, "object"));
      if (tok_.type != Tok::kEof) {
        return ErrorAt(tok_.pos, absl::StrCat("expected end of input after the json object, found ", Describe(tok_)));
      }
    } else {
      HCL_RETURN_IF_ERROR(ParseBody(root, 0, nullptr, ""));
    }
    return root;
  }

 private:
  absl::Status Advance() { return lex_.Next(tok_); }

  static absl::Status TooDeep(Pos p) {
    return ErrorAt(p, absl::StrCat("nesting too deep, expected at most ", kMaxDepth,
                                   " levels of blocks and lists, found more"));
  }

  // Items of a body until '}' (or end of input at the top level, where open is null).
  absl::Status ParseBody(Value& obj, int depth, const Pos* open, std::string_view what) {
    while (true) {
      switch (tok_.type) {
        case Tok::kEof:
          if (open == nullptr) return absl::OkStatus();
          return ErrorAt(*open, absl::StrCat("unterminated ", AV(what), ", expected '}' before end of input"));
        case Tok::kRBrace:
          if (open == nullptr) return ErrorAt(tok_.pos, "expected a key, found '}' with no block open");
          return Advance();
        case Tok::kIdent:
        case Tok::kString:
          HCL_RETURN_IF_ERROR(ParseItem(obj, depth));
          // Commas between items are optional in HCL1.
          if (tok_.type == Tok::kComma) HCL_RETURN_IF_ERROR(Advance());
          break;
        default:
          return ErrorAt(tok_.pos, absl::StrCat("expected a key", open ? " or '}'" : "", ", found ", Describe(tok_)));
      }
    }
  }

  // key = value | key { body } | key "label" ... { body }
  absl::Status ParseItem(Value& obj, int depth) {
    std::vector<std::pair<std::string, Pos>> keys;
    while (tok_.type == Tok::kIdent || tok_.type == Tok::kString) {
      keys.emplace_back(std::move(tok_.text), tok_.pos);
      // Each label after the first is one more level of nesting once flattened.
      if (depth + static_cast<int>(keys.size()) - 1 > kMaxDepth) return TooDeep(tok_.pos);
      HCL_RETURN_IF_ERROR(Advance());
    }
    Member m;
    m.key = keys[0].first;
    m.pos = keys[0].second;
    const std::string& last = keys.back().first;
    if (tok_.type == Tok::kAssign && keys.size() == 1) {
      HCL_RETURN_IF_ERROR(Advance());
      HCL_RETURN_IF_ERROR(ParseValue(m.value, depth, &m.key));
    } else if (tok_.type == Tok::kLBrace) {
      // policy "a" "b" { ... }  ==  policy = { a = { b = { ... } } }
      Value* cur = &m.value;
      for (size_t i = 1; i < keys.size(); ++i) {
        cur->kind = Kind::kObject;
        cur->pos = keys[i].second;
        cur->members.push_back(Member{keys[i].first, keys[i].second, Value{}});
        cur = &cur->members.back().value;
      }
      HCL_RETURN_IF_ERROR(ParseObject(*cur, depth + static_cast<int>(keys.size()) - 1,
                                      absl::StrCat("block ", Quote(last))));
    } else if (keys.size() == 1) {
      return ErrorAt(tok_.pos, absl::StrCat("expected '=' or '{' after key ", Quote(last), ", found ", Describe(tok_)));
    } else {
      return ErrorAt(tok_.pos,
                     absl::StrCat("expected '{' after block label ", Quote(last), ", found ", Describe(tok_)));
    }
    obj.members.push_back(std::move(m));
    return absl::OkStatus();
  }

  // tok_ is '{' of an HCL object at nesting depth + 1.
  absl::Status ParseObject(Value& out, int depth, std::string_view what) {
    if (depth + 1 > kMaxDepth) return TooDeep(tok_.pos);
    out.kind = Kind::kObject;
    out.pos = tok_.pos;
    const Pos open = tok_.pos;
    HCL_RETURN_IF_ERROR(Advance());
    return ParseBody(out, depth + 1, &open, what);
  }

  // A value inside `depth` containers; key is the member it belongs to, null in a list.
  absl::Status ParseValue(Value& out, int depth, const std::string* key) {
    const std::string expected = key ? absl::StrCat("a value for key ", Quote(*key)) : "a list element or ']'";
    out.pos = tok_.pos;
    switch (tok_.type) {
      case Tok::kString:
      case Tok::kHeredoc:
        out.kind = Kind::kString;
        out.str = std::move(tok_.text);
        return Advance();
      case Tok::kNumber:
        out.kind = Kind::kNumber;
        out.number = tok_.number;
        out.is_integer = tok_.is_integer;
        out.integer = tok_.integer;
        return Advance();
      case Tok::kIdent:
        if (tok_.text == "true" || tok_.text == "false") {
          out.kind = Kind::kBool;
          out.boolean = tok_.text == "true";
          return Advance();
        }
        if (tok_.text == "null") {
          return ErrorAt(tok_.pos, absl::StrCat("expected ", expected, ", found null (null values are not supported)"));
        }
        break;
      case Tok::kLBrack:
        return ParseList(out, depth);
      case Tok::kLBrace: {
        const std::string what = key ? absl::StrCat(json_ ? "object " : "block ", Quote(*key)) : "object";
        return json_ ? ParseJsonObject(out, depth + 1, what) : ParseObject(out, depth, what);
      }
      default:
        break;
    }
    return ErrorAt(tok_.pos, absl::StrCat("expected ", expected, ", found ", Describe(tok_)));
  }

  // Elements separated by commas; a trailing comma is allowed (HCL1, and leniently JSON).
  absl::Status ParseList(Value& out, int depth) {
    if (depth + 1 > kMaxDepth) return TooDeep(tok_.pos);
    out.kind = Kind::kList;
    const Pos open = tok_.pos;
    HCL_RETURN_IF_ERROR(Advance());
    while (true) {
      if (tok_.type == Tok::kRBrack) return Advance();
      if (tok_.type == Tok::kEof) return ErrorAt(open, "unterminated list, expected ']' before end of input");
      HCL_RETURN_IF_ERROR(ParseValue(out.list.emplace_back(), depth + 1, nullptr));
      if (tok_.type == Tok::kComma) {
        HCL_RETURN_IF_ERROR(Advance());
      } else if (tok_.type == Tok::kEof) {
        return ErrorAt(open, "unterminated list, expected ']' before end of input");
      } else if (tok_.type != Tok::kRBrack) {
        return ErrorAt(tok_.pos, absl::StrCat("expected ',' or ']' after list element, found ", Describe(tok_)));
      }
    }
  }

  // tok_ is '{' of a JSON object at nesting `level`: "key": value pairs separated by commas.
  absl::Status ParseJsonObject(Value& out, int level, std::string_view what) {
    if (level > kMaxDepth) return TooDeep(tok_.pos);
    out.kind = Kind::kObject;
    out.pos = tok_.pos;
    const Pos open = tok_.pos;
    HCL_RETURN_IF_ERROR(Advance());
    while (true) {
      if (tok_.type == Tok::kRBrace) return Advance();
      if (tok_.type == Tok::kEof) {
        return ErrorAt(open, absl::StrCat("unterminated ", AV(what), ", expected '}' before end of input"));
      }
      if (tok_.type != Tok::kString) {
        return ErrorAt(tok_.pos, absl::StrCat("expected a quoted key or '}' in json object, found ", Describe(tok_)));
      }
      Member& m = out.members.emplace_back();
      m.key = std::move(tok_.text);
      m.pos = tok_.pos;
      HCL_RETURN_IF_ERROR(Advance());
      if (tok_.type != Tok::kColon) {
        return ErrorAt(tok_.pos, absl::StrCat("expected ':' after key ", Quote(m.key), ", found ", Describe(tok_)));
      }
      HCL_RETURN_IF_ERROR(Advance());
      HCL_RETURN_IF_ERROR(ParseValue(m.value, level, &m.key));
      if (tok_.type == Tok::kComma) {
        HCL_RETURN_IF_ERROR(Advance());
      } else if (tok_.type == Tok::kEof) {
        return ErrorAt(open, absl::StrCat("unterminated ", AV(what), ", expected '}' before end of input"));
      } else if (tok_.type != Tok::kRBrace) {
        return ErrorAt(tok_.pos, absl::StrCat("expected ',' or '}' after the value of key ", Quote(m.key),
                                              ", found ", Describe(tok_)));
      }
    }
  }

  Lexer lex_;
  bool json_;
  Token tok_;
};

#undef HCL_RETURN_IF_ERROR

}  // namespace

absl::StatusOr<Value> Parse(std::string_view text) {
  // A UTF-8 byte order mark (left by some editors in plugin_data_file) is not content.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  // Like HCL1: a document whose first non-space character is '{' is JSON.
  const size_t first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && text[first] == '{';
  try {
    return Parser(text, json).Run();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while parsing the configuration");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("configuration parser failed: ", e.what()));
  }
}

}  // namespace twi::hcl
