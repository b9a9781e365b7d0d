#include "attestors/sevsnp/collect.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "attestors/sevsnp/sim.h"

namespace twi::sevsnp {
namespace {

using tsm::ErrnoStatus;

constexpr size_t kReportSize = 0x4A0;
constexpr size_t kPage = 4096;

// VMPLs 0-3 exist (spec 1.1); anything else would only earn a bare EINVAL from the kernel.
absl::Status CheckVmpl(uint32_t vmpl) {
  if (vmpl > 3) return absl::InvalidArgumentError(absl::StrCat("vmpl: got ", vmpl, ", want 0-3"));
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// configfs-tsm

absl::StatusOr<SnpDeviceReport> ConfigfsTsmDevice::GetReport(const ReportData& report_data,
                                                             uint32_t vmpl) {
  TWI_RETURN_IF_ERROR(CheckVmpl(vmpl));
  TWI_ASSIGN_OR_RETURN(tsm::TsmReport r,
                       tsm_.GetReport({ByteView(report_data), vmpl, "sev_guest"}));
  if (r.outblob.size() != kReportSize) {
    return absl::InternalError(absl::StrCat("configfs-tsm: outblob has ", r.outblob.size(),
                                            " bytes, want ", kReportSize));
  }
  return SnpDeviceReport{std::move(r.outblob), std::move(r.auxblob), std::move(r.provider)};
}

// ---------------------------------------------------------------------------------------------
// /dev/sev-guest

namespace {

class LinuxIo final : public SevGuestIo {
 public:
  int Open(const std::string& path) override {
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
  }
  int Ioctl(int fd, unsigned long request, void* arg) override {
    int rc;
    do {
      rc = ioctl(fd, request, arg);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
  }
  void Close(int fd) override { close(fd); }
};

struct FreeDeleter { void operator()(void* p) const { std::free(p); } };

}  // namespace

std::shared_ptr<SevGuestIo> LinuxSevGuestIo() { return std::make_shared<LinuxIo>(); }

SevGuestDevice::SevGuestDevice(SevGuestOptions options) : options_(std::move(options)) {
  if (!options_.io) options_.io = LinuxSevGuestIo();
}

absl::StatusOr<SnpDeviceReport> SevGuestDevice::GetReport(const ReportData& report_data,
                                                          uint32_t vmpl) {
  TWI_RETURN_IF_ERROR(CheckVmpl(vmpl));
  SevGuestIo& io = *options_.io;
  int fd = io.Open(options_.path);
  if (fd < 0) return ErrnoStatus(-fd, absl::StrCat("sev-guest: opening ", options_.path));
  struct Closer {
    SevGuestIo& io;
    int fd;
    ~Closer() { io.Close(fd); }
  } closer{io, fd};

  auto round_up = [](uint64_t n) { return (n + kPage - 1) / kPage * kPage; };
  uint64_t certs_len = round_up(options_.initial_certs_len > 0 ? options_.initial_certs_len : kPage);
  // One retry with the size the firmware asked for; a second "too small" means it keeps moving
  // the goalposts, which a correct host does not do.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<uint8_t, FreeDeleter> certs(
        static_cast<uint8_t*>(std::aligned_alloc(kPage, certs_len)));
    if (!certs) return absl::ResourceExhaustedError("sev-guest: allocating the certificate buffer");
    std::memset(certs.get(), 0, certs_len);
    SnpExtReportReq req{};
    std::memcpy(req.data.user_data, report_data.data(), report_data.size());
    req.data.vmpl = vmpl;
    req.certs_address = reinterpret_cast<uintptr_t>(certs.get());
    req.certs_len = static_cast<uint32_t>(certs_len);
    SnpReportResp resp{};
    SnpGuestRequestIoctl guest{};
    guest.msg_version = 1;
    guest.req_data = reinterpret_cast<uintptr_t>(&req);
    guest.resp_data = reinterpret_cast<uintptr_t>(&resp);

    int rc = io.Ioctl(fd, kSnpGetExtReport, &guest);
    uint32_t fw_error = static_cast<uint32_t>(guest.exitinfo2);
    uint32_t vmm_error = static_cast<uint32_t>(guest.exitinfo2 >> 32);
    if (rc != 0 && vmm_error == kSnpVmmErrInvalidLen) {
      uint64_t want = round_up(req.certs_len);
      if (attempt > 0) {
        return absl::UnavailableError(absl::StrCat(
            "sev-guest: firmware still wants a larger certificate buffer after growing it to ",
            certs_len, " bytes (asks for ", req.certs_len, ")"));
      }
      if (want <= certs_len || want > options_.max_certs_len) {
        return absl::UnavailableError(absl::StrCat(
            "sev-guest: firmware asks for a ", req.certs_len, "-byte certificate buffer, got ",
            certs_len, ", want more than that and at most ", options_.max_certs_len));
      }
      certs_len = want;
      continue;
    }
    if (rc != 0) {
      return absl::UnavailableError(absl::StrCat(
          "sev-guest: SNP_GET_EXT_REPORT failed: ", std::strerror(-rc), " (firmware error 0x",
          absl::Hex(fw_error), ", vmm error 0x", absl::Hex(vmm_error), ")"));
    }
    // MSG_REPORT_RSP: status u32, report_size u32, 24 reserved bytes, then the report.
    uint32_t status = LoadLe32(resp.data);
    uint32_t report_size = LoadLe32(resp.data + 4);
    if (status != 0) {
      return absl::UnavailableError(
          absl::StrCat("sev-guest: firmware report status 0x", absl::Hex(status), ", want 0"));
    }
    if (report_size != kReportSize) {
      return absl::InternalError(absl::StrCat("sev-guest: report_size is ", report_size,
                                              ", want ", kReportSize));
    }
    SnpDeviceReport out;
    out.report.assign(resp.data + 0x20, resp.data + 0x20 + kReportSize);
    ByteView buffer(certs.get(), certs_len);
    // A table we cannot delimit is dropped rather than failing the report: the verifier then
    // fetches the certificates from KDS, which it must be able to do anyway.
    absl::StatusOr<size_t> extent = CertTableExtent(buffer);
    if (extent.ok()) out.cert_table.assign(buffer.begin(), buffer.begin() + *extent);
    out.provider = "sev_guest";
    return out;
  }
  return absl::InternalError("sev-guest: unreachable");
}

absl::StatusOr<size_t> CertTableExtent(ByteView buffer) {
  constexpr size_t kEntry = 24;
  size_t end = 0;
  for (size_t pos = 0;; pos += kEntry) {
    if (pos > buffer.size() || buffer.size() - pos < kEntry) {
      return absl::InvalidArgumentError(absl::StrCat(
          "certificate table: no terminating entry within ", buffer.size(), " bytes"));
    }
    ByteView e = buffer.subspan(pos, kEntry);
    if (IsAllZero(e)) return pos == 0 ? 0 : std::max(end, pos + kEntry);
    uint64_t offset = LoadLe32(e.data() + 16);
    uint64_t length = LoadLe32(e.data() + 20);
    if (offset + length > buffer.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "certificate table: entry ", pos / kEntry, " ends at ", offset + length,
          ", past the ", buffer.size(), "-byte buffer"));
    }
    end = std::max<size_t>(end, offset + length);
  }
}

// ---------------------------------------------------------------------------------------------
// simulation and selection

absl::StatusOr<SnpDeviceReport> SimulatedSnpDevice::GetReport(const ReportData& report_data,
                                                              uint32_t vmpl) {
  TWI_RETURN_IF_ERROR(CheckVmpl(vmpl));  // behave like the real devices
  TWI_ASSIGN_OR_RETURN(SimEvidence ev, sim_->GetReport(ByteView(report_data), vmpl));
  return SnpDeviceReport{std::move(ev.report), std::move(ev.cert_table), kSimulatedProvider};
}

absl::StatusOr<std::unique_ptr<SnpDevice>> OpenSnpDevice(const SnpDeviceOptions& options) {
  std::vector<std::string> tried;
  bool unusable = false;  // something exists but cannot serve SNP reports

  const std::string& root = options.configfs.root;
  if (tsm::TsmRootPresent(root)) {
    auto device = std::make_unique<ConfigfsTsmDevice>(options.configfs);
    absl::StatusOr<std::string> provider = device->Probe();
    if (provider.ok() && *provider == "sev_guest") return device;
    unusable = true;
    tried.push_back(provider.ok()
                        ? absl::StrCat("configfs-tsm at ", root, ": provider is \"", *provider,
                                       "\", want \"sev_guest\"")
                        : std::string(provider.status().message()));
  } else {
    tried.push_back(absl::StrCat("configfs-tsm at ", root, ": not present"));
  }

  std::shared_ptr<SevGuestIo> io = options.sev_guest.io ? options.sev_guest.io : LinuxSevGuestIo();
  int fd = io->Open(options.sev_guest.path);
  if (fd >= 0) {
    io->Close(fd);
    SevGuestOptions sev = options.sev_guest;
    sev.io = io;
    return std::make_unique<SevGuestDevice>(std::move(sev));
  }
  absl::Status open_status = ErrnoStatus(-fd, absl::StrCat("sev-guest: opening ", options.sev_guest.path));
  if (!absl::IsNotFound(open_status)) unusable = true;
  tried.push_back(std::string(open_status.message()));

  std::string msg = absl::StrCat("no usable sev-snp guest device; tried ", absl::StrJoin(tried, "; "));
  return unusable ? absl::FailedPreconditionError(msg) : absl::NotFoundError(msg);
}

bool SnpDevicePresent(const SnpDeviceOptions& options) { return OpenSnpDevice(options).ok(); }

}  // namespace twi::sevsnp
