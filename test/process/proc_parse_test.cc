// /proc/<pid>/stat and status parsing, passwd/group parsing.
#include "attestors/process/proc_parse.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include "attestors/process/id_names.h"
#include "attestors/process/proc_io.h"
#include "test/process/process_test_util.h"

namespace twi::process {
namespace {

using testing::StatLine;

TEST(process_parse, StatOfThisProcess) {
  auto st = ParseProcStat(testing::ReadFileOrDie("/proc/self/stat"));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->pid, ::getpid());
  EXPECT_EQ(st->state, 'R');
  EXPECT_GT(st->start_time, 0u);
}

TEST(process_parse, StatCommWithSpacesAndParentheses) {
  // A process may name itself anything (prctl PR_SET_NAME); only the last ')' ends comm.
  for (std::string comm : {"a b", "x) S 1 2 3 (y", "((", "))", ") 9 9 9", ""}) {
    auto st = ParseProcStat(StatLine(77, comm, 'S', 4242));
    ASSERT_TRUE(st.ok()) << comm << ": " << st.status();
    EXPECT_EQ(st->comm, comm);
    EXPECT_EQ(st->pid, 77);
    EXPECT_EQ(st->state, 'S');
    EXPECT_EQ(st->start_time, 4242u);
  }
}

TEST(process_parse, StatZombie) {
  auto st = ParseProcStat(StatLine(9, "defunct", 'Z', 1));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, 'Z');
}

TEST(process_parse, StatErrors) {
  struct Bad {
    std::string text;
    const char* message;
  } bad[] = {
      {"", "stat has no \"(comm)\" field"},
      {"12 comm S 1", "stat has no \"(comm)\" field"},
      {"12 )x( S", "stat has no \"(comm)\" field"},
      {"x (a) S 1", "stat has a bad pid \"x\""},
      {"-3 (a) S 1", "stat has a bad pid \"-3\""},
      {"12 (a) S 1 2 3", "stat has 6 fields, want at least 22"},
      {"12 (a) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
       "stat has a bad state \"SS\""},
      {"12 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -1 20",
       "stat has a bad starttime \"-1\""},
  };
  for (const Bad& b : bad) {
    auto st = ParseProcStat(b.text);
    ASSERT_FALSE(st.ok()) << b.text;
    EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(st.status().message()), b.message);
  }
}

TEST(process_parse, StatusOfThisProcess) {
  auto st = ParseProcStatus(testing::ReadFileOrDie("/proc/self/status"));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->effective_uid(), ::geteuid());
  EXPECT_EQ(st->effective_gid(), ::getegid());
  EXPECT_EQ(st->uid[0], ::getuid());
}

TEST(process_parse, StatusFields) {
  testing::FakeProcess p;
  p.uid = 1001;
  p.gid = 2002;
  p.groups = {4, 24, 27, 2002};
  auto st = ParseProcStatus(testing::StatusText(p));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->effective_uid(), 1001u);
  EXPECT_EQ(st->effective_gid(), 2002u);
  EXPECT_EQ(st->groups, (std::vector<uint32_t>{4, 24, 27, 2002}));

  // Effective differs from real (a setuid program).
  auto su = ParseProcStatus("Uid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\nGroups:\t\n");
  ASSERT_TRUE(su.ok());
  EXPECT_EQ(su->effective_uid(), 0u);
  EXPECT_EQ(su->uid[0], 1000u);
  EXPECT_TRUE(su->groups.empty());
}

TEST(process_parse, StatusErrors) {
  const std::string ok_gid = "Gid:\t1\t1\t1\t1\n";
  const std::string ok_uid = "Uid:\t1\t1\t1\t1\n";
  struct Bad {
    std::string text;
    const char* message;
  } bad[] = {
      {"", "status has no Uid line"},
      {ok_uid + "Groups:\n", "status has no Gid line"},
      {ok_uid + ok_gid, "status has no Groups line"},
      {"Uid:\t1\t1\t1\n" + ok_gid + "Groups:\n", "Uid line has 3 ids, want 4"},
      {"Uid:\t1\tx\t1\t1\n" + ok_gid + "Groups:\n", "Uid line has a non-numeric id \"x\""},
      {"Uid:\t1\t1\t1\t99999999999\n" + ok_gid + "Groups:\n",
       "Uid line has a non-numeric id \"99999999999\""},
      {ok_uid + ok_uid + ok_gid + "Groups:\n", "status has two Uid lines"},
      {ok_uid + ok_gid + "Groups:\t1 a\n", "Groups line has a non-numeric id \"a\""},
  };
  for (const Bad& b : bad) {
    auto st = ParseProcStatus(b.text);
    ASSERT_FALSE(st.ok()) << b.text;
    EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(st.status().message()), b.message);
  }
}

TEST(process_parse, DeletedSuffix) {
  bool had = false;
  EXPECT_EQ(StripDeletedSuffix("/usr/bin/app (deleted)", &had), "/usr/bin/app");
  EXPECT_TRUE(had);
  EXPECT_EQ(StripDeletedSuffix("/usr/bin/app", &had), "/usr/bin/app");
  EXPECT_FALSE(had);
  EXPECT_EQ(StripDeletedSuffix("/memfd:x (deleted)", &had), "/memfd:x");
  EXPECT_TRUE(had);
}

TEST(process_parse, PasswdAndGroup) {
  IdNameMap users = ParseIdNameFile(
      "# comment\n"
      "root:x:0:0:root:/root:/bin/bash\n"
      "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"
      "toor:x:0:0:second root:/root:/bin/sh\n"  // first name for an id wins
      "+nisuser::::::\n"
      "broken line\n"
      "bad:x:notanumber:0::/:/bin/false\n"
      ":x:5:5::/:\n");
  EXPECT_EQ(users.size(), 2u);
  EXPECT_EQ(users.at(0), "root");
  EXPECT_EQ(users.at(1000), "alice");
  IdNameMap groups = ParseIdNameFile("root:x:0:\nsudo:x:27:alice\nalice:x:1000:\n");
  EXPECT_EQ(groups.at(27), "sudo");
}

}  // namespace
}  // namespace twi::process

namespace twi::process {
namespace {

TEST(process_io, ReadsLargeFilesAndEnforcesTheCap) {
  testing::TempDir dir;
  std::string big(3 * 1024 * 1024 + 17, 'x');
  testing::WriteFile(dir / "big", big);
  int err = 0;
  auto all = ReadFileAt(AT_FDCWD, (dir / "big").c_str(), "big", big.size(), &err);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, big);
  auto capped = ReadFileAt(AT_FDCWD, (dir / "big").c_str(), "big", 1000, &err);
  ASSERT_EQ(capped.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(capped.status().message()), "big is larger than 1000 bytes");
  auto missing = ReadFileAt(AT_FDCWD, (dir / "nope").c_str(), dir / "nope", 10, &err);
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(err, ENOENT);
  EXPECT_EQ(std::string(missing.status().message()),
            "cannot open " + dir / "nope" + ": no such file or directory");
  // A single-record read of a /proc file still returns all of it.
  auto status = ReadFileAt(AT_FDCWD, "/proc/self/status", "status", 1 << 16, nullptr, true);
  ASSERT_TRUE(status.ok());
  EXPECT_NE(status->find("Groups:"), std::string::npos);
  EXPECT_EQ(status->back(), '\n');
}

}  // namespace
}  // namespace twi::process
