// SEV-SNP report verification: the report's ECDSA P-384 signature (spec 1.2) by a VCEK or
// VLEK, that key's chain up to a pinned AMD root (VCEK <- ASK <- ARK, VLEK <- ASVK <- ARK),
// validity at an injected time, an optional CRL, and the binding between the certificate's
// extensions and the report (REPORTED_TCB, CHIP_ID, productName) (spec 1.8, 1.11 steps 1-6).
//
// What this does not check: anything a relying party configures. POLICY bits (debug, SMT,
// migration agent, reserved bit 17), VMPL, MEASUREMENT/HOST_DATA/ID_KEY_DIGEST reference
// values, minimum TCBs and firmware, and REPORT_DATA freshness/binding are appraised elsewhere
// (policy.h for the values, the appraisal layer for REPORT_DATA). A verified report is
// authentic AMD evidence, not an acceptable one.
//
// Every check is recorded in the caller's CheckList under a stable name:
//   report.structure  report.signing_key  cert.chain  cert.validity  cert.crl  cert.key
//   cert.extensions   report.product      cert.tcb_match  cert.hwid_match  report.signature
// A failure returns INVALID_ARGUMENT "<check>: <detail>" (got/want in the detail).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/checks.h"
#include "attestors/core/clock.h"
#include "attestors/core/x509.h"
#include "attestors/sevsnp/abi.h"

namespace twi::sevsnp {

enum class CrlPolicy {
  kAllowMissing,  // no CRL given: recorded as skipped (AMD's KDS CRL is not always at hand)
  kRequire,       // no CRL given: cert.crl fails
};

// A root configured beside AMD's: trusted for the product its CN names (ARK-<product>) and
// for one signing key type.
struct ExtraRoot {
  Certificate cert;
  SigningKey key = SigningKey::kVcek;
};

struct VerifyOptions {
  // The verification instant for every validity window (required; tests pin it).
  TimePoint time{};
  // The product of v2 reports (no CPUID) when the deployment knows it. Otherwise it comes from
  // CPUID (v3+) or the VCEK/VLEK productName; all known sources must agree.
  Product product = Product::kUnknown;
  // Roots accepted beside the built-in AMD ARKs, e.g. a simulated hierarchy for tests and
  // demos, each for one signing key type only (a chain through an ASK is vcek, through an
  // ASVK vlek). Ignored unless allow_simulation_roots is set, so accepting non-AMD evidence
  // always takes an explicit, clearly named opt-in at the call site.
  std::vector<ExtraRoot> extra_trusted_roots;
  bool allow_simulation_roots = false;
  // An AMD KDS CRL (signed by the ARK); it covers the ASK/ASVK the chain goes through.
  std::optional<Crl> crl;
  // Where the CRL comes from when `crl` is unset. Asked only after the chain is verified, with
  // the verified root's product and whether the intermediate is an ASVK, so that unverified
  // input never picks which CRL is fetched nor makes the check skip. nullopt (with `why`)
  // when none is at hand. A CRL whose issuer is not the chain's root is not applied to a
  // chain anchored in an extra root (AMD's CRL does not speak for it); for a built-in root it
  // fails cert.crl.
  std::function<std::optional<Crl>(Product root_product, bool asvk, std::string* why)> crl_source;
  CrlPolicy crl_policy = CrlPolicy::kAllowMissing;
};

struct VerifiedReport {
  AttestationReport report;  // product set and TCB_VERSIONs decoded
  SigningKey signing_key = SigningKey::kVcek;
  AmdCertExtensions endorsement_extensions;
  std::string endorsement_label;        // e.g. "SEV-VCEK"
  std::string endorsement_fingerprint;  // SHA-256 hex of its DER
  std::string root_label;               // e.g. "ARK-Milan"
  std::string root_fingerprint;
  bool builtin_root = false;  // false: anchored in an extra (simulation) root
  TimePoint chain_valid_until{};  // earliest notAfter in the chain (or CRL nextUpdate)
  bool cache_hit = false;
};

// Verified (endorsement certificate, chain, CRL) results, keyed by the SHA-256 of the
// endorsement's DER and the trust configuration, valid while the verification time is inside
// every certificate's window (and the CRL's). A hit skips chain building, RSA verification,
// extension parsing and even X.509 parsing, leaving one ECDSA verify per report. Thread-safe.
class VerificationCache {
 public:
  explicit VerificationCache(size_t max_entries = 4096) : max_entries_(max_entries) {}
  size_t size() const;
  void Clear();

  struct Entry;  // defined in verify.cc

 private:
  friend class CacheAccess;
  size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Entry>> entries_;
};

// Verifies `report` signed by `endorsement` (the VCEK or VLEK, e.g. from the extended-report
// certificate table). `chain` may hold the ASK/ASVK and ARK from the evidence or KDS, in any
// order, or be empty: the built-in AMD intermediates are used then. An ARK in `chain` is never
// trusted by itself; the root must be a built-in AMD ARK (by fingerprint) or an allowed extra
// root. `cache` may be null.
absl::StatusOr<VerifiedReport> VerifyReport(const AttestationReport& report,
                                            const Certificate& endorsement,
                                            std::span<const Certificate> chain,
                                            const VerifyOptions& options, CheckList& checks,
                                            VerificationCache* cache = nullptr);

// Same from wire bytes: parses the report (check report.structure) and accepts the
// endorsement as DER or PEM. On a cache hit a DER endorsement is not even parsed.
absl::StatusOr<VerifiedReport> VerifyReportBytes(ByteView report, ByteView endorsement,
                                                 std::span<const Certificate> chain,
                                                 const VerifyOptions& options, CheckList& checks,
                                                 VerificationCache* cache = nullptr);

}  // namespace twi::sevsnp
