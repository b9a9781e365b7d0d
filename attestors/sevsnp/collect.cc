#include "attestors/core/file.h"
#include "attestors/sevsnp/collect.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "attestors/sevsnp/sim.h"

namespace twi::sevsnp {
namespace {

constexpr size_t kReportSize = 0x4A0;
constexpr size_t kPage = 4096;

// Maps an errno from a device operation: missing -> NOT_FOUND, not allowed ->
// FAILED_PRECONDITION (the agent needs more privileges), anything else -> UNAVAILABLE.
absl::Status ErrnoStatus(int err, const std::string& what) {
  std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOENT || err == ENODEV || err == ENXIO) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::FailedPreconditionError(msg);
  return absl::UnavailableError(msg);
}

// configfs attributes are small files read and written in one go; these return 0 or an errno.
int ReadAll(const std::string& path, Bytes* out) { return ReadFileErrno(path, out); }

int WriteAll(const std::string& path, ByteView data) {
  // O_CREAT only matters for the test double (an ordinary directory); configfs attributes
  // exist. No O_TRUNC: configfs has no use for it, and every entry is fresh anyway.
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return err;
    }
    done += static_cast<size_t>(n);
  }
  // configfs commits a binary attribute on close, so its errors count too.
  if (close(fd) != 0) return errno;
  return 0;
}

std::string Trimmed(const Bytes& b) {
  std::string s(AsString(b));
  absl::StripAsciiWhitespace(&s);
  return s;
}

// VMPLs 0-3 exist (spec 1.1); anything else would only earn a bare EINVAL from the kernel.
absl::Status CheckVmpl(uint32_t vmpl) {
  if (vmpl > 3) return absl::InvalidArgumentError(absl::StrCat("vmpl: got ", vmpl, ", want 0-3"));
  return absl::OkStatus();
}

std::string UniqueEntryName() {
  static std::atomic<uint64_t> counter{0};
  auto rnd = RandomBytes(4);
  return absl::StrCat("twi-", getpid(), "-", counter.fetch_add(1), "-",
                      rnd.ok() ? HexEncode(*rnd) : "0");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// configfs-tsm

absl::StatusOr<std::string> ConfigfsTsmDevice::CreateEntry() {
  std::string entry = absl::StrCat(options_.root, "/", UniqueEntryName());
  if (mkdir(entry.c_str(), 0755) != 0) {
    int err = errno;
    return ErrnoStatus(err, absl::StrCat("configfs-tsm: creating ", entry));
  }
  if (options_.kernel) options_.kernel->Created(entry);
  return entry;
}

void ConfigfsTsmDevice::RemoveEntry(const std::string& entry) {
  if (options_.kernel) options_.kernel->Removing(entry);
  // Best effort: a leftover entry only costs a little kernel memory, and failing the report
  // over it would be worse.
  rmdir(entry.c_str());
}

absl::StatusOr<std::string> ConfigfsTsmDevice::Probe() {
  TWI_ASSIGN_OR_RETURN(std::string entry, CreateEntry());
  Bytes provider;
  if (options_.kernel) options_.kernel->Reading(entry, "provider");
  int err = ReadAll(entry + "/provider", &provider);
  RemoveEntry(entry);
  if (err != 0) return ErrnoStatus(err, absl::StrCat("configfs-tsm: reading ", entry, "/provider"));
  return Trimmed(provider);
}

absl::StatusOr<SnpDeviceReport> ConfigfsTsmDevice::GetReport(const ReportData& report_data,
                                                             uint32_t vmpl) {
  TWI_RETURN_IF_ERROR(CheckVmpl(vmpl));
  const int attempts = options_.max_attempts > 0 ? options_.max_attempts : 1;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    TWI_ASSIGN_OR_RETURN(std::string entry, CreateEntry());
    struct Remover {
      ConfigfsTsmDevice* self;
      std::string entry;
      ~Remover() { self->RemoveEntry(entry); }
    } remover{this, entry};
    TsmKernelHooks* kernel = options_.kernel.get();
    auto read = [&](const char* attr, Bytes* out) {
      if (kernel) kernel->Reading(entry, attr);
      return ReadAll(absl::StrCat(entry, "/", attr), out);
    };
    auto write = [&](const char* attr, ByteView data) -> absl::Status {
      int err = WriteAll(absl::StrCat(entry, "/", attr), data);
      if (err != 0) return ErrnoStatus(err, absl::StrCat("configfs-tsm: writing ", entry, "/", attr));
      if (kernel) kernel->Written(entry, attr);
      return absl::OkStatus();
    };
    auto read_required = [&](const char* attr, Bytes* out) -> absl::Status {
      int err = read(attr, out);
      if (err != 0) return ErrnoStatus(err, absl::StrCat("configfs-tsm: reading ", entry, "/", attr));
      return absl::OkStatus();
    };

    // The kernel would refuse a privlevel below the floor with a bare EINVAL; say why instead.
    Bytes floor_text;
    uint32_t floor = 0;
    if (read("privlevel_floor", &floor_text) == 0 &&
        absl::SimpleAtoi(Trimmed(floor_text), &floor) && vmpl < floor) {
      return absl::InvalidArgumentError(absl::StrCat(
          "configfs-tsm: vmpl ", vmpl, " is below privlevel_floor ", floor));
    }
    TWI_RETURN_IF_ERROR(write("inblob", ByteView(report_data)));
    TWI_RETURN_IF_ERROR(write("privlevel", AsBytes(absl::StrCat(vmpl, "\n"))));

    Bytes gen_before, outblob, auxblob, provider, gen_after;
    TWI_RETURN_IF_ERROR(read_required("generation", &gen_before));
    TWI_RETURN_IF_ERROR(read_required("outblob", &outblob));
    int aux_err = read("auxblob", &auxblob);
    // Kernels before auxblob support (and hosts without certificates) have no table to give.
    if (aux_err != 0 && aux_err != ENOENT) {
      return ErrnoStatus(aux_err, absl::StrCat("configfs-tsm: reading ", entry, "/auxblob"));
    }
    TWI_RETURN_IF_ERROR(read_required("provider", &provider));
    TWI_RETURN_IF_ERROR(read_required("generation", &gen_after));
    // Another writer changed the entry between our writes and our reads: outblob may answer
    // their inblob, not ours.
    if (Trimmed(gen_before) != Trimmed(gen_after)) continue;

    std::string prov = Trimmed(provider);
    if (prov != "sev_guest") {
      return absl::FailedPreconditionError(absl::StrCat(
          "configfs-tsm: provider is \"", prov, "\", want \"sev_guest\""));
    }
    if (outblob.size() != kReportSize) {
      return absl::InternalError(absl::StrCat("configfs-tsm: outblob has ", outblob.size(),
                                              " bytes, want ", kReportSize));
    }
    return SnpDeviceReport{std::move(outblob), std::move(auxblob), std::move(prov)};
  }
  return absl::AbortedError(absl::StrCat(
      "configfs-tsm: generation changed while reading the report on all ", attempts,
      " attempts (another process is writing to the same entry)"));
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

  struct stat st;
  const std::string& root = options.configfs.root;
  if (stat(root.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
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
