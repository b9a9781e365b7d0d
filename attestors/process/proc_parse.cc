#include "attestors/process/proc_parse.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "attestors/core/str.h"

namespace twi::process {
namespace {

// Debian's abseil has its own string_view type; parse with it and convert at the API.
using Text = absl::string_view;

// Splits on runs of spaces/tabs (the kernel uses single separators, but be lenient).
// Hand-rolled: this runs on every attestation and absl::ByAnyChar showed up in profiles.
std::vector<Text> Fields(Text s) {
  std::vector<Text> out;
  out.reserve(56);
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

absl::Status ParseIdLine(Text key, Text value, uint32_t out[4]) {
  std::vector<Text> f = Fields(value);
  if (f.size() != 4) {
    return absl::InvalidArgumentError(twi::StrCat(key, " line has ", f.size(), " ids, want 4"));
  }
  for (int i = 0; i < 4; ++i) {
    if (!absl::SimpleAtoi(f[i], &out[i])) {
      return absl::InvalidArgumentError(
          twi::StrCat(key, " line has a non-numeric id \"", f[i].substr(0, 24), "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProcStat> ParseProcStat(std::string_view text_in) {
  Text text = ToAbsl(text_in);
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == Text::npos || close == Text::npos || close < open) {
    return absl::InvalidArgumentError("stat has no \"(comm)\" field");
  }
  ProcStat st;
  Text pid_text = absl::StripAsciiWhitespace(text.substr(0, open));
  if (!absl::SimpleAtoi(pid_text, &st.pid) || st.pid <= 0) {
    return absl::InvalidArgumentError(
        twi::StrCat("stat has a bad pid \"", pid_text.substr(0, 24), "\""));
  }
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  // After ')' come fields 3.. ; field N is at index N - 3.
  std::vector<Text> rest = Fields(absl::StripAsciiWhitespace(text.substr(close + 1)));
  constexpr size_t kStartTimeIndex = 22 - 3;
  if (rest.size() <= kStartTimeIndex) {
    return absl::InvalidArgumentError(
        twi::StrCat("stat has ", rest.size() + 2, " fields, want at least 22"));
  }
  if (rest[0].size() != 1) {
    return absl::InvalidArgumentError(
        twi::StrCat("stat has a bad state \"", rest[0].substr(0, 24), "\""));
  }
  st.state = rest[0][0];
  constexpr size_t kFlagsIndex = 9 - 3;
  if (!absl::SimpleAtoi(rest[kFlagsIndex], &st.flags)) {
    return absl::InvalidArgumentError(
        twi::StrCat("stat has bad flags \"", rest[kFlagsIndex].substr(0, 24), "\""));
  }
  if (!absl::SimpleAtoi(rest[kStartTimeIndex], &st.start_time)) {
    return absl::InvalidArgumentError(
        twi::StrCat("stat has a bad starttime \"", rest[kStartTimeIndex].substr(0, 24), "\""));
  }
  return st;
}

absl::StatusOr<ProcStatus> ParseProcStatus(std::string_view text) {
  ProcStatus out;
  bool have_uid = false, have_gid = false, have_groups = false;
  for (Text line : absl::StrSplit(ToAbsl(text), '\n')) {
    size_t colon = line.find(':');
    if (colon == Text::npos) continue;
    Text key = line.substr(0, colon);
    Text value = line.substr(colon + 1);
    if (key == "Uid" || key == "Gid") {
      bool& have = key == "Uid" ? have_uid : have_gid;
      if (have) return absl::InvalidArgumentError(twi::StrCat("status has two ", key, " lines"));
      absl::Status s = ParseIdLine(key, value, key == "Uid" ? out.uid : out.gid);
      if (!s.ok()) return s;
      have = true;
    } else if (key == "Groups") {
      if (have_groups) return absl::InvalidArgumentError("status has two Groups lines");
      for (Text g : Fields(value)) {
        uint32_t id;
        if (!absl::SimpleAtoi(g, &id)) {
          return absl::InvalidArgumentError(
              twi::StrCat("Groups line has a non-numeric id \"", g.substr(0, 24), "\""));
        }
        out.groups.push_back(id);
      }
      have_groups = true;
    }
  }
  if (!have_uid) return absl::InvalidArgumentError("status has no Uid line");
  if (!have_gid) return absl::InvalidArgumentError("status has no Gid line");
  if (!have_groups) return absl::InvalidArgumentError("status has no Groups line");
  return out;
}

std::string_view StripDeletedSuffix(std::string_view link, bool* had_suffix) {
  constexpr std::string_view kDeletedSuffix = " (deleted)";
  *had_suffix = link.ends_with(kDeletedSuffix);
  if (*had_suffix) link.remove_suffix(kDeletedSuffix.size());
  return link;
}

}  // namespace twi::process
