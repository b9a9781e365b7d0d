// Parsing /proc/<pid>/cgroup and deriving container, pod and systemd-unit facts from it.
// Pure functions over text (fuzzed; fixtures from real runtimes in test/testdata/process/).
//
// File format (cgroups(7)): one line per hierarchy, "hierarchy-id:controller-list:path".
// cgroup v2 has the single line "0::<path>". The path may itself contain ':' (containerd's
// "<slice>:cri-containerd:<id>" form), so only the first two colons separate fields.
//
// Which line is "the" cgroup of the process:
//  * v1 or hybrid (some line names a real v1 controller): runtimes with the cgroupfs driver
//    move the process in the v1 hierarchies only, and the 0:: line then still shows the
//    runtime's own service (see the kind and CRI-O fixtures). So take the first of
//    name=systemd, memory, pids whose path is not "/", else any other v1 line that is not
//    "/", else "/".
//  * pure v2 (only 0:: and possibly named v1 hierarchies without controllers): the 0:: line.
//
// Which segments may name a container or pod (issue 15: anyone can create cgroups in a
// subtree delegated to them, e.g. below user@<uid>.service, or inside a container with a
// writable cgroupfs, and name them like a runtime would):
//  * only the primary line is read: another hierarchy never supplies an id;
//  * after leading ".." segments (an agent inside a cgroup namespace), the path must start
//    with a runtime-owned prefix, and the container segment must sit where that runtime puts
//    it: kubepods* / kubelet.slice (any depth below, Kubernetes), /docker/<id>,
//    /system.slice/{docker,cri-containerd,crio,libpod}-<id>.scope, /machine.slice/libpod-<id>.scope,
//    /libpod_parent/libpod-<id>;
//  * the OUTERMOST container segment wins: anything below a matched container is the
//    container's own (delegated) business and never yields an id (so kind's inner pods, seen
//    from the host, report the node container);
//  * a pod UID only under a Kubernetes prefix and at or above the container segment;
//  * below user@<uid>.service (rootless Docker/Podman) a container segment gives a
//    rootless id qualified by that uid, never a container-id: the user owns that subtree.
// What this does NOT do: it does not check that a container id is known to any runtime.
// It reads names only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace twi::process {

struct CgroupLine {
  uint32_t hierarchy_id = 0;
  std::string controllers;  // "" for v2, "memory", "cpu,cpuacct", "name=systemd", ...
  std::string path;         // starts with '/'
};

// Structural parse. Blank lines are skipped; anything else must have two ':' separators,
// a numeric hierarchy id and a path starting with '/'.
absl::StatusOr<std::vector<CgroupLine>> ParseCgroupFile(std::string_view text);

struct CgroupInfo {
  std::string path;               // the primary cgroup path (see above)
  std::string source;             // which line: "0::" or the v1 controller list
  std::string container_id;       // 64 lowercase hex, or "" when not in a container
  std::string pod_uid;            // canonical Kubernetes pod UID (dashes), or ""; never set
                                  // for a runtime monitor (conmon), which is not the workload
  std::string rootless_uid;       // user@<uid>.service owning a rootless container, or ""
  std::string rootless_container_id;  // 64 lowercase hex below that user manager, or ""
  std::string systemd_unit;       // system .service unit that owns the process, or ""
  std::string systemd_user_unit;  // .service unit of a user manager (user@<uid>.service), or ""
};

// Derives CgroupInfo from parsed lines (only the primary line counts).
absl::StatusOr<CgroupInfo> AnalyzeCgroups(const std::vector<CgroupLine>& lines);

// Building blocks, exposed for tests.
//
// The container id one segment names: its last token (after removing ".scope", then
// everything up to the last ':' and the last '-') when that is 64 lowercase hex. Covers
// "<id>", "docker-<id>.scope", "cri-containerd-<id>.scope", "crio-<id>.scope",
// "libpod-<id>.scope" and "...slice:cri-containerd:<id>". `*monitor` is set for a
// "libpod-conmon-<id>.scope" / "crio-conmon-<id>.scope" segment (the runtime's monitor
// process, not the container), which returns "".
std::string ContainerIdFromSegment(std::string_view seg, bool* monitor);

struct CgroupIds {
  std::string container_id;
  std::string pod_uid;
  std::string rootless_uid;
  std::string rootless_container_id;
  bool monitor = false;
};

// Applies the prefix rules above to one cgroup path.
CgroupIds IdsFromPath(std::string_view path);

// The pod UID of one segment: "pod<uid>" (cgroupfs driver) or "...-pod<uid with '_'>.slice"
// (systemd driver); UID as 8-4-4-4-12 hex or 32 hex (static pods). Returned lowercase with
// '-' separators, or "".
std::string PodUidFromSegment(std::string_view seg);

// systemd units from a path whose leading segments are slices: the first non-slice segment
// when it is a ".service" (a scope, e.g. a session or a container, gives no unit); and, when
// that unit is "user@<uid>.service", the same rule applied to the user manager's subtree.
// Units are taken only at that position because below it the tree is delegated (to a
// container or a user) and its names are chosen by whoever runs there.
void SystemdUnitsFromPath(std::string_view path, std::string* unit, std::string* user_unit);

}  // namespace twi::process
