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
// | `uid:<n>`                          | effective uid ("Uid:" 2nd field of status)         |
// | `user:<name>`                      | that uid's name in passwd_file, when known         |
// | `gid:<n>`                          | effective gid                                      |
// | `group:<name>`                     | that gid's name in group_file, when known          |
// | `supplementary-gid:<n>`            | one per id on the "Groups:" line                   |
// | `supplementary-group:<name>`       | name of each of those, when known                  |
// | `path:<path>`                      | readlink /proc/<pid>/exe (not for a deleted file)  |
// | `exe-deleted:true`                 | the executable has no link left (no path selector) |
// | `sha256:<64 hex>`                  | SHA-256 of the executable via /proc/<pid>/exe      |
// | `cgroup:<path>`                    | the primary cgroup path (see cgroup.h)             |
// | `container-id:<64 hex>`            | Docker, containerd, CRI-O or Podman container      |
// | `pod-uid:<uid>`                    | Kubernetes pod UID, dashed form                    |
// | `systemd-unit:<name.service>`      | system service owning the process                  |
// | `systemd-user-unit:<name.service>` | service of a user manager (pair it with uid:<n>)   |
// | `ima:measured:<true|false>`        | the IMA list has the executable's digest           |
// | `ima:pcr:<n>`                      | PCR (RTMR-mapped index on TDX) of each such entry  |
//
// Decisions worth knowing:
//  * Values are emitted in the table's order. Names come from the agent's passwd/group
//    files (not the container image's), re-checked at most every names_recheck_interval.
//  * sha256 is omitted (with a note) above max_exe_hash_bytes, for non-regular files, and
//    when hash_executable is off. Digests are cached by file identity (exe_hash.h).
//  * container-id/pod-uid: never for a runtime monitor (conmon). systemd-unit is only the
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
//  * A pid that names no process -> NOT_FOUND "process <pid> not found ...". A process that
//    exits, or is replaced by another with the same pid, while being read -> NOT_FOUND
//    "process <pid> exited during attestation ...". A process that calls execve meanwhile
//    (same pid and start time, new executable) -> UNAVAILABLE "... executed a new program
//    during attestation ...". pid <= 0 -> INVALID_ARGUMENT. Any other failure is
//    "process <pid>: <what failed, naming the path>" with PERMISSION_DENIED for access
//    problems, INTERNAL for unreadable or malformed files, FAILED_PRECONDITION when cgroup
//    hierarchies name different containers. Never selectors mixed from two processes.
//  * Limits: the pid comes from SO_PEERCRED when the caller connected; if that process
//    exited and its pid was reused before Attest starts, this reads the new process (the
//    start-time check covers changes during Attest only). The agent must see the workload's
//    pid namespace (hostPID for Kubernetes).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/process/exe_hash.h"
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
  std::string ima_path = "/sys/kernel/security/ima/ascii_runtime_measurements";
  bool ima_required = false;
  // When the executable has no digest (hashing off or too large), match the IMA list on the
  // executable's path instead. Weaker (it says only that some file at that path was
  // measured), hence off by default.
  bool ima_match_path = false;
  std::string passwd_file = "/etc/passwd";  // "" = no user/supplementary-group names
  std::string group_file = "/etc/group";
  // How often the two files are checked for changes (0 = on every call).
  std::chrono::milliseconds names_recheck_interval{1000};
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
  std::optional<ImaLogStats> ima_stats() const;

 private:
  explicit ProcessInspector(ProcessOptions options);

  const ProcessOptions opts_;
  ExeHashCache exe_cache_;
  IdNameFile users_;
  IdNameFile groups_;
  std::unique_ptr<ImaLog> ima_;
  std::string ima_status_;
};

}  // namespace twi::process
