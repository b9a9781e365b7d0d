#include "attestors/azure/collect.h"

#include <algorithm>

#include "attestors/azure/abi.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/esys.h"

namespace twi::azure {

absl::StatusOr<std::unique_ptr<AzureVtpm>> AzureVtpm::Open(VtpmOptions options) {
  if (options.banks.empty()) return absl::InvalidArgumentError("azure: no PCR bank to quote");
  tpm::TpmCollectOptions o;
  o.tcti = options.tcti;
  o.ak_handle = kAkHandle;
  o.owner_auth = options.owner_auth;
  o.nv_chunk_size = options.nv_chunk_size;
  TWI_ASSIGN_OR_RETURN(std::unique_ptr<tpm::TpmCollector> c, tpm::TpmCollector::Open(o));
  // Looked up before Ak(): given an empty handle, TpmCollector would create and persist an AK
  // of its own there, and a key the agent made proves nothing the HCL report vouches for.
  TWI_ASSIGN_OR_RETURN(std::vector<uint32_t> handles, c->PersistentHandles());
  if (std::find(handles.begin(), handles.end(), kAkHandle) == handles.end()) {
    return absl::NotFoundError(twi::StrCat("azure: tpm (", o.tcti, ") has no AK at ",
                                           tpm::HandleHex(kAkHandle), ": not an Azure CVM vTPM"));
  }
  TWI_ASSIGN_OR_RETURN(tpm::TpmKeyInfo ak, c->Ak());
  auto cert = c->ReadNv(kAkCertNvIndex);
  if (cert.ok()) {
    // As stored (padded to the index size); the server parses the first DER element only.
    ak.certificate = *std::move(cert);
  } else if (!absl::IsNotFound(cert.status())) {
    return Annotate(cert.status(), "azure: AK certificate");
  }
  auto vtpm = std::unique_ptr<AzureVtpm>(new AzureVtpm(std::move(options), std::move(c), std::move(ak)));
  // The index must exist now: an agent configured for Azure on another machine fails at start.
  auto hcl = vtpm->ReadHclReport();
  if (!hcl.ok()) return hcl.status();
  return vtpm;
}

absl::StatusOr<Bytes> AzureVtpm::ReadHclReport() {
  auto r = tpm_->ReadNv(kHclReportNvIndex);
  if (!r.ok()) return Annotate(r.status(), "azure: HCL report");
  if (r->size() > kMaxHclReportSize) {
    return absl::FailedPreconditionError(twi::StrCat("azure: HCL report index holds ", r->size(),
                                                     " bytes, want at most ", kMaxHclReportSize));
  }
  return r;
}

absl::StatusOr<std::vector<tpm::TpmQuote>> AzureVtpm::Quotes(ByteView qualifying_data) {
  std::vector<tpm::TpmQuote> out;
  for (const tpm::PcrBankSelection& bank : options_.banks) {
    auto q = tpm_->Quote({bank}, qualifying_data);
    if (!q.ok()) {
      return Annotate(q.status(), twi::StrCat("azure: TPM2_Quote of bank ", tpm::AlgName(bank.hash_alg)));
    }
    out.push_back(*std::move(q));
  }
  return out;
}

absl::Status AzureVtpm::Collect(ByteView qualifying_data, twi::v1::AzureEvidence* out) {
  TWI_ASSIGN_OR_RETURN(Bytes hcl, ReadHclReport());
  TWI_ASSIGN_OR_RETURN(std::vector<tpm::TpmQuote> quotes, Quotes(qualifying_data));
  out->set_hcl_report(std::string(AsString(hcl)));
  out->set_ak_public(std::string(AsString(ak_.public_area)));
  out->set_ak_certificate(std::string(AsString(ak_.certificate)));
  for (size_t i = 0; i < quotes.size(); ++i) {
    auto* q = out->add_quotes();
    q->set_attest(std::string(AsString(quotes[i].attest)));
    q->set_signature(std::string(AsString(quotes[i].signature)));
    q->set_hash_alg(options_.banks[i].hash_alg);
    for (const tpm::PcrValue& v : quotes[i].pcrs) {
      (*q->mutable_pcrs())[v.index] = std::string(AsString(v.digest));
    }
  }
  if (!options_.event_log_path.empty()) {
    auto log = tpm::ReadEventLog(options_.event_log_path);
    if (!log.ok()) return Annotate(log.status(), "azure: event log");
    out->set_event_log(std::string(AsString(*log)));
  }
  return absl::OkStatus();
}

}  // namespace twi::azure
