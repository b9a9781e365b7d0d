#include "attestors/process/exe_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "attestors/core/crypto.h"
#include "attestors/core/str.h"
#include "attestors/process/proc_io.h"

namespace twi::process {
namespace {

int64_t Ns(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

absl::Status DigestInit(EvpMdCtxPtr& ctx, const EVP_MD* md) {
  ctx.reset(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    return OpenSslError("cannot start digest");
  }
  return absl::OkStatus();
}

absl::StatusOr<Bytes> DigestFinal(EVP_MD_CTX* ctx) {
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out, &len) != 1) return OpenSslError("cannot finish digest");
  return Bytes(out, out + len);
}

}  // namespace

FileIdentity FileIdentity::FromStat(const struct stat& st) {
  FileIdentity k;
  k.dev = static_cast<uint64_t>(st.st_dev);
  k.ino = static_cast<uint64_t>(st.st_ino);
  k.size = static_cast<int64_t>(st.st_size);
  k.mtime_ns = Ns(st.st_mtim);
  k.ctime_ns = Ns(st.st_ctim);
  return k;
}

size_t ExeHashCache::IdentityHash::operator()(const FileIdentity& k) const {
  // Boost-style mixing; the key fields are already well spread.
  size_t h = std::hash<uint64_t>()(k.ino);
  for (uint64_t v : {k.dev, static_cast<uint64_t>(k.size), static_cast<uint64_t>(k.mtime_ns),
                     static_cast<uint64_t>(k.ctime_ns)}) {
    h ^= std::hash<uint64_t>()(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return h;
}

absl::StatusOr<ExeDigests> HashFd(int fd, int64_t size, bool want_sha1, std::string_view display) {
  EvpMdCtxPtr sha256, sha1;
  absl::Status s = DigestInit(sha256, EVP_sha256());
  if (!s.ok()) return s;
  if (want_sha1) {
    s = DigestInit(sha1, EVP_sha1());
    if (!s.ok()) return s;
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  // pread: callers may share the fd between threads. A non-seekable fd (ESPIPE: a pipe,
  // which tests use as a read that never returns) is read sequentially instead.
  bool seekable = true;
  // 256 KiB: large enough that syscall cost is noise next to SHA-256 throughput.
  constexpr size_t kBuf = 256 << 10;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[kBuf]);
  int64_t off = 0;
  while (off < size) {
    size_t want = static_cast<size_t>(std::min<int64_t>(size - off, kBuf));
    ssize_t n = seekable ? ::pread(fd, buf.get(), want, off) : ::read(fd, buf.get(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ESPIPE && seekable && off == 0) {
        seekable = false;
        continue;
      }
      return ErrnoStatus(errno, twi::StrCat("cannot read ", display));
    }
    if (n == 0) {
      return absl::UnavailableError(
          twi::StrCat(display, " ended at byte ", off, " while hashing, want ", size));
    }
    if (EVP_DigestUpdate(sha256.get(), buf.get(), static_cast<size_t>(n)) != 1 ||
        (sha1 && EVP_DigestUpdate(sha1.get(), buf.get(), static_cast<size_t>(n)) != 1)) {
      return OpenSslError("cannot update digest");
    }
    off += n;
  }
  ExeDigests d;
  auto d256 = DigestFinal(sha256.get());
  if (!d256.ok()) return d256.status();
  d.sha256 = *std::move(d256);
  if (sha1) {
    auto d1 = DigestFinal(sha1.get());
    if (!d1.ok()) return d1.status();
    d.sha1 = *std::move(d1);
  }
  return d;
}

ExeHashCache::ExeHashCache(size_t max_entries) : max_entries_(max_entries ? max_entries : 1) {}

absl::StatusOr<ExeDigests> ExeHashCache::Get(int fd, const struct stat& st, bool want_sha1,
                                             std::string_view display, const HashFn& hash) {
  const FileIdentity key = FileIdentity::FromStat(st);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it != map_.end() && (!want_sha1 || !it->second->digests.sha1.empty())) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++stats_.hits;
      return it->second->digests;
    }
  }
  // Hash outside the lock: other workloads must not wait behind a large file.
  auto digests = hash ? hash(fd, key.size, want_sha1) : HashFd(fd, key.size, want_sha1, display);
  if (!digests.ok()) return digests.status();
  struct stat after;
  if (::fstat(fd, &after) != 0) return ErrnoStatus(errno, twi::StrCat("cannot stat ", display));
  if (!(FileIdentity::FromStat(after) == key)) {
    return absl::UnavailableError(twi::StrCat(display, " changed while it was being hashed"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.misses;
  stats_.bytes_hashed += static_cast<uint64_t>(key.size);
  auto it = map_.find(key);
  if (it != map_.end()) {
    it->second->digests = *digests;
    lru_.splice(lru_.begin(), lru_, it->second);
  } else {
    lru_.push_front(Entry{key, *digests});
    map_[key] = lru_.begin();
    while (map_.size() > max_entries_) {
      map_.erase(lru_.back().key);
      lru_.pop_back();
      ++stats_.evictions;
    }
  }
  return digests;
}

ExeCacheStats ExeHashCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  ExeCacheStats s = stats_;
  s.entries = map_.size();
  return s;
}

void ExeHashCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  map_.clear();
  lru_.clear();
}

}  // namespace twi::process
