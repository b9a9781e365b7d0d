// The executable digest cache: keyed by file identity, LRU-bounded, counted.
#include "attestors/process/exe_hash.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "attestors/process/proc_io.h"
#include "test/process/process_test_util.h"

namespace twi::process {
namespace {

using testing::TempDir;
using testing::WriteFile;

struct Opened {
  UniqueFd fd;
  struct stat st {};
};

Opened Open(const std::string& path) {
  Opened o;
  o.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ::fstat(o.fd.get(), &o.st);
  return o;
}

TEST(process_exe_cache, KnownAnswer) {
  TempDir dir;
  WriteFile(dir / "abc", "abc");
  Opened f = Open(dir / "abc");
  auto d = HashFd(f.fd.get(), f.st.st_size, true, "abc");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(HexEncode(d->sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(d->sha1), "a9993e364706816aba3e25717850c26c9cd0d89d");
  auto no_sha1 = HashFd(f.fd.get(), f.st.st_size, false, "abc");
  EXPECT_TRUE(no_sha1->sha1.empty());
}

TEST(process_exe_cache, LargerThanOneBuffer) {
  TempDir dir;
  std::string big(700 * 1024 + 13, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + 7);
  WriteFile(dir / "big", big);
  Opened f = Open(dir / "big");
  auto d = HashFd(f.fd.get(), f.st.st_size, false, "big");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->sha256, Sha256(AsBytes(big)));
}

TEST(process_exe_cache, ShortFileIsAnError) {
  TempDir dir;
  WriteFile(dir / "f", "0123456789");
  Opened f = Open(dir / "f");
  auto d = HashFd(f.fd.get(), 20, false, "/x/f");
  ASSERT_EQ(d.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(d.status().message()), "/x/f ended at byte 10 while hashing, want 20");
}

TEST(process_exe_cache, HitsMissesAndIdentity) {
  TempDir dir;
  WriteFile(dir / "a", "first content");
  ExeHashCache cache(8);
  {
    Opened f = Open(dir / "a");
    auto d1 = cache.Get(f.fd.get(), f.st, false, "a");
    auto d2 = cache.Get(f.fd.get(), f.st, false, "a");
    ASSERT_TRUE(d1.ok() && d2.ok());
    EXPECT_EQ(d1->sha256, d2->sha256);
    EXPECT_EQ(cache.stats().misses, 1u);
    EXPECT_EQ(cache.stats().hits, 1u);
    // Asking for SHA-1 too recomputes once, then hits.
    auto d3 = cache.Get(f.fd.get(), f.st, true, "a");
    EXPECT_FALSE(d3->sha1.empty());
    EXPECT_EQ(cache.stats().misses, 2u);
    EXPECT_EQ(cache.stats().entries, 1u);
    EXPECT_TRUE(cache.Get(f.fd.get(), f.st, true, "a").ok());
    EXPECT_EQ(cache.stats().hits, 2u);
  }
  // Same inode, same size, rewritten: ctime moves, so the identity differs.
  ::usleep(20000);
  WriteFile(dir / "a", "other content");
  Opened g = Open(dir / "a");
  auto d4 = cache.Get(g.fd.get(), g.st, false, "a");
  EXPECT_EQ(d4->sha256, Sha256(AsBytes("other content")));
  EXPECT_EQ(cache.stats().misses, 3u);
  EXPECT_EQ(cache.stats().bytes_hashed, 13u * 3);
}

TEST(process_exe_cache, MtimeSetBackStillMisses) {
  // An owner can restore mtime with utimensat; ctime still changes.
  TempDir dir;
  WriteFile(dir / "a", "aaaa");
  ExeHashCache cache(8);
  Opened f = Open(dir / "a");
  ASSERT_TRUE(cache.Get(f.fd.get(), f.st, false, "a").ok());
  ::usleep(20000);
  WriteFile(dir / "a", "bbbb");
  struct timespec times[2] = {f.st.st_atim, f.st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir / "a").c_str(), times, 0), 0);
  Opened g = Open(dir / "a");
  ASSERT_EQ(g.st.st_mtim.tv_nsec, f.st.st_mtim.tv_nsec);
  auto d = cache.Get(g.fd.get(), g.st, false, "a");
  EXPECT_EQ(d->sha256, Sha256(AsBytes("bbbb")));
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(process_exe_cache, LruEviction) {
  TempDir dir;
  ExeHashCache cache(2);
  std::vector<Opened> files;
  for (int i = 0; i < 3; ++i) {
    WriteFile(dir / std::to_string(i), "file " + std::to_string(i));
    files.push_back(Open(dir / std::to_string(i)));
  }
  auto get = [&](int i) { return cache.Get(files[i].fd.get(), files[i].st, false, "f").ok(); };
  ASSERT_TRUE(get(0) && get(1));
  ASSERT_TRUE(get(0));  // 0 is now most recent
  ASSERT_TRUE(get(2));  // evicts 1
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.stats().entries, 2u);
  ASSERT_TRUE(get(0));
  EXPECT_EQ(cache.stats().hits, 2u);
  ASSERT_TRUE(get(1));  // miss again
  EXPECT_EQ(cache.stats().misses, 4u);
  cache.Clear();
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(process_exe_cache, ConcurrentGets) {
  TempDir dir;
  WriteFile(dir / "a", std::string(100000, 'x'));
  ExeHashCache cache(4);
  Opened f = Open(dir / "a");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (cache.Get(f.fd.get(), f.st, false, "a").ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
  EXPECT_EQ(cache.stats().hits + cache.stats().misses, 400u);
  EXPECT_EQ(cache.stats().entries, 1u);
}

}  // namespace
}  // namespace twi::process
