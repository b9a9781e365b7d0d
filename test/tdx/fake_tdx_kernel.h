// A fake configfs-tsm kernel with the tdx_guest provider, for tests of the TDX device code (the
// device seam): plays the kernel over an ordinary directory, answering with quotes from the
// software quoting stack.
#pragma once

#include <memory>
#include <string>

#include "attestors/tdx/sim.h"
#include "attestors/tsm/configfs_tsm.h"
#include "gtest/gtest.h"
#include "test/tsm/fake_tsm_files.h"

namespace twi::tdx {

// Attribute files appear on mkdir (TDX has no privlevel or privlevel_floor), writes bump
// `generation`, reading `outblob` quotes what was written to `inblob`, rmdir drops the files.
class FakeTdxTsmKernel : public tsm::TsmKernelHooks {
 public:
  explicit FakeTdxTsmKernel(std::shared_ptr<const TdxSimulator> sim) : sim_(std::move(sim)) {}
  std::string provider = "tdx_guest";
  size_t outblob_truncate = 0;  // > 0: cut the quote to this many bytes
  std::string last_inblob;
  bool privlevel_written = false;

  void Created(const std::string& dir) override {
    tsm::testing::WriteAttr(dir + "/provider", provider + "\n");
    tsm::testing::WriteAttr(dir + "/generation", "0\n");
  }
  void Written(const std::string& dir, std::string_view attribute) override {
    if (attribute == "privlevel") privlevel_written = true;
    tsm::testing::BumpGeneration(dir);
  }
  void Reading(const std::string& dir, std::string_view attribute) override {
    if (attribute != "outblob") return;
    last_inblob = tsm::testing::ReadAttr(dir + "/inblob");
    auto q = sim_->GetQuote(AsBytes(last_inblob));
    ASSERT_TRUE(q.ok()) << q.status();
    std::string out(AsString(*q));
    if (outblob_truncate > 0) out.resize(outblob_truncate);
    tsm::testing::WriteAttr(dir + "/outblob", out);
  }
  void Removing(const std::string& dir) override { tsm::testing::ClearEntry(dir); }

 private:
  std::shared_ptr<const TdxSimulator> sim_;
};

}  // namespace twi::tdx
