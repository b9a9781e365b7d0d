// Owning wrappers over a tpm2-tss ESAPI connection: the TCTI and ESYS contexts, ESYS_TR
// handles that are flushed (transient objects, sessions) or closed (persistent objects, NV
// indices) when they go out of scope, and TSS return codes turned into absl::Status.
//
// Why every handle is scoped: without a resource manager (swtpm, /dev/tpm0, some firmware TPMs)
// the TPM holds only a few transient objects (swtpm: 3) and loaded sessions, and whatever one
// process leaves loaded stays there for the next one.
#pragma once

#include <tss2/tss2_esys.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "attestors/core/bytes.h"
#include "attestors/core/str.h"

namespace twi::tpm {

// ESAPI allocates every output parameter; Esys_Free releases it.
struct EsysFreeDeleter {
  void operator()(void* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFreeDeleter>;

// "0x81010001": TPM handles and NV indices in messages.
inline std::string HandleHex(uint32_t handle) {
  return absl::StrCat("0x", absl::Hex(handle, absl::kZeroPad8));
}

// A TSS2_RC as a status "<what>: <Tss2_RC_Decode text> (0x<rc>)". Connection failures and the
// TPM's "busy, try again" warnings become UNAVAILABLE, a handle the TPM does not have NOT_FOUND,
// authorization failures PERMISSION_DENIED, everything else `otherwise`.
absl::Status TssStatus(uint32_t rc, std::string_view what,
                       absl::StatusCode otherwise = absl::StatusCode::kInternal);

// One ESYS_TR. kFlush: transient objects and sessions (Esys_FlushContext frees the TPM's slot);
// kClose: persistent objects and NV indices (Esys_TR_Close forgets the ESAPI metadata only);
// kBorrowed: someone else's handle, left alone.
class TpmHandle {
 public:
  enum class Kind { kFlush, kClose, kBorrowed };
  TpmHandle() = default;
  TpmHandle(ESYS_CONTEXT* ctx, ESYS_TR tr, Kind kind) : ctx_(ctx), tr_(tr), kind_(kind) {}
  TpmHandle(TpmHandle&& other) noexcept { *this = std::move(other); }
  TpmHandle& operator=(TpmHandle&& other) noexcept;
  TpmHandle(const TpmHandle&) = delete;
  TpmHandle& operator=(const TpmHandle&) = delete;
  ~TpmHandle() { Reset(); }

  ESYS_TR get() const { return tr_; }
  // A kBorrowed handle to the same ESYS_TR (valid while this one lives).
  TpmHandle Borrow() const { return TpmHandle(ctx_, tr_, Kind::kBorrowed); }
  explicit operator bool() const { return tr_ != ESYS_TR_NONE; }
  void Reset();
  // Forgets the handle without flushing or closing it (a command such as NV_UndefineSpace has
  // already freed it).
  void Release() { tr_ = ESYS_TR_NONE; }

 private:
  ESYS_CONTEXT* ctx_ = nullptr;
  ESYS_TR tr_ = ESYS_TR_NONE;
  Kind kind_ = Kind::kFlush;
};

// The TCTI (loaded by name through tctildr: "device:/dev/tpmrm0", "swtpm:port=2321", ...) and
// the ESYS context over it.
class EsysConnection {
 public:
  // UNAVAILABLE naming the TCTI when it cannot be loaded or connected, or when the TPM does
  // not answer a first GetCapability.
  static absl::StatusOr<std::unique_ptr<EsysConnection>> Open(const std::string& tcti);
  ~EsysConnection();
  EsysConnection(const EsysConnection&) = delete;
  EsysConnection& operator=(const EsysConnection&) = delete;

  ESYS_CONTEXT* ctx() const { return esys_; }
  const std::string& tcti() const { return tcti_; }

  // TssStatus with the TCTI named: "tpm (swtpm:port=1): Esys_Quote: ...".
  absl::Status Error(uint32_t rc, std::string_view what,
                     absl::StatusCode otherwise = absl::StatusCode::kInternal) const;

  // An ESYS_TR for a persistent object or NV index the TPM already has (closed, not flushed).
  // NOT_FOUND when the TPM does not have it (asked through GetCapability first: ESAPI logs
  // every failed command to stderr, and a missing handle is an expected answer here).
  absl::StatusOr<TpmHandle> FromTpmPublic(uint32_t tpm_handle);
  // A policy session (SHA-256, unsalted, unbound) that has run
  // PolicySecret(TPM_RH_ENDORSEMENT): what the EK's authPolicy asks for. One command's worth:
  // the TPM resets the policy after each use.
  absl::StatusOr<TpmHandle> EndorsementPolicySession();
  // TPM_PT_* property value, or `fallback` when the TPM does not report it.
  absl::StatusOr<uint32_t> Property(uint32_t property, uint32_t fallback);
  // Handles in [first, first + count) the TPM has (e.g. TPM2_TRANSIENT_FIRST: loaded objects).
  absl::StatusOr<std::vector<uint32_t>> Handles(uint32_t first, uint32_t count);
  // PCR banks with at least one PCR allocated.
  absl::StatusOr<std::vector<uint16_t>> ActiveBanks();

  // Empty unless configured: the endorsement hierarchy's authValue.
  void set_endorsement_auth(std::string auth) { endorsement_auth_ = std::move(auth); }

 private:
  EsysConnection(std::string tcti, TSS2_TCTI_CONTEXT* tcti_ctx, ESYS_CONTEXT* esys)
      : tcti_(std::move(tcti)), tcti_ctx_(tcti_ctx), esys_(esys) {}

  std::string tcti_;
  TSS2_TCTI_CONTEXT* tcti_ctx_ = nullptr;
  ESYS_CONTEXT* esys_ = nullptr;
  std::string endorsement_auth_;
};

// Sets `tr`'s authValue (bounded by TPM2B_AUTH, i.e. the largest digest); INVALID_ARGUMENT if
// it does not fit.
absl::Status SetAuth(ESYS_CONTEXT* ctx, ESYS_TR tr, std::string_view auth, std::string_view what);

// MU marshalling: `fn` is the Tss2_MU_<T>_Marshal function for T.
template <typename T, typename Fn>
absl::StatusOr<Bytes> Marshal(const T& value, Fn fn, std::string_view what) {
  Bytes out(sizeof(T));  // a marshalled structure is never larger than the C one
  size_t offset = 0;
  uint32_t rc = fn(&value, out.data(), out.size(), &offset);
  if (rc != 0) return TssStatus(rc, twi::StrCat("marshalling ", what));
  out.resize(offset);
  return out;
}

// MU unmarshalling of the whole of `in` (`fn` is Tss2_MU_<T>_Unmarshal); INVALID_ARGUMENT when
// it does not parse or bytes are left over.
template <typename T, typename Fn>
absl::StatusOr<T> UnmarshalExact(ByteView in, Fn fn, std::string_view what) {
  T out{};
  size_t offset = 0;
  uint32_t rc = fn(in.data(), in.size(), &offset, &out);
  if (rc != 0) {
    return TssStatus(rc, twi::StrCat(what, " (", in.size(), " bytes) does not parse"),
                     absl::StatusCode::kInvalidArgument);
  }
  if (offset != in.size()) {
    return absl::InvalidArgumentError(twi::StrCat(what, ": ", in.size() - offset,
                                                  " trailing bytes after ", offset));
  }
  return out;
}

}  // namespace twi::tpm
