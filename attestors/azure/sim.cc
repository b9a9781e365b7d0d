#include "attestors/azure/sim.h"

#include <tss2/tss2_esys.h>

#include <cstring>

#include "attestors/azure/abi.h"
#include "attestors/azure/collect.h"
#include "attestors/azure/hcl_builder.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/collect.h"
#include "attestors/tpm/esys.h"

namespace twi::azure {

absl::StatusOr<Bytes> SimRuntimeClaims(ByteView ak_public, const std::string& vm_id) {
  TWI_ASSIGN_OR_RETURN(tpm::Public pub, tpm::ParsePublic(ak_public));
  if (pub.area.type != TPM2_ALG_RSA) {
    return absl::InvalidArgumentError("azure sim: the AK must be an RSA key (HCLAkPub is an RSA JWK)");
  }
  const TPM2B_PUBLIC_KEY_RSA& n = pub.area.unique.rsa;
  uint32_t exponent = pub.area.parameters.rsaDetail.exponent;
  if (exponent == 0) exponent = 65537;
  RuntimeClaimsSpec spec;
  // Big-endian; the builder drops the leading zeros as JWKs want.
  Bytes e = {static_cast<uint8_t>(exponent >> 24), static_cast<uint8_t>(exponent >> 16),
             static_cast<uint8_t>(exponent >> 8), static_cast<uint8_t>(exponent)};
  JwkSpec ak{"HCLAkPub", {"sign"}, Bytes(n.buffer, n.buffer + n.size), std::move(e)};
  spec.keys.push_back(std::move(ak));
  spec.vm_unique_id = vm_id;
  spec.console_enabled = true;
  spec.user_data.reset();
  std::string s = BuildRuntimeClaims(spec);
  return Bytes(s.begin(), s.end());
}

absl::Status WriteOwnerNv(const std::string& tcti, uint32_t index, ByteView data) {
  TWI_ASSIGN_OR_RETURN(std::unique_ptr<tpm::EsysConnection> c, tpm::EsysConnection::Open(tcti));
  ESYS_CONTEXT* ctx = c->ctx();
  if (auto existing = c->FromTpmPublic(index); existing.ok()) {
    ESYS_TR tr = existing->get();
    TSS2_RC rc = Esys_NV_UndefineSpace(ctx, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                       ESYS_TR_NONE);
    if (rc != TSS2_RC_SUCCESS) return c->Error(rc, twi::StrCat("NV_UndefineSpace(", tpm::HandleHex(index), ")"));
    existing->Release();  // ESAPI freed the ESYS_TR with the index
  } else if (!absl::IsNotFound(existing.status())) {
    return existing.status();
  }
  if (data.size() > 0xFFFF) return absl::InvalidArgumentError("azure sim: NV data too large");
  TPM2B_AUTH auth{};
  TPM2B_NV_PUBLIC pub{};
  pub.nvPublic.nvIndex = index;
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  // Owner read and write only, as the paravisor defines the HCL report index: the agent reads
  // it with the owner hierarchy's (empty) authValue.
  pub.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_NO_DA;
  pub.nvPublic.dataSize = static_cast<uint16_t>(data.size());
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_NV_DefineSpace(ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   ESYS_TR_NONE, &auth, &pub, &tr);
  if (rc != TSS2_RC_SUCCESS) {
    return c->Error(rc, twi::StrCat("NV_DefineSpace(", tpm::HandleHex(index), ", ", data.size(), " bytes)"));
  }
  tpm::TpmHandle handle(ctx, tr, tpm::TpmHandle::Kind::kClose);
  TWI_ASSIGN_OR_RETURN(uint32_t chunk, c->Property(TPM2_PT_NV_BUFFER_MAX, 512));
  chunk = std::min<uint32_t>(chunk, TPM2_MAX_NV_BUFFER_SIZE);
  for (size_t off = 0; off < data.size(); off += chunk) {
    TPM2B_MAX_NV_BUFFER buf{};
    buf.size = static_cast<uint16_t>(std::min<size_t>(chunk, data.size() - off));
    std::memcpy(buf.buffer, data.data() + off, buf.size);
    rc = Esys_NV_Write(ctx, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                       &buf, static_cast<uint16_t>(off));
    if (rc != TSS2_RC_SUCCESS) {
      return c->Error(rc, twi::StrCat("NV_Write(", tpm::HandleHex(index), ", offset ", off, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SimAzureVm> ProvisionSimAzureVm(const std::string& tcti,
                                               const SimAzureOptions& options) {
  SimAzureVm out;
  {
    // The TPM layer's AK: RSA-2048 RSASSA-SHA256, restricted signing, under the EK; persisted
    // at Azure's handle (or the one already there reused).
    tpm::TpmCollectOptions o;
    o.tcti = tcti;
    o.ak_handle = kAkHandle;
    TWI_ASSIGN_OR_RETURN(std::unique_ptr<tpm::TpmCollector> c, tpm::TpmCollector::Open(o));
    TWI_ASSIGN_OR_RETURN(tpm::TpmKeyInfo ak, c->Ak());
    out.ak_public = std::move(ak.public_area);
  }
  TWI_ASSIGN_OR_RETURN(out.runtime_claims, SimRuntimeClaims(out.ak_public, options.vm_id));
  sevsnp::SimOptions so;
  so.hierarchy = options.hierarchy;
  so.clock = options.clock;
  so.policy = options.policy;
  so.measurement = options.measurement;
  TWI_ASSIGN_OR_RETURN(std::unique_ptr<sevsnp::SnpSimulator> sim,
                       sevsnp::SnpSimulator::Create(std::move(so)));
  Bytes report_data = Sha256(out.runtime_claims);
  report_data.resize(64, 0);
  TWI_ASSIGN_OR_RETURN(sevsnp::SimEvidence ev, sim->GetReport(report_data, options.vmpl));
  HclReportSpec hs;
  hs.hw_report = ev.report;
  hs.runtime_claims = out.runtime_claims;
  TWI_ASSIGN_OR_RETURN(out.hcl_report, BuildHclReport(hs));
  out.vcek = sim->vcek_der();
  out.ask = sim->ask_der();
  TWI_RETURN_IF_ERROR(WriteOwnerNv(tcti, kHclReportNvIndex, out.hcl_report));
  TWI_RETURN_IF_ERROR(WriteOwnerNv(tcti, kSimVcekNvIndex, out.vcek));
  TWI_RETURN_IF_ERROR(WriteOwnerNv(tcti, kSimAskNvIndex, out.ask));
  return out;
}

}  // namespace twi::azure
