// The key-binding format of twi/v1: how an agent's SVID key (held by the twi KeyManager, see
// plugin/keymanager) is bound into node attestation evidence and proven by its holder.
//
// Without Payload.svid_key nothing here is used and the binding is the instance key's alone
// (appraisal/protocol.h). With it:
//
//   key-bound input  = "twi/v1 key-bound" || 0x00 || nonce (32) || SHA-256(instance key SPKI)
//                      || SHA-256(SVID key SPKI)
//   report data      = SHA-512(key-bound input)   (SNP REPORT_DATA, TDX REPORTDATA: 64 bytes)
//   qualifying data  = SHA-256(key-bound input)   (TPM/vTPM quote extraData: fits every TPM)
//
//   PoP transcript   = "twi/v1 svid-key pop" || 0x00 || nonce (32) || SHA-256(payload bytes)
//                      || SHA-256(SVID key SPKI) || generation (uint64, big-endian)
//   svid_key_signature = ECDSA (DER) by the SVID key over the PoP transcript, with SHA-256 for
//                      P-256 keys and SHA-384 for P-384 keys.
//
// Every field has a fixed size, so each kind of input has its own length (instance-key report
// data input 70 bytes, key-bound input 113, instance-key transcript 82, PoP transcript 124) as
// well as its own domain string: no input of one kind is also an input of another. The
// KeyManager builds the PoP transcript itself from its pending key (the caller supplies only
// the nonce, the payload digest and the generation it saw), so the key never signs a digest
// chosen by its caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/crypto.h"
#include "twi/v1/attestation.pb.h"

namespace twi::keybinding {

inline constexpr std::string_view kKeyBoundDomain = "twi/v1 key-bound";
inline constexpr std::string_view kPopDomain = "twi/v1 svid-key pop";
inline constexpr size_t kNonceSize = 32;
inline constexpr size_t kDigestSize = 32;
// Generous for an EC SPKI (91 bytes for P-256, 120 for P-384); refused before parsing.
inline constexpr size_t kMaxSpkiBytes = 1024;

// The key-bound input above; `nonce` must be kNonceSize bytes (the caller checked it).
Bytes KeyBoundInput(ByteView nonce, ByteView instance_key_spki, ByteView svid_key_spki);
Bytes KeyBoundReportData(ByteView nonce, ByteView instance_key_spki, ByteView svid_key_spki);
Bytes KeyBoundQualifyingData(ByteView nonce, ByteView instance_key_spki, ByteView svid_key_spki);

// The PoP transcript above. INVALID_ARGUMENT when the nonce or the digest has the wrong size.
absl::StatusOr<Bytes> PopTranscript(ByteView nonce, ByteView payload_digest,
                                    ByteView svid_key_spki, uint64_t generation);

// Parses a payload's SVID key: DER SPKI of an EC P-256 or P-384 key (SPIRE's agent slots are
// always P-256). INVALID_ARGUMENT "svid key ..." otherwise.
absl::StatusOr<EvpPkeyPtr> ParseSvidKey(ByteView spki);

// Signs `transcript` with an EC P-256/P-384 private key (SHA-256 / SHA-384, DER signature).
absl::StatusOr<Bytes> SignPop(EVP_PKEY* svid_key, ByteView transcript);

// Verifies the response's svid_key_signature against `svid_key` for this nonce and payload.
// INVALID_ARGUMENT naming the check: "svid key proof of possession: ...".
absl::Status VerifyPop(const twi::v1::SvidKey& svid_key, ByteView nonce, ByteView payload,
                       ByteView signature);

// Lowercase hex SHA-256 of the SVID key SPKI: what binding records and the composer compare.
std::string SvidKeyHash(ByteView svid_key_spki);

}  // namespace twi::keybinding
