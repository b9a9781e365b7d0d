// The TDX device seam: configfs-tsm against a fake kernel directory (provider tdx_guest, no
// privlevel), device selection, and the CCEL files.
#include "attestors/tdx/collect.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "attestors/tdx/abi.h"
#include "attestors/tdx/sim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/collateral/temp_dir.h"
#include "test/tdx/fake_tdx_kernel.h"

namespace twi::tdx {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::shared_ptr<const TdxSimulator> Sim() {
  static std::shared_ptr<const TdxSimulator> sim = [] {
    auto s = TdxSimulator::Create({});
    EXPECT_TRUE(s.ok()) << s.status();
    return std::shared_ptr<const TdxSimulator>(std::move(*s));
  }();
  return sim;
}

ReportData MakeReportData(uint8_t seed) {
  ReportData rd;
  for (size_t i = 0; i < rd.size(); ++i) rd[i] = static_cast<uint8_t>(seed + i);
  return rd;
}

class tdx_collect_configfs : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_ / "tsm"); }
  tsm::ConfigfsTsmOptions Options() {
    tsm::ConfigfsTsmOptions o;
    o.root = dir_ / "tsm";
    o.kernel = kernel_;
    return o;
  }
  twi::testing::TempDir dir_;
  std::shared_ptr<FakeTdxTsmKernel> kernel_ = std::make_shared<FakeTdxTsmKernel>(Sim());
};

TEST_F(tdx_collect_configfs, QuoteOverTheReportDataAndCleansUp) {
  ConfigfsTdxDevice device(Options());
  auto got = device.GetQuote(MakeReportData(7));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->provider, "tdx_guest");
  EXPECT_FALSE(kernel_->privlevel_written);  // TDX has no privilege levels
  auto q = ParseQuote(got->quote);
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_TRUE(q->td.has_value());
  ReportData want = MakeReportData(7);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), q->td->report_data.begin()));
  EXPECT_TRUE(fs::is_empty(dir_ / "tsm"));  // the entry was removed
}

TEST_F(tdx_collect_configfs, WrongProviderIsFailedPrecondition) {
  kernel_->provider = "sev_guest";
  auto got = ConfigfsTdxDevice(Options()).GetQuote(MakeReportData(1));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(got.status().message()), "configfs-tsm: provider is \"sev_guest\", want \"tdx_guest\"");
}

TEST_F(tdx_collect_configfs, ShortOutblobIsInternal) {
  kernel_->outblob_truncate = 20;
  auto got = ConfigfsTdxDevice(Options()).GetQuote(MakeReportData(1));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("outblob has 20 bytes, want a quote"));
}

TEST_F(tdx_collect_configfs, OpenFindsTheTdxProvider) {
  auto device = OpenTdxDevice(Options());
  ASSERT_TRUE(device.ok()) << device.status();
  EXPECT_EQ((*device)->name(), "configfs-tsm");
}

// An SEV-SNP guest's configfs-tsm is not a TDX device: NOT_FOUND, so the agent goes on to look
// for SEV-SNP instead of failing.
TEST_F(tdx_collect_configfs, OpenOnAnotherProviderIsNotFound) {
  kernel_->provider = "sev_guest";
  auto device = OpenTdxDevice(Options());
  EXPECT_EQ(device.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(device.status().message()), HasSubstr("provider is \"sev_guest\", not \"tdx_guest\""));
}

TEST_F(tdx_collect_configfs, OpenWithoutRootIsNotFound) {
  tsm::ConfigfsTsmOptions o;
  o.root = dir_ / "missing";
  EXPECT_EQ(OpenTdxDevice(o).status().code(), absl::StatusCode::kNotFound);
}

TEST(tdx_collect_simulated, WrapsTheSimulator) {
  SimulatedTdxDevice device(Sim());
  auto got = device.GetQuote(MakeReportData(3));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->provider, kSimulatedProvider);
  EXPECT_TRUE(ParseQuote(got->quote).ok());
}

class tdx_collect_ccel : public ::testing::Test {
 protected:
  CcelPaths Paths() { return {dir_ / "CCEL", dir_ / "data-CCEL"}; }
  void Put(const std::string& name, const std::string& data) {
    std::ofstream(dir_ / name, std::ios::binary) << data;
  }
  twi::testing::TempDir dir_;
};

TEST_F(tdx_collect_ccel, NoTableMeansNoLog) {
  auto got = ReadCcel(Paths());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->present());
}

TEST_F(tdx_collect_ccel, ReadsTableAndLogArea) {
  Put("CCEL", "CCEL-table");
  Put("data-CCEL", std::string(1000, '\xff'));
  auto got = ReadCcel(Paths());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->present());
  EXPECT_EQ(got->table.size(), 10u);
  EXPECT_EQ(got->data.size(), 1000u);
}

TEST_F(tdx_collect_ccel, TableWithoutLogAreaIsAnError) {
  Put("CCEL", "CCEL-table");
  auto got = ReadCcel(Paths());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("data-CCEL"));
}

TEST_F(tdx_collect_ccel, OversizedLogIsRefusedUnread) {
  Put("CCEL", "CCEL-table");
  {
    std::ofstream f(dir_ / "data-CCEL", std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kMaxCcelBytes));
    f.put('x');
  }
  auto got = ReadCcel(Paths());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("larger than"));
}

}  // namespace
}  // namespace twi::tdx
