// File systems whose content the agent cannot pin (issue 15, item 4).
//
// The digest cache (exe_hash.h) keys on (dev, inode, size, mtime, ctime) and relies on a
// running executable being unwritable. FUSE (with allow_other, or virtiofs), NFS, CIFS/SMB,
// 9p, Ceph, AFS and similar file systems answer from a server or a user process: they can
// keep those attributes while changing the bytes, or serve the agent's read different bytes
// from those the kernel mapped for execution. On them the attestor neither caches nor emits
// sha256 and says why with `sha256-omitted:<fs>`; IMA is not consulted either.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace twi::process {

// The short name ("fuse", "nfs", ...) when `f_type` (statfs(2)) is such a file system,
// else "".
std::string UntrustedFsName(uint64_t f_type);

// fstatfs(fd).f_type; errors name `display`.
absl::StatusOr<uint64_t> FsTypeOfFd(int fd, const std::string& display);

// The seam tests replace (a fake FUSE answer where /dev/fuse is missing).
using FsTypeFn = std::function<absl::StatusOr<uint64_t>(int fd, const std::string& display)>;

}  // namespace twi::process
