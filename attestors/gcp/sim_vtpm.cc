#include "attestors/gcp/sim_vtpm.h"

#include <tss2/tss2_mu.h>

#include <algorithm>
#include <cstring>

#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/gcp/abi.h"
#include "attestors/gcp/collect.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/collect.h"
#include "attestors/tpm/esys.h"

namespace twi::gcp {

absl::Status WriteNvIndex(const std::string& tcti, uint32_t index, ByteView data) {
  if (data.empty() || data.size() > 0xFFFF) {
    return absl::InvalidArgumentError(twi::StrCat("nv index ", tpm::HandleHex(index), ": ",
                                                  data.size(), " bytes, want 1..65535"));
  }
  TWI_ASSIGN_OR_RETURN(std::unique_ptr<tpm::EsysConnection> conn, tpm::EsysConnection::Open(tcti));
  ESYS_CONTEXT* ctx = conn->ctx();
  TWI_ASSIGN_OR_RETURN(std::vector<uint32_t> present, conn->Handles(index, 1));
  if (!present.empty()) {
    ESYS_TR old = ESYS_TR_NONE;
    TSS2_RC rc = Esys_TR_FromTPMPublic(ctx, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &old);
    if (rc != TSS2_RC_SUCCESS) return conn->Error(rc, twi::StrCat("nv index ", tpm::HandleHex(index)));
    // On success ESAPI forgets the ESYS_TR itself; on failure it is still ours to close.
    rc = Esys_NV_UndefineSpace(ctx, ESYS_TR_RH_OWNER, old, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE);
    if (rc != TSS2_RC_SUCCESS) {
      Esys_TR_Close(ctx, &old);
      return conn->Error(rc, twi::StrCat("NV_UndefineSpace(", tpm::HandleHex(index), ")"));
    }
  }
  TPM2B_NV_PUBLIC pub{};
  pub.nvPublic.nvIndex = index;
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  // As GCE's certificate and template indices: anyone may read them, only the owner writes.
  pub.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_AUTHREAD | TPMA_NV_OWNERREAD |
                            TPMA_NV_NO_DA;
  pub.nvPublic.dataSize = static_cast<uint16_t>(data.size());
  TPM2B_AUTH auth{};
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_NV_DefineSpace(ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                   ESYS_TR_NONE, &auth, &pub, &tr);
  if (rc != TSS2_RC_SUCCESS) {
    return conn->Error(rc, twi::StrCat("NV_DefineSpace(", tpm::HandleHex(index), ", ",
                                       data.size(), " bytes)"));
  }
  tpm::TpmHandle handle(ctx, tr, tpm::TpmHandle::Kind::kClose);
  TWI_ASSIGN_OR_RETURN(uint32_t chunk, conn->Property(TPM2_PT_NV_BUFFER_MAX, 512));
  chunk = std::clamp<uint32_t>(chunk, 1, TPM2_MAX_NV_BUFFER_SIZE);
  for (size_t off = 0; off < data.size(); off += chunk) {
    TPM2B_MAX_NV_BUFFER piece{};
    piece.size = static_cast<uint16_t>(std::min<size_t>(chunk, data.size() - off));
    std::memcpy(piece.buffer, data.data() + off, piece.size);
    rc = Esys_NV_Write(ctx, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                       &piece, static_cast<uint16_t>(off));
    if (rc != TSS2_RC_SUCCESS) {
      return conn->Error(rc, twi::StrCat("NV_Write(", tpm::HandleHex(index), ", offset ", off, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SimVtpm> ProvisionSimVtpm(const SimVtpmOptions& options) {
  if (options.ca == nullptr) return absl::InvalidArgumentError("simulated vTPM: no CA given");
  tpm::TpmCollectOptions vo = VtpmOptions(options.tcti, options.ak_alg);
  // GCE's AK template: the restricted signing key every verifier expects (tpm/templates.h).
  const TPM2B_PUBLIC tmpl = tpm::AkTemplate(options.ak_alg);
  TWI_ASSIGN_OR_RETURN(Bytes tmpl_bytes, tpm::Marshal(tmpl.publicArea, Tss2_MU_TPMT_PUBLIC_Marshal,
                                                      "AK template (TPMT_PUBLIC)"));
  TWI_RETURN_IF_ERROR(WriteNvIndex(options.tcti, vo.ak_template_nv_index, tmpl_bytes));
  SimVtpm out;
  {
    // The AK exactly as the agent will make it; no certificate to read yet.
    vo.ak_cert_nv_index = 0;
    TWI_ASSIGN_OR_RETURN(std::unique_ptr<tpm::TpmCollector> vtpm, tpm::TpmCollector::Open(vo));
    auto ak = vtpm->Ak();
    if (!ak.ok()) return Annotate(ak.status(), "simulated vTPM: the AK from the template");
    out.ak_public = std::move(ak->public_area);
  }
  TWI_ASSIGN_OR_RETURN(tpm::Public pub, tpm::ParsePublic(out.ak_public));
  TWI_ASSIGN_OR_RETURN(Bytes spki, tpm::PublicSpki(pub));
  auto cert = options.ca->IssueAkCert(spki, options.cert);
  if (!cert.ok()) return Annotate(cert.status(), "simulated vTPM: minting the AK certificate");
  out.ak_cert = *std::move(cert);
  const uint32_t cert_index = options.ak_alg == tpm::KeyAlg::kEccP256 ? kAkCertNvIndexEcc
                                                                      : kAkCertNvIndexRsa;
  TWI_RETURN_IF_ERROR(WriteNvIndex(options.tcti, cert_index, out.ak_cert));
  return out;
}

}  // namespace twi::gcp
