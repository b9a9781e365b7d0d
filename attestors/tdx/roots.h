// Intel's public DCAP trust anchor, embedded: the Intel SGX Root CA (ECDSA P-256, 2018-05-21 ->
// 2049-12-31) that issues the PCK Platform/Processor CAs and the TCB Signing certificate. The
// embedded PEM is checked at load time against its pinned SHA-256 fingerprint (shared vector
// index section 1); on a mismatch no root is returned, so an accidental edit fails closed.
#pragma once

#include <string_view>

#include "attestors/core/x509.h"

namespace twi::tdx {

inline constexpr std::string_view kIntelSgxRootSha256 =
    "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

// The parsed root (once per process, thread-safe), or nullptr when the pin does not match.
const Certificate* IntelSgxRootCa();

}  // namespace twi::tdx
