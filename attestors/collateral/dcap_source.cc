#include "attestors/collateral/dcap_source.h"

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "attestors/core/status.h"

#include "attestors/core/file.h"
#include "attestors/core/str.h"

namespace twi::collateral {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Offline: one bundle for every FMSPC, or <dir>/<FMSPC>.json.
class OfflineSource final : public DcapCollateralSource {
 public:
  explicit OfflineSource(std::string path) : path_(std::move(path)) {}
  absl::StatusOr<std::shared_ptr<const DcapCollateral>> Get(DcapTee, ByteView fmspc,
                                                            PckCa) override {
    std::string file = path_;
    if (IsDirectory(path_)) file = StrCat(path_, "/", absl::AsciiStrToUpper(HexEncode(fmspc)), ".json");
    auto text = ReadFileToString(file);
    if (!text.ok()) {
      return absl::NotFoundError(StrCat("tdx collateral for fmspc ", absl::AsciiStrToUpper(HexEncode(fmspc)),
                                        ": ", text.status().message()));
    }
    auto c = ParseDcapBundle(*text);
    if (!c.ok()) return Annotate(c.status(), StrCat("tdx collateral \"", file, "\""));
    return std::make_shared<const DcapCollateral>(*std::move(c));
  }

 private:
  std::string path_;
};

}  // namespace

const char* PckCaName(PckCa ca) { return ca == PckCa::kPlatform ? "platform" : "processor"; }

absl::StatusOr<std::unique_ptr<DcapCollateralSource>> MakeDcapCollateralSource(
    const DcapSourceOptions& options, HttpGetter*, const Clock*) {
  if (!options.offline_path.empty()) return std::make_unique<OfflineSource>(options.offline_path);
  return absl::UnimplementedError("tdx collateral: only offline_path is supported so far");
}

}  // namespace twi::collateral
