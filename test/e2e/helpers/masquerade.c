// Test helper for issue 15 item 1 (workload_e2e_test): makes /proc/self/exe name a binary this process never
// ran, as an unprivileged process can: drop to an unprivileged uid, create a user
// namespace (which grants CAP_CHECKPOINT_RESTORE there), unmap every mapping of its own
// executable (the kernel refuses to replace a still-mapped exe) and call
// prctl(PR_SET_MM, PR_SET_MM_MAP) with exe_fd set to the target file.
// Usage: twi-masquerade <uid> <target>. Prints "ok\n" (or "err <errno>\n") on stdout and
// then sleeps until killed. x86_64 only (raw syscalls once its own code is unmapped).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/prctl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)

#define MAX_RANGES 16

struct args {
  uint64_t starts[MAX_RANGES];
  uint64_t lens[MAX_RANGES];
  int n;
  struct prctl_mm_map map;
};

__attribute__((always_inline)) static inline long raw3(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}
__attribute__((always_inline)) static inline long raw5(long nr, long a, long b, long c, long d,
                                                         long e) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                   : "rcx", "r11", "memory");
  return ret;
}

// No sanitizer, coverage or stack-protector hooks: they would call into the unmapped executable.
#if defined(__clang__)
#define NO_HOOKS no_stack_protector, no_sanitize("address", "undefined", "coverage")
#else
#define NO_HOOKS optimize("no-stack-protector"), no_sanitize_address, no_sanitize_undefined
#endif

// Copied to anonymous memory and run from there: touches nothing of the executable.
__attribute__((section("twi_mq_code"), noinline, noreturn, NO_HOOKS)) void Payload(struct args* a) {
  for (int i = 0; i < a->n; ++i) raw3(SYS_munmap, (long)a->starts[i], (long)a->lens[i], 0);
  long r = raw5(SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)&a->map, sizeof(a->map), 0);
  // volatile: each byte is stored by an instruction here, never copied from .rodata (which
  // belongs to the unmapped executable).
  volatile char msg[16];
  int k = 0;
  if (r == 0) {
    msg[k++] = 'o'; msg[k++] = 'k';
  } else {
    long e = -r;
    msg[k++] = 'e'; msg[k++] = 'r'; msg[k++] = 'r'; msg[k++] = ' ';
    volatile char d[8];
    int m = 0;
    do { d[m++] = (char)('0' + e % 10); e /= 10; } while (e && m < 8);
    while (m) msg[k++] = d[--m];
  }
  msg[k++] = '\n';
  raw3(SYS_write, 1, (long)(char*)msg, k);
  for (;;) raw3(SYS_pause, 0, 0, 0);
}
extern char __start_twi_mq_code[], __stop_twi_mq_code[];

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  uid_t uid = (uid_t)atoi(argv[1]);
  int target = open(argv[2], O_RDONLY | O_CLOEXEC);
  if (target < 0) { perror("open target"); return 1; }
  if (setgroups(0, NULL) != 0 || setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) {
    perror("drop privileges"); return 1;
  }
  if (unshare(CLONE_NEWUSER) != 0) { printf("err %d\n", errno); fflush(stdout); return 1; }
  struct args* a = mmap(NULL, sizeof(struct args), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) return 1;
  memset(a, 0, sizeof(*a));
  // Current layout from /proc/self/stat (fields 26-28 and 45-51).
  char buf[4096];
  FILE* f = fopen("/proc/self/stat", "r");
  if (!f) return 1;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  char* p = strrchr(buf, ')') + 2;  // field 3
  unsigned long long v[60] = {0};
  int field = 3;
  for (char* tok = strtok(p, " "); tok && field < 60; tok = strtok(NULL, " "), ++field) v[field] = strtoull(tok, NULL, 10);
  a->map.start_code = v[26]; a->map.end_code = v[27]; a->map.start_stack = v[28];
  a->map.start_data = v[45]; a->map.end_data = v[46]; a->map.start_brk = v[47];
  a->map.arg_start = v[48]; a->map.arg_end = v[49]; a->map.env_start = v[50]; a->map.env_end = v[51];
  a->map.brk = (uint64_t)(uintptr_t)sbrk(0);
  a->map.exe_fd = (uint32_t)target;
  // Every mapping of our own executable.
  char self[4096];
  ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (sl < 0) return 1;
  self[sl] = 0;
  f = fopen("/proc/self/maps", "r");
  if (!f) return 1;
  char line[8192];
  while (fgets(line, sizeof(line), f)) {
    unsigned long s, e;
    char path[4096] = "";
    if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %4095[^\n]", &s, &e, path) >= 2 && strcmp(path, self) == 0 && a->n < MAX_RANGES) {
      a->starts[a->n] = s; a->lens[a->n] = e - s; a->n++;
    }
  }
  fclose(f);
  fflush(stdout);
  size_t code = (size_t)(__stop_twi_mq_code - __start_twi_mq_code);
  void* exec = mmap(NULL, 4096 + code, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (exec == MAP_FAILED) return 1;
  memcpy(exec, __start_twi_mq_code, code);
  void (*run)(struct args*) = (void (*)(struct args*))((char*)exec + ((char*)&Payload - __start_twi_mq_code));
  run(a);
}

#else
int main(void) {
  puts("unsupported");
  return 3;
}
#endif
