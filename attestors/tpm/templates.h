// Key templates the agent asks the TPM for: the endorsement keys of the TCG EK Credential
// Profile 2.0 (section 2.1.5.1, low range: RSA-2048 "template L-1", ECC NIST P-256 "L-2") and
// the attestation key (a restricted signing key created under the EK).
//
// Why the EK templates must be exact: a TPM derives primary keys deterministically from its
// endorsement seed and the template, so only the profile's template reproduces the key the
// manufacturer certified (the certificate in NV 0x01C00002 / 0x01C0000A).
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace twi::tpm {

enum class KeyAlg { kRsa2048, kEccP256 };

// "rsa" / "ecc".
std::string_view KeyAlgName(KeyAlg alg);

// PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256: the EK authPolicy of the low-range templates.
// Using the EK (ActivateCredential, or as a parent) needs a policy session that satisfies it.
inline constexpr std::array<uint8_t, 32> kEkAuthPolicy = {
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
    0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA};

// fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy | restricted | decrypt.
inline constexpr uint32_t kEkAttributes = 0x000300B2;
// fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted | sign: what a
// verifier requires of an attestation key (evidence-formats 3.3).
inline constexpr uint32_t kAkAttributes = 0x00050072;

// NV indices of the EK certificates for the low-range templates.
inline constexpr uint32_t kEkCertNvRsa2048 = 0x01C00002;
inline constexpr uint32_t kEkCertNvEccP256 = 0x01C0000A;
uint32_t EkCertNvIndex(KeyAlg alg);
// The profile's certificate index for an EK of this type and size, so a persistent EK made from
// another template (swtpm_setup persists an ECC P-384 EK, certified at 0x01C00016) finds its
// own: RSA 2048/3072/4096 -> 0x01C00002/1C/1E, ECC P-256/384/521 -> 0x01C0000A/16/18; 0 when the
// profile has none.
uint32_t EkCertNvIndexFor(const TPMT_PUBLIC& ek);

// TCG template L-1 / L-2: SHA-256 name, AES-128-CFB symmetric, no scheme, zero-filled unique
// (256 bytes for RSA, 32 + 32 for ECC).
TPM2B_PUBLIC EkTemplate(KeyAlg alg);

// RSA-2048 RSASSA-SHA256 or ECC P-256 ECDSA-SHA256, SHA-256 name, attributes kAkAttributes.
TPM2B_PUBLIC AkTemplate(KeyAlg alg);

}  // namespace twi::tpm
