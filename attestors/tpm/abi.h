// TPM 2.0 wire structures (spec section 3): TPMS_ATTEST (quote, certify, creation, ... as
// TPM2_Quote / TPM2_Certify / TPM2_CertifyCreation return it), TPMT_PUBLIC / TPM2B_PUBLIC,
// TPMT_SIGNATURE and TPML_PCR_SELECTION, unmarshalled with tpm2-tss MU (TCG names kept), plus
// object Names (nameAlg || H_nameAlg(TPMT_PUBLIC)) and TPMT_PUBLIC -> OpenSSL keys.
//
// Structural checks only: MU's bounds and selector checks, and that the input is exactly one
// structure (no trailing bytes: a signature covers the bytes as sent, so there must be exactly
// one reading of them). Nothing here checks magic, type, attributes or signatures (verify.h).
// Errors are INVALID_ARGUMENT "<structure>: <what MU found>".
#pragma once

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/crypto.h"

namespace twi::tpm {

// TPMA_OBJECT bits an attestation key must carry (spec 3.3): restricted, sign, fixedTPM,
// fixedParent, sensitiveDataOrigin.
inline constexpr uint32_t kAkRequiredAttributes =
    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;

// A TPMT_PUBLIC with the exact bytes it was read from (or marshalled to): the Name hashes them.
struct Public {
  TPMT_PUBLIC area{};
  Bytes marshalled;  // the TPMT_PUBLIC, without a TPM2B size
};

// Exactly one TPMT_PUBLIC.
absl::StatusOr<Public> ParsePublic(ByteView tpmt_public);
// Exactly one TPM2B_PUBLIC (u16 size, then the TPMT_PUBLIC of that size).
absl::StatusOr<Public> ParsePublic2B(ByteView tpm2b_public);
// A TPM2B_PUBLIC when the leading u16 equals the remaining length, else a TPMT_PUBLIC (the
// two encodings of a marshalled public area found in files and on the wire).
absl::StatusOr<Public> ParsePublicAny(ByteView data);
// Marshals `area` (keys the agent or a test built in memory).
absl::StatusOr<Public> PublicFromArea(const TPMT_PUBLIC& area);

// A TPMS_ATTEST and the bytes the signature covers.
struct Attest {
  TPMS_ATTEST attest{};
  Bytes raw;  // the TPMS_ATTEST as signed (no TPM2B size)
};
// Exactly one TPMS_ATTEST.
absl::StatusOr<Attest> ParseAttest(ByteView tpms_attest);
// A TPM2B_ATTEST when the leading u16 equals the remaining length, else a raw TPMS_ATTEST.
absl::StatusOr<Attest> ParseAttestAny(ByteView data);

// Exactly one TPMT_SIGNATURE.
absl::StatusOr<TPMT_SIGNATURE> ParseSignature(ByteView tpmt_signature);
// Exactly one TPML_PCR_SELECTION.
absl::StatusOr<TPML_PCR_SELECTION> ParsePcrSelection(ByteView tpml_pcr_selection);

// PCR indices selected by one bank's bitmap, ascending (byte j bit i => PCR 8j+i).
std::vector<uint32_t> SelectedPcrs(const TPMS_PCR_SELECTION& selection);

// Digest size of a TPM_ALG_ID hash (SHA-1/256/384/512), 0 for anything else.
size_t DigestSize(uint16_t hash_alg);
// OpenSSL digest of a TPM_ALG_ID hash, nullptr for anything else.
const EVP_MD* HashMd(uint16_t hash_alg);
// H_alg(data); INVALID_ARGUMENT for an unsupported algorithm.
absl::StatusOr<Bytes> Hash(uint16_t hash_alg, ByteView data);
// Lowercase names for messages and claims: "sha256", "rsassa", "ecc", ...; "alg-0x00NN"
// otherwise.
std::string AlgName(uint16_t alg);
// The TPM_ALG_ID of "sha1", "sha256", "sha384", "sha512"; 0 for anything else.
uint16_t HashAlgFromName(std::string_view name);

// Name = nameAlg (u16 BE) || H_nameAlg(marshalled TPMT_PUBLIC).
absl::StatusOr<Bytes> ComputeName(const Public& pub);

// The public key of an RSA or ECC (P-256, P-384, P-521) area as an OpenSSL key. RSA exponent 0
// means 65537.
absl::StatusOr<EvpPkeyPtr> PublicKey(const Public& pub);
// The same key as DER SubjectPublicKeyInfo (what EK hash allow-lists and certificates carry).
absl::StatusOr<Bytes> PublicSpki(const Public& pub);

}  // namespace twi::tpm
