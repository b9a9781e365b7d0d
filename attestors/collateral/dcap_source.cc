#include "attestors/collateral/dcap_source.h"

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "attestors/collateral/dcap_json.h"
#include "attestors/collateral/pcs.h"
#include "attestors/collateral/pcs_response.h"
#include "attestors/core/echo.h"
#include "attestors/core/file.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"

namespace twi::collateral {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Names the first bundle item past its nextUpdate. Items that do not parse are left to the
// verifier, which refuses them with the failing check's name.
absl::Status CheckBundleFresh(const DcapCollateral& c, TimePoint now) {
  if (auto info = ParseTcbInfo(c.tcb_info); info.ok()) {
    TWI_RETURN_IF_ERROR(CheckNotStale("tcb_info", info->next_update, now));
  }
  if (auto qe = ParseEnclaveIdentity(c.qe_identity); qe.ok()) {
    TWI_RETURN_IF_ERROR(CheckNotStale("qe_identity", qe->next_update, now));
  }
  if (c.pck_crl) TWI_RETURN_IF_ERROR(CheckNotStale("pck_crl", c.pck_crl->next_update(), now));
  if (c.root_ca_crl) {
    TWI_RETURN_IF_ERROR(CheckNotStale("root_ca_crl", c.root_ca_crl->next_update(), now));
  }
  return absl::OkStatus();
}

// Offline: one bundle for every FMSPC, or <dir>/<FMSPC>.json.
class OfflineSource final : public DcapCollateralSource {
 public:
  OfflineSource(std::string path, const Clock* clock) : path_(std::move(path)), clock_(clock) {}
  absl::StatusOr<std::shared_ptr<const DcapCollateral>> Get(DcapTee, ByteView fmspc,
                                                            PckCa) override {
    std::string fmspc_hex = absl::AsciiStrToUpper(HexEncode(fmspc));
    std::string file = path_;
    if (IsDirectory(path_)) file = StrCat(path_, "/", fmspc_hex, ".json");
    auto text = ReadFileToString(file);
    if (!text.ok()) {
      return absl::NotFoundError(StrCat("tdx collateral for fmspc ", fmspc_hex, ": ",
                                        text.status().message()));
    }
    auto c = ParseDcapBundle(*text);
    if (!c.ok()) return Annotate(c.status(), StrCat("tdx collateral \"", file, "\""));
    absl::Status fresh = CheckBundleFresh(*c, clock_->Now());
    if (!fresh.ok()) return Annotate(fresh, StrCat("tdx collateral \"", file, "\""));
    return std::make_shared<const DcapCollateral>(*std::move(c));
  }

 private:
  std::string path_;
  const Clock* clock_;
};

// The online client with the getter it may own.
class OwningPcsSource final : public DcapCollateralSource {
 public:
  explicit OwningPcsSource(std::unique_ptr<HttpGetter> http) : http_(std::move(http)) {}
  absl::Status Init(PcsOptions options, HttpGetter* http, const Clock* clock) {
    TWI_ASSIGN_OR_RETURN(client_, PcsClient::Create(std::move(options), http, clock));
    return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<const DcapCollateral>> Get(DcapTee tee, ByteView fmspc,
                                                            PckCa ca) override {
    return client_->Get(tee, fmspc, ca);
  }

 private:
  std::unique_ptr<HttpGetter> http_;
  std::unique_ptr<PcsClient> client_;
};

}  // namespace

const char* PckCaName(PckCa ca) { return ca == PckCa::kPlatform ? "platform" : "processor"; }

absl::StatusOr<std::unique_ptr<DcapCollateralSource>> MakeDcapCollateralSource(
    const DcapSourceOptions& options, HttpGetter* http, const Clock* clock) {
  static const SystemClock kSystemClock;  // stateless
  if (clock == nullptr) clock = &kSystemClock;
  if (!options.offline_path.empty()) {
    return std::make_unique<OfflineSource>(options.offline_path, clock);
  }
  PcsOptions pcs;
  if (!options.base_url.empty()) pcs.base_url = options.base_url;
  pcs.backoff = options.backoff;
  pcs.cache_dir = options.cache_dir;
  std::string base = pcs.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (options.allow_self_signed_tls && base == kIntelPcsBaseUrl) {
    return absl::InvalidArgumentError(
        "tdx collateral: allow_self_signed_tls is for a pccs; intel pcs has a publicly trusted "
        "certificate");
  }
  if (http != nullptr && (options.allow_self_signed_tls || !options.tls_ca_file.empty())) {
    // Silently ignoring them would leave a PCCS unreachable with a confusing TLS error.
    return absl::InvalidArgumentError(
        "tdx collateral: allow_self_signed_tls and tls_ca_file configure the source's own http "
        "client; pass no getter to use them");
  }
  std::unique_ptr<HttpGetter> own_http;
  if (http == nullptr) {
    CurlOptions curl;
    curl.tls_skip_verification = options.allow_self_signed_tls;
    curl.tls_ca_file = options.tls_ca_file;
    own_http = std::make_unique<CurlHttpGetter>(curl);
    http = own_http.get();
  }
  auto source = std::make_unique<OwningPcsSource>(std::move(own_http));
  absl::Status init = source->Init(std::move(pcs), http, clock);
  if (!init.ok()) return Annotate(init, "tdx collateral");
  return source;
}

}  // namespace twi::collateral
