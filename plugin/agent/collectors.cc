#include "plugin/agent/collectors.h"

#include "attestors/appraisal/protocol.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/sevsnp/node.h"
#include "plugin/runtime/log.h"
// Each kind's collector is compiled and linked only when TWI_KINDS has it (cmake/Kinds.cmake);
// MakeCollectors offers those.
#if TWI_WITH_TDX
#include "attestors/tdx/node.h"
#endif
#if TWI_WITH_TPM
#include "attestors/tpm/abi.h"
#include "attestors/tpm/node.h"
#endif
#if TWI_WITH_AZURE
#include "attestors/azure/imds_tdquote.h"
#include "attestors/azure/node.h"
#include "attestors/azure/node_tdx.h"
#include "attestors/azure/sim.h"
#endif
#if TWI_WITH_GCP
#include "attestors/gcp/node.h"
#endif

namespace twi::agent {

#if TWI_WITH_TDX
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> MakeTdxCollector(
    const config::AgentConfig& cfg) {
  if (!cfg.simulate.empty() && cfg.simulate != "tdx") return nullptr;
  tdx::LocalTdxOptions o;
  o.simulate = cfg.simulate;
  o.configfs_path = cfg.tdx_configfs_path;
  o.ccel.table = cfg.tdx_ccel_table_path;
  o.ccel.data = cfg.tdx_ccel_data_path;
  o.sim_dir = cfg.EffectiveSimulationDir();
  o.sim_debug = cfg.simulate_debug_td;
  if (!cfg.simulate_mrtd.empty()) {
    auto m = HexDecode(cfg.simulate_mrtd);  // checked by the config builder
    if (m.ok() && m->size() == 48) {
      o.sim_mrtd.emplace();
      std::copy(m->begin(), m->end(), o.sim_mrtd->begin());
    }
  }
  auto device = tdx::OpenLocalTdxDevice(o);
  if (!device.ok()) return device.status();
  if (!*device) return nullptr;
  log::Info("TDX evidence available", {{"device", (*device)->name()}});
  return std::make_unique<tdx::TdxCollector>(*std::move(device), o.ccel);
}
#endif  // TWI_WITH_TDX

namespace {

absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> SnpCollector(
    const config::AgentConfig& cfg) {
  if (!cfg.simulate.empty() && cfg.simulate != "sev-snp") return nullptr;
  sevsnp::LocalDeviceOptions o;
  o.simulate = cfg.simulate;
  o.configfs_path = cfg.snp_configfs_path;
  o.device_path = cfg.snp_device_path;
  o.sim_dir = cfg.EffectiveSimulationDir();
  if (!cfg.simulate_measurement.empty()) {
    auto m = HexDecode(cfg.simulate_measurement);  // checked by the config builder
    if (m.ok()) o.sim_measurement = *std::move(m);
  }
  auto device = sevsnp::OpenLocalDevice(o);
  if (!device.ok()) return device.status();
  if (!*device) return nullptr;
  log::Info("SEV-SNP evidence available", {{"device", (*device)->name()}});
  return std::make_unique<sevsnp::SnpCollector>(*std::move(device), cfg.snp_vmpl);
}

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceCollector>>> MakeCollectors(
    const config::AgentConfig& cfg) {
  // The registration seam: only the kinds in TWI_KINDS (config::kBuiltKinds) are offered; the
  // config builder refused the settings of the others.
  std::vector<std::unique_ptr<appraisal::EvidenceCollector>> out;
  std::unique_ptr<appraisal::EvidenceCollector> tee;
  if constexpr (config::kBuiltKinds.tdx) {
    // A TDX guest is never an SEV-SNP guest: when TDX is offered, SEV-SNP is not looked for
    // (its probe would find configfs-tsm with the tdx_guest provider and call it unusable).
    auto tdx = MakeTdxCollector(cfg);
    if (!tdx.ok()) return tdx.status();
    tee = *std::move(tdx);
  }
  if (!tee) {
    auto snp = SnpCollector(cfg);
    if (!snp.ok()) return snp.status();
    if (*snp) {
      tee = *std::move(snp);
    } else {
      log::Info("no TEE device found (tried configfs-tsm for tdx_guest and sev_guest, and /dev/sev-guest)",
                {{"configfs_path", cfg.snp_configfs_path}, {"device_path", cfg.snp_device_path}});
    }
  }
  if constexpr (config::kBuiltKinds.gcp) {
    // On Google Cloud the TEE's evidence rides in the GCP evidence, bound to the same nonce as
    // the vTPM quotes (gcp.tee = "none" leaves it on its own).
    if (!cfg.gcp.tcti.empty()) {
      auto gcp = MakeGcpCollector(cfg, &tee);
      if (!gcp.ok()) return gcp.status();
      out.push_back(*std::move(gcp));
    }
  }
  if (tee) out.push_back(std::move(tee));
  if constexpr (config::kBuiltKinds.azure) {
    // An Azure CVM's SEV-SNP device belongs to the paravisor (the guest at VMPL 2 has none):
    // its hardware evidence comes through the vTPM instead.
    auto azure = MakeAzureCollector(cfg);
    if (!azure.ok()) return azure.status();
    if (*azure) out.push_back(*std::move(azure));
  }
  if constexpr (config::kBuiltKinds.tpm) {
    // A TPM is offered beside either TEE (one attestation may carry several kinds), unless it
    // is the vTPM the GCP evidence already quotes.
    if (!cfg.gcp.tcti.empty() && cfg.tpm.tcti == cfg.gcp.tcti) {
      log::Info("tpm.tcti is the gcp block's vTPM: TPM evidence not offered separately",
                {{"tcti", cfg.tpm.tcti}});
      return out;
    }
    auto tpm = MakeTpmCollector(cfg.tpm);
    if (!tpm.ok()) return tpm.status();
    if (*tpm) out.push_back(*std::move(tpm));
  }
  return out;
}

#if TWI_WITH_GCP
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> MakeGcpCollector(
    const config::AgentConfig& cfg, std::unique_ptr<appraisal::EvidenceCollector>* tee) {
  const config::GcpAgentSettings& s = cfg.gcp;
  std::unique_ptr<appraisal::EvidenceCollector> hw;
  if (s.tee != "none") {
    const std::string found = *tee ? appraisal::KindName((*tee)->kind()) : "none";
    if (s.tee != "auto" && found != s.tee) {
      return absl::FailedPreconditionError(twi::StrCat(
          "gcp.tee = \"", s.tee, "\" but the VM offers ", found,
          " evidence (configfs-tsm provider, or simulate); set gcp.tee to what this VM is"));
    }
    hw = std::move(*tee);
  }
  const tpm::KeyAlg alg = s.ak == "ecc" ? tpm::KeyAlg::kEccP256 : tpm::KeyAlg::kRsa2048;
  auto vtpm = tpm::TpmCollector::Open(gcp::VtpmOptions(s.tcti, alg));
  if (!vtpm.ok()) return Annotate(vtpm.status(), "gcp: the vTPM");
  // The AK and its certificate are read now: a VM that has none fails Configure with the
  // reason instead of every attestation.
  auto ak = (*vtpm)->Ak();
  if (!ak.ok()) return Annotate(ak.status(), "gcp: the GCE attestation key");
  if (ak->certificate.empty()) {
    return absl::FailedPreconditionError(twi::StrCat(
        "gcp: the vTPM at ", s.tcti, " has an AK but no AK certificate; not a Shielded / "
        "Confidential GCE VM"));
  }
  gcp::CollectOptions o;
  for (const std::string& bank : s.pcr_banks) o.banks.push_back({tpm::HashAlgFromName(bank), s.pcrs});
  o.event_log_path = s.event_log_path;
  o.simulated = !cfg.simulate.empty();
  auto collector = std::make_unique<gcp::GcpCollector>(*std::move(vtpm), std::move(hw), o);
  log::Info("GCP evidence available",
            {{"tcti", s.tcti}, {"ak", s.ak}, {"tee", collector->tee_name()},
             {"ak_cert_sha256", HexEncode(Sha256(ak->certificate)).substr(0, 16)}});
  return std::unique_ptr<appraisal::EvidenceCollector>(std::move(collector));
}
#endif  // TWI_WITH_GCP

#if TWI_WITH_TPM
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> MakeTpmCollector(
    const config::TpmAgentSettings& s) {
  if (s.tcti.empty()) return nullptr;
  tpm::TpmCollectOptions o;
  o.tcti = s.tcti;
  o.ek_alg = s.ek_alg == "ecc" ? tpm::KeyAlg::kEccP256 : tpm::KeyAlg::kRsa2048;
  o.ek_handle = s.ek_handle;
  o.ak_handle = s.ak_handle;
  o.ak_cert_nv_index = s.ak_cert_nv_index;
  auto collector = tpm::TpmCollector::Open(o);
  if (absl::IsUnavailable(collector.status()) || absl::IsNotFound(collector.status())) {
    log::Info("no TPM answers; TPM evidence not offered",
              {{"tcti", s.tcti}, {"why", std::string(collector.status().message())}});
    return nullptr;
  }
  if (!collector.ok()) return collector.status();
  // The EK and the AK are made now, not in the first attestation: a TPM that cannot make
  // them fails Configure with the reason, and attestations do not pay for key creation.
  auto ek = (*collector)->Ek();
  if (!ek.ok()) return Annotate(ek.status(), "tpm: endorsement key");
  auto ak = (*collector)->Ak();
  if (!ak.ok()) return Annotate(ak.status(), "tpm: attestation key");
  tpm::TpmNodeCollectOptions no;
  for (const std::string& bank : s.pcr_banks) {
    tpm::PcrBankSelection sel;
    sel.hash_alg = tpm::HashAlgFromName(bank);
    sel.pcrs = s.pcrs;
    no.banks.push_back(std::move(sel));
  }
  no.event_log_path = s.event_log_path;
  log::Info("TPM evidence available", {{"tcti", s.tcti},
                                       {"ek", HexEncode(Sha256((*ek).public_area)).substr(0, 16)}});
  return std::unique_ptr<appraisal::EvidenceCollector>(
      std::make_unique<tpm::TpmNodeCollector>(*std::move(collector), std::move(no)));
}
#endif  // TWI_WITH_TPM

#if TWI_WITH_AZURE
absl::StatusOr<std::unique_ptr<appraisal::EvidenceCollector>> MakeAzureCollector(
    const config::AgentConfig& cfg) {
  const config::AzureAgentSettings& s = cfg.azure;
  if (!s.enabled || s.tcti.empty()) return nullptr;
  azure::AzureCollectOptions o;
  o.vtpm.tcti = s.tcti;
  for (const std::string& bank : s.pcr_banks) {
    tpm::PcrBankSelection sel;
    sel.hash_alg = tpm::HashAlgFromName(bank);
    sel.pcrs = s.pcrs;
    o.vtpm.banks.push_back(std::move(sel));
  }
  o.vtpm.event_log_path = s.event_log_path;
  o.vcek_source = s.simulate ? azure::VcekSource::kSimulated
                  : s.vcek_source == "none" ? azure::VcekSource::kNone
                                            : azure::VcekSource::kImds;
  o.imds_url = s.imds_url;
  auto vtpm = azure::AzureVtpm::Open(o.vtpm);
  if (s.simulate && absl::IsNotFound(vtpm.status())) {
    // A fresh swtpm: provision the simulated CVM with the agent's simulated AMD hierarchy.
    sevsnp::SimHierarchyOptions ho;
    ho.dir = cfg.EffectiveSimulationDir();
    auto hierarchy = sevsnp::SimHierarchy::Create(ho);
    if (!hierarchy.ok()) return Annotate(hierarchy.status(), "azure: simulated AMD hierarchy");
    azure::SimAzureOptions so;
    so.hierarchy = *std::move(hierarchy);
    auto vm = azure::ProvisionSimAzureVm(s.tcti, so);
    if (!vm.ok()) return Annotate(vm.status(), "azure: provisioning the simulated CVM");
    log::Info("provisioned a simulated Azure CVM on the vTPM", {{"tcti", s.tcti}});
    vtpm = azure::AzureVtpm::Open(o.vtpm);
  }
  if (absl::IsUnavailable(vtpm.status()) || absl::IsNotFound(vtpm.status())) {
    log::Info("no Azure CVM vTPM answers; Azure evidence not offered",
              {{"tcti", s.tcti}, {"why", std::string(vtpm.status().message())}});
    return nullptr;
  }
  if (!vtpm.ok()) return vtpm.status();
  // The HCL report says which hardware the paravisor runs on: a TDX one's TDREPORT needs the
  // host's quoting service (IMDS /acc/tdquote) to become evidence.
  auto hcl = (*vtpm)->ReadHclReport();
  if (!hcl.ok()) return Annotate(hcl.status(), "azure: the vTPM's HCL report");
  if (auto parsed = azure::ParseHclReport(*hcl); parsed.ok() && parsed->is_tdx()) {
    azure::AzureTdxCollectOptions to;
    to.vtpm = o.vtpm;
    to.imds_url = s.imds_url;
    log::Info("Azure TDX evidence available",
              {{"tcti", s.tcti}, {"ak", HexEncode(Sha256((*vtpm)->ak().public_area)).substr(0, 16)}});
    return std::unique_ptr<appraisal::EvidenceCollector>(std::make_unique<azure::AzureTdxCollector>(
        *std::move(vtpm), std::move(to), std::make_unique<collateral::CurlHttpGetter>(azure::TdQuoteCurlOptions())));
  }
  std::unique_ptr<collateral::HttpGetter> http;
  if (o.vcek_source == azure::VcekSource::kImds) {
    http = std::make_unique<collateral::CurlHttpGetter>(azure::ImdsCurlOptions());
  }
  log::Info("Azure SEV-SNP evidence available",
            {{"tcti", s.tcti}, {"ak", HexEncode(Sha256((*vtpm)->ak().public_area)).substr(0, 16)}});
  return std::unique_ptr<appraisal::EvidenceCollector>(std::make_unique<azure::AzureSnpCollector>(
      *std::move(vtpm), std::move(o), std::move(http)));
}
#endif  // TWI_WITH_AZURE

}  // namespace twi::agent
