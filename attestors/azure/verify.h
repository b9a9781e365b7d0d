// Azure SEV-SNP confidential VM verification (spec 4.2 steps 1-3): the HCL report's embedded
// SNP report by the SEV-SNP verifier (VCEK <- ASK <- ARK) at VMPL 0, the HCL binding (the
// hash the header names of the runtime-claims JSON equals REPORT_DATA[0..32), the rest zero),
// the runtime claims' `HCLAkPub` key (selected by kid) as the signer of the vTPM quote, which
// the TPM verifier checks (nonce, signature, pcrDigest); when the caller has the AK's public
// area too, it must be the same key.
//
// What this does not check: the sev_snp policy values (debug, measurement, TCB minimums: the
// caller applies sevsnp/policy.h to `snp.report`), PCR values and the event log (tpm/policy.h).
// Azure TDX is verify_tdx.h, which shares the HCL and vTPM steps declared here.
//
// Checks, in this order, under stable names (plus those of sevsnp/verify.h and tpm/verify.h):
//   hcl.structure  hcl.report_type  runtime_claims.structure  hcl.binding  [user_data]
//   <SEV-SNP checks>  snp.vmpl  ak.hcl_key  [ak.public_match]  <TPM quote checks>
// A failure returns INVALID_ARGUMENT "<check>: <detail>" (got/want in the detail).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "attestors/azure/abi.h"
#include "attestors/core/checks.h"
#include "attestors/core/x509.h"
#include "attestors/sevsnp/verify.h"
#include "attestors/tpm/verify.h"

namespace twi::azure {

struct Evidence {
  ByteView hcl_report;
  ByteView vcek;                           // DER or PEM (from the evidence or KDS)
  std::span<const Certificate> chain;      // ASK/ARK, may be empty (built-in AMD ones)
  ByteView quote;                          // TPMS_ATTEST or TPM2B_ATTEST
  ByteView signature;                      // TPMT_SIGNATURE
  tpm::PcrBanks pcrs;
  std::optional<tpm::Public> ak_public;    // the AK area the agent sent, when it did
};

struct VerifyOptions {
  sevsnp::VerifyOptions snp;  // time, roots, CRL
  Bytes nonce;                // expected TPMS_ATTEST.extraData
  bool allow_empty_nonce = false;
  // Trustee's v2 semantics: the runtime claims' user-data (hex) starts with these bytes.
  std::optional<Bytes> expected_user_data;
};

struct VerifiedAzureSnp {
  HclReport hcl;
  RuntimeClaims claims;
  Bytes binding;  // the runtime-claims digest REPORT_DATA carries
  sevsnp::VerifiedReport snp;
  tpm::VerifiedQuote quote;
  Bytes ak_spki_sha256;
};

// hcl.binding: the runtime-claims digest (hash type of the header) equals the first bytes of
// REPORT_DATA and the remaining bytes are zero. Works for SNP and TDX HCL reports. On success
// `digest` (optional) receives the digest.
absl::Status CheckBinding(const HclReport& hcl, CheckList& checks, Bytes* digest = nullptr);

// The steps every Azure CVM shares (the SEV-SNP and TDX verifiers both run them):
// hcl.structure, hcl.report_type (`want`), runtime_claims.structure, hcl.binding and, when
// `expected_user_data` is set, user_data. Outputs are filled as far as verification got.
absl::Status VerifyHclClaims(ByteView hcl_report, ReportType want,
                             const std::optional<Bytes>& expected_user_data, CheckList& checks,
                             HclReport* hcl, RuntimeClaims* claims, Bytes* binding);

// The vTPM quote of an Azure CVM and what it must prove.
struct HclQuote {
  ByteView quote;                                   // TPMS_ATTEST or TPM2B_ATTEST
  ByteView signature;                               // TPMT_SIGNATURE
  const tpm::PcrBanks* pcrs = nullptr;              // required
  const std::optional<tpm::Public>* ak_public = nullptr;  // the AK area sent, if any
  ByteView nonce;                                   // expected extraData
  bool allow_empty_nonce = false;
};

// ak.hcl_key (the claims' HCLAkPub), [ak.public_match], then the TPM verifier's checks with that
// key. `ak_spki_sha256` gets the AK's SPKI digest once the key is known.
absl::Status VerifyHclAkQuote(const RuntimeClaims& claims, const HclQuote& quote,
                              CheckList& checks, tpm::VerifiedQuote* out, Bytes* ak_spki_sha256);

// Runs every check above; `out` (required) is filled as far as verification got.
absl::Status VerifyAzureSnp(const Evidence& evidence, const VerifyOptions& options,
                            CheckList& checks, VerifiedAzureSnp* out,
                            sevsnp::VerificationCache* cache = nullptr);

// Claims of a verified result (measurement, vm_id, ak_pub_sha256, report_data_binding and the
// SNP report's own).
std::map<std::string, std::string> Claims(const VerifiedAzureSnp& v);

}  // namespace twi::azure
