// The TD quote of an Azure TDX confidential VM: the TDREPORT in the HCL report carries a MAC
// only the CPU can check, so the VM asks the host's quoting service, reachable at the instance
// metadata service (IMDS), to turn it into a DCAP quote:
//
//   POST <base>/acc/tdquote   Content-Type: application/json   {"report": "<base64url TDREPORT>"}
//   200                       {"quote": "<base64url DCAP quote>"}
//
// (the shape Microsoft's azure-cvm-tooling az-tdx-vtpm crate uses). Nothing here is trusted:
// the server verifies the quote with the TDX verifier and matches it to the TDREPORT.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/collateral/http.h"
#include "attestors/core/bytes.h"

namespace twi::azure {

inline constexpr char kTdQuotePath[] = "/acc/tdquote";
// A TD quote with its PCK chain is 5-8 KiB; its base64url a third more. Anything far beyond
// is not a quote.
inline constexpr size_t kMaxTdQuoteResponse = 64 * 1024;

// The request body for `td_report` (1024 bytes).
std::string TdQuoteRequest(ByteView td_report);

// The quote of IMDS's JSON answer. INVALID_ARGUMENT "imds tdquote: ..." when it is not that
// shape (bounded by kMaxTdQuoteResponse; the echoed text is bounded and escaped).
absl::StatusOr<Bytes> ParseTdQuoteResponse(std::string_view json);

// The IMDS client options for the TD quote (thim.h ImdsCurlOptions: short timeouts, no
// redirects, "Metadata: true"; the body bounded by kMaxTdQuoteResponse): what the agent plugin
// and `twi collect` post with.
collateral::CurlOptions TdQuoteCurlOptions();

// POSTs `td_report` to `base_url` + kTdQuotePath and returns the quote. UNAVAILABLE when IMDS
// does not answer or answers non-200 (not an Azure TDX VM, or the quoting service is down),
// INVALID_ARGUMENT for an answer that is not a quote. `http` should be configured for IMDS
// (TdQuoteCurlOptions).
absl::StatusOr<Bytes> FetchTdQuote(collateral::HttpGetter& http, const std::string& base_url,
                                   ByteView td_report);

}  // namespace twi::azure
