// Trust in the TPM behind an attestation key, by one of three routes (issue 8):
//   ek certificate  the EK's certificate chains to a configured manufacturer CA and carries the
//                   EK public key (credential activation then binds the AK to that EK);
//   ek hash         SHA-256 of the EK's SubjectPublicKeyInfo is allow-listed (cloud vTPMs
//                   without EK certificates);
//   ak certificate  the AK's certificate chains to a configured CA (e.g. GCE's EK/AK CA), which
//                   vouches for the AK directly.
//
// EK certificates break RFC 5280 habits on purpose (TCG EK Credential Profile 2.x): an empty
// subject with a critical subjectAltName directoryName holding the TPM manufacturer
// (2.23.133.2.1), model (2.23.133.2.2) and version (2.23.133.2.3), subjectDirectoryAttributes,
// EKU 2.23.133.8.1. Those critical extensions are understood here; any other critical extension
// (nameConstraints, policyConstraints, ...) in the chain is refused, since nothing enforces it.
//
// What this does not do: credential activation (credential.h), revocation (no CRLs for EK CAs
// here), fetching intermediates over AIA (configure or present them). Roots are trusted as
// configured; their self-signature is still checked.
//
// Checks: ek.certificate, ek.hash, ak.certificate; failures are PERMISSION_DENIED
// "<check>: <detail>".
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attestors/core/checks.h"
#include "attestors/core/clock.h"
#include "attestors/core/x509.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/verify.h"

namespace twi::tpm {

inline constexpr std::string_view kOidTpmManufacturer = "2.23.133.2.1";
inline constexpr std::string_view kOidTpmModel = "2.23.133.2.2";
inline constexpr std::string_view kOidTpmVersion = "2.23.133.2.3";
inline constexpr std::string_view kOidEkCertificateEku = "2.23.133.8.1";

struct TrustAnchors {
  std::vector<Certificate> ek_roots;
  std::vector<Certificate> ek_intermediates;  // a pool; chains are built from it
  std::vector<Bytes> ek_spki_sha256;          // allow-list of SHA-256(EK SPKI)
  std::vector<Certificate> ak_roots;
  std::vector<Certificate> ak_intermediates;
  bool empty() const {
    return ek_roots.empty() && ek_spki_sha256.empty() && ak_roots.empty();
  }
};

// The TPM device attributes of an EK certificate's subjectAltName directoryName ("" when
// absent), e.g. manufacturer "id:49424D00".
struct TpmDeviceAttributes {
  std::string manufacturer;
  std::string model;
  std::string version;
};
absl::StatusOr<TpmDeviceAttributes> ParseTpmDeviceAttributes(const Certificate& ek_cert);

// What a trust route established.
struct TpmIdentity {
  std::string route;  // "ek_certificate", "ek_hash", "ak_certificate"
  Bytes ek_spki_sha256;  // empty on the ak_certificate route
  TpmDeviceAttributes device;
  std::string ca;  // the root's label (certificate routes)
};

// ek.certificate: `ek_cert` holds the key of `ek`, chains through `presented` and the
// configured intermediates to a configured EK root, every certificate valid at `at`, critical
// extensions understood, and EKU (when present) includes 2.23.133.8.1.
absl::Status VerifyEkCertificate(const Certificate& ek_cert,
                                 std::span<const Certificate> presented, const Public& ek,
                                 const TrustAnchors& anchors, TimePoint at, CheckList& checks,
                                 TpmIdentity* out);

// ek.hash: SHA-256 of the EK's SPKI is in the allow-list.
absl::Status CheckEkHash(const Public& ek, const TrustAnchors& anchors, CheckList& checks,
                         TpmIdentity* out);

// A verified certificate path leaf <- chain... <- root; `root` points into the caller's roots.
struct CertPath {
  std::vector<Certificate> chain;
  const Certificate* root = nullptr;
};
// Builds leaf <- `presented` or `intermediates` (by name and signature; self-issued ones are
// never used as intermediates) <- one of `roots`, then checks every link, CA flags, validity at
// `at` and that every critical extension is understood. Also used for GCE AK certificates
// (gcp/verify.h). FAILED_PRECONDITION without roots, INVALID_ARGUMENT naming the failure.
absl::StatusOr<CertPath> VerifyCertPath(const Certificate& leaf,
                                        std::span<const Certificate> presented,
                                        const std::vector<Certificate>& intermediates,
                                        const std::vector<Certificate>& roots, TimePoint at);
// "leaf <- intermediate <- root R (sha256 ...)" for check details.
std::string CertPathLabel(const Certificate& leaf, const CertPath& p);

// ak.certificate: `ak_cert` holds the AK's key and chains to a configured AK root.
absl::Status VerifyAkCertificate(const Certificate& ak_cert,
                                 std::span<const Certificate> presented, const AkKey& ak,
                                 const TrustAnchors& anchors, TimePoint at, CheckList& checks,
                                 TpmIdentity* out);

// Selector values of an established identity: "tpm:ek-hash:<hex>" (EK routes) and
// "tpm:manufacturer:<id>" (from an EK certificate).
std::vector<std::string> IdentitySelectors(const TpmIdentity& id);

}  // namespace twi::tpm
