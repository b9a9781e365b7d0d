// Parsing of Intel PCS v4 / PCCS responses (spec 2.6) into collateral items, before anything
// is verified: the verifier (tdx/verify.h) checks every signature, chain and window afterwards.
// What is checked here is only what makes a response usable and cacheable: it decodes, it is
// the document that was asked for (id, FMSPC), and its nextUpdate. Exposed for fuzzing.
//
// Response shapes:
//   TCB Info       {"tcbInfo": {...}, "signature": "<128 hex>"}, chain in TCB-Info-Issuer-Chain
//                  (SGX-TCB-Info-Issuer-Chain in PCS v3 and some PCCS versions)
//   QE Identity    {"enclaveIdentity": {...}, "signature": "..."}, SGX-Enclave-Identity-Issuer-Chain
//   PCK CRL        DER (encoding=der), chain in SGX-PCK-CRL-Issuer-Chain
//   Root CA CRL    DER from Intel; a PCCS may answer PEM or hex-encoded DER
// Issuer chains are URL-encoded PEM (percent-encoding; '+' is a literal '+', as base64 needs).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"
#include "attestors/core/x509.h"

namespace twi::collateral {

// "%2B" -> "+"; any other byte is kept. A '%' not followed by two hex digits is an error.
absl::StatusOr<std::string> PercentDecode(std::string_view s);

// An issuer-chain header value: URL-encoded PEM holding at least one certificate.
absl::StatusOr<std::vector<Certificate>> ParseIssuerChainHeader(std::string_view value);

// A CRL body: DER, PEM, or DER as hex text (PCCS root CA CRL).
absl::StatusOr<Crl> ParseCrlBody(std::string_view body);

struct SignedCollateral {
  std::string body;  // exact signed bytes of the inner object
  Bytes signature;   // r||s, 64
  TimePoint next_update{};
};

// TCB Info response for `id` ("TDX" or "SGX") and `fmspc` (6 bytes).
absl::StatusOr<SignedCollateral> ParseTcbInfoResponse(std::string_view body, std::string_view id,
                                                      ByteView fmspc);
// QE Identity response for `id` ("TD_QE" or "QE").
absl::StatusOr<SignedCollateral> ParseQeIdentityResponse(std::string_view body,
                                                         std::string_view id);

// OK when `next_update` is absent or not before `now`; else FAILED_PRECONDITION
// "<what> is stale: nextUpdate <t> is before now <t>".
absl::Status CheckNotStale(std::string_view what, std::optional<TimePoint> next_update,
                           TimePoint now);

}  // namespace twi::collateral
