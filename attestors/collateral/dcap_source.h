// Where the server gets Intel DCAP collateral for a quote: the nine-key bundle (dcap_bundle.h)
// for the quote's FMSPC and PCK CA, from Intel PCS v4, a PCCS, or offline files.
//
// The FMSPC and CA type come from the quote's (not yet verified) PCK certificate: they only
// choose which collateral to fetch; the verifier then checks every item against the pinned
// root, so a wrong choice fails verification, never skips a check.
//
// Offline layouts (`offline_path`): a single bundle file used for every FMSPC, or a directory
// holding `<FMSPC as 12 uppercase hex digits>.json` bundles (one per platform type).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/collateral/dcap_bundle.h"
#include "attestors/collateral/http.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"

namespace twi::collateral {

enum class DcapTee { kTdx, kSgx };
enum class PckCa { kPlatform, kProcessor };
// "platform" / "processor" (PCS's `ca` parameter).
const char* PckCaName(PckCa ca);

struct DcapSourceOptions {
  // Intel PCS ("https://api.trustedservices.intel.com") or a PCCS base URL; "" with an
  // offline_path means offline only.
  std::string base_url;
  // A PCCS usually serves a self-signed TLS certificate; accepted only when this is set.
  bool allow_self_signed_tls = false;
  // A bundle file or a directory of bundles keyed by FMSPC (see above). Offline mode never
  // touches the network.
  std::string offline_path;
};

class DcapCollateralSource {
 public:
  virtual ~DcapCollateralSource() = default;
  // Collateral for a quote whose PCK names `fmspc` (6 bytes) and was issued by `ca`.
  // NOT_FOUND names the missing item; a failure for one FMSPC never affects another.
  virtual absl::StatusOr<std::shared_ptr<const DcapCollateral>> Get(DcapTee tee, ByteView fmspc,
                                                                    PckCa ca) = 0;
};

// `http` may be null in offline mode; neither pointer is owned.
absl::StatusOr<std::unique_ptr<DcapCollateralSource>> MakeDcapCollateralSource(
    const DcapSourceOptions& options, HttpGetter* http, const Clock* clock);

}  // namespace twi::collateral
