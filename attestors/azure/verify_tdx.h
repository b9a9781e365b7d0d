// Azure TDX confidential VM verification (spec 4.2 with the TDX hardware report): the HCL
// report carries a TDREPORT whose REPORTDATA binds the runtime claims; the TDREPORT's MAC can
// only be checked on the platform, so the host's quoting service turns it into a DCAP quote,
// which the TDX verifier checks (tdx/verify.h: PCK chain, QE report, quote signature, collateral
// and TCB level), and which must carry the TDREPORT's values field by field. The runtime claims'
// `HCLAkPub` key then signs the vTPM quote (nonce, pcrDigest), as on Azure SEV-SNP.
//
// What this does not check: the tdx policy (allowed TCB statuses, DEBUG, MRTD/RTMR allow-lists:
// the caller applies tdx/policy.h to `td_quote`), PCR values and the event log (tpm/policy.h).
//
// Checks, in this order, under stable names (plus those of tdx/verify.h and tpm/verify.h):
//   hcl.structure  hcl.report_type  runtime_claims.structure  hcl.binding  [user_data]
//   tdreport.structure  <TDX quote checks, quote.* as td_quote.*>  tdreport.match  ak.hcl_key  [ak.public_match]
//   <TPM quote checks>  [collateral.missing]
// tdreport.match compares REPORTDATA, MRTD, RTMR0-3, TDATTRIBUTES, XFAM, TEE_TCB_SVN, MRSEAM,
// MRSIGNERSEAM, SEAMATTRIBUTES, MRCONFIGID, MROWNER, MROWNERCONFIG (and TEE_TCB_SVN2 and
// SERVTD_HASH against a TDX 1.5 body) and names the first field that differs.
//
// Without collateral the TDX step runs only the checks that need none (tdx::
// VerifyQuoteSignatures: PCK chain to a trusted root, QE report, quote signature), every later
// check still runs, and the result is then refused by collateral.missing (UNAVAILABLE): TCB
// status and revocation are unknown. Other failures return INVALID_ARGUMENT "<check>: <detail>".
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "attestors/azure/tdreport.h"
#include "attestors/azure/verify.h"
#include "attestors/collateral/dcap_bundle.h"
#include "attestors/tdx/verify.h"

namespace twi::azure {

struct TdxEvidence {
  ByteView hcl_report;
  ByteView td_quote;                       // the host's DCAP quote of the TDREPORT
  // The quote's collateral (TCB Info, QE Identity, CRLs). Null: refused by collateral.missing
  // after every other check, with `collateral_error` as the reason when set.
  const collateral::DcapCollateral* collateral = nullptr;
  std::string collateral_error;
  ByteView quote;                          // vTPM TPMS_ATTEST or TPM2B_ATTEST
  ByteView signature;                      // TPMT_SIGNATURE
  tpm::PcrBanks pcrs;
  std::optional<tpm::Public> ak_public;    // the AK area the agent sent, when it did
};

struct TdxVerifyOptions {
  tdx::VerifyOptions tdx;  // time, extra roots, allow_missing_crls
  Bytes nonce;             // expected TPMS_ATTEST.extraData
  bool allow_empty_nonce = false;
  std::optional<Bytes> expected_user_data;
};

struct VerifiedAzureTdx {
  HclReport hcl;
  RuntimeClaims claims;
  Bytes binding;
  TdReportStruct td_report;
  bool has_td_report = false;
  tdx::VerifiedQuote td_quote;  // has_quote / has_tcb say how far it got
  tpm::VerifiedQuote quote;
  Bytes ak_spki_sha256;
};

// Runs every check above; `out` (required) is filled as far as verification got.
absl::Status VerifyAzureTdx(const TdxEvidence& evidence, const TdxVerifyOptions& options,
                            CheckList& checks, VerifiedAzureTdx* out,
                            tdx::VerificationCache* cache = nullptr);

// tdreport.match alone: `report` against a TD quote body.
absl::Status MatchTdReport(const TdReportStruct& report, const tdx::TdReport& quote_body,
                           CheckList& checks);

// Claims as far as verification got: the TD quote's (tdx/policy.h Claims: mrtd, rtmr0-3,
// tcb_status, ...; tcb_status "unknown" without collateral), platform "azure", vm_id,
// ak_pub_sha256, report_data_binding.
std::map<std::string, std::string> Claims(const VerifiedAzureTdx& v);

}  // namespace twi::azure
