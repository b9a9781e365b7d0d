#include "attestors/process/inspector.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_join.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/process/cgroup.h"
#include "attestors/process/proc_io.h"
#include "attestors/process/proc_parse.h"
#include "attestors/process/utf8.h"

namespace twi::process {
namespace {

// Zombie (exited, not reaped) or dead: /proc still lists the pid, but the process is gone.
// An exiting process (PF_EXITING) has already released its memory and executable link.
bool Dead(const ProcStat& st) {
  return st.state == 'Z' || st.state == 'X' || (st.flags & kPfExiting) != 0;
}


constexpr size_t kMaxProcFile = 64u << 10;

// Reads the files of one /proc/<pid> directory through one directory fd and tells a
// process that went away apart from a file that is really missing.
class ProcDir {
 public:
  ProcDir(int pid, std::string dir, UniqueFd fd)
      : pid_(pid), dir_(std::move(dir)), fd_(std::move(fd)) {}

  int fd() const { return fd_.get(); }
  std::string PathOf(std::string_view name) const { return twi::StrCat(dir_, "/", name); }

  absl::StatusOr<ProcStat> ReadStat() const {
    auto text = ReadFileAt(fd(), "stat", PathOf("stat"), kMaxProcFile, nullptr, true);
    if (!text.ok()) return text.status();
    return ParseStat(*text);
  }

  // The first read keeps the fd open; Recheck() re-reads it with pread at offset 0, which
  // makes the kernel render it afresh (and fail with ESRCH once the task is gone).
  absl::StatusOr<ProcStat> FirstStat() {
    int fd = ::openat(fd_.get(), "stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, twi::StrCat("cannot open ", PathOf("stat")));
    stat_fd_ = UniqueFd(fd);
    auto text = ReadAllFd(fd, PathOf("stat"), kMaxProcFile, nullptr, true);
    if (!text.ok()) return text.status();
    return ParseStat(*text);
  }
  absl::StatusOr<ProcStat> Recheck() const {
    char buf[4096];
    ssize_t n = ::pread(stat_fd_.get(), buf, sizeof(buf), 0);
    if (n < 0) return ErrnoStatus(errno, twi::StrCat("cannot read ", PathOf("stat")));
    if (static_cast<size_t>(n) == sizeof(buf)) return ReadStat();  // unusually long: reopen
    return ParseStat(std::string_view(buf, static_cast<size_t>(n)));
  }

  // The status to return when a read failed with `err` after the first stat read.
  absl::Status ReadFailure(const absl::Status& s, int err, uint64_t start_time) const {
    if (IsGoneErrno(err)) {
      // Reopened by name (not Recheck): also right for fixture trees whose directory was
      // removed, where the open stat file would still show the old bytes.
      auto st = ReadStat();
      if (!st.ok() || st->start_time != start_time || Dead(*st)) return Exited(s.message());
      // Alive, so the file is really missing (a broken fixture or an unusual kernel).
      return absl::InternalError(twi::StrCat("process ", pid_, ": ", s.message()));
    }
    return Error(s.code(), s.message());
  }

  // "process <pid>: <detail>" with `code`.
  absl::Status Error(absl::StatusCode code, absl::string_view detail) const {
    return absl::Status(code, twi::StrCat("process ", pid_, ": ", detail));
  }

  absl::Status Exited(absl::string_view detail) const {
    return absl::NotFoundError(
        twi::StrCat("process ", pid_, " exited during attestation (", detail, ")"));
  }

  absl::StatusOr<ProcStat> ParseStat(std::string_view text) const {
    auto st = ParseProcStat(text);
    if (!st.ok()) {
      return absl::InternalError(
          twi::StrCat("malformed ", PathOf("stat"), ": ", st.status().message()));
    }
    if (st->pid != pid_) {
      return absl::InternalError(
          twi::StrCat(PathOf("stat"), " names pid ", st->pid, ", want ", pid_));
    }
    return st;
  }

  absl::StatusOr<std::string> Read(const char* name, uint64_t start_time) const {
    int err = 0;
    auto text = ReadFileAt(fd(), name, PathOf(name), kMaxProcFile, &err, true);
    if (!text.ok()) return ReadFailure(text.status(), err, start_time);
    return text;
  }

 private:
  const int pid_;
  const std::string dir_;
  UniqueFd fd_;
  UniqueFd stat_fd_;
};

// What we learned about the executable.
struct ExeInfo {
  bool present = false;  // false for kernel threads
  std::string path;      // link text, " (deleted)" removed when deleted
  bool deleted = false;
  struct stat st {};
  std::string untrusted_fs;  // "fuse", "nfs", ...: no digest (fs_trust.h)
  bool foreign_mnt_ns = false;
  uint64_t mnt_ns_ino = 0;
  std::optional<ExeDigests> digests;
};

// Keeps the selectors whose values are valid UTF-8 (protobuf strings must be) and notes the
// others, with their bytes escaped.
void DropInvalidUtf8(int pid, std::vector<std::string>& sel, std::vector<std::string>& notes) {
  std::vector<std::string> kept;
  kept.reserve(sel.size());
  for (std::string& v : sel) {
    if (IsValidUtf8(v)) {
      kept.push_back(std::move(v));
    } else {
      notes.push_back(twi::StrCat("selector of process ", pid, " left out, not valid UTF-8: ",
                                  EscapeBytes(v, 200)));
    }
  }
  sel = std::move(kept);
}

// Emits `name:<id>` when the four ids (real, effective, saved, fs) agree, else each of the
// first three under its own kind; returns whether they agreed.
bool AddIds(const char* name, const uint32_t (&ids)[4], std::vector<std::string>& sel) {
  if (ids[0] == ids[1] && ids[1] == ids[2] && ids[2] == ids[3]) {
    sel.push_back(twi::StrCat(name, ":", ids[1]));
    return true;
  }
  sel.push_back(twi::StrCat("real-", name, ":", ids[0]));
  sel.push_back(twi::StrCat("effective-", name, ":", ids[1]));
  sel.push_back(twi::StrCat("saved-", name, ":", ids[2]));
  return false;
}

std::string JoinPcrs(const std::vector<int>& pcrs) { return absl::StrJoin(pcrs, ","); }

}  // namespace

ProcessInspector::ProcessInspector(ProcessOptions options)
    : opts_(std::move(options)),
      exe_cache_(opts_.exe_cache_entries),
      users_(opts_.passwd_file, opts_.names_recheck_interval),
      groups_(opts_.group_file, opts_.names_recheck_interval),
      hash_guard_(opts_.hash_limits) {}

absl::StatusOr<std::unique_ptr<ProcessInspector>> ProcessInspector::Create(ProcessOptions options) {
  std::vector<std::string> problems;
  if (options.proc_root.empty()) problems.push_back("proc_root is empty");
  if (options.hash_executable && options.max_exe_hash_bytes == 0) {
    problems.push_back("max_exe_hash_bytes is 0 while hash_executable is set");
  }
  if (options.exe_cache_entries == 0) problems.push_back("exe_cache_entries is 0");
  if (options.exe_integrity_recheck_interval.count() < 0) {
    problems.push_back("exe_integrity_recheck_interval is negative");
  }
  if (options.names_recheck_interval.count() < 0) {
    problems.push_back("names_recheck_interval is negative");
  }
  if (options.hash_limits.max_concurrent < 1) problems.push_back("max_concurrent_hashes is below 1");
  if (options.hash_limits.timeout.count() <= 0) problems.push_back("hash timeout is not positive");
  if (options.hash_limits.budget_window.count() <= 0) {
    problems.push_back("hash budget window is not positive");
  }
  if (options.ima_required && options.ima_path.empty()) {
    problems.push_back("ima_required is set but ima_path is empty");
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(
        twi::StrCat("invalid process options: ", absl::StrJoin(problems, "; ")));
  }
  std::unique_ptr<ProcessInspector> p(new ProcessInspector(std::move(options)));
  // Unknown (unreadable) means every process counts as foreign: no path selectors.
  p->agent_mnt_ns_known_ = ::stat(p->opts_.agent_mnt_ns.c_str(), &p->agent_mnt_ns_) == 0;
  if (!p->opts_.ima_path.empty()) {
    auto log = ImaLog::Open(p->opts_.ima_path);
    if (log.ok()) {
      p->ima_ = *std::move(log);
    } else if (p->opts_.ima_required) {
      return log.status();
    } else {
      p->ima_status_ = twi::StrCat(log.status().message(), ": ima selectors are off");
    }
  }
  return p;
}

std::optional<ImaLogStats> ProcessInspector::ima_stats() const {
  if (!ima_) return std::nullopt;
  return ima_->stats();
}

ExeIntegrity ProcessInspector::exe_integrity() {
  std::lock_guard<std::mutex> l(integrity_mu_);
  auto now = std::chrono::steady_clock::now();
  if (!integrity_known_ || now - integrity_read_ >= opts_.exe_integrity_recheck_interval) {
    // Three tiny sysctl reads, but on every Workload API call they add up.
    integrity_ = ReadExeIntegrity(opts_.proc_sys_root);
    integrity_read_ = now;
    integrity_known_ = true;
  }
  return integrity_;
}

absl::StatusOr<std::vector<std::string>> ProcessInspector::Selectors(int pid) {
  TWI_ASSIGN_OR_RETURN(ProcessAttestation a, Attest(pid));
  return std::move(a.selectors);
}

absl::StatusOr<ProcessAttestation> ProcessInspector::Attest(int pid) {
  if (pid <= 0) {
    return absl::InvalidArgumentError(twi::StrCat("pid must be positive, got ", pid));
  }
  std::string dir = twi::StrCat(opts_.proc_root, "/", pid);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    int err = errno;
    if (IsGoneErrno(err)) {
      return absl::NotFoundError(twi::StrCat("process ", pid, " not found (no ", dir, ")"));
    }
    return ErrnoStatus(err, twi::StrCat("process ", pid, ": cannot open ", dir));
  }
  ProcDir proc(pid, dir, UniqueFd(dfd));

  // 1. Identity of the process instance: (pid, start time).
  auto first = proc.FirstStat();
  if (!first.ok()) {
    if (absl::IsNotFound(first.status())) {
      return absl::NotFoundError(
          twi::StrCat("process ", pid, " not found (", first.status().message(), ")"));
    }
    return Annotate(first.status(), twi::StrCat("process ", pid));
  }
  const uint64_t start_time = first->start_time;
  if (first->state == 'Z' || first->state == 'X') {
    return absl::NotFoundError(twi::StrCat("process ", pid, " has exited (state ",
                                           std::string(1, first->state), " in ",
                                           proc.PathOf("stat"), ")"));
  }
  ProcessAttestation out;

  // 2. The executable: open first, then readlink, and compare the file again at the end,
  // so a concurrent execve cannot pair one program's path with another's digest.
  ExeInfo exe;
  UniqueFd exe_fd;
  {
    int fd = ::openat(proc.fd(), "exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      absl::Status s = ErrnoStatus(err, twi::StrCat("cannot open ", proc.PathOf("exe")));
      if (!IsGoneErrno(err)) return proc.ReadFailure(s, err, start_time);
      // ENOENT with the process alive: a kernel thread, which has no executable.
      auto again = proc.ReadStat();
      // Only kernel threads have no executable; a user process without one is exiting (or a
      // zombie) and must not be reported with a partial set of selectors.
      if (!again.ok() || again->start_time != start_time || Dead(*again) ||
          (again->flags & kPfKthread) == 0) {
        return proc.Exited(s.message());
      }
      out.notes.push_back(twi::StrCat("process ", pid, " has no executable (kernel thread)"));
    } else {
      exe_fd = UniqueFd(fd);
      exe.present = true;
      if (::fstat(fd, &exe.st) != 0) {
        return Annotate(ErrnoStatus(errno, twi::StrCat("cannot stat ", proc.PathOf("exe"))),
                        twi::StrCat("process ", pid));
      }
      int err = 0;
      auto link = ReadLinkAt(proc.fd(), "exe", proc.PathOf("exe"), &err);
      if (!link.ok()) return proc.ReadFailure(link.status(), err, start_time);
      bool had_suffix = false;
      std::string_view stripped = StripDeletedSuffix(*link, &had_suffix);
      // Link count 0 is what makes it deleted; the suffix alone could be part of a name.
      exe.deleted = exe.st.st_nlink == 0;
      exe.path = std::string(exe.deleted ? stripped : std::string_view(*link));
      auto fs = opts_.fs_type ? opts_.fs_type(fd, proc.PathOf("exe"))
                              : FsTypeOfFd(fd, proc.PathOf("exe"));
      if (!fs.ok()) return Annotate(fs.status(), twi::StrCat("process ", pid));
      exe.untrusted_fs = UntrustedFsName(*fs);
    }
    // Which mount namespace resolved that path (stat follows the ns link to its nsfs inode).
    struct stat ns {};
    if (::fstatat(proc.fd(), "ns/mnt", &ns, 0) != 0) {
      int err = errno;
      absl::Status s = ErrnoStatus(err, twi::StrCat("cannot stat ", proc.PathOf("ns/mnt")));
      if (IsGoneErrno(err)) return proc.ReadFailure(s, err, start_time);
      exe.foreign_mnt_ns = true;  // unreadable: cannot tell, so treat as foreign
      out.notes.push_back(twi::StrCat(s.message(), ": no path selector"));
    } else {
      exe.mnt_ns_ino = static_cast<uint64_t>(ns.st_ino);
      exe.foreign_mnt_ns = !agent_mnt_ns_known_ || ns.st_dev != agent_mnt_ns_.st_dev ||
                           ns.st_ino != agent_mnt_ns_.st_ino;
      if (exe.foreign_mnt_ns && exe.present) {
        out.notes.push_back(twi::StrCat("process ", pid, " is in another mount namespace (",
                                        agent_mnt_ns_known_ ? "" : "the agent's is unknown, ",
                                        "inode ", exe.mnt_ns_ino, "): mnt-ns-path, no path"));
      }
    }
  }

  // 3. Credentials and cgroups.
  TWI_ASSIGN_OR_RETURN(std::string status_text, proc.Read("status", start_time));
  auto status = ParseProcStatus(status_text);
  if (!status.ok()) {
    return proc.Error(absl::StatusCode::kInternal, twi::StrCat("malformed ", proc.PathOf("status"),
                                                               ": ", status.status().message()));
  }
  TWI_ASSIGN_OR_RETURN(std::string cgroup_text, proc.Read("cgroup", start_time));
  auto cgroup_lines = ParseCgroupFile(cgroup_text);
  if (!cgroup_lines.ok()) {
    return proc.Error(
        absl::StatusCode::kInternal,
        twi::StrCat("malformed ", proc.PathOf("cgroup"), ": ", cgroup_lines.status().message()));
  }
  auto cgroup = AnalyzeCgroups(*cgroup_lines);
  if (!cgroup.ok()) {
    return proc.Error(cgroup.status().code(),
                      twi::StrCat(proc.PathOf("cgroup"), ": ", cgroup.status().message()));
  }

  // 4. Digest of the executable, through the fd opened above.
  const bool want_sha1 = ima_ != nullptr && ima_->has_sha1_digests();
  if (exe.present && opts_.hash_executable) {
    if (!S_ISREG(exe.st.st_mode)) {
      out.notes.push_back(twi::StrCat("executable ", exe.path, " of process ", pid,
                                      " is not a regular file: no sha256 selector"));
    } else if (static_cast<uint64_t>(exe.st.st_size) > opts_.max_exe_hash_bytes) {
      out.notes.push_back(twi::StrCat("executable ", exe.path, " of process ", pid, " is ",
                                      exe.st.st_size, " bytes, above max_exe_hash_bytes ",
                                      opts_.max_exe_hash_bytes, ": no sha256 selector"));
    } else if (!exe.untrusted_fs.empty()) {
      out.notes.push_back(twi::StrCat("executable ", exe.path, " of process ", pid, " is on ",
                                      exe.untrusted_fs,
                                      ", whose content the agent cannot pin: no sha256 selector"));
    } else {
      std::string display = twi::StrCat(proc.PathOf("exe"), " (", exe.path, ")");
      const uint32_t owner = status->uid[0];  // the real uid pays for its misses
      auto d = exe_cache_.Get(exe_fd.get(), exe.st, want_sha1, display,
                              [&](int fd, int64_t size, bool sha1) {
                                return hash_guard_.Hash(owner, fd, size, sha1, display);
                              });
      if (!d.ok()) return Annotate(d.status(), twi::StrCat("process ", pid));
      exe.digests = *std::move(d);
    }
  }

  // 5. IMA.
  std::optional<ImaResult> ima;
  if (ima_ && exe.present && !exe.untrusted_fs.empty()) {
    out.notes.push_back(twi::StrCat("executable on ", exe.untrusted_fs, ": no ima selectors"));
  } else if (ima_ && exe.present) {
    ImaQuery q;
    if (exe.digests) {
      q.sha256 = exe.digests->sha256;
      q.sha1 = exe.digests->sha1;
    }
    // A path from another mount namespace names some file there, not the measured one.
    if (!exe.deleted && !exe.foreign_mnt_ns) q.path = exe.path;
    if (exe.digests || opts_.ima_match_path) {
      auto r = ima_->Lookup(q, opts_.ima_match_path);
      if (!r.ok()) return Annotate(r.status(), twi::StrCat("process ", pid, ": ima"));
      if (!r->note.empty()) out.notes.push_back(r->note);
      ima = *std::move(r);
    } else {
      out.notes.push_back("no executable digest to look up in the ima list: no ima selectors");
    }
  }

  // 6. Same process instance, same executable? Otherwise nothing read above can be trusted.
  if (opts_.before_recheck) opts_.before_recheck(pid);
  if (exe.present) {
    // stat() through the magic link reaches the same inode open() would, in one syscall.
    struct stat now {};
    if (::fstatat(proc.fd(), "exe", &now, 0) != 0) {
      int err = errno;
      // The link existed when we opened it; a user process loses it only while exiting (its
      // memory is released before /proc shows it as a zombie).
      absl::Status s = ErrnoStatus(err, twi::StrCat("cannot stat ", proc.PathOf("exe")));
      if (IsGoneErrno(err)) return proc.Exited(s.message());
      return proc.ReadFailure(s, err, start_time);
    }
    if (now.st_dev != exe.st.st_dev || now.st_ino != exe.st.st_ino) {
      return absl::UnavailableError(twi::StrCat("process ", pid,
                                                " executed a new program during attestation (",
                                                proc.PathOf("exe"), " changed); retry"));
    }
  }
  auto second = proc.Recheck();
  if (!second.ok()) {
    if (absl::IsNotFound(second.status())) return proc.Exited(second.status().message());
    return Annotate(second.status(), twi::StrCat("process ", pid));
  }
  if (second->start_time != start_time) {
    return proc.Exited(
        twi::StrCat("start time changed from ", start_time, " to ", second->start_time));
  }
  if (Dead(*second)) return proc.Exited(twi::StrCat("state ", std::string(1, second->state)));

  // 7. Selectors, in a fixed order.
  std::vector<std::string>& sel = out.selectors;
  std::string users_note, groups_note;
  auto users = users_.Current(&users_note);
  auto groups = groups_.Current(&groups_note);
  if (!users_note.empty()) out.notes.push_back(users_note + ": no user selector");
  if (!groups_note.empty()) out.notes.push_back(groups_note + ": no group selectors");
  auto name_of = [](const IdNameMap& m, uint32_t id) -> const std::string* {
    auto it = m.find(id);
    return it == m.end() ? nullptr : &it->second;
  };
  if (AddIds("uid", status->uid, sel)) {
    if (const std::string* n = name_of(*users, status->uid[1])) sel.push_back("user:" + *n);
  } else {
    out.notes.push_back(twi::StrCat("uids of process ", pid,
                                    " differ (real, effective, saved, fs): no uid selector"));
  }
  if (AddIds("gid", status->gid, sel)) {
    if (const std::string* n = name_of(*groups, status->gid[1])) sel.push_back("group:" + *n);
  } else {
    out.notes.push_back(twi::StrCat("gids of process ", pid,
                                    " differ (real, effective, saved, fs): no gid selector"));
  }
  for (uint32_t g : status->groups) sel.push_back(twi::StrCat("supplementary-gid:", g));
  for (uint32_t g : status->groups) {
    if (const std::string* n = name_of(*groups, g)) {
      sel.push_back(twi::StrCat("supplementary-group:", *n));
    }
  }
  if (exe.present) {
    if (exe.deleted) {
      sel.push_back("exe-deleted:true");
      out.notes.push_back(twi::StrCat("executable of process ", pid, " was deleted (was ", exe.path,
                                      "): no path selector"));
    } else if (exe.foreign_mnt_ns) {
      sel.push_back(twi::StrCat("mnt-ns-path:", exe.mnt_ns_ino, ":", exe.path));
    } else {
      sel.push_back(twi::StrCat("path:", exe.path));
    }
    if (exe.digests) sel.push_back(twi::StrCat("sha256:", HexEncode(exe.digests->sha256)));
    if (!exe.untrusted_fs.empty()) sel.push_back("sha256-omitted:" + exe.untrusted_fs);
    sel.push_back(exe_integrity().strong ? "exe-integrity:strong" : "exe-integrity:weak");
  }
  sel.push_back(twi::StrCat("cgroup:", cgroup->path));
  if (!cgroup->container_id.empty()) sel.push_back("container-id:" + cgroup->container_id);
  if (!cgroup->pod_uid.empty()) sel.push_back("pod-uid:" + cgroup->pod_uid);
  if (!cgroup->rootless_container_id.empty()) {
    sel.push_back(twi::StrCat("rootless-container-id:", cgroup->rootless_uid, ":",
                              cgroup->rootless_container_id));
  }
  if (!cgroup->systemd_unit.empty()) sel.push_back("systemd-unit:" + cgroup->systemd_unit);
  if (!cgroup->systemd_user_unit.empty()) {
    sel.push_back("systemd-user-unit:" + cgroup->systemd_user_unit);
  }
  if (ima) {
    sel.push_back(ima->measured ? "ima:measured:true" : "ima:measured:false");
    for (int pcr : ima->pcrs) sel.push_back(twi::StrCat("ima:pcr:", pcr));
    if (ima->by_path) {
      out.notes.push_back(twi::StrCat("ima match for process ", pid, " is by path ", exe.path,
                                      " only (pcrs ", JoinPcrs(ima->pcrs), ")"));
    }
  }
  DropInvalidUtf8(pid, sel, out.notes);
  return out;
}

}  // namespace twi::process
