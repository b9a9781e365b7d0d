#include "attestors/process/fs_trust.h"

#include <errno.h>
#include <sys/vfs.h>

#include "attestors/core/str.h"
#include "attestors/process/proc_io.h"

namespace twi::process {

std::string UntrustedFsName(uint64_t f_type) {
  // Magic numbers from linux/magic.h and the file systems' own headers.
  static constexpr struct {
    uint64_t magic;
    const char* name;
  } kKinds[] = {
      {0x65735546, "fuse"},        // FUSE_SUPER_MAGIC (also virtiofs, sshfs, ...)
      {0x6969, "nfs"},             // NFS_SUPER_MAGIC
      {0xFF534D42, "cifs"},        // CIFS_SUPER_MAGIC
      {0xFE534D42, "smb2"},        // SMB2_SUPER_MAGIC
      {0x517B, "smb"},             // SMB_SUPER_MAGIC
      {0x01021997, "9p"},          // V9FS_MAGIC
      {0x00C36400, "ceph"},        // CEPH_SUPER_MAGIC
      {0x5346414F, "afs"},         // AFS_SUPER_MAGIC
      {0x6B414653, "afs"},         // AFS_FS_MAGIC (kAFS)
      {0x73757245, "coda"},        // CODA_SUPER_MAGIC
      {0x13661366, "orangefs"},    // ORANGEFS_DEVREQ_MAGIC
      {0x0BD00BD0, "lustre"},      // LL_SUPER_MAGIC
      {0x47504653, "gpfs"},        // GPFS
      {0x01161970, "gfs2"},        // GFS2_MAGIC
      {0x7461636f, "ocfs2"},       // OCFS2_SUPER_MAGIC
  };
  for (const auto& k : kKinds) {
    if (k.magic == f_type) return k.name;
  }
  return "";
}

absl::StatusOr<uint64_t> FsTypeOfFd(int fd, const std::string& display) {
  struct statfs s;
  if (::fstatfs(fd, &s) != 0) return ErrnoStatus(errno, twi::StrCat("cannot statfs ", display));
  return static_cast<uint64_t>(s.f_type);
}

}  // namespace twi::process
