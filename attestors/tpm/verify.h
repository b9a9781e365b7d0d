// TPM 2.0 quote verification (spec 3.4 steps 2-4): the attestation key's attributes, the
// TPMT_SIGNATURE over the TPMS_ATTEST by that key with the key's own scheme (RSASSA, RSAPSS,
// ECDSA; SHA-1/256/384/512 as the scheme says), TPM_GENERATED_VALUE, type ATTEST_QUOTE, the
// qualifying data byte for byte, and the pcrDigest recomputed with the signature's hash over
// the supplied PCR values for the quoted selection.
//
// What this does not check: whether the AK belongs to a genuine TPM (credential activation
// against a trusted EK, or an AK certificate: credential.h, ek_trust.h), whether the PCR values
// are acceptable (policy.h), clockInfo / firmwareVersion (obfuscated outside the endorsement
// and platform hierarchies), or qualifiedSigner (hierarchy dependent, not the AK Name).
//
// Every check is recorded under a stable name:
//   quote.structure  ak.attributes  quote.magic  quote.type  quote.nonce  quote.signature
//   pcr.values  pcr.digest  (and eventlog.structure  eventlog.replay for VerifyEventLog)
// in that order (spec 3.4): magic, type and nonce are read before the signature is checked only
// to name the failure precisely; every path to OK passes all of them.
// A failure returns INVALID_ARGUMENT "<check>: <detail>" (got/want in the detail).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/checks.h"
#include "attestors/core/crypto.h"
#include "attestors/tpm/abi.h"

namespace twi::tpm {

// PCR values by bank (TPM_ALG_ID of the hash) then PCR index.
using PcrBanks = std::map<uint16_t, std::map<uint32_t, Bytes>>;

// The attestation key as the verifier holds it: a TPMT_PUBLIC (attributes and scheme known) or
// only a public key (an SPKI from another document, e.g. an Azure HCL report).
struct AkKey {
  std::optional<Public> area;
  std::shared_ptr<EVP_PKEY> key;
  Bytes spki;  // DER SubjectPublicKeyInfo
  Bytes spki_sha256;  // computed once: claims and messages use it on every quote

  static absl::StatusOr<AkKey> FromPublic(const Public& pub);
  static absl::StatusOr<AkKey> FromSpki(ByteView der);
  // PEM SPKI ("-----BEGIN PUBLIC KEY-----"), DER SPKI, TPM2B_PUBLIC or TPMT_PUBLIC.
  static absl::StatusOr<AkKey> Parse(ByteView data);
};

struct VerifyOptions {
  // The expected qualifying data (TPMS_ATTEST.extraData), compared byte for byte. An empty
  // nonce proves no freshness and is refused unless allow_empty_nonce (old captured quotes).
  Bytes nonce;
  bool allow_empty_nonce = false;
  // An AK known only as an SPKI has no attributes to check; that is refused unless the caller
  // vouches for the key another way and says so here.
  bool allow_ak_without_attributes = false;
  // Without PCR values pcr.values fails unless this is set; the quote then proves the nonce and
  // the selection, and pcr_digest_ok stays false.
  bool allow_missing_pcr_values = false;
};

// Filled as far as verification got.
struct VerifiedQuote {
  Attest attest;
  bool has_attest = false;
  uint16_t sig_alg = 0;   // TPM_ALG_RSASSA, _RSAPSS, _ECDSA
  uint16_t sig_hash = 0;  // the scheme's hash, also the pcrDigest hash
  // The quoted PCR values (only indices the quote selects); authenticated when pcr_digest_ok.
  PcrBanks pcrs;
  bool pcr_digest_ok = false;
  Bytes ak_spki_sha256;
  Bytes ak_name;  // empty when the AK is only an SPKI
};

// What an event log replay established against a verified quote (VerifyEventLog).
struct EventLogFacts {
  uint16_t bank = 0;                   // the quoted bank the log was replayed in
  std::vector<uint32_t> matched_pcrs;  // PCRs whose replay equals the quoted value, ascending
  size_t events = 0;
  // From PCR 7's EV_EFI_VARIABLE_DRIVER_CONFIG SecureBoot event; meaningful only when PCR 7 is
  // in matched_pcrs (nullopt when the log does not measure it).
  std::optional<bool> secure_boot;
  // EV_EFI_BOOT_SERVICES_APPLICATION digests in PCR 4, log order (the boot loader first).
  std::vector<Bytes> boot_applications;
  bool Matched(uint32_t pcr) const {
    for (uint32_t p : matched_pcrs) if (p == pcr) return true;
    return false;
  }
};

// ak.attributes: restricted, sign, fixedTPM, fixedParent, sensitiveDataOrigin; no decrypt.
absl::Status CheckAkAttributes(const Public& ak, CheckList& checks);

// Verifies `signature` over `message` with `ak` (the check quote.signature uses; exposed for
// TPM2_Certify and AK creation attestations). Returns INVALID_ARGUMENT without recording.
absl::Status VerifyTpmSignature(const AkKey& ak, ByteView message, const TPMT_SIGNATURE& sig);

// H_hash over the values of `selection` (selections in list order, indices ascending). An
// index without a value or a value of the wrong size is an error naming it.
absl::StatusOr<Bytes> PcrDigest(uint16_t hash, const TPML_PCR_SELECTION& selection,
                                const PcrBanks& pcrs);

// Parses `attest` (TPMS_ATTEST or TPM2B_ATTEST) and `signature` (TPMT_SIGNATURE) and runs every
// check above. `out` (required) is filled as far as verification got.
absl::Status VerifyQuote(const AkKey& ak, ByteView attest, ByteView signature,
                         const PcrBanks& pcrs, const VerifyOptions& options, CheckList& checks,
                         VerifiedQuote* out);

// Parses a TCG event log (legacy SHA-1 or crypto-agile), replays it in `bank` (0: SHA-256 when
// both the quote and the log have it, else the first quoted bank the log carries) and compares
// every PCR the log extends and the quote covers with the quoted value, which the pcrDigest
// must have authenticated (quote.pcr_digest_ok). Any mismatch refuses, naming the PCR with the
// replayed and quoted values. Checks eventlog.structure, eventlog.replay; INVALID_ARGUMENT
// "<check>: <detail>". `out` then holds the matched PCRs and the facts of the replayed bank;
// facts of PCRs outside matched_pcrs mean nothing.
absl::Status VerifyEventLog(const VerifiedQuote& quote, ByteView log, CheckList& checks,
                            EventLogFacts* out, uint16_t bank = 0);

// "sha256:7" style key of a bank and index (policy configuration and claims).
std::string PcrKey(uint16_t bank, uint32_t index);

}  // namespace twi::tpm
