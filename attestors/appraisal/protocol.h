// The twi/v1 node attestation protocol: bindings and the transcript, shared by both sides.
#pragma once

#include <any>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "twi/v1/attestation.pb.h"

namespace twi::appraisal {

inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr size_t kNonceSize = 32;

// Largest messages the server accepts, checked before parsing (documented in the README).
// A Payload is a ~91-byte key and a few evidence kinds; a ChallengeResponse carries one
// report and one certificate table (a few KiB) per kind.
inline constexpr size_t kMaxPayloadBytes = 64 * 1024;
inline constexpr size_t kMaxResponseBytes = 1024 * 1024;

// REPORT_DATA for TEE evidence: SHA-512("twi/v1" || nonce || SHA-256(instance key SPKI)).
Bytes ReportData(ByteView nonce, ByteView instance_key_spki);

// TPM quote qualifying data: SHA-256 over the same input. A TPM2B_DATA holds at most the TPM's
// largest digest, so the 64-byte REPORT_DATA does not fit every TPM; SHA-256 does.
Bytes TpmQualifyingData(ByteView nonce, ByteView instance_key_spki);

// The report data and qualifying data an attestation with `payload` binds: the two above for
// a payload without an SVID key (byte for byte), keybinding::KeyBoundReportData /
// KeyBoundQualifyingData when the payload carries one. Both sides, and every evidence kind,
// derive their binding through these two functions.
Bytes ReportData(ByteView nonce, const twi::v1::Payload& payload);
Bytes TpmQualifyingData(ByteView nonce, const twi::v1::Payload& payload);

// The stream state of the kinds whose challenge is the nonce alone (Azure and GCP vTPM quotes):
// the qualifying data their quotes must carry, derived by QuoteChallenge.
struct QuoteStreamState {
  Bytes qualifying_data;
};
std::any QuoteChallenge(ByteView nonce, const twi::v1::Payload& payload);

// What a quoting collector (TPM, Azure, GCP) keeps of the payload for its answer: the keys the
// quotes bind (instance key, SVID key when key-bound). Not thread-safe: the collector's lock
// covers it.
class BoundKeys {
 public:
  void Capture(const twi::v1::Payload& payload);
  // The quotes' qualifying data for `nonce`, after checking that these keys and the nonce give
  // `report_data` (the attester's binding): FAILED_PRECONDITION naming `collector` otherwise.
  absl::StatusOr<Bytes> QualifyingData(ByteView nonce, ByteView report_data,
                                       std::string_view collector) const;

 private:
  twi::v1::Payload keys_;
};

// What the instance key signs: "twi/v1 transcript" || 0x00 || nonce || SHA-256(payload bytes).
Bytes Transcript(ByteView nonce, ByteView payload);

// Lowercase hex SHA-256 of the instance key SPKI: the default agent ID suffix and the value of
// the `instance:` selector.
std::string InstanceKeyHash(ByteView instance_key_spki);

// "sev-snp", "tdx", "tpm", "azure-sev-snp", "azure-tdx", "gcp"; "unknown(<n>)" otherwise.
std::string KindName(twi::v1::EvidenceKind kind);

}  // namespace twi::appraisal
