// X.509 certificates and CRLs over OpenSSL 3, for every evidence kind (AMD VCEK chains, Intel
// PCK chains, TPM EK chains).
//
// What this does: parse certificates (PEM, DER, PEM bundles) and CRLs, expose the fields the
// verifiers need, verify one signature link at a time (RSA PKCS#1, RSASSA-PSS with explicit
// parameters, ECDSA), check validity windows at an injected time, check a CRL, and verify a
// linear chain leaf <- intermediates <- pinned root.
//
// What this does not do: decide which root is trusted (callers pin roots), build paths from
// unordered pools, fetch anything, or interpret vendor extensions. Serial number 0 (AMD VCEKs)
// and other RFC 5280 strictness violations that do not affect signatures are accepted on
// purpose: we never enable X509_V_FLAG_X509_STRICT.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"
#include "attestors/core/crypto.h"

namespace twi {

// One X.509 extension as stored in the certificate.
struct X509Extension {
  std::string oid;  // dotted form, e.g. "1.3.6.1.4.1.3704.1.2"
  bool critical = false;
  Bytes value;  // the contents of the extnValue OCTET STRING (still DER for most extensions)
};

// An immutable, parsed certificate. Copies share the underlying X509 (reference counted), so
// passing Certificates around and caching them is cheap.
class Certificate {
 public:
  // Accepts DER, or PEM holding exactly one certificate (more -> error).
  static absl::StatusOr<Certificate> Parse(ByteView der_or_pem);
  static absl::StatusOr<Certificate> FromDer(ByteView der);
  static absl::StatusOr<Certificate> FromPem(std::string_view pem);
  // Takes one reference on `x509` (the caller keeps its own).
  static Certificate FromX509(X509* x509);

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;

  X509* get() const { return x509_.get(); }
  const Bytes& der() const { return der_; }
  // SHA-256 over the DER encoding; computed once at parse time.
  const Bytes& sha256() const { return sha256_; }
  std::string fingerprint_hex() const { return HexEncode(sha256_); }

  // RFC 2253-ish one-line names and the subject's common name ("" when absent).
  std::string subject() const;
  std::string issuer() const;
  std::string subject_cn() const;
  // Lowercase hex of the serial's magnitude ("0" for serial 0).
  std::string serial_hex() const;
  TimePoint not_before() const { return not_before_; }
  TimePoint not_after() const { return not_after_; }
  // Borrowed; lives as long as this Certificate (or any copy).
  EVP_PKEY* public_key() const;

  bool IsSelfIssued() const;  // subject == issuer (does not check the signature)
  bool IssuedBy(const Certificate& issuer) const;  // our issuer name == their subject name
  std::vector<X509Extension> Extensions() const;

  // A short label for messages: `CN` or the full subject when there is no CN.
  std::string label() const;

 private:
  Certificate() = default;
  absl::Status Init();

  X509Ptr x509_;
  Bytes der_;
  Bytes sha256_;
  TimePoint not_before_{};
  TimePoint not_after_{};
};

// Every certificate in a PEM bundle, in file order. Non-certificate PEM blocks are errors;
// an input without any certificate is an error.
absl::StatusOr<std::vector<Certificate>> ParsePemBundle(std::string_view pem);
// PEM bundle when the input looks like PEM, else a single DER certificate.
absl::StatusOr<std::vector<Certificate>> ParseCertificates(ByteView der_or_pem);

// OK when `subject`'s signature verifies with `issuer`'s public key and the names chain.
// Honours RSASSA-PSS parameters from the AlgorithmIdentifier. INVALID_ARGUMENT otherwise,
// naming both certificates.
absl::Status VerifySignedBy(const Certificate& subject, const Certificate& issuer);

// OK when notBefore <= at <= notAfter. `role` names the certificate in the message
// ("vlek", "ask", ...); the message says which bound failed and when.
absl::Status CheckValidity(const Certificate& cert, TimePoint at, std::string_view role = "");

// OK when `issuer` may sign certificates (basicConstraints CA and, if present, keyCertSign).
absl::Status CheckIsCa(const Certificate& issuer);

// Verifies leaf <- chain[0] <- ... <- chain[n-1] <- root, where root is trusted by the caller
// (its self-signature is checked too). Checks each link's signature, names, CA flags, and
// every certificate's validity at `at`. `chain` may be empty (leaf issued by the root).
absl::Status VerifyChain(const Certificate& leaf, std::span<const Certificate> chain,
                         const Certificate& root, TimePoint at);

// A parsed certificate revocation list.
class Crl {
 public:
  static absl::StatusOr<Crl> Parse(ByteView der_or_pem);

  Crl(const Crl& other);
  Crl& operator=(const Crl& other);
  Crl(Crl&&) noexcept = default;
  Crl& operator=(Crl&&) noexcept = default;

  X509_CRL* get() const { return crl_.get(); }
  const Bytes& sha256() const { return sha256_; }
  std::string issuer() const;
  TimePoint this_update() const { return this_update_; }
  // nullopt when the CRL has no nextUpdate (then it never goes stale by time).
  std::optional<TimePoint> next_update() const { return next_update_; }
  bool IsRevoked(const Certificate& cert) const;

 private:
  Crl() = default;
  X509CrlPtr crl_;
  Bytes sha256_;
  TimePoint this_update_{};
  std::optional<TimePoint> next_update_;
};

// Checks `crl` against the issuer that should have signed it and the certificates it covers:
// CRL issuer name == issuer subject, CRL signature by `issuer`, thisUpdate <= at <=
// nextUpdate, and none of `subjects` issued by `issuer` is listed. Subjects issued by another
// CA are skipped (a CRL only speaks for its issuer).
absl::Status CheckCrl(const Crl& crl, const Certificate& issuer,
                      std::span<const Certificate> subjects, TimePoint at);

// Converts an ASN1_TIME (UTCTime or GeneralizedTime) to a TimePoint.
absl::StatusOr<TimePoint> Asn1TimeToTimePoint(const ASN1_TIME* t);

}  // namespace twi
