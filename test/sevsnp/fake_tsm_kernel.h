// A fake configfs-tsm kernel for tests of the SEV-SNP device code (the device seam): plays the
// kernel over an ordinary directory, answering with reports from a software simulator.
#pragma once

#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "attestors/sevsnp/collect.h"
#include "attestors/sevsnp/sim.h"
#include "gtest/gtest.h"
#include "test/tsm/fake_tsm_files.h"

namespace twi::sevsnp {

// Plays the kernel's part of configfs-tsm over an ordinary directory: attribute files appear
// on mkdir, writes bump `generation`, reading `outblob` runs the simulated firmware over what
// was written to `inblob` and `privlevel`, and rmdir drops the files.
class FakeTsmKernel : public TsmKernelHooks {
 public:
  explicit FakeTsmKernel(std::shared_ptr<const SnpSimulator> sim) : sim_(std::move(sim)) {}
  std::string provider = "sev_guest";
  int floor = 0;
  bool write_auxblob = true;
  int races = 0;  // bump generation behind the reader's back on this many outblob reads
  size_t outblob_truncate = 0;
  int entries_created = 0;
  std::string last_inblob, last_privlevel;

  void Created(const std::string& dir) override {
    ++entries_created;
    Write(dir + "/provider", provider + "\n");
    Write(dir + "/generation", "0\n");
    Write(dir + "/privlevel_floor", std::to_string(floor) + "\n");
  }
  void Written(const std::string& dir, std::string_view) override { Bump(dir); }
  void Reading(const std::string& dir, std::string_view attribute) override {
    if (attribute != "outblob") return;
    last_inblob = Read(dir + "/inblob");
    last_privlevel = Read(dir + "/privlevel");
    uint32_t vmpl = 0;
    EXPECT_TRUE(absl::SimpleAtoi(last_privlevel.substr(0, last_privlevel.find('\n')), &vmpl));
    auto ev = sim_->GetReport(AsBytes(last_inblob), vmpl);
    ASSERT_TRUE(ev.ok()) << ev.status();
    std::string out(AsString(ev->report));
    if (outblob_truncate > 0) out.resize(outblob_truncate);
    Write(dir + "/outblob", out);
    if (write_auxblob) Write(dir + "/auxblob", AsString(ev->cert_table));
    if (races > 0) {
      --races;
      Bump(dir);
    }
  }
  void Removing(const std::string& dir) override { tsm::testing::ClearEntry(dir); }

 private:
  static std::string Read(const std::string& path) { return tsm::testing::ReadAttr(path); }
  static void Write(const std::string& path, std::string_view data) { tsm::testing::WriteAttr(path, data); }
  static void Bump(const std::string& dir) { tsm::testing::BumpGeneration(dir); }

  std::shared_ptr<const SnpSimulator> sim_;
};

}  // namespace twi::sevsnp
