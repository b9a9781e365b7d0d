// Digests of executables, cached by file identity.
//
// The key is (device, inode, size, mtime, ctime) from fstat on the file descriptor that is
// hashed, never from a path, so the cached digest always belongs to the bytes that were
// read. mtime alone can be set back by the owner (utimensat); ctime cannot be chosen and
// changes with every write, chmod, rename or link, so a changed file misses the cache.
// A running executable cannot be written (ETXTBSY), which is why a digest stays valid while
// the process runs. Limits: timestamps have the file system's granularity, and a file system
// that lies about them (FUSE/network file systems) defeats the key, which is why the
// inspector never hashes files on them (fs_trust.h).
//
// Thread-safe. Two threads missing on the same file both hash it (no in-flight dedup: a
// miss is rare and hashing is bounded by max_exe_hash_bytes).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"

namespace twi::process {

struct FileIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  static FileIdentity FromStat(const struct stat& st);
  bool operator==(const FileIdentity&) const = default;
};

struct ExeDigests {
  Bytes sha256;
  Bytes sha1;  // computed only when asked for (IMA lists using the 'ima' template)
};

struct ExeCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;  // digests computed
  uint64_t evictions = 0;
  uint64_t bytes_hashed = 0;
  size_t entries = 0;
};

// Hashes exactly `size` bytes of `fd` from offset 0 (SHA-256, and SHA-1 when `want_sha1`)
// with pread, so threads may share `fd`; a pipe is read sequentially (tests use one as a
// read that never returns).
// Fails when the file is shorter than `size`. `display` names the file in errors.
absl::StatusOr<ExeDigests> HashFd(int fd, int64_t size, bool want_sha1, std::string_view display);

// How a cache miss is hashed: HashFd by default, HashGuard::Hash in the inspector.
using HashFn = std::function<absl::StatusOr<ExeDigests>(int fd, int64_t size, bool want_sha1)>;

class ExeHashCache {
 public:
  explicit ExeHashCache(size_t max_entries);

  // The digests of the open file `fd`, whose fstat is `st`: from the cache when an entry
  // with the same identity exists (and has SHA-1 when `want_sha1`), else hashed and cached.
  // The file is fstat-ed again after hashing; if its identity changed meanwhile the result
  // is not cached and UNAVAILABLE is returned.
  absl::StatusOr<ExeDigests> Get(int fd, const struct stat& st, bool want_sha1,
                                 std::string_view display, const HashFn& hash = nullptr);

  ExeCacheStats stats() const;
  void Clear();

 private:
  struct IdentityHash {
    size_t operator()(const FileIdentity& k) const;
  };
  struct Entry {
    FileIdentity key;
    ExeDigests digests;
  };

  const size_t max_entries_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<FileIdentity, std::list<Entry>::iterator, IdentityHash> map_;
  ExeCacheStats stats_;
};

}  // namespace twi::process
