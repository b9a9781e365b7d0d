#include "attestors/process/cgroup.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "attestors/core/str.h"

namespace twi::process {
namespace {

// Debian's abseil has its own string_view type; parse with it and convert at the API.
using Text = absl::string_view;

std::vector<Text> Segments(Text path) { return absl::StrSplit(path, '/', absl::SkipEmpty()); }

bool IsLowerHex(Text s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsHex(Text s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// "2c48913c-b29f-11e7-9350-020968147796", the same with '_', or 32 hex (static pods, whose
// UID is a hash). Returns the canonical form or "".
std::string CanonicalPodUid(Text s) {
  if (s.size() == 32 && IsHex(s)) return absl::AsciiStrToLower(s);
  if (s.size() != 36) return "";
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    bool sep = (i == 8 || i == 13 || i == 18 || i == 23);
    if (sep) {
      if (out[i] != '-' && out[i] != '_') return "";
      out[i] = '-';
    } else if (!std::isxdigit(static_cast<unsigned char>(out[i]))) {
      return "";
    }
  }
  return absl::AsciiStrToLower(out);
}

// The pod UID named by one segment, or "".
std::string PodUidFromSegment(Text seg) {
  // containerd's "<pod slice>:cri-containerd:<id>" form carries the pod in its first part.
  seg = seg.substr(0, seg.find(':'));
  if (absl::ConsumeSuffix(&seg, ".slice")) {
    // systemd driver: kubepods-<qos>-pod<uid>.slice or kubepods-pod<uid>.slice.
    size_t at = seg.rfind("-pod");
    if (at == Text::npos) return "";
    return CanonicalPodUid(seg.substr(at + 4));
  }
  // cgroupfs driver: pod<uid>.
  if (!absl::ConsumePrefix(&seg, "pod")) return "";
  return CanonicalPodUid(seg);
}

bool IsRealV1Controller(const CgroupLine& l) {
  return l.hierarchy_id != 0 && !l.controllers.empty() && !absl::StartsWith(l.controllers, "name=");
}

bool HasController(const CgroupLine& l, Text name) {
  for (Text c : absl::StrSplit(l.controllers, ',')) {
    if (c == name) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<CgroupLine>> ParseCgroupFile(std::string_view text) {
  std::vector<CgroupLine> out;
  size_t line_no = 0;
  for (Text line : absl::StrSplit(ToAbsl(text), '\n')) {
    ++line_no;
    if (line.empty()) continue;
    size_t c1 = line.find(':');
    size_t c2 = c1 == Text::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == Text::npos) {
      return absl::InvalidArgumentError(
          twi::StrCat("cgroup line ", line_no, " has fewer than 3 ':'-separated fields"));
    }
    CgroupLine l;
    if (!absl::SimpleAtoi(line.substr(0, c1), &l.hierarchy_id)) {
      return absl::InvalidArgumentError(twi::StrCat(
          "cgroup line ", line_no, " has a bad hierarchy id \"", line.substr(0, c1), "\""));
    }
    l.controllers = std::string(line.substr(c1 + 1, c2 - c1 - 1));
    l.path = std::string(line.substr(c2 + 1));
    if (l.path.empty() || l.path[0] != '/') {
      return absl::InvalidArgumentError(
          twi::StrCat("cgroup line ", line_no, " has a path not starting with '/'"));
    }
    out.push_back(std::move(l));
  }
  if (out.empty()) return absl::InvalidArgumentError("cgroup file has no lines");
  return out;
}

std::string ContainerIdFromPath(std::string_view path, size_t* index, bool* monitor) {
  std::vector<Text> segs = Segments(ToAbsl(path));
  if (index) *index = segs.size();
  if (monitor) *monitor = false;
  for (size_t i = segs.size(); i-- > 0;) {
    Text seg = segs[i];
    // The monitor next to a podman / CRI-O container: stop, it is not inside one.
    if (absl::StrContains(seg, "conmon")) {
      if (monitor) *monitor = true;
      return "";
    }
    absl::ConsumeSuffix(&seg, ".scope");
    if (size_t colon = seg.rfind(':'); colon != Text::npos) {
      seg = seg.substr(colon + 1);
    }
    if (size_t dash = seg.rfind('-'); dash != Text::npos) {
      seg = seg.substr(dash + 1);
    }
    if (seg.size() == 64 && IsLowerHex(seg)) {
      if (index) *index = i;
      return std::string(seg);
    }
  }
  return "";
}

std::string PodUidFromPath(std::string_view path, size_t max_index) {
  std::vector<Text> segs = Segments(ToAbsl(path));
  if (segs.empty()) return "";
  size_t start = std::min(max_index, segs.size() - 1);
  for (size_t i = start + 1; i-- > 0;) {
    std::string uid = PodUidFromSegment(segs[i]);
    if (!uid.empty()) return uid;
  }
  return "";
}

void SystemdUnitsFromPath(std::string_view path, std::string* unit, std::string* user_unit) {
  unit->clear();
  user_unit->clear();
  std::vector<Text> segs = Segments(ToAbsl(path));
  size_t i = 0;
  while (i < segs.size() && absl::EndsWith(segs[i], ".slice")) ++i;
  if (i == segs.size() || !absl::EndsWith(segs[i], ".service")) return;
  *unit = std::string(segs[i]);
  // user@<uid>.service: the per-user manager; its subtree repeats the slice/unit layout.
  Text uid = segs[i];
  if (!absl::ConsumePrefix(&uid, "user@") || !absl::ConsumeSuffix(&uid, ".service") ||
      uid.empty() ||
      !std::all_of(uid.begin(), uid.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return;
  }
  ++i;
  while (i < segs.size() && absl::EndsWith(segs[i], ".slice")) ++i;
  if (i < segs.size() && absl::EndsWith(segs[i], ".service")) *user_unit = std::string(segs[i]);
}

absl::StatusOr<CgroupInfo> AnalyzeCgroups(const std::vector<CgroupLine>& lines) {
  CgroupInfo info;
  const CgroupLine* primary = nullptr;
  const CgroupLine* unified = nullptr;
  bool v1 = false;
  for (const CgroupLine& l : lines) {
    if (l.hierarchy_id == 0 && l.controllers.empty() && !unified) unified = &l;
    if (IsRealV1Controller(l)) v1 = true;
  }
  if (v1) {
    for (const char* want : {"name=systemd", "memory", "pids"}) {
      for (const CgroupLine& l : lines) {
        if (primary) break;
        if (l.hierarchy_id != 0 && HasController(l, want) && l.path != "/") primary = &l;
      }
    }
    for (const CgroupLine& l : lines) {
      if (primary) break;
      if (IsRealV1Controller(l) && l.path != "/") primary = &l;
    }
    if (!primary) {
      for (const CgroupLine& l : lines) {
        if (!primary && l.hierarchy_id != 0) primary = &l;
      }
    }
  } else {
    primary = unified;
    for (const CgroupLine& l : lines) {
      if (!primary && HasController(l, "name=systemd")) primary = &l;
    }
    if (!primary) primary = &lines.front();
  }
  if (!primary) return absl::InvalidArgumentError("cgroup file has no lines");
  info.path = primary->path;
  info.source =
      primary->hierarchy_id == 0 && primary->controllers.empty() ? "0::" : primary->controllers;

  size_t container_index = 0;
  bool monitor = false;
  info.container_id = ContainerIdFromPath(primary->path, &container_index, &monitor);
  std::string_view id_path = primary->path;
  if (info.container_id.empty() && v1 && !monitor) {
    // The primary line shows no container; other v1 hierarchies may (a runtime that joined
    // only some controllers). Accept them only when they agree.
    for (const CgroupLine& l : lines) {
      if (&l == primary || l.hierarchy_id == 0) continue;
      size_t idx = 0;
      bool other_monitor = false;
      std::string id = ContainerIdFromPath(l.path, &idx, &other_monitor);
      if (other_monitor) monitor = true;
      if (id.empty()) continue;
      if (info.container_id.empty()) {
        info.container_id = id;
        container_index = idx;
        id_path = l.path;
      } else if (id != info.container_id) {
        return absl::FailedPreconditionError(
            twi::StrCat("cgroup hierarchies name different containers (",
                        info.container_id.substr(0, 12), " and ", id.substr(0, 12), ")"));
      }
    }
  }
  if (monitor && !info.container_id.empty()) {
    return absl::FailedPreconditionError(
        "cgroup hierarchies disagree on whether the process is a container monitor (conmon)");
  }
  if (!monitor) {
    info.pod_uid = PodUidFromPath(id_path, info.container_id.empty() ? SIZE_MAX : container_index);
  }
  SystemdUnitsFromPath(primary->path, &info.systemd_unit, &info.systemd_user_unit);
  return info;
}

}  // namespace twi::process
