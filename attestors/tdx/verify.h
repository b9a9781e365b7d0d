// DCAP quote verification (spec 2.7, order after Intel's QVL): the PCK chain from the quote's
// certification data to the pinned Intel SGX Root CA, the Root CA CRL and the PCK CRL of the
// PCK's issuing CA, TCB Info and QE Identity signatures over their exact signed text by the
// TCB Signing certificate (itself chained to the root), every collateral time window at the
// verification instant, FMSPC/PCEID match, the TDX module identity, the QE report signature by
// the PCK key and the attestation-key binding in its REPORTDATA, the QE identity, the quote
// signature, and TCB level selection with status convergence (spec 2.8).
//
// What this does not check: anything a relying party configures (DEBUG, MRTD/RTMR reference
// values, acceptable TCB statuses and advisories, REPORTDATA freshness). A verified quote is
// authentic Intel evidence at a known TCB status, not an acceptable one (policy.h).
//
// Outcomes that verification itself refuses (fail closed): "tcb not supported" (no TCB level,
// module level or QE level matches), a Revoked status, a TDX module identity mismatch, missing
// CRLs unless allow_missing_crls. Every check is recorded under a stable name:
//   quote.structure  quote.trailing_bytes  pck.chain  pck.validity  crl.root_ca  crl.pck
//   tcb_signing.chain  tcb_info.signature  tcb_info.structure  tcb_info.validity
//   qe_identity.signature  qe_identity.structure  qe_identity.validity  pck.extensions
//   tcb_info.match  tdx_module.identity  qe_report.signature  qe_report.binding
//   qe_identity.match  quote.signature  tcb.level
// A failure returns INVALID_ARGUMENT "<check>: <detail>".
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "attestors/collateral/dcap_bundle.h"
#include "attestors/collateral/dcap_json.h"
#include "attestors/core/checks.h"
#include "attestors/core/clock.h"
#include "attestors/core/expiring_cache.h"
#include "attestors/tdx/abi.h"

namespace twi::tdx {

struct VerifyOptions {
  // The verification instant for every window (required; tests pin it).
  TimePoint time{};
  // Roots accepted beside the built-in Intel SGX Root CA (a simulated hierarchy). Ignored
  // unless allow_simulation_roots is set.
  std::vector<Certificate> extra_trusted_roots;
  bool allow_simulation_roots = false;
  // Revocation is checked by default; a bundle without CRLs is refused unless this is set.
  bool allow_missing_crls = false;
};

// TCB evaluation (spec 2.8).
struct TcbEvaluation {
  std::string status;           // converged: UpToDate, ..., TDRelaunchAdvised...
  std::vector<std::string> advisory_ids;  // sorted, unique
  std::string platform_status;  // the selected TCB level (TDX level for TDs)
  std::string module_status;    // TDX module identity level ("" for SGX)
  std::string qe_status;        // QE identity level
  TimePoint tcb_date{};
  uint32_t tcb_evaluation_data_number = 0;
};

// Filled as far as verification got (claims for refusals too); `has_*` say which parts.
struct VerifiedQuote {
  Quote quote;
  bool has_quote = false;
  PckExtensions pck;
  bool has_pck = false;
  std::string pck_ca;  // "platform" or "processor"
  TcbEvaluation tcb;
  bool has_tcb = false;
  bool builtin_root = false;
  TimePoint valid_until{};  // earliest notAfter / nextUpdate of chain and collateral
  bool cache_hit = false;
};

// Verified (PCK chain, collateral) results per trust configuration, until the earliest
// notAfter/nextUpdate among them. A hit skips X.509 and JSON parsing, chain and CRL checks and
// the collateral signatures: a warm verification is the QE report and quote ECDSA checks plus
// quote parsing. Thread-safe.
struct PlatformEntry;  // defined in verify.cc
using VerificationCache = ExpiringCache<PlatformEntry>;

// Verifies a parsed quote against `collateral`. OK when authentic and at a supported TCB level;
// `out` (required) is filled as far as verification got either way.
absl::Status VerifyQuote(const Quote& quote, const collateral::DcapCollateral& collateral,
                         const VerifyOptions& options, CheckList& checks, VerifiedQuote* out,
                         VerificationCache* cache = nullptr);
// Same from wire bytes (check quote.structure on parse errors).
absl::Status VerifyQuoteBytes(ByteView quote, const collateral::DcapCollateral& collateral,
                              const VerifyOptions& options, CheckList& checks, VerifiedQuote* out,
                              VerificationCache* cache = nullptr);

// The checks that need no collateral, under the same names: quote.structure,
// quote.trailing_bytes, pck.chain, pck.validity, pck.extensions, qe_report.signature,
// qe_report.binding, quote.signature. OK means the quote was signed by an attestation key that
// a QE report signed by a PCK (chained to a trusted root, valid at options.time) vouches for.
// It says nothing about revocation, TCB status or the QE's identity: a caller without
// collateral runs this so every intrinsic check is known, then refuses for the collateral.
// `out` gets the quote and the PCK extensions (no TCB evaluation).
absl::Status VerifyQuoteSignatures(const Quote& quote, const VerifyOptions& options,
                                   CheckList& checks, VerifiedQuote* out);

// The TCB level algorithm alone (spec 2.8), for tests and tools. `qe_status` is the QE
// identity level status. Errors are "tcb not supported: ..." or a module mismatch.
absl::StatusOr<TcbEvaluation> EvaluateTcb(const Quote& quote, const PckExtensions& pck,
                                          const collateral::TcbInfo& tcb_info,
                                          const collateral::IdentityTcbLevel& qe_level);

}  // namespace twi::tdx
