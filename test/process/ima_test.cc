// The IMA ascii list: known-answer lines from real kernels, every template, tainting,
// and the incremental re-read.
#include "attestors/process/ima.h"

#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "test/process/process_test_util.h"

namespace twi::process {
namespace {

using testing::ReadFileOrDie;
using testing::TempDir;
using testing::TestData;
using testing::WriteFile;

// Digests of test/testdata/process/bin/fixture-exe (the generator embeds them in the lists).
Bytes ExeSha256() { return Sha256(AsBytes(ReadFileOrDie(TestData("bin/fixture-exe")))); }
Bytes ExeSha1() { return *HexDecode("6ea92cc692c6e1f37cd70e467d7f3be749f1c255"); }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return out;
}

TEST(process_ima, RealKernelLinesVerify) {
  // Lines printed by real kernels (test/testdata/process/ima/real_world.txt): the template
  // hash of each is recomputed from its fields.
  auto lines = Lines(ReadFileOrDie(TestData("ima/real_world.txt")));
  ASSERT_EQ(lines.size(), 9u);
  for (const std::string& l : lines) {
    auto e = ParseImaLine(l);
    EXPECT_TRUE(e.ok()) << l << ": " << e.status();
  }
  auto sig = ParseImaLine(lines[1]);
  EXPECT_EQ(sig->template_name, "ima-sig");
  EXPECT_EQ(sig->digest_algo, "sha256");
  EXPECT_EQ(HexEncode(sig->digest),
            "f1125b940480d20ad841d26d5ea253edc0704b5ec1548c891edf212cb1a9365e");
  EXPECT_EQ(sig->name, "/lib/modules/5.4.48-openpower1/kernel/drivers/usb/common/usb-common.ko");
  auto violation = ParseImaLine(lines[4]);
  EXPECT_TRUE(violation->violation);
  EXPECT_TRUE(violation->digest.empty());
  auto orig = ParseImaLine(lines[6]);
  EXPECT_EQ(orig->template_name, "ima");
  EXPECT_EQ(orig->digest_algo, "sha1");
  EXPECT_EQ(orig->name, "/init");
  auto signed_line = ParseImaLine(lines[8]);  // ima-sig with a signature
  EXPECT_EQ(signed_line->name, "/usr/bin/mkdir");

  ImaIndex index;
  std::string text = ReadFileOrDie(TestData("ima/real_world.txt"));
  EXPECT_EQ(index.Add(text), text.size());
  EXPECT_FALSE(index.tainted()) << index.taint_reason();
  EXPECT_EQ(index.lines(), 9u);
  EXPECT_EQ(index.indexed(), 8u);  // the violation is skipped
}

TEST(process_ima, LineErrors) {
  const std::string ok =
      "10 fb8f064de6c692300a2a95b587d634f770c8443f ima-ng "
      "sha1:9d0ea4909d6575c795bc44304e10e1ad946a9401 /usr/lib/systemd/systemd";
  ASSERT_TRUE(ParseImaLine(ok).ok());
  struct Bad {
    std::string line;
    const char* message;
  } bad[] = {
      {"", "line has 1 fields, want at least 4"},
      {"10 abcd ima-ng", "line has 3 fields, want at least 4"},
      {"x fb8f064de6c692300a2a95b587d634f770c8443f ima-ng sha1:00 /a", "bad pcr \"x\""},
      {"99 fb8f064de6c692300a2a95b587d634f770c8443f ima-ng sha1:00 /a", "bad pcr \"99\""},
      {"10 zz ima-ng sha1:00 /a", "template hash is not hex"},
      {"10 abcd ima-ng sha1:00 /a", "template hash has 2 bytes"},
      {"10 fb8f064de6c692300a2a95b587d634f770c8443f evm-sig sha1:00 /a",
       "unsupported template \"evm-sig\""},
      {"10 fb8f064de6c692300a2a95b587d634f770c8443f d-ng|iuid sha1:00 1",
       "unsupported field \"iuid\" in template \"d-ng|iuid\""},
      {"10 fb8f064de6c692300a2a95b587d634f770c8443f ima-ng sha1-9d0e /a",
       "digest field \"sha1-9d0e\" is not algo:hex"},
      {"10 fb8f064de6c692300a2a95b587d634f770c8443f ima-ng :00 /a",
       "digest field has an empty algorithm or type"},
      {"10 fb8f064de6c692300a2a95b587d634f770c8443f ima-ng sha1:0g /a", "digest is not hex"},
      {"10 fb8f064de6c692300a2a95b587d634f770c8443f ima 0011 /a", "d has 2 bytes, want 20"},
      {"10 fb8f064de6c692300a2a95b587d634f770c8443f ima-sig sha1:00 /a zz",
       "signature/buffer field is not hex"},
      {"10 0000000000000000000000000000000000000000 ima-ng sha1:01 /a",
       "zero template hash on an entry with a digest"},
      {"10 fb8f064de6c692300a2a95b587d634f770c8443f ima-ng "
       "sha1:9d0ea4909d6575c795bc44304e10e1ad946a9402 /usr/lib/systemd/systemd",
       "template hash fb8f064de6c69230... does not match the entry (d4efa15f844d7087...)"},
      {"10 fb8f064de6c692300a2a95b587d634f770c8443f ima " + std::string(40, '0') + " /" +
           std::string(300, 'a'),
       "name is longer than 255 bytes"},
  };
  for (const Bad& b : bad) {
    auto e = ParseImaLine(b.line);
    ASSERT_FALSE(e.ok()) << b.line;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << b.line;
    EXPECT_EQ(std::string(e.status().message()), b.message) << b.line;
  }
}

TEST(process_ima, SingleDigitPcrHasLeadingSpace) {
  // The kernel prints "%2d": " 8 <hash> ...". Rebuild a real line with PCR 8: the template
  // hash does not cover the PCR, so the line still verifies.
  auto e = ParseImaLine(
      " 8 fb8f064de6c692300a2a95b587d634f770c8443f ima-ng "
      "sha1:9d0ea4909d6575c795bc44304e10e1ad946a9401 /usr/lib/systemd/systemd");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->pcr, 8);
}

TEST(process_ima, TrailingEmptySignatureMayBeMissing) {
  // real_world.txt line 1 without its trailing space (copies of the list often lose it).
  auto e = ParseImaLine(
      "10 0c8a706a75a5689c1e168f0a573a3cbec33061b5 ima-sig "
      "sha256:e4cb9f5709c88376b5fc3743cd88e76b9aae8f3d992d845678de5215edb31216 boot_aggregate");
  EXPECT_TRUE(e.ok()) << e.status();
}

struct ListCase {
  const char* file;
  bool sha256_found;
  bool sha1_found;
  std::vector<int> pcrs;
  bool tainted;
};

TEST(process_ima, FixtureLists) {
  const ListCase cases[] = {
      {"ima_ng.txt", true, false, {10}, false},
      {"ima_ng_nomatch.txt", false, false, {}, false},
      {"ima_sig.txt", true, false, {10}, false},
      {"ima_sha1.txt", false, true, {10}, false},
      // ima-ng at PCR 11 and ima-ngv2 "ima:" at PCR 10; the verity digest does not count.
      {"ima_mixed.txt", true, false, {10, 11}, false},
      {"ima_truncated.txt", false, false, {}, false},
      {"ima_malformed.txt", false, false, {}, true},
      {"ima_forged.txt", false, false, {}, true},
      {"ima_bad_template_hash.txt", false, false, {}, true},
  };
  for (const ListCase& c : cases) {
    SCOPED_TRACE(c.file);
    ImaIndex index;
    std::string text = ReadFileOrDie(TestData(std::string("ima/") + c.file));
    size_t consumed = index.Add(text);
    const std::vector<int>* by256 = index.FindDigest("sha256", ExeSha256());
    const std::vector<int>* by1 = index.FindDigest("sha1", ExeSha1());
    EXPECT_EQ(by256 != nullptr, c.sha256_found);
    EXPECT_EQ(by1 != nullptr, c.sha1_found);
    std::vector<int> pcrs = by256 ? *by256 : by1 ? *by1 : std::vector<int>{};
    EXPECT_EQ(pcrs, c.pcrs);
    EXPECT_EQ(index.tainted(), c.tainted) << index.taint_reason();
    if (std::string(c.file) == "ima_truncated.txt") {
      EXPECT_LT(consumed, text.size());  // the partial line waits for its newline
    } else {
      EXPECT_EQ(consumed, text.size());
    }
  }
}

TEST(process_ima, TaintKeepsEarlierEntriesAndNamesTheLine) {
  ImaIndex index;
  index.Add(ReadFileOrDie(TestData("ima/ima_malformed.txt")));
  EXPECT_TRUE(index.tainted());
  EXPECT_EQ(index.taint_reason(), "line 3: template hash is not hex");
  EXPECT_NE(index.FindName("/usr/lib/systemd/systemd"), nullptr);  // line 2, before the taint
  EXPECT_EQ(index.FindName("/usr/bin/fixture-exe"), nullptr);      // line 4, after it
  EXPECT_EQ(index.lines(), 4u);

  ImaIndex forged;
  forged.Add(ReadFileOrDie(TestData("ima/ima_forged.txt")));
  EXPECT_EQ(forged.taint_reason().substr(0, 31), "line 2: template hash 8b5c80c6a");
}

TEST(process_ima, ImaBufAndVerityAreNotFileMeasurements) {
  ImaIndex index;
  index.Add(ReadFileOrDie(TestData("ima/ima_mixed.txt")));
  EXPECT_FALSE(index.tainted()) << index.taint_reason();
  EXPECT_EQ(index.FindName("kexec-cmdline"), nullptr);
  EXPECT_EQ(index.FindName("/verity/fixture-exe"), nullptr);
  ASSERT_NE(index.FindName("/usr/bin/fixture-exe"), nullptr);
  EXPECT_EQ(*index.FindName("/opt/app/fixture-exe"), std::vector<int>{11});
  EXPECT_NE(index.FindName("/usr/bin/big"), nullptr);  // sha512 entries are indexed too
}

TEST(process_ima, LogRereadsOnlyAppendedBytes) {
  TempDir dir;
  const std::string list = dir / "ascii_runtime_measurements";
  const std::string base = ReadFileOrDie(TestData("ima/ima_ng_nomatch.txt"));
  WriteFile(list, base);
  auto log = ImaLog::Open(list);
  ASSERT_TRUE(log.ok()) << log.status();
  ImaQuery q;
  q.sha256 = ExeSha256();
  auto r = (*log)->Lookup(q, false);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->measured);
  EXPECT_EQ((*log)->stats().refreshes, 1u);  // Open read it; the miss found no growth
  EXPECT_EQ((*log)->stats().bytes_read, base.size());

  // The kernel appends the executable's measurement.
  std::string exe_line = Lines(ReadFileOrDie(TestData("ima/ima_ng.txt")))[6] + "\n";
  WriteFile(list, base + exe_line);
  r = (*log)->Lookup(q, false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->measured);
  EXPECT_EQ(r->pcrs, std::vector<int>{10});
  EXPECT_EQ((*log)->stats().refreshes, 2u);
  EXPECT_EQ((*log)->stats().bytes_read, base.size() + exe_line.size());

  // A hit needs no I/O at all.
  r = (*log)->Lookup(q, false);
  EXPECT_TRUE(r->measured);
  EXPECT_EQ((*log)->stats().refreshes, 2u);
}

TEST(process_ima, LogWaitsForPartialLine) {
  TempDir dir;
  const std::string list = dir / "list";
  std::string full = ReadFileOrDie(TestData("ima/ima_ng.txt"));
  std::string cut = full.substr(0, full.size() - 60);  // inside the last line
  WriteFile(list, cut);
  auto log = ImaLog::Open(list);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->stats().lines, 7u);
  ImaQuery exe;
  exe.sha256 = ExeSha256();
  EXPECT_TRUE((*log)->Lookup(exe, false)->measured);  // line 7, complete in the first read
  ImaQuery bash;
  bash.sha256 = Sha256(AsBytes("bash"));  // line 8, cut
  EXPECT_FALSE((*log)->Lookup(bash, false)->measured);
  WriteFile(list, full);
  EXPECT_TRUE((*log)->Lookup(bash, false)->measured);
  EXPECT_EQ((*log)->stats().lines, 8u);
}

TEST(process_ima, LogStartsOverWhenReplaced) {
  TempDir dir;
  const std::string list = dir / "list";
  WriteFile(list, ReadFileOrDie(TestData("ima/ima_malformed.txt")));
  auto log = ImaLog::Open(list);
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE((*log)->stats().tainted);
  ImaQuery q;
  q.sha256 = ExeSha256();
  auto r = (*log)->Lookup(q, false);
  EXPECT_FALSE(r->measured);
  EXPECT_EQ(r->note,
            "ima list " + list + " is trusted only up to line 3: template hash is not hex");
  // A new file (new inode: the old one is kept so its number cannot be reused) in its place.
  std::filesystem::rename(list, list + ".old");
  WriteFile(list, ReadFileOrDie(TestData("ima/ima_ng.txt")));
  r = (*log)->Lookup(q, false);
  EXPECT_TRUE(r->measured);
  EXPECT_FALSE((*log)->stats().tainted);
}

TEST(process_ima, CountFileSkipsTheRead) {
  TempDir dir;
  const std::string list = dir / "ascii_runtime_measurements";
  std::string text = ReadFileOrDie(TestData("ima/ima_ng_nomatch.txt"));
  WriteFile(list, text);
  WriteFile(dir / "runtime_measurements_count", "7\n");
  auto log = ImaLog::Open(list);
  ASSERT_TRUE(log.ok());
  ImaQuery q;
  q.sha256 = ExeSha256();
  EXPECT_FALSE((*log)->Lookup(q, false)->measured);
  EXPECT_EQ((*log)->stats().refreshes, 1u);  // count 7 == lines read: no second read
}

TEST(process_ima, PathMatchOnlyWithoutDigests) {
  TempDir dir;
  const std::string list = dir / "list";
  WriteFile(list, ReadFileOrDie(TestData("ima/ima_ng.txt")));
  auto log = ImaLog::Open(list);
  ASSERT_TRUE(log.ok());
  ImaQuery by_path;
  by_path.path = "/usr/bin/fixture-exe";
  EXPECT_FALSE((*log)->Lookup(by_path, false)->measured);  // path matching off
  auto r = (*log)->Lookup(by_path, true);
  EXPECT_TRUE(r->measured);
  EXPECT_TRUE(r->by_path);
  // A digest that is not listed is not rescued by the path.
  ImaQuery wrong = by_path;
  wrong.sha256 = Bytes(32, 0x42);
  EXPECT_FALSE((*log)->Lookup(wrong, true)->measured);
}

TEST(process_ima, OpenErrorsNameThePath) {
  auto log = ImaLog::Open("/nonexistent/ima/ascii_runtime_measurements");
  ASSERT_EQ(log.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(log.status().message()),
            "cannot open /nonexistent/ima/ascii_runtime_measurements: no such file or directory");
}

// --- The binary list (issue 15, item 5) ----------------------------------------------------

void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
std::string Raw(const Bytes& b) { return std::string(b.begin(), b.end()); }

// The binary_runtime_measurements encoding of an ascii line of the ima, ima-ng or ima-sig
// template (ima_fs.c: pcr, template digest, name length and name, then for templates other
// than 'ima' the template data length and each field as <u32 length><data>).
std::string BinaryFromAscii(const std::string& line) {
  std::vector<std::string> t = absl::StrSplit(absl::StripLeadingAsciiWhitespace(line), ' ');
  std::string out;
  PutLe32(out, static_cast<uint32_t>(std::stoi(t[0])));
  out += Raw(*HexDecode(t[1]));
  const std::string& tmpl = t[2];
  PutLe32(out, static_cast<uint32_t>(tmpl.size()));
  out += tmpl;
  if (tmpl == "ima") {
    out += Raw(*HexDecode(t[3]));
    PutLe32(out, static_cast<uint32_t>(t[4].size()));
    out += t[4];
    return out;
  }
  std::string data;
  auto field = [&](const std::string& f) {
    PutLe32(data, static_cast<uint32_t>(f.size()));
    data += f;
  };
  size_t colon = t[3].find(':');
  field(t[3].substr(0, colon + 1) + std::string(1, '\0') + Raw(*HexDecode(t[3].substr(colon + 1))));
  field(t[4] + std::string(1, '\0'));
  if (tmpl == "ima-sig") field(t.size() > 5 ? Raw(*HexDecode(t[5])) : "");
  PutLe32(out, static_cast<uint32_t>(data.size()));
  return out + data;
}

// A binary ima-ng entry built from scratch, template hash as the kernel computes it.
std::string ImaNgBinary(int pcr, const Bytes& sha256, const std::string& name) {
  std::string data;
  auto field = [&](const std::string& f) {
    PutLe32(data, static_cast<uint32_t>(f.size()));
    data += f;
  };
  field(std::string("sha256:") + std::string(1, '\0') + Raw(sha256));
  field(name + std::string(1, '\0'));
  uint8_t th_buf[20];
  unsigned int th_len = 0;
  EVP_Digest(data.data(), data.size(), th_buf, &th_len, EVP_sha1(), nullptr);
  Bytes th(th_buf, th_buf + th_len);
  std::string out;
  PutLe32(out, static_cast<uint32_t>(pcr));
  out += Raw(th);
  PutLe32(out, 6);
  out += "ima-ng";
  PutLe32(out, static_cast<uint32_t>(data.size()));
  return out + data;
}

TEST(process_ima, BinaryListOfRealKernelEntriesVerifies) {
  // The real kernels' template hashes, recomputed over the binary encoding of each entry.
  std::string bin;
  for (const std::string& l : Lines(ReadFileOrDie(TestData("ima/real_world.txt")))) {
    bin += BinaryFromAscii(l);
  }
  ImaIndex index;
  EXPECT_EQ(index.AddBinary(AsBytes(bin), 20), bin.size());
  EXPECT_FALSE(index.tainted()) << index.taint_reason();
  EXPECT_EQ(index.lines(), 9u);
  EXPECT_EQ(index.indexed(), 8u);
  EXPECT_NE(index.FindName("/usr/bin/mkdir"), nullptr);
  EXPECT_NE(index.FindName("/init"), nullptr);  // the 'ima' template
  // A partial entry waits; a flipped byte taints from that entry on.
  ImaIndex partial;
  EXPECT_EQ(partial.AddBinary(AsBytes(bin).subspan(0, bin.size() - 3), 20),
            bin.size() - BinaryFromAscii(Lines(ReadFileOrDie(TestData("ima/real_world.txt")))[8]).size());
  auto lines = Lines(ReadFileOrDie(TestData("ima/real_world.txt")));
  std::string bad = bin;
  // A byte of the second entry's name (it ends with "<name>\0" and an empty sig field).
  bad[BinaryFromAscii(lines[0]).size() + BinaryFromAscii(lines[1]).size() - 10] ^= 1;
  ImaIndex tainted;
  tainted.AddBinary(AsBytes(bad), 20);
  EXPECT_TRUE(tainted.tainted());
  EXPECT_EQ(tainted.taint_reason().substr(0, 32), "entry 2: template hash 5426cf303");
  EXPECT_NE(tainted.FindName("boot_aggregate"), nullptr);  // before the bad entry
}

TEST(process_ima, NewlineInANameCannotPoisonTheBinaryList) {
  // An unprivileged user runs a file whose name holds a newline and a forged line. In the
  // ascii list that taints everything measured afterwards (ima:measured:false for all of
  // it, until reboot); in the binary list the name is just a name.
  const Bytes exe = ExeSha256();
  const Bytes other = Sha256(AsBytes(std::string("attacker")));
  const std::string evil = "/tmp/x\n10 " + std::string(40, '0') + " ima-ng sha256:" +
                           HexEncode(other) + " /usr/bin/victim";
  TempDir dir;
  const std::string bin = dir / "binary_runtime_measurements";
  WriteFile(bin, ImaNgBinary(10, other, evil) + ImaNgBinary(10, exe, "/usr/bin/fixture-exe"));
  auto log = ImaLog::Open(bin);
  ASSERT_TRUE(log.ok()) << log.status();
  ImaQuery q;
  q.sha256 = exe;
  auto r = (*log)->Lookup(q, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->measured);
  EXPECT_EQ(r->pcrs, std::vector<int>{10});
  EXPECT_TRUE(r->note.empty()) << r->note;
  EXPECT_FALSE((*log)->stats().tainted);
  EXPECT_EQ((*log)->stats().lines, 2u);

  // The same two measurements as the kernel prints them in the ascii list.
  const std::string ascii = dir / "ascii_runtime_measurements";
  WriteFile(ascii, testing::ImaNgLine(10, other, evil) +
                       testing::ImaNgLine(10, exe, "/usr/bin/fixture-exe"));
  auto alog = ImaLog::Open(ascii);
  ASSERT_TRUE(alog.ok());
  auto ar = (*alog)->Lookup(q, false);
  ASSERT_TRUE(ar.ok());
  EXPECT_FALSE(ar->measured);  // what the binary list fixes
  EXPECT_TRUE((*alog)->stats().tainted);
}

TEST(process_ima, BinaryLogReadsAppendedEntries) {
  TempDir dir;
  const std::string bin = dir / "binary_runtime_measurements";
  const std::string first = ImaNgBinary(10, Sha256(AsBytes(std::string("a"))), "/a");
  const std::string second = ImaNgBinary(10, ExeSha256(), "/usr/bin/fixture-exe");
  WriteFile(bin, first + second.substr(0, 10));  // the second entry is still being written
  auto log = ImaLog::Open(bin);
  ASSERT_TRUE(log.ok());
  ImaQuery q;
  q.sha256 = ExeSha256();
  EXPECT_FALSE((*log)->Lookup(q, false)->measured);
  WriteFile(bin, first + second);
  EXPECT_TRUE((*log)->Lookup(q, false)->measured);
  EXPECT_FALSE((*log)->stats().tainted);
}

TEST(process_ima, BinaryEntryErrors) {
  size_t n = 0;
  std::string e = ImaNgBinary(10, ExeSha256(), "/x");
  std::string big_pcr = e;
  big_pcr[0] = 64;
  EXPECT_EQ(std::string(ParseImaBinaryEntry(AsBytes(big_pcr), 20, &n).status().message()), "bad pcr 64");
  std::string no_nul = e;
  no_nul[no_nul.size() - 1] = 'x';
  EXPECT_EQ(std::string(ParseImaBinaryEntry(AsBytes(no_nul), 20, &n).status().message()),
            "name field is not NUL-terminated");
  std::string bad_name = e;
  bad_name[27] = 0x7f;  // template name length: above any template's
  EXPECT_EQ(ParseImaBinaryEntry(AsBytes(bad_name), 20, &n).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto partial = ParseImaBinaryEntry(AsBytes(e).subspan(0, 30), 20, &n);
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());
  auto whole = ParseImaBinaryEntry(AsBytes(e), 20, &n);
  ASSERT_TRUE(whole.ok() && whole->has_value()) << whole.status();
  EXPECT_EQ(n, e.size());
  EXPECT_EQ((*whole)->name, "/x");
}

}  // namespace
}  // namespace twi::process
