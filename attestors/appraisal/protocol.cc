#include "attestors/core/str.h"
#include "attestors/appraisal/protocol.h"

#include "absl/strings/str_cat.h"
#include "attestors/core/crypto.h"
#include "attestors/keybinding/binding.h"

namespace twi::appraisal {

namespace {

// "twi/v1" || nonce || SHA-256(instance key SPKI): what every kind of evidence binds.
Bytes BindingInput(ByteView nonce, ByteView instance_key_spki) {
  Bytes in = ToBytes("twi/v1");
  in.insert(in.end(), nonce.begin(), nonce.end());
  Bytes key_hash = Sha256(instance_key_spki);
  in.insert(in.end(), key_hash.begin(), key_hash.end());
  return in;
}

}  // namespace

Bytes ReportData(ByteView nonce, ByteView instance_key_spki) {
  return Sha512(BindingInput(nonce, instance_key_spki));
}

Bytes TpmQualifyingData(ByteView nonce, ByteView instance_key_spki) {
  return Sha256(BindingInput(nonce, instance_key_spki));
}

Bytes ReportData(ByteView nonce, const twi::v1::Payload& payload) {
  const ByteView instance = AsBytes(payload.instance_key_spki());
  if (!payload.has_svid_key()) return ReportData(nonce, instance);
  return keybinding::KeyBoundReportData(nonce, instance, AsBytes(payload.svid_key().spki()));
}

Bytes TpmQualifyingData(ByteView nonce, const twi::v1::Payload& payload) {
  const ByteView instance = AsBytes(payload.instance_key_spki());
  if (!payload.has_svid_key()) return TpmQualifyingData(nonce, instance);
  return keybinding::KeyBoundQualifyingData(nonce, instance, AsBytes(payload.svid_key().spki()));
}

std::any QuoteChallenge(ByteView nonce, const twi::v1::Payload& payload) {
  return std::any(QuoteStreamState{TpmQualifyingData(nonce, payload)});
}

void BoundKeys::Capture(const twi::v1::Payload& payload) {
  keys_.Clear();
  keys_.set_instance_key_spki(payload.instance_key_spki());
  if (payload.has_svid_key()) *keys_.mutable_svid_key() = payload.svid_key();
}

absl::StatusOr<Bytes> BoundKeys::QualifyingData(ByteView nonce, ByteView report_data,
                                                std::string_view collector) const {
  // The quotes bind the nonce and the payload's keys through SHA-256 (a TPM2B_DATA may not
  // hold 64 bytes); the same input must give the report data the attester asked for.
  if (keys_.instance_key_spki().empty() || !ConstantTimeEqual(ReportData(nonce, keys_), report_data)) {
    return absl::FailedPreconditionError(twi::StrCat(
        "the ", collector, " collector was not given this attestation's payload (instance key mismatch)"));
  }
  return TpmQualifyingData(nonce, keys_);
}

Bytes Transcript(ByteView nonce, ByteView payload) {
  Bytes out = ToBytes("twi/v1 transcript");
  out.push_back(0);
  out.insert(out.end(), nonce.begin(), nonce.end());
  Bytes h = Sha256(payload);
  out.insert(out.end(), h.begin(), h.end());
  return out;
}

std::string InstanceKeyHash(ByteView instance_key_spki) {
  return HexEncode(Sha256(instance_key_spki));
}

std::string KindName(twi::v1::EvidenceKind kind) {
  switch (kind) {
    case twi::v1::EVIDENCE_KIND_SEV_SNP: return "sev-snp";
    case twi::v1::EVIDENCE_KIND_TDX: return "tdx";
    case twi::v1::EVIDENCE_KIND_TPM: return "tpm";
    case twi::v1::EVIDENCE_KIND_AZURE_SEV_SNP: return "azure-sev-snp";
    case twi::v1::EVIDENCE_KIND_AZURE_TDX: return "azure-tdx";
    case twi::v1::EVIDENCE_KIND_GCP: return "gcp";
    default: return twi::StrCat("unknown(", static_cast<int>(kind), ")");
  }
}

}  // namespace twi::appraisal
