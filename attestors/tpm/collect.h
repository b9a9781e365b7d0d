// Agent-side TPM 2.0 access through tpm2-tss ESAPI (collect.cc; PCR reads and quotes in
// quote.cc, the ESAPI wrappers in esys.h): the endorsement key (EK) and its
// certificate, an attestation key (AK) under the EK, credential activation and PCR quotes,
// plus the firmware's TCG event log. Evidence formats: spec/evidence-formats.md section 3.
//
// The device seam is the TCTI string: "device:/dev/tpmrm0" (the kernel's resource manager, the
// default), "device:/dev/tpm0" (no resource manager), "swtpm:port=P" (tests). Every operation
// loads what it needs and flushes it again, so nothing is left in the TPM's few transient slots
// (swtpm and raw /dev/tpm0 have 3) and a TPM without a resource manager works.
//
// What this does not do: verify anything (the server side does). The one check here is that
// the PCR values read beside a quote are the ones it covers (they can change in between).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/tpm/templates.h"

namespace twi::tpm {

class EsysConnection;
class TpmHandle;

inline constexpr char kDefaultTcti[] = "device:/dev/tpmrm0";
inline constexpr char kDefaultEventLogPath[] =
    "/sys/kernel/security/tpm0/binary_bios_measurements";

struct TpmCollectOptions {
  std::string tcti = kDefaultTcti;
  KeyAlg ek_alg = KeyAlg::kRsa2048;
  // A persistent EK (conventionally 0x81010001 RSA, 0x81010002 ECC); 0: created from the
  // profile template of ek_alg (the same key, derived again from the endorsement seed).
  uint32_t ek_handle = 0;
  // Where the EK certificate is; unset: the profile's index for the EK's type and size (absent
  // is fine there); 0: do not read one. A configured index that is absent is an error.
  std::optional<uint32_t> ek_cert_nv_index = std::nullopt;
  KeyAlg ak_alg = KeyAlg::kRsa2048;
  // Persist the AK at this handle (0x81000000-0x817FFFFF) and reuse it on later starts;
  // 0: a fresh AK per collector, held as a key blob and loaded under the EK when used.
  uint32_t ak_handle = 0;
  uint32_t ak_cert_nv_index = 0;  // 0: none (GCE: 0x01C10000 RSA, 0x01C10002 ECC)
  // GCE-style vTPMs: the AK is a primary key in the endorsement hierarchy made from the
  // TPMT_PUBLIC template in this NV index (GCE: 0x01C10001 RSA, 0x01C10003 ECC), the same key
  // on every start; 0: not used. Excludes ak_handle; ak_alg is then the template's.
  uint32_t ak_template_nv_index = 0;
  // Hierarchy authValues; empty on cloud vTPMs and most machines.
  std::string endorsement_auth = "";
  std::string owner_auth = "";  // needed only to persist the AK
  // Bytes per NV_Read; 0: the TPM's TPM_PT_NV_BUFFER_MAX. Tests set it small.
  uint16_t nv_chunk_size = 0;
};

struct TpmKeyInfo {
  KeyAlg alg = KeyAlg::kRsa2048;  // the family; public_area has the size or curve
  Bytes public_area;              // TPMT_PUBLIC, MU-marshalled
  Bytes name;                     // nameAlg (u16 BE) || H_nameAlg(public_area)
  uint32_t persistent_handle = 0; // 0: transient
  Bytes certificate;              // DER from NV; empty when there is none
};

// PCR banks by TPM algorithm id (TPM2_ALG_SHA1 = 0x0004, SHA256 = 0x000B, SHA384, SHA512).
struct PcrBankSelection {
  uint16_t hash_alg = 0;
  std::vector<uint32_t> pcrs;  // indices, any order, no duplicates
};

struct PcrValue {
  uint16_t hash_alg = 0;
  uint32_t index = 0;
  Bytes digest;
};

struct TpmQuote {
  Bytes attest;     // TPMS_ATTEST (the contents of the TPM2B_ATTEST the TPM returned)
  Bytes signature;  // TPMT_SIGNATURE
  std::vector<PcrValue> pcrs;  // selections in request order, indices ascending
};

// "sha1", "sha256", "sha384", "sha512" -> algorithm id; INVALID_ARGUMENT otherwise (the
// other way: AlgName in abi.h).
absl::StatusOr<uint16_t> PcrBankFromName(std::string_view name);

// One TPM connection and the keys made on it. Not thread-safe (neither is an ESYS context):
// callers serialize, e.g. the agent plugin holds one behind a mutex.
class TpmCollector {
 public:
  // Opens the TCTI (UNAVAILABLE naming it when the TPM is absent or busy). Keys are made on
  // first use.
  static absl::StatusOr<std::unique_ptr<TpmCollector>> Open(TpmCollectOptions options);
  ~TpmCollector();

  const TpmCollectOptions& options() const { return options_; }

  // The EK public area, Name and certificate (computed once).
  absl::StatusOr<TpmKeyInfo> Ek();
  // The AK: the one made from ak_template_nv_index when set; the persisted one when ak_handle
  // holds an attestation key, else a new one under
  // the EK (persisted at ak_handle when set). FAILED_PRECONDITION when ak_handle holds some
  // other kind of key: the agent never evicts what it did not make.
  absl::StatusOr<TpmKeyInfo> Ak();

  // TPM2_ActivateCredential with the AK and the EK: the secret the server wrapped with
  // MakeCredential for this AK's Name and this EK. `credential_blob` is a marshalled
  // TPM2B_ID_OBJECT, `encrypted_secret` a TPM2B_ENCRYPTED_SECRET. INVALID_ARGUMENT when they
  // do not parse or the TPM rejects them (wrong EK, wrong AK Name, tampered).
  absl::StatusOr<Bytes> ActivateCredential(ByteView credential_blob, ByteView encrypted_secret);

  // TPM2_Quote with the AK over `selection` and `qualifying_data` (at most 64 bytes; the TPM
  // accepts no more than its largest digest), with the PCR values it covers. twi/v1 sends one
  // quote per bank (TpmQuote.hash_alg): call this once per bank with
  // appraisal::TpmQualifyingData(nonce, instance key). ABORTED when PCRs kept changing between
  // the read and the quote.
  absl::StatusOr<TpmQuote> Quote(const std::vector<PcrBankSelection>& selection,
                                 ByteView qualifying_data);
  // The PCR values, read in as many TPM2_PCR_Read calls as the TPM needs (it answers at most
  // 8 PCRs per call). INVALID_ARGUMENT for an inactive bank or a PCR the TPM does not have.
  absl::StatusOr<std::vector<PcrValue>> ReadPcrs(const std::vector<PcrBankSelection>& selection);

  // The NV index's contents, read in chunks of TPM_PT_NV_BUFFER_MAX. NOT_FOUND when absent.
  absl::StatusOr<Bytes> ReadNv(uint32_t nv_index);

  // TPM2_MakeCredential on this TPM with `ek_public` (TPMT_PUBLIC) loaded public-only: what a
  // server computes in software, for tests and diagnostics. Outputs marshalled
  // TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET.
  struct Credential {
    Bytes credential_blob;
    Bytes encrypted_secret;
  };
  absl::StatusOr<Credential> MakeCredential(ByteView ek_public, ByteView object_name,
                                            ByteView secret);

  // Handles the TPM has loaded: transient objects (0x80xxxxxx) and persistent ones (0x81xxxxxx).
  absl::StatusOr<std::vector<uint32_t>> TransientHandles();
  absl::StatusOr<std::vector<uint32_t>> PersistentHandles();
  // Banks with PCRs allocated; TPM_PT_MANUFACTURER as ASCII, padding dropped ("IBM", "MSFT").
  absl::StatusOr<std::vector<uint16_t>> ActiveBanks();
  absl::StatusOr<std::string> Manufacturer();

 private:
  struct Keys;
  explicit TpmCollector(TpmCollectOptions options, std::unique_ptr<EsysConnection> conn);
  // The EK / AK for one operation: a transient one is flushed by the returned handle, a
  // persistent one is borrowed from Keys.
  absl::StatusOr<TpmHandle> LoadEk();
  // `ek`: an EK already loaded for the same operation, or ESYS_TR_NONE (0xfff).
  absl::StatusOr<TpmHandle> LoadAk(uint32_t ek);

  TpmCollectOptions options_;
  std::unique_ptr<EsysConnection> conn_;
  std::unique_ptr<Keys> keys_;
};

// The TCG event log (binary_bios_measurements) as bytes; empty when the file does not exist
// (no TPM driver, no firmware log). Other errors (e.g. permission denied) are returned.
absl::StatusOr<Bytes> ReadEventLog(const std::string& path = kDefaultEventLogPath);

}  // namespace twi::tpm
