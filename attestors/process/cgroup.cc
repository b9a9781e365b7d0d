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

bool IsDigits(Text s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "user@<uid>.service" -> "<uid>", else "".
std::string UserManagerUid(Text seg) {
  if (!absl::ConsumePrefix(&seg, "user@") || !absl::ConsumeSuffix(&seg, ".service") ||
      !IsDigits(seg)) {
    return "";
  }
  return std::string(seg);
}

// Whether `seg` has one of the runtime scope prefixes, e.g. "docker-<id>.scope".
bool HasRuntimePrefix(Text seg) {
  for (Text p : {"docker-", "cri-containerd-", "crio-", "libpod-"}) {
    if (absl::StartsWith(seg, p)) return true;
  }
  return false;
}

}  // namespace

std::string PodUidFromSegment(std::string_view seg_in) {
  Text seg = ToAbsl(seg_in);
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

namespace {

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

std::string ContainerIdFromSegment(std::string_view seg_in, bool* monitor) {
  Text seg = ToAbsl(seg_in);
  *monitor = false;
  // The monitor next to a podman / CRI-O container: not inside one.
  if (absl::StrContains(seg, "conmon")) {
    *monitor = true;
    return "";
  }
  absl::ConsumeSuffix(&seg, ".scope");
  if (size_t colon = seg.rfind(':'); colon != Text::npos) seg = seg.substr(colon + 1);
  if (size_t dash = seg.rfind('-'); dash != Text::npos) seg = seg.substr(dash + 1);
  if (seg.size() == 64 && IsLowerHex(seg)) return std::string(seg);
  return "";
}

CgroupIds IdsFromPath(std::string_view path) {
  CgroupIds ids;
  std::vector<Text> segs = Segments(ToAbsl(path));
  size_t i = 0;
  while (i < segs.size() && segs[i] == "..") ++i;  // inside a cgroup namespace
  if (i == segs.size()) return ids;
  const Text top = segs[i];
  // Where a container segment may be: [from, to) segment indices, and whether it must carry
  // a runtime scope prefix.
  size_t from = segs.size(), to = segs.size();
  bool need_prefix = false;
  bool kubernetes = false;
  std::string rootless_uid;
  if (absl::StartsWith(top, "kubepods") || top == "kubelet.slice") {
    kubernetes = true;
    from = i;  // containerd's "<pod slice>:cri-containerd:<id>" form is the top segment
  } else if (top == "docker" || top == "libpod_parent") {
    from = i + 1;
    to = i + 2;
  } else if (top == "system.slice" || top == "machine.slice") {
    from = i + 1;
    to = i + 2;
    need_prefix = true;
  } else {
    // Rootless runtimes: below the user's own manager, anywhere (the user owns the subtree).
    for (size_t j = i; j < segs.size(); ++j) {
      if (!absl::EndsWith(segs[j], ".slice")) {
        rootless_uid = UserManagerUid(segs[j]);
        if (!rootless_uid.empty()) from = j + 1;
        break;
      }
    }
    need_prefix = true;
  }
  to = std::min(to, segs.size());
  for (size_t j = from; j < to; ++j) {
    if (need_prefix && !HasRuntimePrefix(segs[j])) continue;
    bool monitor = false;
    std::string id = ContainerIdFromSegment(ToStd(segs[j]), &monitor);
    if (monitor) {
      ids.monitor = true;
      return ids;
    }
    if (id.empty()) continue;
    // The outermost match wins: below it the container names its own cgroups.
    if (!rootless_uid.empty()) {
      ids.rootless_uid = rootless_uid;
      ids.rootless_container_id = std::move(id);
      return ids;
    }
    ids.container_id = std::move(id);
    to = j + 1;  // a pod segment must be at or above the container
    break;
  }
  if (kubernetes) {
    for (size_t j = i; j < to; ++j) {
      ids.pod_uid = PodUidFromSegment(ToStd(segs[j]));
      if (!ids.pod_uid.empty()) break;
    }
  }
  return ids;
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

  // Only the primary line: another hierarchy is another tree that may have been arranged
  // differently (and a v1 named hierarchy may be writable by someone else).
  CgroupIds ids = IdsFromPath(primary->path);
  info.container_id = std::move(ids.container_id);
  info.pod_uid = std::move(ids.pod_uid);
  info.rootless_uid = std::move(ids.rootless_uid);
  info.rootless_container_id = std::move(ids.rootless_container_id);
  SystemdUnitsFromPath(primary->path, &info.systemd_unit, &info.systemd_user_unit);
  return info;
}

}  // namespace twi::process
