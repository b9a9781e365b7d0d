// The VCEK of an Azure SEV-SNP confidential VM as Azure hands it out: the host's Trusted
// Hardware Identity Management (THIM) cache, reachable from the VM at the instance metadata
// service (IMDS): GET <base>/metadata/THIM/amd/certification with "Metadata: true", answered by
// JSON {"vcekCert": PEM, "certificateChain": PEM (ASK then ARK), "tcbm": hex}.
//
// Nothing here is trusted: the server verifies the VCEK against AMD's roots and the report's
// REPORTED_TCB like any other. The agent sends it so the server needs no KDS round trip.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/collateral/http.h"
#include "attestors/core/bytes.h"

namespace twi::azure {

inline constexpr char kDefaultImdsUrl[] = "http://169.254.169.254";
inline constexpr char kThimPath[] = "/metadata/THIM/amd/certification";

struct ThimCertification {
  Bytes vcek;                // DER
  std::vector<Bytes> chain;  // DER, in the order given (ASK, ARK)
  std::string tcbm;          // the TCB the VCEK was issued for (16 hex digits), informational
};

// Parses THIM's JSON answer (bounded: at most 64 KiB, at most 4 chain certificates).
// INVALID_ARGUMENT "thim: ..." when it is not that shape or a certificate does not parse.
absl::StatusOr<ThimCertification> ParseThimResponse(std::string_view json);

// GETs and parses THIM at `base_url` (no trailing slash needed). UNAVAILABLE when IMDS does
// not answer or answers non-200 (not an Azure VM, or the host has no VCEK cached).
absl::StatusOr<ThimCertification> FetchThim(collateral::HttpGetter& http,
                                            const std::string& base_url);

// A getter configured for IMDS: the Metadata header, no proxy-sensitive redirects, short
// timeouts (IMDS is link-local: it answers within milliseconds or not at all).
collateral::CurlOptions ImdsCurlOptions();

}  // namespace twi::azure
