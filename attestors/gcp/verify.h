// Google Cloud vTPM verification (spec 5, issue 9 item 2): the Google-issued AK certificate's
// chain to the configured GCE vTPM CAs, its instance-information extension, the AK in the
// certificate as the signer of the vTPM quote (TPM verifier: nonce, signature, pcrDigest) and,
// when the options require hardware, the SEV-SNP report (SEV-SNP verifier) or TDX quote (TDX
// verifier) whose REPORT_DATA equals the expected report data. On GCE the vTPM is not inside
// the TEE, so the only link between quote and hardware report is that both carry the
// verifier's challenge: the caller derives both expectations from the same nonce.
//
// What this does not check: the sev_snp / tdx policy values (debug, measurement, TCB minimums:
// the caller applies sevsnp/policy.h or tdx/policy.h to the verified report), PCR values and
// the event log (tpm/policy.h), or which projects / zones are acceptable (selectors).
// Options, never the evidence, say which hardware is required: with Hardware::kNone hardware
// evidence is ignored; otherwise its absence fails hw.required.
//
// Checks, in this order, under stable names (plus those of tpm/verify.h and sevsnp/verify.h
// or tdx/verify.h):
//   ak_cert.structure  ak_cert.chain  ak_cert.usage  instance_info.structure
//   instance_info.production  ak.public_match  <TPM quote checks>
//   [hw.required  <SEV-SNP or TDX checks>  hw.report_data]
// A failure returns INVALID_ARGUMENT "<check>: <detail>" (got/want in the detail).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attestors/collateral/dcap_bundle.h"
#include "attestors/core/checks.h"
#include "attestors/core/clock.h"
#include "attestors/core/expiring_cache.h"
#include "attestors/core/x509.h"
#include "attestors/gcp/abi.h"
#include "attestors/sevsnp/verify.h"
#include "attestors/tdx/verify.h"
#include "attestors/tpm/verify.h"

namespace twi::gcp {

enum class Hardware { kNone, kSevSnp, kTdx };
// "none", "sev-snp", "tdx".
const char* HardwareName(Hardware h);
absl::StatusOr<Hardware> ParseHardware(std::string_view name);

// The configured trust: self-signed certificates are roots, the others intermediates.
struct CaSet {
  std::vector<Certificate> roots;
  std::vector<Certificate> intermediates;
  static CaSet FromCertificates(std::span<const Certificate> certs);
};

struct Evidence {
  ByteView ak_cert;                            // DER or PEM, the AK certificate from NV
  std::span<const Certificate> intermediates;  // sent by the agent; never trusted as roots
  // The AK public area (TPMT_PUBLIC or TPM2B_PUBLIC) when the agent sent it: its key must be the
  // certificate's and its attributes are checked. Without it the certificate vouches for the
  // key (quote verified with allow_ak_without_attributes).
  ByteView ak_public;
  ByteView quote;      // TPMS_ATTEST or TPM2B_ATTEST
  ByteView signature;  // TPMT_SIGNATURE
  tpm::PcrBanks pcrs;
  // Hardware evidence; read only when the options require that hardware.
  ByteView snp_report;                    // ATTESTATION_REPORT
  ByteView vcek;                          // DER or PEM (KDS or a file); may be empty when
  ByteView snp_cert_table;                // the extended report's certificate table has it
  std::span<const Certificate> snp_chain;  // ASK/ARK, may be empty (built-in AMD ones)
  ByteView td_quote;                      // DCAP quote v4/v5
  const collateral::DcapCollateral* tdx_collateral = nullptr;
};

// The organization of every certificate sim.h mints: a chain anchored in such a root is
// refused (ak_cert.chain) unless VerifyOptions::allow_simulated_ca.
inline constexpr std::string_view kSimulatedCaOrganization = "twi-attestor simulated Google";

struct VerifyOptions {
  TimePoint time{};  // verification instant for every validity window (required)
  CaSet cas;         // GCE vTPM CAs (examples/gcp/vtpm-ca-bundle.pem) or a simulated set
  bool allow_simulated_ca = false;  // development and tests only
  Bytes nonce;       // expected TPMS_ATTEST.extraData
  bool allow_empty_nonce = false;
  // go-tpm-tools ignores instance information without isProduction; we refuse it
  // (instance_info.production) unless this is set.
  bool allow_non_production = false;
  Hardware hardware = Hardware::kNone;
  // Expected REPORT_DATA of the hardware evidence (64 bytes; shorter is zero-filled).
  Bytes expected_report_data;
  sevsnp::VerifyOptions snp;  // its `time` is overwritten with `time`
  tdx::VerifyOptions tdx;     // its `time` is overwritten with `time`
};

// Filled as far as verification got.
struct VerifiedGcp {
  std::optional<Certificate> ak_cert;
  std::vector<Certificate> chain;  // intermediates from the AK cert's issuer up, then the root
  TimePoint chain_valid_until{};   // earliest notAfter along the chain
  InstanceInfo instance;
  bool has_instance = false;
  Bytes ak_spki;  // DER SubjectPublicKeyInfo of the certificate's key
  Bytes ak_spki_sha256;
  tpm::VerifiedQuote quote;
  Hardware hardware = Hardware::kNone;
  std::optional<sevsnp::VerifiedReport> snp;
  std::optional<tdx::VerifiedQuote> tdx;
};

// Verified AK certificates (structure, chain, usage, instance information) per trust
// configuration (CA set, allow_simulated_ca), keyed by the SHA-256 of the certificate bytes,
// until the chain's earliest notAfter (from its latest notBefore). A hit skips X.509 parsing,
// path building and the RSA chain signatures; the checks are recorded as on the cold path.
// instance_info.production is decided on every call. Thread-safe.
struct AkCertEntry;  // defined in verify.cc
using AkCertCache = ExpiringCache<AkCertEntry>;

struct Caches {
  sevsnp::VerificationCache* snp = nullptr;
  tdx::VerificationCache* tdx = nullptr;
  AkCertCache* ak_cert = nullptr;
};

// The ak.public_match step: `ak_public` (TPMT_PUBLIC or TPM2B_PUBLIC) must hold the key of the
// verified AK certificate in `cert` (its ak_spki); then the certificate's instance information
// is about the key that signed the quotes.
absl::StatusOr<tpm::AkKey> MatchAkPublic(ByteView ak_public, const VerifiedGcp& cert,
                                          CheckList& checks);

// Runs every check above; `out` (required) is filled as far as verification got.
absl::Status VerifyGcp(const Evidence& evidence, const VerifyOptions& options, CheckList& checks,
                       VerifiedGcp* out, Caches caches = {});

// Only the certificate part (ak_cert.* and instance_info.*), for callers that verify the quote
// themselves (a node appraiser with its own AK handling). Fills out->ak_cert, chain,
// chain_valid_until, instance, has_instance, ak_spki_sha256, ak_spki.
absl::Status VerifyAkCertificate(ByteView ak_cert, std::span<const Certificate> intermediates,
                                 const VerifyOptions& options, CheckList& checks,
                                 VerifiedGcp* out, AkCertCache* cache = nullptr);

// Claims: platform ("gcp"), project_id, project_number, zone, instance_id, instance_name,
// security_version, is_production, ak_pub_sha256, ak_cert_sha256, hardware; with SEV-SNP the
// report's claims (measurement, ...); with TDX the quote's (mrtd, tcb_status, ...).
std::map<std::string, std::string> Claims(const VerifiedGcp& v);

// Selector values (without the plugin prefix): "platform:gcp", "gcp:project-id:<id>",
// "gcp:project-number:<n>", "gcp:zone:<zone>", "gcp:instance-id:<id>",
// "gcp:instance-name:<name>" (empty before instance information is parsed).
std::vector<std::string> Selectors(const VerifiedGcp& v);

}  // namespace twi::gcp
