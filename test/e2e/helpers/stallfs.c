// Test helper for issue 15 items 4 and 6 (workload_e2e_test): a FUSE file system with
//   /app   the bytes of <source> (mode 0755), to execute a workload from FUSE;
//   /slow  1 MiB whose reads never return, as a hostile server would do.
// Usage: twi-stallfs <source> <mountpoint>; runs in the foreground until killed.
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char* app_data;
static size_t app_size;
static const size_t kSlowSize = 1u << 20;

static int fs_getattr(const char* path, struct stat* st, struct fuse_file_info* fi) {
  (void)fi;
  memset(st, 0, sizeof(*st));
  if (strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
  } else if (strcmp(path, "/app") == 0) {
    st->st_mode = S_IFREG | 0755;
    st->st_nlink = 1;
    st->st_size = (off_t)app_size;
  } else if (strcmp(path, "/slow") == 0) {
    st->st_mode = S_IFREG | 0755;
    st->st_nlink = 1;
    st->st_size = (off_t)kSlowSize;
  } else {
    return -ENOENT;
  }
  return 0;
}

static int fs_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info* fi, enum fuse_readdir_flags flags) {
  (void)off, (void)fi, (void)flags;
  if (strcmp(path, "/") != 0) return -ENOENT;
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  fill(buf, "app", NULL, 0, 0);
  fill(buf, "slow", NULL, 0, 0);
  return 0;
}

static int fs_open(const char* path, struct fuse_file_info* fi) {
  if (strcmp(path, "/app") != 0 && strcmp(path, "/slow") != 0) return -ENOENT;
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EACCES;
  return 0;
}

static int fs_read(const char* path, char* buf, size_t size, off_t off, struct fuse_file_info* fi) {
  (void)fi;
  if (strcmp(path, "/slow") == 0) {
    for (;;) pause();  // never answers
  }
  if ((size_t)off >= app_size) return 0;
  if (size > app_size - (size_t)off) size = app_size - (size_t)off;
  memcpy(buf, app_data + off, size);
  return (int)size;
}

static const struct fuse_operations ops = {
    .getattr = fs_getattr,
    .open = fs_open,
    .read = fs_read,
    .readdir = fs_readdir,
};

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  FILE* f = fopen(argv[1], "rb");
  if (!f) return 1;
  fseek(f, 0, SEEK_END);
  app_size = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  app_data = malloc(app_size);
  if (!app_data || fread(app_data, 1, app_size, f) != app_size) return 1;
  fclose(f);
  // Multi-threaded, so a stalled /slow read does not stop /app from being served.
  char* fargs[] = {argv[0], "-f", "-o", "ro", argv[2], NULL};
  return fuse_main(5, fargs, &ops, NULL);
}
