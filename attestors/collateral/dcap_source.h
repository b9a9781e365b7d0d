// Where the server gets Intel DCAP collateral for a quote: the nine-key bundle (dcap_bundle.h)
// for the quote's FMSPC and PCK CA, from Intel PCS v4, a PCCS, or offline files.
//
// The FMSPC and CA type come from the quote's (not yet verified) PCK certificate: they only
// choose which collateral to fetch; the verifier then checks every item against the pinned
// root, so a wrong choice fails verification, never skips a check.
//
// Offline layouts (`offline_path`): a single bundle file used for every FMSPC, or a directory
// holding `<FMSPC as 12 uppercase hex digits>.json` bundles (one per platform type). A bundle
// item past its nextUpdate (TCB Info, QE Identity, either CRL) is refused as stale, by name:
// an air-gapped server must be given fresh collateral, not fail later with a vaguer error.
//
// Online (pcs.h): Intel PCS v4 by default, or a PCCS at `base_url`; each item cached until its
// nextUpdate.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/collateral/backoff.h"
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
  // offline_path means offline only, "" without one means Intel PCS.
  std::string base_url;
  // A PCCS usually serves a self-signed TLS certificate; accepted only when this is set (TLS
  // verification is then off: every item is still checked against the pinned Intel root).
  // Refused with Intel PCS, which has a publicly trusted certificate.
  bool allow_self_signed_tls = false;
  // Alternatively, the PEM certificate(s) to trust for the PCCS's TLS ("" = system store).
  std::string tls_ca_file;
  // Retries of one item's request (429, 5xx, transport errors); never shared between items.
  BackoffOptions backoff;
  // Online only: a directory keeping fetched items across restarts ("" = memory only; pcs.h).
  std::string cache_dir;
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

// Neither pointer is owned. `http` null: online sources make their own libcurl getter from the
// TLS options above; a getter passed in is used as it is, so combining one with those options
// is INVALID_ARGUMENT. `clock` null: the system clock.
absl::StatusOr<std::unique_ptr<DcapCollateralSource>> MakeDcapCollateralSource(
    const DcapSourceOptions& options, HttpGetter* http, const Clock* clock);

}  // namespace twi::collateral
