// Agent-side collection on a Google Cloud confidential VM (spec 5): the GCE vTPM's AK (a
// primary key in the endorsement hierarchy made from the template GCE keeps in NV), its
// Google-issued certificate, one quote per PCR bank, the TCG event log, and the SEV-SNP or TDX
// evidence from configfs-tsm, all in one GcpEvidence.
//
// Binding: the quotes' qualifying data and the hardware REPORT_DATA are both derived from the
// verifier's nonce and the instance key (appraisal/protocol.h). On GCE the vTPM is not inside
// the TEE, so that shared nonce is the only link between the two roots; the server checks both.
//
// What this does not do: verify anything (gcp/verify.h, gcp/node.h on the server), or reach a
// device of its own: the vTPM is a tpm::TpmCollector, the TEE an SEV-SNP or TDX
// EvidenceCollector (configfs-tsm, /dev/sev-guest, or the simulators).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/appraisal/evidence.h"
#include "attestors/core/bytes.h"
#include "attestors/tpm/collect.h"
#include "twi/v1/attestation.pb.h"

namespace twi::gcp {

// The vTPM options for GCE's AK of `ak_alg` (RSA: template 0x01C10001, certificate
// 0x01C10000; ECC: 0x01C10003, 0x01C10002) over `tcti`.
tpm::TpmCollectOptions VtpmOptions(std::string tcti, tpm::KeyAlg ak_alg);

struct CollectOptions {
  std::vector<tpm::PcrBankSelection> banks;  // one quote per bank
  std::string event_log_path = tpm::kDefaultEventLogPath;  // "" = never send a log
  // Marks the evidence simulated (the vTPM's CA is the simulated one) even when the TEE part
  // is not; the server refuses it without insecure_simulation_roots.
  bool simulated = false;
};

// One GcpEvidence: the AK public area and certificate from `vtpm` (opened with VtpmOptions),
// quotes over `qualifying_data`, the event log, and `tee`'s evidence for `report_data` (none
// when `tee` is null). FAILED_PRECONDITION when the vTPM holds no AK certificate: without it
// the quote proves nothing about a Google VM.
absl::StatusOr<twi::v1::GcpEvidence> Collect(tpm::TpmCollector& vtpm,
                                             appraisal::EvidenceCollector* tee,
                                             ByteView qualifying_data, ByteView report_data,
                                             const CollectOptions& options);

}  // namespace twi::gcp
