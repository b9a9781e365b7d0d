#include "attestors/sevsnp/collect.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "attestors/sevsnp/abi.h"
#include "attestors/sevsnp/sim.h"
#include "gtest/gtest.h"
#include "test/collateral/temp_dir.h"
#include "test/sevsnp/fake_tsm_kernel.h"

namespace twi::sevsnp {
namespace {

namespace fs = std::filesystem;

ReportData MakeReportData(uint8_t seed) {
  ReportData rd;
  for (size_t i = 0; i < rd.size(); ++i) rd[i] = static_cast<uint8_t>(seed + i);
  return rd;
}

std::shared_ptr<const SnpSimulator> Sim() {
  static std::shared_ptr<const SnpSimulator> sim = [] {
    auto s = SnpSimulator::Create({});
    EXPECT_TRUE(s.ok()) << s.status();
    return std::shared_ptr<const SnpSimulator>(std::move(*s));
  }();
  return sim;
}

class ConfigfsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs::create_directory(root_)); }
  ConfigfsTsmDevice Device() {
    ConfigfsTsmOptions o;
    o.root = root_;
    o.kernel = kernel_;
    return ConfigfsTsmDevice(o);
  }
  bool RootEmpty() const { return fs::is_empty(root_); }

  twi::testing::TempDir tmp_;
  std::string root_ = tmp_ / "report";
  std::shared_ptr<FakeTsmKernel> kernel_ = std::make_shared<FakeTsmKernel>(Sim());
};
using sevsnp_collect_configfs = ConfigfsTest;

TEST_F(sevsnp_collect_configfs, ProducesReportAndCertTableAndCleansUp) {
  auto device = Device();
  ReportData rd = MakeReportData(0x10);
  auto got = device.GetReport(rd, 1);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->provider, "sev_guest");
  EXPECT_EQ(kernel_->last_inblob, std::string(AsString(ByteView(rd))));
  EXPECT_EQ(kernel_->last_privlevel, "1\n");
  auto report = ParseReport(got->report);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Bytes(report->report_data.begin(), report->report_data.end()), Bytes(rd.begin(), rd.end()));
  EXPECT_EQ(report->vmpl, 1u);
  auto entries = ParseCertTable(got->cert_table);
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_EQ(entries->size(), 3u);
  EXPECT_TRUE(RootEmpty());
  EXPECT_EQ(kernel_->entries_created, 1);
}

TEST_F(sevsnp_collect_configfs, RetriesWhenGenerationChanges) {
  kernel_->races = 2;
  auto got = Device().GetReport(MakeReportData(1), 0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(kernel_->entries_created, 3);
  EXPECT_TRUE(RootEmpty());
}

TEST_F(sevsnp_collect_configfs, GivesUpWhenEveryAttemptRaces) {
  kernel_->races = 100;
  auto got = Device().GetReport(MakeReportData(1), 0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(std::string(got.status().message()),
            "configfs-tsm: generation changed while reading the report on all 3 attempts "
            "(another process is writing to the same entry)");
  EXPECT_EQ(kernel_->entries_created, 3);
  EXPECT_TRUE(RootEmpty());
}

TEST_F(sevsnp_collect_configfs, WrongProviderIsFailedPrecondition) {
  kernel_->provider = "tdx_guest";
  auto got = Device().GetReport(MakeReportData(1), 0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(got.status().message()), "configfs-tsm: provider is \"tdx_guest\", want \"sev_guest\"");
}

TEST_F(sevsnp_collect_configfs, VmplBelowFloorIsInvalidArgument) {
  kernel_->floor = 2;
  auto got = Device().GetReport(MakeReportData(1), 1);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(got.status().message()), "configfs-tsm: vmpl 1 is below privlevel_floor 2");
  EXPECT_TRUE(RootEmpty());
}

TEST_F(sevsnp_collect_configfs, VmplAboveThreeIsInvalidArgument) {
  auto got = Device().GetReport(MakeReportData(1), 4);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(got.status().message()), "vmpl: got 4, want 0-3");
  EXPECT_EQ(kernel_->entries_created, 0);
}

TEST_F(sevsnp_collect_configfs, MissingAuxblobMeansNoCertificates) {
  kernel_->write_auxblob = false;
  auto got = Device().GetReport(MakeReportData(1), 0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->cert_table.empty());
}

TEST_F(sevsnp_collect_configfs, ShortOutblobIsInternal) {
  kernel_->outblob_truncate = 1000;
  auto got = Device().GetReport(MakeReportData(1), 0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(std::string(got.status().message()), "configfs-tsm: outblob has 1000 bytes, want 1184");
}

TEST_F(sevsnp_collect_configfs, MissingRootIsNotFound) {
  ConfigfsTsmOptions o;
  o.root = tmp_ / "absent";
  auto got = ConfigfsTsmDevice(o).GetReport(MakeReportData(1), 0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("configfs-tsm: creating " + tmp_.path() + "/absent/twi-"),
            std::string::npos)
      << got.status();
}

TEST_F(sevsnp_collect_configfs, ProbeReadsProvider) {
  auto device = Device();
  EXPECT_EQ(device.Probe().value(), "sev_guest");
  EXPECT_TRUE(RootEmpty());
}

// ---- /dev/sev-guest ----

// Plays the firmware behind SNP_GET_EXT_REPORT, following the kernel's contract: a certificate
// buffer that is too small fails with EIO, VMM error 1 and the needed size in certs_len.
class FakeSevGuest : public SevGuestIo {
 public:
  int open_error = 0;  // errno to fail Open with
  Bytes cert_table;    // what the host provides
  uint32_t fw_error = 0;
  uint32_t report_status = 0;
  uint32_t report_size = 0x4A0;
  bool keep_growing = false;
  std::vector<uint32_t> certs_lens_seen;
  std::vector<uint32_t> vmpls_seen;
  int opens = 0, closes = 0;

  int Open(const std::string& path) override {
    ++opens;
    return open_error ? -open_error : 42;
  }
  void Close(int fd) override {
    EXPECT_EQ(fd, 42);
    ++closes;
  }
  int Ioctl(int fd, unsigned long request, void* arg) override {
    EXPECT_EQ(request, kSnpGetExtReport);
    auto* guest = static_cast<SnpGuestRequestIoctl*>(arg);
    EXPECT_EQ(guest->msg_version, 1);
    auto* req = reinterpret_cast<SnpExtReportReq*>(guest->req_data);
    auto* resp = reinterpret_cast<SnpReportResp*>(guest->resp_data);
    certs_lens_seen.push_back(req->certs_len);
    vmpls_seen.push_back(req->data.vmpl);
    EXPECT_EQ(req->certs_address % 4096, 0u) << "certificate buffer must be page aligned";
    if (fw_error != 0) {
      guest->exitinfo2 = fw_error;
      return -EIO;
    }
    uint32_t need = static_cast<uint32_t>((cert_table.size() + 4095) / 4096 * 4096);
    if (keep_growing) need = req->certs_len + 4096;
    if (req->certs_len < need) {
      req->certs_len = need;
      guest->exitinfo2 = uint64_t{kSnpVmmErrInvalidLen} << 32;
      return -EIO;
    }
    auto ev = Sim()->GetReport(ByteView(req->data.user_data, 64), req->data.vmpl).value();
    StoreLe32(resp->data, report_status);
    StoreLe32(resp->data + 4, report_size);
    std::memcpy(resp->data + 0x20, ev.report.data(), ev.report.size());
    if (!cert_table.empty()) {
      std::memcpy(reinterpret_cast<void*>(req->certs_address), cert_table.data(), cert_table.size());
    }
    return 0;
  }
};

class SevGuestTest : public ::testing::Test {
 protected:
  SevGuestDevice Device() {
    SevGuestOptions o;
    o.io = fake_;
    return SevGuestDevice(o);
  }
  std::shared_ptr<FakeSevGuest> fake_ = std::make_shared<FakeSevGuest>();
};
using sevsnp_collect_ioctl = SevGuestTest;

TEST_F(sevsnp_collect_ioctl, ReturnsReportAndTrimmedCertTable) {
  fake_->cert_table = Sim()->GetReport(Bytes(64)).value().cert_table;
  ReportData rd = MakeReportData(0x77);
  auto got = Device().GetReport(rd, 3);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->provider, "sev_guest");
  EXPECT_EQ(got->cert_table, fake_->cert_table);  // page padding cut off
  auto report = ParseReport(got->report).value();
  EXPECT_EQ(Bytes(report.report_data.begin(), report.report_data.end()), Bytes(rd.begin(), rd.end()));
  EXPECT_EQ(report.vmpl, 3u);
  EXPECT_EQ(fake_->certs_lens_seen, (std::vector<uint32_t>{16384}));
  EXPECT_EQ(fake_->closes, 1);
}

TEST_F(sevsnp_collect_ioctl, GrowsTheCertificateBufferWhenAsked) {
  // A 20000-byte blob makes the table need 6 pages, more than the first 4-page buffer.
  std::vector<SimCertTableEntry> entries = {{kSimGuidVcek, Sim()->vcek_der()},
                                            {kSimGuidAsk, Bytes(20000, 0x5A)}};
  fake_->cert_table = BuildCertTable(entries);
  auto got = Device().GetReport(MakeReportData(0), 0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(fake_->certs_lens_seen, (std::vector<uint32_t>{16384, 24576}));
  EXPECT_EQ(got->cert_table, fake_->cert_table);
}

TEST_F(sevsnp_collect_ioctl, FirmwareThatKeepsAskingIsUnavailable) {
  fake_->keep_growing = true;
  auto got = Device().GetReport(MakeReportData(0), 0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(got.status().message()),
            "sev-guest: firmware still wants a larger certificate buffer after growing it to "
            "20480 bytes (asks for 24576)");
  EXPECT_EQ(fake_->certs_lens_seen.size(), 2u);
}

TEST_F(sevsnp_collect_ioctl, FirmwareErrorIsUnavailableWithCodes) {
  fake_->fw_error = 0x16;
  auto got = Device().GetReport(MakeReportData(0), 0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(got.status().message()),
            "sev-guest: SNP_GET_EXT_REPORT failed: Input/output error (firmware error 0x16, "
            "vmm error 0x0)");
}

TEST_F(sevsnp_collect_ioctl, BadResponseHeader) {
  fake_->report_status = 0x27;
  auto got = Device().GetReport(MakeReportData(0), 0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(got.status().message()), "sev-guest: firmware report status 0x27, want 0");

  fake_->report_status = 0;
  fake_->report_size = 1000;
  got = Device().GetReport(MakeReportData(0), 0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(std::string(got.status().message()), "sev-guest: report_size is 1000, want 1184");
}

TEST_F(sevsnp_collect_ioctl, VmplAboveThreeIsInvalidArgument) {
  auto got = Device().GetReport(MakeReportData(0), 7);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fake_->opens, 0);
}

TEST_F(sevsnp_collect_ioctl, NoCertificatesFromHost) {
  auto got = Device().GetReport(MakeReportData(0), 0);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->cert_table.empty());
}

TEST_F(sevsnp_collect_ioctl, OpenErrorsMapToCodes) {
  fake_->open_error = ENOENT;
  EXPECT_EQ(Device().GetReport(MakeReportData(0), 0).status().code(), absl::StatusCode::kNotFound);
  fake_->open_error = EACCES;
  auto got = Device().GetReport(MakeReportData(0), 0);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(std::string(got.status().message()), "sev-guest: opening /dev/sev-guest: Permission denied");
}

TEST(sevsnp_collect_cert_table_extent, Table) {
  Bytes table = BuildCertTable({{kSimGuidVcek, Bytes(100, 1)}, {kSimGuidArk, Bytes(50, 2)}});
  Bytes padded = table;
  padded.resize(4096, 0);
  Bytes unterminated(48, 0xFF);
  Bytes overflowing = table;
  StoreLe32(overflowing.data() + 20, 5000);  // first blob length past the buffer
  struct Case {
    std::string name;
    Bytes buffer;
    absl::StatusOr<size_t> want;
  };
  const Case cases[] = {
      {"padded", padded, table.size()},
      {"exact", table, table.size()},
      {"empty", Bytes(4096, 0), size_t{0}},
      {"unterminated", unterminated,
       absl::InvalidArgumentError("certificate table: entry 0 ends at 8589934590, past the 48-byte buffer")},
      {"too short", Bytes(10, 0),
       absl::InvalidArgumentError("certificate table: no terminating entry within 10 bytes")},
      {"overflowing", overflowing,
       absl::InvalidArgumentError("certificate table: entry 0 ends at 5072, past the 222-byte buffer")},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CertTableExtent(c.buffer), c.want) << c.name;
  }
}

// ---- simulation and selection ----

TEST(sevsnp_collect_simulated, WrapsTheSimulator) {
  SimulatedSnpDevice device(Sim());
  EXPECT_EQ(device.name(), "simulated");
  auto got = device.GetReport(MakeReportData(9), 2);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->provider, kSimulatedProvider);
  EXPECT_EQ(ParseReport(got->report).value().vmpl, 2u);
  EXPECT_FALSE(got->cert_table.empty());
}

class SelectionTest : public ::testing::Test {
 protected:
  SnpDeviceOptions Options() {
    SnpDeviceOptions o;
    o.configfs.root = tmp_ / "report";
    o.configfs.kernel = kernel_;
    o.sev_guest.path = "/dev/sev-guest";
    o.sev_guest.io = sev_;
    return o;
  }
  twi::testing::TempDir tmp_;
  std::shared_ptr<FakeTsmKernel> kernel_ = std::make_shared<FakeTsmKernel>(Sim());
  std::shared_ptr<FakeSevGuest> sev_ = std::make_shared<FakeSevGuest>();
};
using sevsnp_collect_select = SelectionTest;

TEST_F(sevsnp_collect_select, PrefersConfigfs) {
  fs::create_directory(tmp_ / "report");
  auto device = OpenSnpDevice(Options());
  ASSERT_TRUE(device.ok()) << device.status();
  EXPECT_EQ((*device)->name(), "configfs-tsm");
  EXPECT_EQ(sev_->opens, 0);
  EXPECT_TRUE(SnpDevicePresent(Options()));
}

TEST_F(sevsnp_collect_select, FallsBackToSevGuest) {
  auto device = OpenSnpDevice(Options());
  ASSERT_TRUE(device.ok()) << device.status();
  EXPECT_EQ((*device)->name(), "sev-guest");
  EXPECT_EQ(sev_->closes, 1);  // the probe does not leak its descriptor
  EXPECT_TRUE((*device)->GetReport(MakeReportData(0), 0).ok());
}

TEST_F(sevsnp_collect_select, NothingThereIsNotFound) {
  sev_->open_error = ENOENT;
  auto device = OpenSnpDevice(Options());
  EXPECT_EQ(device.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(device.status().message()),
            "no usable sev-snp guest device; tried configfs-tsm at " + tmp_.path() +
                "/report: not present; sev-guest: opening /dev/sev-guest: No such file or "
                "directory");
  EXPECT_FALSE(SnpDevicePresent(Options()));
}

TEST_F(sevsnp_collect_select, TdxConfigfsAndNoSevGuestIsFailedPrecondition) {
  fs::create_directory(tmp_ / "report");
  kernel_->provider = "tdx_guest";
  sev_->open_error = ENOENT;
  auto device = OpenSnpDevice(Options());
  EXPECT_EQ(device.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(device.status().message().find("provider is \"tdx_guest\", want \"sev_guest\""),
            std::string::npos)
      << device.status();
}

TEST_F(sevsnp_collect_select, PermissionDeniedIsFailedPrecondition) {
  sev_->open_error = EACCES;
  auto device = OpenSnpDevice(Options());
  EXPECT_EQ(device.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(device.status().message().find("Permission denied"), std::string::npos);
}

}  // namespace
}  // namespace twi::sevsnp
