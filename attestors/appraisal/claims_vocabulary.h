// The normalized claims vocabulary: the only inputs the claims mapper sees. Every evidence
// appraiser exports the claims it verified under these names (EvidenceResult::claims), so a
// policy written against `tee` or `tdx_mrtd` works whichever evidence kind supplied them, and
// a new evidence kind plugs in by filling claims, not by changing the mapper.
//
// Values are strings in one canonical form per type: hex lowercase with a fixed byte length,
// bool "true"/"false", number in decimal (non-negative, fits int64). Names are declared here
// before their evidence kind exists (TDX, TPM, cloud), so policies can name them today and the
// README's vocabulary table is complete; such a claim is simply absent until an appraiser
// exports it.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace twi::appraisal {

enum class ClaimType { kHex, kString, kBool, kNumber };
std::string_view ClaimTypeName(ClaimType t);  // "hex", "string", "bool", "number"

struct ClaimDoc {
  std::string_view name;  // "tpm_pcr_sha256_<n>" stands for tpm_pcr_sha256_0 .. _23
  ClaimType type;
  int hex_bytes;                // length of kHex values in bytes, 0 otherwise
  std::string_view exported_by; // "SEV-SNP evidence", "TDX evidence", ...
  std::string_view description;
};

// The TEE whose evidence alone carries `name`'s claims: "sev-snp" for sev_snp_*, "tdx" for
// tdx_*, "" for claims any evidence may carry (tee, debug, tpm_*, cloud). A refset version
// may list one image's values for several TEEs; only the attested TEE's fields apply.
std::string_view TeeOf(std::string_view name);

// Verified claims of one attestation, by name.
using Claims = std::map<std::string, std::string>;

std::span<const ClaimDoc> Vocabulary();
// The entry for `name` (a concrete name: "tpm_pcr_sha256_7"), or null when it is not a claim.
const ClaimDoc* FindClaim(std::string_view name);
// OK when `value` is in the canonical form of `doc`'s type.
absl::Status CheckValue(const ClaimDoc& doc, std::string_view value);
// OK when every claim is in the vocabulary and canonical (appraisers' tests use this).
absl::Status CheckClaims(const Claims& claims);

}  // namespace twi::appraisal
