// The process side of the twi workload attestor: given a pid, the selector values that
// describe that process (who runs it, which executable, which cgroup/container/unit, and
// whether IMA measured its executable). No gRPC here: plugin/workload/ adapts this to
// WorkloadAttestor.Attest and adds the TEE selectors.
//
// Selector values (SPIRE prefixes each with the plugin name, e.g. "twi:uid:1000"). Checked
// against the code by test/process/selector_table_test.cc: keep one row per kind, with the
// kind in backquotes at the start of the row.
//
// | Value                              | Meaning                                            |
// |------------------------------------|----------------------------------------------------|
// | `uid:<n>`                          | the uid, when real, effective, saved and fs agree  |
// | `user:<name>`                      | that uid's name in passwd_file, when known         |
// | `real-uid:<n>`                     | real uid, only when the four uids differ (no uid:) |
// | `effective-uid:<n>`                | effective uid, only then                           |
// | `saved-uid:<n>`                    | saved set-user-id, only then                       |
// | `gid:<n>`                          | the gid, when the four gids agree                  |
// | `group:<name>`                     | that gid's name in group_file, when known          |
// | `real-gid:<n>`                     | real gid, only when the four gids differ (no gid:) |
// | `effective-gid:<n>`                | effective gid, only then                           |
// | `saved-gid:<n>`                    | saved set-group-id, only then                      |
// | `supplementary-gid:<n>`            | one per id on the "Groups:" line                   |
// | `supplementary-group:<name>`       | name of each of those, when known                  |
// | `path:<path>`                      | readlink /proc/<pid>/exe, agent's mount namespace  |
// | `mnt-ns-path:<ino>:<path>`         | the same from another mount namespace (inode)      |
// | `exe-deleted:true`                 | the executable has no link left (no path selector) |
// | `sha256:<64 hex>`                  | SHA-256 of the executable via /proc/<pid>/exe      |
// | `sha256-omitted:<fs>`              | executable on fuse/nfs/cifs/9p/ceph/...: no digest |
// | `exe-integrity:<strong|weak>`      | can /proc/<pid>/exe be forged here (exe_integrity.h)|
// | `cgroup:<path>`                    | the primary cgroup path (see cgroup.h)             |
// | `container-id:<64 hex>`            | Docker, containerd, CRI-O or Podman container      |
// | `pod-uid:<uid>`                    | Kubernetes pod UID, dashed form                    |
// | `rootless-container-id:<uid>:<id>` | container below user@<uid>.service (rootless)      |
// | `systemd-unit:<name.service>`      | system service owning the process                  |
// | `systemd-user-unit:<name.service>` | service of a user manager (pair it with uid:<n>)   |
// | `ima:measured:<true|false>`        | the IMA list has the executable's digest           |
// | `ima:pcr:<n>`                      | PCR (RTMR-mapped index on TDX) of each such entry  |
//
// Decisions worth knowing:
//  * Values are emitted in the table's order. Names come from the agent's passwd/group
//    files (not the container image's), re-checked at most every names_recheck_interval.
//  * sha256 is omitted (with a note) above max_exe_hash_bytes, for non-regular files, and
//    when hash_executable is off. Digests are cached by file identity (exe_hash.h), hashed
//    under HashGuard's limits (hash_guard.h), and never computed for files on FUSE, NFS,
//    CIFS, 9p, Ceph and the like (fs_trust.h): `sha256-omitted:<fs>` says so instead.
//  * exe-integrity (exe_integrity.h) is re-read at most every exe_integrity_recheck_interval. When weak, path, sha256 and
//    ima:* say what /proc/<pid>/exe names, which an unprivileged process can choose: a
//    registration entry must then also rely on a uid the workload's owner alone runs as.
//  * path is only emitted when /proc/<pid>/ns/mnt is the agent's own mount namespace
//    (agent_mnt_ns). In another one (a container, `unshare -m`), the same text can name a
//    file the process put there itself: it becomes mnt-ns-path:<namespace inode>:<path>,
//    which only ever matches that namespace (inodes name a namespace while it exists).
//  * uid:/gid: only when real, effective, saved and filesystem ids agree; otherwise
//    real-/effective-/saved- selectors, so a set-uid program or a process that changed one
//    of its ids does not pass as a plain member of either.
//  * container-id/pod-uid: only under runtime-owned cgroup prefixes, outermost container
//    first, from the primary hierarchy only (cgroup.h); never for a runtime monitor (conmon);
//    rootless containers (below user@<uid>.service) get rootless-container-id. systemd-unit is only the
//    first non-slice cgroup segment and only when it is a .service: scopes (sessions,
//    containers) and anything inside a delegated subtree are not system units.
//  * ima:* is omitted when IMA is off (ima_status() says why) or when the executable has no
//    digest and ima_match_path is false. ima:measured:true needs a sha256 match (or sha1 for
//    lists using the 'ima' template); entries after a line that fails its template hash are
//    not trusted (ima.h), so the answer is then false with a note.
//  * A deleted executable ("... (deleted)" with link count 0) gets no path selector: that
//    path now names another file or nothing, and a registration entry for it must not
//    match an old binary still running. sha256 still works.
//  * Kernel threads (no /proc/<pid>/exe) get uid/gid/cgroup selectors only.
//  * A value that is not valid UTF-8 (a path or cgroup name with arbitrary bytes) is left
//    out, with a note: protobuf strings must be UTF-8 and the whole response would fail.
//  * A pid that names no process -> NOT_FOUND "process <pid> not found ...". A process that
//    exits, or is replaced by another with the same pid, while being read -> NOT_FOUND
//    "process <pid> exited during attestation ...". A process that calls execve meanwhile
//    (same pid and start time, new executable) -> UNAVAILABLE "... executed a new program
//    during attestation ...". pid <= 0 -> INVALID_ARGUMENT. Any other failure is
//    "process <pid>: <what failed, naming the path>" with PERMISSION_DENIED for access
//    problems, INTERNAL for unreadable or malformed files, DEADLINE_EXCEEDED or
//    RESOURCE_EXHAUSTED from the hashing limits. Never selectors mixed from two processes.
//  * Limits: the pid comes from SO_PEERCRED when the caller connected; if that process
//    exited and its pid was reused before Attest starts, this reads the new process (the
//    start-time check covers changes during Attest only). The agent must see the workload's
//    pid namespace (hostPID for Kubernetes).
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/process/exe_hash.h"
#include "attestors/process/exe_integrity.h"
#include "attestors/process/fs_trust.h"
#include "attestors/process/hash_guard.h"
#include "attestors/process/id_names.h"
#include "attestors/process/ima.h"

namespace twi::process {

struct ProcessOptions {
  std::string proc_root = "/proc";
  bool hash_executable = true;
  // Executables larger than this get no sha256 selector (hashing would stall the call).
  uint64_t max_exe_hash_bytes = 256ull << 20;
  // Distinct executables whose digests are kept (LRU).
  size_t exe_cache_entries = 1024;
  // IMA ascii measurement list; "" turns IMA selectors off. When the file cannot be opened
  // at Create, IMA selectors are off (ima_status() says why) unless ima_required is set.
  std::string ima_path = "/sys/kernel/security/ima/binary_runtime_measurements";
  bool ima_required = false;
  // When the executable has no digest (hashing off or too large), match the IMA list on the
  // executable's path instead. Weaker (it says only that some file at that path was
  // measured), hence off by default.
  bool ima_match_path = false;
  std::string passwd_file = "/etc/passwd";  // "" = no user/supplementary-group names
  std::string group_file = "/etc/group";
  // How often the two files are checked for changes (0 = on every call).
  std::chrono::milliseconds names_recheck_interval{1000};
  // Root of the sysctl tree read for exe-integrity (tests point it at a fixture), and how
  // often it is re-read (0 = on every call).
  std::string proc_sys_root = "/proc/sys";
  std::chrono::milliseconds exe_integrity_recheck_interval{1000};
  // The agent's own mount namespace; processes in another one get no path selector.
  std::string agent_mnt_ns = "/proc/self/ns/mnt";
  // Limits on hashing (concurrency, deadline, per-uid budget).
  HashGuardOptions hash_limits;
  // Test seam for fstatfs(2) of the executable (a fake FUSE where /dev/fuse is missing).
  FsTypeFn fs_type;
  // Test seam: runs after everything has been read and before the process identity is
  // checked again, so tests can make the process exit or change at the worst moment.
  std::function<void(int pid)> before_recheck;
};

struct ProcessAttestation {
  std::vector<std::string> selectors;
  // Human-readable reasons an expected selector is absent (file above the size cap, no
  // passwd entry, tainted IMA list, ...). For debug logs; not selectors.
  std::vector<std::string> notes;
};

class ProcessInspector {
 public:
  // INVALID_ARGUMENT listing every bad option; or the IMA open error when ima_required.
  static absl::StatusOr<std::unique_ptr<ProcessInspector>> Create(ProcessOptions options);

  // Thread-safe; see the table and decisions above.
  absl::StatusOr<ProcessAttestation> Attest(int pid);
  // Attest(pid).selectors.
  absl::StatusOr<std::vector<std::string>> Selectors(int pid);

  ExeCacheStats exe_cache_stats() const { return exe_cache_.stats(); }
  void ClearExeCache() { exe_cache_.Clear(); }
  bool ima_enabled() const { return ima_ != nullptr; }
  // Why IMA selectors are off ("" when on or not configured).
  const std::string& ima_status() const { return ima_status_; }
  // The host's exe-integrity (re-read from proc_sys_root at most every
  // exe_integrity_recheck_interval).
  ExeIntegrity exe_integrity();
  const HashGuard& hash_guard() const { return hash_guard_; }
  std::optional<ImaLogStats> ima_stats() const;

 private:
  explicit ProcessInspector(ProcessOptions options);

  const ProcessOptions opts_;
  ExeHashCache exe_cache_;
  IdNameFile users_;
  IdNameFile groups_;
  std::unique_ptr<ImaLog> ima_;
  std::string ima_status_;
  HashGuard hash_guard_;
  std::mutex integrity_mu_;
  ExeIntegrity integrity_;
  std::chrono::steady_clock::time_point integrity_read_{};
  bool integrity_known_ = false;
  bool agent_mnt_ns_known_ = false;
  struct stat agent_mnt_ns_ {};
};

}  // namespace twi::process
