#include "attestors/tsm/configfs_tsm.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "attestors/core/str.h"
#include "attestors/core/crypto.h"
#include "attestors/core/file.h"
#include "attestors/core/status.h"

namespace twi::tsm {
namespace {

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

std::string UniqueEntryName() {
  static std::atomic<uint64_t> counter{0};
  auto rnd = RandomBytes(4);
  return twi::StrCat("twi-", getpid(), "-", counter.fetch_add(1), "-",
                      rnd.ok() ? HexEncode(*rnd) : "0");
}

}  // namespace

absl::Status ErrnoStatus(int err, const std::string& what) {
  std::string msg = twi::StrCat(what, ": ", std::strerror(err));
  if (err == ENOENT || err == ENODEV || err == ENXIO) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::FailedPreconditionError(msg);
  return absl::UnavailableError(msg);
}

bool TsmRootPresent(const std::string& root) {
  struct stat st;
  return stat(root.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

absl::StatusOr<std::string> ConfigfsTsm::CreateEntry() {
  std::string entry = twi::StrCat(options_.root, "/", UniqueEntryName());
  if (mkdir(entry.c_str(), 0755) != 0) {
    int err = errno;
    return ErrnoStatus(err, twi::StrCat("configfs-tsm: creating ", entry));
  }
  if (options_.kernel) options_.kernel->Created(entry);
  return entry;
}

void ConfigfsTsm::RemoveEntry(const std::string& entry) {
  if (options_.kernel) options_.kernel->Removing(entry);
  // Best effort: a leftover entry only costs a little kernel memory, and failing the report
  // over it would be worse.
  rmdir(entry.c_str());
}

absl::StatusOr<std::string> ConfigfsTsm::Probe() {
  TWI_ASSIGN_OR_RETURN(std::string entry, CreateEntry());
  Bytes provider;
  if (options_.kernel) options_.kernel->Reading(entry, "provider");
  int err = ReadFileErrno(entry + "/provider", &provider);
  RemoveEntry(entry);
  if (err != 0) return ErrnoStatus(err, twi::StrCat("configfs-tsm: reading ", entry, "/provider"));
  return Trimmed(provider);
}

absl::StatusOr<TsmReport> ConfigfsTsm::GetReport(const TsmRequest& request) {
  const int attempts = options_.max_attempts > 0 ? options_.max_attempts : 1;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    TWI_ASSIGN_OR_RETURN(std::string entry, CreateEntry());
    struct Remover {
      ConfigfsTsm* self;
      std::string entry;
      ~Remover() { self->RemoveEntry(entry); }
    } remover{this, entry};
    TsmKernelHooks* kernel = options_.kernel.get();
    auto read = [&](const char* attr, Bytes* out) {
      if (kernel) kernel->Reading(entry, attr);
      return ReadFileErrno(twi::StrCat(entry, "/", attr), out);
    };
    auto write = [&](const char* attr, ByteView data) -> absl::Status {
      int err = WriteAll(twi::StrCat(entry, "/", attr), data);
      if (err != 0) return ErrnoStatus(err, twi::StrCat("configfs-tsm: writing ", entry, "/", attr));
      if (kernel) kernel->Written(entry, attr);
      return absl::OkStatus();
    };
    auto read_required = [&](const char* attr, Bytes* out) -> absl::Status {
      int err = read(attr, out);
      if (err != 0) return ErrnoStatus(err, twi::StrCat("configfs-tsm: reading ", entry, "/", attr));
      return absl::OkStatus();
    };

    if (request.privlevel) {
      // The kernel would refuse a privlevel below the floor with a bare EINVAL; say why instead.
      Bytes floor_text;
      uint32_t floor = 0;
      if (read("privlevel_floor", &floor_text) == 0 &&
          absl::SimpleAtoi(Trimmed(floor_text), &floor) && *request.privlevel < floor) {
        return absl::InvalidArgumentError(twi::StrCat(
            "configfs-tsm: vmpl ", *request.privlevel, " is below privlevel_floor ", floor));
      }
    }
    TWI_RETURN_IF_ERROR(write("inblob", request.inblob));
    if (request.privlevel) {
      TWI_RETURN_IF_ERROR(write("privlevel", AsBytes(twi::StrCat(*request.privlevel, "\n"))));
    }

    Bytes gen_before, outblob, auxblob, provider, gen_after;
    TWI_RETURN_IF_ERROR(read_required("generation", &gen_before));
    TWI_RETURN_IF_ERROR(read_required("outblob", &outblob));
    int aux_err = read("auxblob", &auxblob);
    // Kernels before auxblob support (and providers without certificates, e.g. TDX) have no
    // table to give.
    if (aux_err != 0 && aux_err != ENOENT) {
      return ErrnoStatus(aux_err, twi::StrCat("configfs-tsm: reading ", entry, "/auxblob"));
    }
    TWI_RETURN_IF_ERROR(read_required("provider", &provider));
    TWI_RETURN_IF_ERROR(read_required("generation", &gen_after));
    // Another writer changed the entry between our writes and our reads: outblob may answer
    // their inblob, not ours.
    if (Trimmed(gen_before) != Trimmed(gen_after)) continue;

    std::string prov = Trimmed(provider);
    if (prov != request.provider) {
      return absl::FailedPreconditionError(twi::StrCat(
          "configfs-tsm: provider is \"", prov, "\", want \"", request.provider, "\""));
    }
    return TsmReport{std::move(outblob), std::move(auxblob), std::move(prov)};
  }
  return absl::AbortedError(twi::StrCat(
      "configfs-tsm: generation changed while reading the report on all ", attempts,
      " attempts (another process is writing to the same entry)"));
}

}  // namespace twi::tsm
