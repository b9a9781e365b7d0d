// A simulated GCE vTPM on any TPM 2.0 (swtpm in tests, `twi sim gcp`): provisions it the way
// Google provisions a Shielded VM's vTPM, so the agent's real collection path (collect.h) runs
// unchanged against it:
//   1. GCE's AK template (TPMT_PUBLIC, RSA-2048 RSASSA-SHA256 or ECC P-256 ECDSA-SHA256, the
//      attributes of a restricted signing key) into NV 0x01C10001 / 0x01C10003;
//   2. the AK made from it (a primary key in the endorsement hierarchy, as the agent makes it);
//   3. an AK certificate for that key with the instance-information extension, minted by the
//      simulated Google CA (gcp/sim.h), into NV 0x01C10000 / 0x01C10002.
// Indices that already exist are replaced (a second run re-provisions).
//
// The hardware half of a simulated confidential VM comes from the SEV-SNP / TDX simulators
// (the agent's `simulate`); the evidence is then marked simulated, and a server accepts it only
// with insecure_simulation_roots and the simulated CA in gcp.ca_bundle.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/gcp/sim.h"
#include "attestors/tpm/templates.h"

namespace twi::gcp {

struct SimVtpmOptions {
  std::string tcti;
  tpm::KeyAlg ak_alg = tpm::KeyAlg::kRsa2048;
  std::shared_ptr<const SimCa> ca;  // required
  SimAkCertOptions cert;            // the instance information and validity of the AK cert
};

struct SimVtpm {
  Bytes ak_public;  // TPMT_PUBLIC of the AK the template makes
  Bytes ak_cert;    // DER, as written to NV
};

// Provisions the TPM at options.tcti (see above). The TPM must be free: swtpm serves one
// client at a time.
absl::StatusOr<SimVtpm> ProvisionSimVtpm(const SimVtpmOptions& options);

// Replaces (defines again) NV index `index` in the owner hierarchy, readable with its empty
// authValue and by the owner, and writes `data` (at most the TPM's index size, 2 KiB on swtpm).
absl::Status WriteNvIndex(const std::string& tcti, uint32_t index, ByteView data);

}  // namespace twi::gcp
