#include "attestors/gcp/collect.h"

#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/gcp/abi.h"
#include "attestors/tpm/esys.h"
#include "attestors/tpm/node.h"

namespace twi::gcp {

tpm::TpmCollectOptions VtpmOptions(std::string tcti, tpm::KeyAlg ak_alg) {
  tpm::TpmCollectOptions o;
  o.tcti = std::move(tcti);
  o.ak_alg = ak_alg;
  const bool ecc = ak_alg == tpm::KeyAlg::kEccP256;
  o.ak_template_nv_index = ecc ? kAkTemplateNvIndexEcc : kAkTemplateNvIndexRsa;
  o.ak_cert_nv_index = ecc ? kAkCertNvIndexEcc : kAkCertNvIndexRsa;
  // GCE's EK is not used: the AK certificate, not credential activation, vouches for the AK.
  o.ek_cert_nv_index = 0;
  return o;
}

absl::StatusOr<twi::v1::GcpEvidence> Collect(tpm::TpmCollector& vtpm,
                                             appraisal::EvidenceCollector* tee,
                                             ByteView qualifying_data, ByteView report_data,
                                             const CollectOptions& options) {
  // Read before anything is quoted: a log that cannot be read fails the collection instead of
  // sending quotes whose PCRs nobody can explain.
  Bytes log;
  if (!options.event_log_path.empty()) {
    auto l = tpm::ReadEventLog(options.event_log_path);
    if (!l.ok()) return Annotate(l.status(), "vTPM event log");
    log = *std::move(l);
  }
  auto ak = vtpm.Ak();
  if (!ak.ok()) return Annotate(ak.status(), "GCE vTPM attestation key");
  if (ak->certificate.empty()) {
    return absl::FailedPreconditionError(twi::StrCat(
        "the vTPM at ", vtpm.options().tcti, " has no AK certificate in nv index ",
        tpm::HandleHex(vtpm.options().ak_cert_nv_index),
        ": not a Shielded / Confidential GCE VM, or the other AK type (gcp.ak) is provisioned"));
  }
  twi::v1::GcpEvidence out;
  out.set_ak_public(std::string(AsString(ak->public_area)));
  out.set_ak_certificate(std::string(AsString(ak->certificate)));
  TWI_RETURN_IF_ERROR(tpm::QuoteBanks(vtpm, options.banks, qualifying_data, out.mutable_quotes()));
  out.set_event_log(std::string(AsString(log)));
  bool simulated = options.simulated;
  if (tee != nullptr) {
    auto ev = tee->Collect(report_data);
    if (!ev.ok()) return Annotate(ev.status(), "hardware evidence");
    if (ev->has_sev_snp()) {
      simulated = simulated || ev->sev_snp().simulated();
      *out.mutable_sev_snp() = std::move(*ev->mutable_sev_snp());
    } else if (ev->has_tdx()) {
      simulated = simulated || ev->tdx().simulated();
      *out.mutable_tdx() = std::move(*ev->mutable_tdx());
    } else {
      return absl::InternalError("hardware evidence: neither SEV-SNP nor TDX");
    }
  }
  out.set_simulated(simulated);
  return out;
}

}  // namespace twi::gcp
