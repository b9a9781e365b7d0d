// A software SEV-SNP "firmware" for tests, demos and CI.
//
// SimHierarchy mints a key hierarchy shaped like AMD's (ARK self-signed, ASK and ASVK signed by
// the ARK, all RSA with RSASSA-PSS SHA-384 / MGF1-SHA-384 / salt 48), but every name carries
// O=twi-attestor simulated AMD so a simulated root can never be mistaken for AMD's.
// SnpSimulator adds a VCEK (EC P-384, serial 0, AMD's 1.3.6.1.4.1.3704.1.* extensions) and a VLEK
// for one simulated chip, and signs ATTESTATION_REPORTs (spec 1.1, v2/v3/v5 layouts) over a
// caller's REPORT_DATA, returning the extended-report certificate table beside it (spec 1.10).
//
// What this does not do: emulate the PSP's measurement chain, key derivation from chip secrets
// or VMPL permission checks. Fields are whatever the options say; a field the options leave
// alone gets a fixed default so reports are reproducible apart from the ECDSA signature.
//
// Negative tests: SimDefect lists targeted faults (a flipped report byte, a VCEK whose TCB does
// not match REPORTED_TCB, a chain link signed by the wrong key, ...), each producing evidence
// that a correct verifier must reject for exactly one reason.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"
#include "attestors/core/crypto.h"

namespace twi::sevsnp {

enum class SimProduct { kMilan, kGenoa, kTurin };

// "Milan", "Genoa", "Turin": the spelling AMD uses in names and KDS URLs.
const char* SimProductName(SimProduct product);

// One TCB_VERSION, by component. `fmc` exists on Turin only and is ignored elsewhere.
struct SimTcb {
  uint8_t fmc = 0;
  uint8_t bl = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t ucode = 0;
};

// The 8-byte TCB_VERSION in the product's layout (spec 1.6).
uint64_t EncodeSimTcb(SimProduct product, const SimTcb& tcb);

struct SimHierarchyOptions {
  SimProduct product = SimProduct::kMilan;
  // AMD uses 4096. 2048 makes key generation ~10x faster for unit tests; the structure and
  // the signature algorithm are the same.
  int rsa_bits = 4096;
  // Start of the 25-year validity of ARK/ASK/ASVK. Unset: one day before now.
  std::optional<TimePoint> not_before;
  // When set, the hierarchy is loaded from this directory if it holds one, otherwise generated
  // and saved there (ark.pem ark.key ask.pem ask.key asvk.pem asvk.key). Saving is atomic (a
  // whole directory renamed into place), so concurrent test processes agree on one hierarchy.
  // A saved hierarchy for another product or key size is an error, not silently replaced.
  std::string dir;
};

// Validity and revoked entries for a CRL signed by the simulated ARK. (AMD signs both the VCEK
// and the VLEK CRL with the ARK, so one shape serves both.)
struct SimCrlOptions {
  TimePoint this_update{};
  TimePoint next_update{};
  std::vector<Bytes> revoked_serials;  // big-endian magnitudes
};

// ARK, ASK and ASVK of one simulated product line. Immutable once created; share it between
// simulators to avoid regenerating RSA keys.
class SimHierarchy {
 public:
  static absl::StatusOr<std::shared_ptr<const SimHierarchy>> Create(
      const SimHierarchyOptions& options, const Clock* clock = nullptr);
  // An RSA-2048 hierarchy per product, generated once per process and then shared: unit tests
  // need a valid chain, not AMD's key sizes.
  static absl::StatusOr<std::shared_ptr<const SimHierarchy>> SharedForTests(SimProduct product);

  SimProduct product() const { return product_; }
  X509* ark() const { return ark_.get(); }
  X509* ask() const { return ask_.get(); }
  X509* asvk() const { return asvk_.get(); }
  EVP_PKEY* ark_key() const { return ark_key_.get(); }
  EVP_PKEY* ask_key() const { return ask_key_.get(); }
  EVP_PKEY* asvk_key() const { return asvk_key_.get(); }

  Bytes ark_der() const;
  Bytes ask_der() const;
  Bytes asvk_der() const;
  std::string ark_pem() const;
  std::string ask_pem() const;
  std::string asvk_pem() const;
  // What KDS serves at /vcek/v1/{product}/cert_chain (ASK, then ARK) and
  // /vlek/v1/{product}/cert_chain (ASVK, then ARK).
  std::string VcekCertChainPem() const;
  std::string VlekCertChainPem() const;

  // A DER CRL issued and signed (RSA-PSS) by the ARK.
  absl::StatusOr<Bytes> MakeCrl(const SimCrlOptions& options) const;

 private:
  SimHierarchy() = default;
  SimProduct product_ = SimProduct::kMilan;
  EvpPkeyPtr ark_key_, ask_key_, asvk_key_;
  X509Ptr ark_, ask_, asvk_;
  friend class SimHierarchyBuilder;
};

enum class SimSigningKey { kVcek, kVlek };

enum class SimDefect {
  kReportByteFlipped,     // MEASUREMENT[0] flipped after signing
  kSignatureByteFlipped,  // first byte of R flipped
  kSignedByOtherKey,      // report signed by a fresh P-384 key, not the VCEK/VLEK
  kNoSignature,           // SIGNING_KEY = 7 ("none") and an all-zero signature
  kVcekTcbMismatch,       // VCEK/VLEK snpSPL = REPORTED_TCB.snp + 1
  kVcekHwidMismatch,      // VCEK hwID differs from CHIP_ID in its first byte
  kVcekProductMismatch,   // VCEK productName of another product line
  kVcekWrongSigner,       // VCEK/VLEK names the ASK/ASVK as issuer but is signed by the ARK
  kVcekExpired,           // VCEK/VLEK validity ended a year ago
  kCertTableWithoutVcek,  // certificate table lacks the VCEK/VLEK entry
};

struct SimOptions {
  // Null: SharedForTests(product) when fast_for_tests, else a fresh RSA-4096 hierarchy.
  std::shared_ptr<const SimHierarchy> hierarchy;
  SimProduct product = SimProduct::kMilan;  // ignored when `hierarchy` is given
  bool fast_for_tests = true;
  const Clock* clock = nullptr;  // for certificate validity; null = system clock. Not owned.

  // 0: 3 on Milan/Genoa, 5 on Turin. 2 drops the CPUID bytes (v2 layout).
  uint32_t version = 0;
  uint32_t guest_svn = 0;
  uint64_t policy = 0x30000;  // SMT allowed + the must-be-one bit 17; debug off
  std::array<uint8_t, 16> family_id{};
  std::array<uint8_t, 16> image_id{};
  uint32_t vmpl = 0;  // default VMPL for GetReport(report_data)
  // The VCEK/VLEK is minted for this TCB. ucode >= 128 on purpose: its DER INTEGER needs a
  // leading zero byte, which parsers must handle.
  SimTcb reported_tcb{.fmc = 1, .bl = 4, .tee = 0, .snp = 22, .ucode = 213};
  std::optional<SimTcb> current_tcb, committed_tcb, launch_tcb;  // unset: = reported_tcb
  uint64_t platform_info = 0x25;  // SMT_EN | ECC_EN | ALIAS_CHECK_COMPLETE
  bool author_key_en = false;
  bool mask_chip_id = false;  // CHIP_ID reported as zeros (the VCEK still has the real hwID)
  SimSigningKey signing_key = SimSigningKey::kVcek;
  std::optional<Bytes> measurement;        // 48 bytes; default SHA-384("twi-sim measurement")
  std::optional<Bytes> host_data;          // 32 bytes; default zeros
  std::optional<Bytes> id_key_digest;      // 48 bytes; default zeros
  std::optional<Bytes> author_key_digest;  // 48 bytes; default zeros
  std::optional<Bytes> report_id;          // 32 bytes; default SHA-256("twi-sim report id")
  std::optional<Bytes> report_id_ma;       // 32 bytes; default all 0xFF
  // 64 bytes (Milan/Genoa) or 8 bytes (Turin, zero-extended to 64 in the report).
  // Default: derived from "twi-sim chip id".
  std::optional<Bytes> chip_id;
  std::array<uint8_t, 3> current_fw{0x1D, 0x37, 0x01};    // build, minor, major: 1.55.29
  std::array<uint8_t, 3> committed_fw{0x1D, 0x37, 0x01};
  uint64_t launch_mit_vector = 0;   // v5 only
  uint64_t current_mit_vector = 0;  // v5 only
  std::string csp_id = "CN=twi-sim.example";  // VLEK cspId extension
  std::set<SimDefect> defects;
};

struct SimEvidence {
  Bytes report;      // 1184 bytes
  Bytes cert_table;  // GUID table + DER certificates (spec 1.10)
};

// Certificate-table GUIDs in RFC 4122 byte order (spec 1.10).
extern const std::array<uint8_t, 16> kSimGuidVcek;
extern const std::array<uint8_t, 16> kSimGuidVlek;
extern const std::array<uint8_t, 16> kSimGuidAsk;
extern const std::array<uint8_t, 16> kSimGuidArk;

struct SimCertTableEntry {
  std::array<uint8_t, 16> guid;
  Bytes der;
};
// Entries, an all-zero terminator, then the blobs in entry order; offsets relative to the table.
Bytes BuildCertTable(const std::vector<SimCertTableEntry>& entries);

// One simulated chip. Its VCEK and VLEK (fresh P-384 keys, valid from a day before the clock's
// now) are minted at Create and never persisted: only the RSA hierarchy is slow to make.
class SnpSimulator {
 public:
  static absl::StatusOr<std::unique_ptr<SnpSimulator>> Create(SimOptions options);

  // A signed report. `report_data` may be shorter than 64 bytes and is zero-padded, as
  // configfs-tsm does with a short inblob; longer is INVALID_ARGUMENT. Thread-safe.
  absl::StatusOr<SimEvidence> GetReport(ByteView report_data) const;
  absl::StatusOr<SimEvidence> GetReport(ByteView report_data, uint32_t vmpl) const;

  const SimOptions& options() const { return options_; }
  const SimHierarchy& hierarchy() const { return *hierarchy_; }
  SimProduct product() const { return hierarchy_->product(); }
  // The 64-byte CHIP_ID as a real report would carry it unmasked.
  const Bytes& chip_id() const { return chip_id_; }
  uint64_t reported_tcb() const;

  // The endorsement key that signs reports (VCEK or VLEK per options) and both certificates.
  X509* vcek() const { return vcek_.get(); }
  X509* vlek() const { return vlek_.get(); }
  Bytes vcek_der() const;
  Bytes vlek_der() const;
  std::string vcek_pem() const;
  std::string vlek_pem() const;
  Bytes ark_der() const { return hierarchy_->ark_der(); }
  Bytes ask_der() const { return hierarchy_->ask_der(); }
  Bytes asvk_der() const { return hierarchy_->asvk_der(); }
  std::string ark_pem() const { return hierarchy_->ark_pem(); }
  std::string ask_pem() const { return hierarchy_->ask_pem(); }

 private:
  SnpSimulator() = default;
  absl::Status Init();
  absl::StatusOr<X509Ptr> MintEndorsementKeyCert(EVP_PKEY* key, bool vlek) const;
  Bytes BuildReportBody(ByteView report_data, uint32_t vmpl) const;

  SimOptions options_;
  std::shared_ptr<const SimHierarchy> hierarchy_;
  Bytes chip_id_;
  EvpPkeyPtr vcek_key_, vlek_key_;
  X509Ptr vcek_, vlek_;
};

}  // namespace twi::sevsnp
