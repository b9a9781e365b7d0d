// Table-driven tests of the HCL1 parser: each accepted input is compared as a compact dump
// of the tree, each rejected input by its exact message (which includes line and column).
#include "plugin/hcl/hcl.h"

#include <cctype>
#include <charconv>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace twi::hcl {
namespace {

std::string DumpString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += absl::StrFormat("\\x%02x", c);
        }
    }
  }
  return out + "\"";
}

bool PlainKey(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

// {k=v,...}  [a,b]  "str"  123 (integer)  1.5f (other numbers, std::to_chars shortest form)  true
std::string Dump(const Value& v) {
  switch (v.kind) {
    case Kind::kString: return DumpString(v.str);
    case Kind::kBool: return v.boolean ? "true" : "false";
    case Kind::kNumber: {
      if (v.is_integer) return absl::StrCat(v.integer);
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof(buf), v.number);
      return std::string(buf, r.ptr) + "f";
    }
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < v.list.size(); ++i) absl::StrAppend(&out, i ? "," : "", Dump(v.list[i]));
      return out + "]";
    }
    case Kind::kObject: {
      std::string out = "{";
      for (size_t i = 0; i < v.members.size(); ++i) {
        const Member& m = v.members[i];
        absl::StrAppend(&out, i ? "," : "", PlainKey(m.key) ? m.key : DumpString(m.key), "=", Dump(m.value));
      }
      return out + "}";
    }
  }
  return "?";
}

// The exact text of spec section 1.7, block form as printed by SPIRE's HCL1 printer.
constexpr char kSpecBlockForm[] =
    "# a comment\n"
    "allowed = [\"a\", \"b\"]\n"
    "\n"
    "ttl = 30\n"
    "\n"
    "enabled = true\n"
    "\n"
    "nested {\n"
    "  k = \"v\"\n"
    "}\n";

// The same data written in a JSON config file: quoted keys, nested object as assignment.
constexpr char kSpecJsonFileForm[] =
    "\"allowed\" = [\"a\", \"b\"]\n"
    "\n"
    "\"ttl\" = 30\n"
    "\n"
    "\"enabled\" = true\n"
    "\n"
    "\"nested\" = {\n"
    "  \"k\" = \"v\"\n"
    "}\n";

struct OkCase {
  const char* name;
  std::string input;
  std::string dump;
};

const OkCase kOkCases[] = {
    {"Empty", "", "{}"},
    {"OnlyWhitespace", "  \n\t\r\n", "{}"},
    {"OnlyComments", "# hash\n// slashes\n/* block\n comment */\n", "{}"},
    {"SpecBlockForm", kSpecBlockForm, R"({allowed=["a","b"],ttl=30,enabled=true,nested={k="v"}})"},
    {"SpecJsonFileForm", kSpecJsonFileForm, R"({allowed=["a","b"],ttl=30,enabled=true,nested={k="v"}})"},
    {"JsonDocument", R"({ "a": 1, "b": {"c": [1,2]} })", "{a=1,b={c=[1,2]}}"},
    {"JsonAllTypes",
     R"({"s": "x\/y\u00e9\ud83d\ude00\b\f", "n": -1.5e2, "t": true, "f": false, "l": [], "o": {}})",
     R"({s="x/y\xc3\xa9\xf0\x9f\x98\x80\x08\x0c",n=-150f,t=true,f=false,l=[],o={}})"},
    {"JsonRepeatedKeys", R"({"a": 1, "a": [2, 3,]})", "{a=1,a=[2,3]}"},
    {"JsonLeadingWhitespace", "\n\t {\"a\": {\"b\": {}}}\n", "{a={b={}}}"},
    {"JsonListOfObjects", R"({"l": [{"a": 1}, {"b": "x"}]})", R"({l=[{a=1},{b="x"}]})"},
    {"StringEscapes", R"(s = "q\" b\\ n\n t\t r\r u\u00e9 U\U0001F600 a\a v\v")",
     R"({s="q\" b\\ n\n t\t r\r u\xc3\xa9 U\xf0\x9f\x98\x80 a\x07 v\x0b"})"},
    {"RawUtf8InString", "s = \"h\xc3\xa9llo\"", R"({s="h\xc3\xa9llo"})"},
    {"EmptyString", R"(s = "")", R"({s=""})"},
    {"InterpolationKeptLiteral", R"(s = "${var.x} and ${f("a", "b")}")",
     R"({s="${var.x} and ${f(\"a\", \"b\")}"})"},
    {"InterpolationKeepsEscapesRaw", R"(s = "a\n${f("\n", {x})}")", R"({s="a\n${f(\"\\n\", {x})}"})"},
    {"DollarWithoutBrace", R"(s = "$HOME costs $5")", R"({s="$HOME costs $5"})"},
    {"Heredoc", "h = <<EOF\nline 1\n  line 2\nEOF\nx = 1\n", R"({h="line 1\n  line 2\n",x=1})"},
    {"HeredocIndented", "h = <<-EOT\n    a\n      b\n    EOT\n", R"({h="a\n  b\n"})"},
    {"HeredocIndentedBlankLine", "h = <<-EOT\n    a\n\n    b\n    EOT\n", R"({h="a\n\nb\n"})"},
    {"HeredocIndentedUneven", "h = <<-EOT\n  a\nb\n  EOT\n", R"({h="  a\nb\n"})"},
    {"HeredocClosingIndentedPlain", "h = <<EOF\n  a\n  EOF\n", R"({h="  a\n"})"},
    {"HeredocAtEndOfInput", "h = <<EOF\nx\nEOF", R"({h="x\n"})"},
    {"HeredocEmpty", "h = <<EOF\nEOF\n", R"({h=""})"},
    {"HeredocCrlf", "h = <<EOF\r\nx\r\nEOF\r\n", R"({h="x\r\n"})"},
    {"HeredocKeepsQuotesAndHashes", "h = <<END\n\"q\" # not a comment ${x}\nEND\n",
     R"({h="\"q\" # not a comment ${x}\n"})"},
    {"HeredocInList", "l = [<<A\nx\nA\n, \"y\"]", R"({l=["x\n","y"]})"},
    {"Numbers",
     "a = 0\nb = -12\nc = 1.5\nd = -2.5e3\ne = 1E2\nf = 0x1F\ng = 0755\nh = 9223372036854775807\n"
     "i = -9223372036854775808\nj = -0x10\nk = 1e-3\n",
     "{a=0,b=-12,c=1.5f,d=-2500f,e=100f,f=31,g=493,h=9223372036854775807,i=-9223372036854775808,"
     "j=-16,k=0.001f}"},
    {"IntegerTooBigForInt64", "a = 9223372036854775808\nb = 0x10000000000000000",
     "{a=9223372036854775808f,b=18446744073709551616f}"},
    {"Bools", "a = true\nb = false", "{a=true,b=false}"},
    {"ListTrailingComma", R"(l = [1, "two", true, ])", R"({l=[1,"two",true]})"},
    {"ListMultiLineWithComments", "l = [\n  \"a\", # first\n  \"b\", // second\n  /* third */ \"c\",\n]\n",
     R"({l=["a","b","c"]})"},
    {"ListEmpty", "l = []", "{l=[]}"},
    {"ListNested", "l = [[1, 2], [], [[3]]]", "{l=[[1,2],[],[[3]]]}"},
    {"ListOfObjects", "l = [{a = 1}, {b = \"x\", c = [true]}]", R"({l=[{a=1},{b="x",c=[true]}]})"},
    {"NestedBlocks", "a { b { c = 1 } }", "{a={b={c=1}}}"},
    {"NestedAssignedObjects", "a = { b = {} }", "{a={b={}}}"},
    {"LabeledBlock", "policy \"name\" {\n  x = 1\n}\n", "{policy={name={x=1}}}"},
    {"MultipleLabels", "a \"b\" c \"d\" { e = 1 }", "{a={b={c={d={e=1}}}}}"},
    {"RepeatedKeys", "a = 1\na = 2\npolicy \"x\" {}\npolicy \"y\" {}\n", "{a=1,a=2,policy={x={}},policy={y={}}}"},
    {"QuotedKeys", "\"my key\" = 1\n\"\" = 2\n\"esc\\n\" { }", R"({"my key"=1,""=2,"esc\n"={}})"},
    {"CommasBetweenItems", "a = 1, b = 2, c { d = 3, }", "{a=1,b=2,c={d=3}}"},
    {"ItemsWithoutSeparators", "a = 1 b = \"x\" c {} d = [1]", R"({a=1,b="x",c={},d=[1]})"},
    {"IdentifierCharacters", "cache-dir = \"x\"\nfoo.bar = 1\n_u9 = 2", R"({cache-dir="x",foo.bar=1,_u9=2})"},
    {"KeywordsAsKeys", "true = 1\nnull = 2", "{true=1,null=2}"},
    {"CommentsEverywhere", "a /* c */ = /* c */ 1 # c\n/* multi\nline */ b // c\n{ c = 2 }",
     "{a=1,b={c=2}}"},
    {"CrlfLineEndings", "a = 1\r\nb {\r\n  c = 2\r\n}\r\n", "{a=1,b={c=2}}"},
    {"ByteOrderMark", "\xEF\xBB\xBF" "a = 1", "{a=1}"},
    {"CommentBeforeBraceIsNotJson", "# c\na { }", "{a={}}"},
    {"Deepest64Lists", "a = " + std::string(64, '[') + std::string(64, ']'),
     "{a=" + std::string(64, '[') + std::string(64, ']') + "}"},
};

// Keeps ctest's test list readable: the case name instead of a hex dump of the struct.
void PrintTo(const OkCase& c, std::ostream* os) { *os << c.name; }

class HclOkTest : public testing::TestWithParam<OkCase> {};

TEST_P(HclOkTest, Parses) {
  const OkCase& c = GetParam();
  absl::StatusOr<Value> v = Parse(c.input);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->kind, Kind::kObject);
  EXPECT_EQ(Dump(*v), c.dump);
}

INSTANTIATE_TEST_SUITE_P(hcl, HclOkTest, testing::ValuesIn(kOkCases),
                         [](const testing::TestParamInfo<OkCase>& i) { return std::string(i.param.name); });

struct ErrCase {
  const char* name;
  std::string input;
  std::string message;
};

const ErrCase kErrCases[] = {
    {"MissingAssign", "a = 1\nb = 2\n  ttl   30\n",
     R"(line 3, column 9: expected '=' or '{' after key "ttl", found number)"},
    {"MissingValue", "a = ", R"(line 1, column 5: expected a value for key "a", found end of input)"},
    {"ValueIsBraceClose", "x { a = }", R"(line 1, column 9: expected a value for key "a", found '}')"},
    {"ColonInHcl", "a: 1", R"(line 1, column 2: expected '=' or '{' after key "a", found ':')"},
    {"UnterminatedStringAtEnd", "a = \"abc", R"(line 1, column 5: unterminated string, expected closing '"' before end of input)"},
    {"UnterminatedStringAtNewline", "a = \"abc\nb = 1",
     R"(line 1, column 5: unterminated string, expected closing '"' before end of line)"},
    {"UnterminatedInterpolation", "a = \"${foo\"",
     R"(line 1, column 5: unterminated string, expected closing '"' before end of input)"},
    {"UnterminatedStringBytesColumns", "s = \"\xc3\xa9\" x = \"",
     R"(line 1, column 14: unterminated string, expected closing '"' before end of input)"},
    {"UnterminatedHeredoc", "a = 1\nb = <<EOF\nxx\nEOFX\n",
     R"(line 2, column 5: unterminated heredoc, expected a line "EOF" before end of input)"},
    {"UnterminatedHeredocAfterAnchor", "a = <<EOF",
     R"(line 1, column 5: unterminated heredoc, expected a line "EOF" before end of input)"},
    {"HeredocMissingAnchor", "a = <<\nx\n", R"(line 1, column 7: expected heredoc anchor after '<<', found end of line)"},
    {"HeredocIndentedMissingAnchor", "a = <<-\n", R"(line 1, column 8: expected heredoc anchor after '<<-', found end of line)"},
    {"HeredocJunkAfterAnchor", "a = <<EOF junk\nEOF\n",
     R"(line 1, column 10: expected end of line after heredoc anchor "EOF", found ' ')"},
    {"UnterminatedComment", "a = 1\n/* x", R"(line 2, column 1: unterminated comment, expected '*/' before end of input)"},
    {"UnterminatedBlock", "a {\n  b = 1\n", R"(line 1, column 3: unterminated block "a", expected '}' before end of input)"},
    {"UnterminatedLabeledBlock", "policy \"p\" {", R"(line 1, column 12: unterminated block "p", expected '}' before end of input)"},
    {"UnterminatedAssignedObject", "a = {", R"(line 1, column 5: unterminated block "a", expected '}' before end of input)"},
    {"UnterminatedObjectInList", "a = [{", R"(line 1, column 6: unterminated object, expected '}' before end of input)"},
    {"UnterminatedList", "a = [1, 2", R"(line 1, column 5: unterminated list, expected ']' before end of input)"},
    {"UnterminatedListAfterComma", "a = [1,\n", R"(line 1, column 5: unterminated list, expected ']' before end of input)"},
    {"ListMissingComma", "a = [1 2]", R"(line 1, column 8: expected ',' or ']' after list element, found number)"},
    {"ListDoubleComma", "a = [1,,2]", R"(line 1, column 8: expected a list element or ']', found ',')"},
    {"BareIdentifierValue", "a = foo", R"(line 1, column 5: expected a value for key "a", found identifier "foo")"},
    {"NullInHcl", "a = null", R"(line 1, column 5: expected a value for key "a", found null (null values are not supported))"},
    {"NullInJson", R"({"a": null})", R"(line 1, column 7: expected a value for key "a", found null (null values are not supported))"},
    {"NullInJsonList", R"({"a": [1, null]})",
     R"(line 1, column 11: expected a list element or ']', found null (null values are not supported))"},
    {"LabelsWithAssign", "a b = 1", R"(line 1, column 5: expected '{' after block label "b", found '=')"},
    {"LabelsWithoutBlock", "\"a\" \"b\" 1", R"(line 1, column 9: expected '{' after block label "b", found number)"},
    {"StrayCloseBrace", "a = 1\n}", R"(line 2, column 1: expected a key, found '}' with no block open)"},
    {"NumberAsKey", "1 = 2", "line 1, column 1: expected a key, found number"},
    {"AssignInsideBlock", "a { = }", "line 1, column 5: expected a key or '}', found '='"},
    {"DoubleCommaBetweenItems", "a = 1,,", "line 1, column 7: expected a key, found ','"},
    {"InvalidEscape", R"(a = "\q")",
     R"(line 1, column 6: invalid escape in string, expected one of \" \\ \n \t \r \a \b \f \v \uXXXX \UXXXXXXXX, found '\' followed by 'q')"},
    {"InvalidEscapeInJson", R"({"a": "\a"})",
     R"(line 1, column 8: invalid escape in string, expected one of \" \\ \/ \b \f \n \r \t \uXXXX, found '\' followed by 'a')"},
    {"ShortUnicodeEscape", R"(a = "\u12")", R"(line 1, column 6: invalid escape in string, expected 4 hex digits after '\u', found '"')"},
    {"SurrogateInHcl", R"(a = "\ud800")",
     "line 1, column 6: invalid escape in string, expected a unicode character, found unpaired surrogate U+D800"},
    {"UnpairedSurrogateInJson", R"({"a": "\ud800x"})",
     "line 1, column 8: invalid escape in string, expected a unicode character, found unpaired surrogate U+D800"},
    {"CodePointTooLarge", R"(a = "\U00110000")",
     "line 1, column 6: invalid escape in string, expected a code point up to U+10FFFF, found U+110000"},
    {"UnexpectedCharacter", "a = 1\n@", "line 2, column 1: unexpected character '@'"},
    {"ControlCharacter", "a = 1\x01", "line 1, column 6: unexpected character byte 0x01"},
    {"NumberMissingFraction", "a = 1.", "line 1, column 7: expected digit after '.' in number, found end of input"},
    {"NumberMissingExponent", "a = 1e+", "line 1, column 8: expected digit in exponent, found end of input"},
    {"NumberMissingHexDigits", "a = 0x", "line 1, column 7: expected hex digit after '0x', found end of input"},
    {"NumberBadOctal", "a = 089", "line 1, column 6: expected octal digit after leading 0, found '8'"},
    {"NumberTrailingLetters", "a = 12ab", "line 1, column 7: unexpected character 'a' in number"},
    {"MinusWithoutDigits", "a = -x", "line 1, column 6: expected digit after '-', found 'x'"},
    {"NumberOutOfRange", "a = 1e400", R"(line 1, column 5: number "1e400" is out of range)"},
    {"JsonMissingColon", R"({"a" 1})", R"(line 1, column 6: expected ':' after key "a", found number)"},
    {"JsonAssignInsteadOfColon", R"({"a" = 1})", R"(line 1, column 6: expected ':' after key "a", found '=')"},
    {"JsonUnquotedKey", "{a: 1}", R"(line 1, column 2: expected a quoted key or '}' in json object, found identifier "a")"},
    {"JsonMissingComma", R"({"a": 1 "b": 2})", R"(line 1, column 9: expected ',' or '}' after the value of key "a", found string)"},
    {"JsonTrailingGarbage", R"({"a": 1} x)", R"(line 1, column 10: expected end of input after the json object, found identifier "x")"},
    {"JsonUnterminatedOuter", R"({"a": {"b": 1})", "line 1, column 1: unterminated object, expected '}' before end of input"},
    {"JsonUnterminatedInner", R"({"a": {"b": 1)", R"(line 1, column 7: unterminated object "a", expected '}' before end of input)"},
    {"JsonNoHeredoc", "{\"a\": <<EOF\nx\nEOF\n}", "line 1, column 7: unexpected character '<'"},
    {"LongKeyTruncated", std::string(50, 'k') + " 30",
     absl::StrCat("line 1, column 52: expected '=' or '{' after key \"", std::string(40, 'k'), "...\", found number")},
    {"TooDeepLists", "a = " + std::string(65, '[') + std::string(65, ']'),
     "line 1, column 69: nesting too deep, expected at most 64 levels of blocks and lists, found more"},
    {"TooDeepBlocks", [] { std::string s; for (int i = 0; i < 65; ++i) s += "a { "; return s; }(),
     "line 1, column 259: nesting too deep, expected at most 64 levels of blocks and lists, found more"},
    {"TooManyLabels", "a" + [] { std::string s; for (int i = 0; i < 70; ++i) s += " b"; return s; }() + " {}",
     "line 1, column 131: nesting too deep, expected at most 64 levels of blocks and lists, found more"},
    {"TooDeepJson", [] { std::string s; for (int i = 0; i < 65; ++i) s += "{\"a\":"; return s; }(),
     "line 1, column 321: nesting too deep, expected at most 64 levels of blocks and lists, found more"},
};

void PrintTo(const ErrCase& c, std::ostream* os) { *os << c.name; }

class HclErrTest : public testing::TestWithParam<ErrCase> {};

TEST_P(HclErrTest, Rejects) {
  const ErrCase& c = GetParam();
  absl::StatusOr<Value> v = Parse(c.input);
  ASSERT_FALSE(v.ok()) << Dump(*v);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(v.status().message(), c.message);
}

INSTANTIATE_TEST_SUITE_P(hcl, HclErrTest, testing::ValuesIn(kErrCases),
                         [](const testing::TestParamInfo<ErrCase>& i) { return std::string(i.param.name); });

void ExpectPos(const Pos& p, int line, int column) {
  EXPECT_EQ(p.line, line);
  EXPECT_EQ(p.column, column);
}

TEST(hclPositions, SpecBlockForm) {
  absl::StatusOr<Value> v = Parse(kSpecBlockForm);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->members.size(), 4u);
  ExpectPos(v->pos, 1, 1);
  const Member& allowed = v->members[0];
  ExpectPos(allowed.pos, 2, 1);
  ExpectPos(allowed.value.pos, 2, 11);
  ASSERT_EQ(allowed.value.list.size(), 2u);
  ExpectPos(allowed.value.list[1].pos, 2, 17);
  ExpectPos(v->members[1].pos, 4, 1);
  ExpectPos(v->members[1].value.pos, 4, 7);
  ExpectPos(v->members[2].value.pos, 6, 11);
  const Member& nested = v->members[3];
  ExpectPos(nested.pos, 8, 1);
  ExpectPos(nested.value.pos, 8, 8);
  ASSERT_EQ(nested.value.members.size(), 1u);
  ExpectPos(nested.value.members[0].pos, 9, 3);
  ExpectPos(nested.value.members[0].value.pos, 9, 7);
}

TEST(hclPositions, LabeledBlockFlattening) {
  absl::StatusOr<Value> v = Parse("policy \"a\" \"b\" {\n  x = 1\n}");
  ASSERT_TRUE(v.ok()) << v.status();
  const Member& policy = v->members.at(0);
  ExpectPos(policy.pos, 1, 1);
  ExpectPos(policy.value.pos, 1, 8);  // the object standing for label "a"
  const Member& a = policy.value.members.at(0);
  EXPECT_EQ(a.key, "a");
  ExpectPos(a.pos, 1, 8);
  ExpectPos(a.value.pos, 1, 12);
  const Member& b = a.value.members.at(0);
  EXPECT_EQ(b.key, "b");
  ExpectPos(b.pos, 1, 12);
  ExpectPos(b.value.pos, 1, 16);  // the '{'
  ExpectPos(b.value.members.at(0).pos, 2, 3);
}

TEST(hclPositions, JsonAndHeredoc) {
  absl::StatusOr<Value> v = Parse("{\n  \"a\": [true, {\"b\": 2}]\n}");
  ASSERT_TRUE(v.ok()) << v.status();
  ExpectPos(v->pos, 1, 1);
  const Member& a = v->members.at(0);
  ExpectPos(a.pos, 2, 3);
  ExpectPos(a.value.pos, 2, 8);
  ExpectPos(a.value.list.at(1).pos, 2, 15);
  ExpectPos(a.value.list.at(1).members.at(0).pos, 2, 16);

  v = Parse("x = 1\nh = <<EOF\nbody\nEOF\ny = \"\xc3\xa9\" z = 2");
  ASSERT_TRUE(v.ok()) << v.status();
  ExpectPos(v->members.at(1).value.pos, 2, 5);
  ExpectPos(v->members.at(2).pos, 5, 1);
  ExpectPos(v->members.at(3).pos, 5, 10);  // columns count bytes: "é" is two
}

TEST(hclValues, NumberFields) {
  absl::StatusOr<Value> v = Parse("a = 42\nb = 4.0\nc = 1e3\nd = 0x7fffffffffffffff");
  ASSERT_TRUE(v.ok()) << v.status();
  const Value& a = v->members[0].value;
  EXPECT_TRUE(a.is_integer);
  EXPECT_EQ(a.integer, 42);
  EXPECT_EQ(a.number, 42.0);
  const Value& b = v->members[1].value;
  EXPECT_FALSE(b.is_integer);  // written with a fraction
  EXPECT_EQ(b.number, 4.0);
  EXPECT_FALSE(v->members[2].value.is_integer);
  EXPECT_EQ(v->members[2].value.number, 1000.0);
  EXPECT_TRUE(v->members[3].value.is_integer);
  EXPECT_EQ(v->members[3].value.integer, INT64_MAX);
}

TEST(hclValues, KindNames) {
  EXPECT_EQ(KindName(Kind::kString), "string");
  EXPECT_EQ(KindName(Kind::kNumber), "number");
  EXPECT_EQ(KindName(Kind::kBool), "bool");
  EXPECT_EQ(KindName(Kind::kList), "list");
  EXPECT_EQ(KindName(Kind::kObject), "object");
}

TEST(hclRobustness, EveryPrefixOfAValidDocumentIsHandled) {
  // Truncated input must produce a value or an error, never a crash or a hang.
  const std::string doc = std::string(kSpecBlockForm) +
                          "h = <<-EOT\n  x\n  EOT\npolicy \"p\" { l = [1.5e3, 0x1f, \"\\u00e9${a}\"] }\n";
  for (size_t n = 0; n <= doc.size(); ++n) {
    absl::StatusOr<Value> v = Parse(doc.substr(0, n));
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(v.status().message().substr(0, 5), "line ") << v.status();
    }
  }
}

TEST(hclRobustness, EmbeddedNulBytes) {
  EXPECT_FALSE(Parse(std::string("a = 1\0", 6)).ok());
  absl::StatusOr<Value> v = Parse(std::string("a = \"x\0y\"", 9));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->members.at(0).value.str, std::string("x\0y", 3));
}

}  // namespace
}  // namespace twi::hcl
