#include "attestors/tpm/esys.h"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "attestors/core/status.h"

namespace twi::tpm {
namespace {

// Codes that mean "the TPM is there but cannot do it now": busy, out of slots, self-testing.
bool IsBusyTpmCode(uint32_t code) {
  switch (code) {
    case TPM2_RC_RETRY: case TPM2_RC_YIELDED: case TPM2_RC_TESTING: case TPM2_RC_NV_RATE:
    case TPM2_RC_NV_UNAVAILABLE: case TPM2_RC_OBJECT_MEMORY: case TPM2_RC_SESSION_MEMORY:
    case TPM2_RC_MEMORY: case TPM2_RC_CONTEXT_GAP: case TPM2_RC_SESSION_HANDLES:
    case TPM2_RC_OBJECT_HANDLES:
      return true;
    default:
      return false;
  }
}

bool IsAuthTpmCode(uint32_t code) {
  return code == TPM2_RC_AUTH_FAIL || code == TPM2_RC_BAD_AUTH || code == TPM2_RC_POLICY_FAIL ||
         code == TPM2_RC_LOCKOUT || code == TPM2_RC_AUTH_MISSING;
}

// Connection-level failures from the TCTI, ESAPI or a resource manager.
bool IsConnectionBaseCode(uint32_t base) {
  return base == TSS2_BASE_RC_NO_CONNECTION || base == TSS2_BASE_RC_TRY_AGAIN ||
         base == TSS2_BASE_RC_IO_ERROR || base == TSS2_BASE_RC_NO_TPM ||
         base == TSS2_BASE_RC_NOT_PERMITTED;
}

// The TSS says only "IO failure" (its details go to its stderr log); for a device, say why:
// missing, not permitted, or busy (/dev/tpm0 opens exclusively: EBUSY while another process,
// e.g. a resource manager daemon, holds it).
std::string TctiHint(const std::string& tcti) {
  constexpr std::string_view kDevice = "device:";
  if (tcti.rfind(kDevice, 0) != 0) return "";
  std::string path = tcti.substr(kDevice.size());
  if (path.empty()) path = "/dev/tpm0";  // the device TCTI's own default
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return "";
  }
  return absl::StrCat("; ", path, ": ", std::strerror(errno));
}

}  // namespace

absl::Status TssStatus(uint32_t rc, std::string_view what, absl::StatusCode otherwise) {
  std::string msg = twi::StrCat(what, ": ", Tss2_RC_Decode(rc), " (0x", absl::Hex(rc), ")");
  const uint32_t layer = rc & TSS2_RC_LAYER_MASK;
  absl::StatusCode code = otherwise;
  if (layer == TSS2_TPM_RC_LAYER || layer == TSS2_RESMGR_TPM_RC_LAYER) {
    const uint32_t tpm = rc & 0xFFFF;
    // Format 1 carries a handle/session/parameter number in bits 6-11; compare without it.
    const uint32_t base = (tpm & TPM2_RC_FMT1) ? (tpm & (TPM2_RC_FMT1 | 0x3F)) : tpm;
    if (IsBusyTpmCode(base)) {
      code = absl::StatusCode::kUnavailable;
    } else if (base == TPM2_RC_HANDLE) {
      code = absl::StatusCode::kNotFound;
    } else if (IsAuthTpmCode(base)) {
      code = absl::StatusCode::kPermissionDenied;
    }
  } else if (IsConnectionBaseCode(rc & ~TSS2_RC_LAYER_MASK)) {
    code = absl::StatusCode::kUnavailable;
  }
  return absl::Status(code, msg);
}

// ---------------------------------------------------------------------------------------------

TpmHandle& TpmHandle::operator=(TpmHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    ctx_ = other.ctx_;
    tr_ = other.tr_;
    kind_ = other.kind_;
    other.tr_ = ESYS_TR_NONE;
  }
  return *this;
}

void TpmHandle::Reset() {
  if (tr_ == ESYS_TR_NONE || ctx_ == nullptr || kind_ == Kind::kBorrowed) {
    tr_ = ESYS_TR_NONE;
    return;
  }
  // Best effort: a failed flush (TPM gone) leaves nothing we could do better here.
  if (kind_ == Kind::kFlush) {
    if (Esys_FlushContext(ctx_, tr_) != TSS2_RC_SUCCESS) Esys_TR_Close(ctx_, &tr_);
  } else {
    Esys_TR_Close(ctx_, &tr_);
  }
  tr_ = ESYS_TR_NONE;
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<EsysConnection>> EsysConnection::Open(const std::string& tcti) {
  // tctildr treats an empty string as "try the default devices"; the agent names its TPM.
  if (tcti.empty()) return absl::InvalidArgumentError("tpm: tcti is empty");
  TSS2_TCTI_CONTEXT* tcti_ctx = nullptr;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti.c_str(), &tcti_ctx);
  if (rc != TSS2_RC_SUCCESS) {
    absl::Status s = TssStatus(rc, absl::StrCat("tpm (", tcti, "): opening the tcti"),
                               absl::StatusCode::kUnavailable);
    return absl::Status(s.code(), absl::StrCat(s.message(), TctiHint(tcti)));
  }
  ESYS_CONTEXT* esys = nullptr;
  rc = Esys_Initialize(&esys, tcti_ctx, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    Tss2_TctiLdr_Finalize(&tcti_ctx);
    return TssStatus(rc, absl::StrCat("tpm (", tcti, "): Esys_Initialize"),
                     absl::StatusCode::kUnavailable);
  }
  std::unique_ptr<EsysConnection> conn(new EsysConnection(tcti, tcti_ctx, esys));
  // Some TCTIs connect lazily: ask the TPM something so an absent one fails here, clearly.
  absl::StatusOr<uint32_t> probe = conn->Property(TPM2_PT_MANUFACTURER, 0);
  if (!probe.ok()) {
    return absl::UnavailableError(absl::StrCat("tpm (", tcti, ") does not answer: ",
                                               probe.status().message()));
  }
  return conn;
}

EsysConnection::~EsysConnection() {
  if (esys_ != nullptr) Esys_Finalize(&esys_);
  if (tcti_ctx_ != nullptr) Tss2_TctiLdr_Finalize(&tcti_ctx_);
}

absl::Status EsysConnection::Error(uint32_t rc, std::string_view what,
                                   absl::StatusCode otherwise) const {
  return TssStatus(rc, twi::StrCat("tpm (", tcti_, "): ", what), otherwise);
}

absl::StatusOr<TpmHandle> EsysConnection::FromTpmPublic(uint32_t tpm_handle) {
  TWI_ASSIGN_OR_RETURN(std::vector<uint32_t> present, Handles(tpm_handle, 1));
  if (present.empty()) {
    return absl::NotFoundError(absl::StrCat("tpm (", tcti_, "): handle ", HandleHex(tpm_handle),
                                            " is not present"));
  }
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(esys_, tpm_handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     &tr);
  if (rc != TSS2_RC_SUCCESS) {
    return Error(rc, absl::StrCat("handle ", HandleHex(tpm_handle)));
  }
  return TpmHandle(esys_, tr, TpmHandle::Kind::kClose);
}

absl::StatusOr<TpmHandle> EsysConnection::EndorsementPolicySession() {
  TPMT_SYM_DEF sym{};
  sym.algorithm = TPM2_ALG_NULL;
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, ESYS_TR_NONE, nullptr, TPM2_SE_POLICY, &sym,
                                     TPM2_ALG_SHA256, &session);
  if (rc != TSS2_RC_SUCCESS) return Error(rc, "starting the EK policy session");
  TpmHandle handle(esys_, session, TpmHandle::Kind::kFlush);
  TWI_RETURN_IF_ERROR(SetAuth(esys_, ESYS_TR_RH_ENDORSEMENT, endorsement_auth_, "endorsement"));
  TPM2B_TIMEOUT* timeout = nullptr;
  TPMT_TK_AUTH* ticket = nullptr;
  rc = Esys_PolicySecret(esys_, ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                         ESYS_TR_NONE, nullptr, nullptr, nullptr, 0, &timeout, &ticket);
  Esys_Free(timeout);
  Esys_Free(ticket);
  if (rc != TSS2_RC_SUCCESS) return Error(rc, "PolicySecret(TPM_RH_ENDORSEMENT)");
  return handle;
}

absl::StatusOr<uint32_t> EsysConnection::Property(uint32_t property, uint32_t fallback) {
  TPMI_YES_NO more = 0;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_TPM_PROPERTIES, property, 1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  if (rc != TSS2_RC_SUCCESS) return Error(rc, "GetCapability(TPM_PROPERTIES)");
  const TPML_TAGGED_TPM_PROPERTY& props = data->data.tpmProperties;
  if (props.count >= 1 && props.tpmProperty[0].property == property) {
    return props.tpmProperty[0].value;
  }
  return fallback;
}

absl::StatusOr<std::vector<uint32_t>> EsysConnection::Handles(uint32_t first, uint32_t count) {
  std::vector<uint32_t> out;
  uint32_t next = first;
  const uint64_t end = static_cast<uint64_t>(first) + count;
  while (next < end) {
    TPMI_YES_NO more = 0;
    TPMS_CAPABILITY_DATA* raw = nullptr;
    TSS2_RC rc = Esys_GetCapability(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    TPM2_CAP_HANDLES, next,
                                    static_cast<uint32_t>(std::min<uint64_t>(
                                        end - next, TPM2_MAX_CAP_HANDLES)),
                                    &more, &raw);
    EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
    if (rc != TSS2_RC_SUCCESS) return Error(rc, "GetCapability(HANDLES)");
    const TPML_HANDLE& handles = data->data.handles;
    for (uint32_t i = 0; i < handles.count && i < TPM2_MAX_CAP_HANDLES; ++i) {
      if (handles.handle[i] >= end) return out;
      out.push_back(handles.handle[i]);
    }
    if (!more || handles.count == 0) break;
    next = handles.handle[handles.count - 1] + 1;
  }
  return out;
}

absl::StatusOr<std::vector<uint16_t>> EsysConnection::ActiveBanks() {
  TPMI_YES_NO more = 0;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_PCRS,
                                  0, 1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  if (rc != TSS2_RC_SUCCESS) return Error(rc, "GetCapability(PCRS)");
  std::vector<uint16_t> banks;
  const TPML_PCR_SELECTION& sel = data->data.assignedPCR;
  for (uint32_t i = 0; i < sel.count && i < TPM2_NUM_PCR_BANKS; ++i) {
    const TPMS_PCR_SELECTION& s = sel.pcrSelections[i];
    bool any = false;
    for (uint8_t j = 0; j < s.sizeofSelect && j < TPM2_PCR_SELECT_MAX; ++j) any |= s.pcrSelect[j] != 0;
    if (any) banks.push_back(s.hash);
  }
  return banks;
}

absl::Status SetAuth(ESYS_CONTEXT* ctx, ESYS_TR tr, std::string_view auth, std::string_view what) {
  TPM2B_AUTH value{};
  if (auth.size() > sizeof(value.buffer)) {
    return absl::InvalidArgumentError(twi::StrCat("tpm: ", what, " auth has ", auth.size(),
                                                  " bytes, want at most ", sizeof(value.buffer)));
  }
  value.size = static_cast<uint16_t>(auth.size());
  std::memcpy(value.buffer, auth.data(), auth.size());
  TSS2_RC rc = Esys_TR_SetAuth(ctx, tr, &value);
  if (rc != TSS2_RC_SUCCESS) return TssStatus(rc, twi::StrCat("tpm: setting the ", what, " auth"));
  return absl::OkStatus();
}

}  // namespace twi::tpm
