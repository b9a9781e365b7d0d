// Appraisal of a verified TDX quote against operator policy, and the mapping of its fields to
// SPIRE selector values and claims.
//
// Appraise assumes the quote was verified (verify.h): it judges values, never authenticity.
// It does not check REPORTDATA (freshness and key binding belong to the appraisal layer, which
// knows the nonce).
//
// Fail closed: only TCB status UpToDate is accepted by default, and any advisory ID must be
// allow-listed; debug TDs are refused unless allow_debug; SEPT_VE_DISABLE is required by
// default (without it the host can inject #VE on EPT violations the TD did not expect). SGX
// enclave quotes are refused (this policy is for TDs). Allow-lists are enforced when given; an
// empty allow-list accepts any value (configure MRTD/RTMR lists to pin images). Every failed
// check says what it expected and what it got.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "attestors/core/bytes.h"
#include "attestors/core/checks.h"
#include "attestors/tdx/verify.h"

namespace twi::tdx {

struct TdxPolicy {
  std::vector<std::string> allowed_tcb_statuses = {"UpToDate"};
  std::vector<std::string> allowed_advisory_ids;  // every advisory of the quote must be listed
  bool allow_debug = false;                        // TDATTRIBUTES.DEBUG
  // Allow-lists of exact 48-byte values (empty = any).
  std::vector<Bytes> mrtds;
  std::array<std::vector<Bytes>, 4> rtmrs;
  std::vector<Bytes> mrconfigids;
  std::vector<Bytes> mrowners;
  std::vector<Bytes> mrownerconfigs;
  std::vector<uint64_t> xfams;  // allowed XFAM values (empty = any)
  bool require_sept_ve_disable = true;
  // (TDATTRIBUTES & td_attributes_mask) == td_attributes_value, when the mask is non-zero.
  uint64_t td_attributes_mask = 0;
  uint64_t td_attributes_value = 0;
  // Per-component floor on TEE_TCB_SVN (all 16 bytes compared), and on the QE's ISVSVN.
  std::optional<std::array<uint8_t, 16>> min_tee_tcb_svn;
  std::optional<uint16_t> min_qe_svn;
  // True when no MRTD/RTMR allow-list is set: any genuine TD anywhere would pass (the server
  // warns about it at Configure).
  bool pins_nothing() const;
};

// Configuration-time validation: allow-list lengths, known TCB statuses, value within mask.
// Reports every problem in one INVALID_ARGUMENT.
absl::Status ValidatePolicy(const TdxPolicy& policy);

// Runs every policy check (all recorded in `checks`) and returns OK, or PERMISSION_DENIED for
// the first failure: "<check>: <what was found>; <what is wanted>". `quote` must have passed
// VerifyQuote.
absl::Status Appraise(const VerifiedQuote& quote, const TdxPolicy& policy, CheckList& checks);

// Selector values (without SPIRE's plugin-name prefix): "tee:tdx", "tdx:mrtd:<hex>",
// "tdx:rtmr0:<hex>" ... "tdx:rtmr3:<hex>", "tdx:mrconfigid:<hex>", "tdx:tcb-status:<status>",
// "tdx:fmspc:<hex>", "tdx:debug:<bool>". Call with a verified TD quote.
std::vector<std::string> Selectors(const VerifiedQuote& quote);
// Named claims, filled as far as verification got (hex lowercase): quote_version, tee_type,
// body_type, mrtd, rtmr0-3, mrconfigid, mrowner, mrownerconfig, mrseam, mrsignerseam,
// td_attributes, xfam, debug, tee_tcb_svn, tee_tcb_svn2, report_data, qe_svn; with the PCK:
// fmspc, pceid, pcesvn, pck_ca; with the TCB level: tcb_status, advisory_ids (comma-separated),
// tcb_date, qe_tcb_status, module_tcb_status, platform_tcb_status.
std::map<std::string, std::string> Claims(const VerifiedQuote& quote);

}  // namespace twi::tdx
