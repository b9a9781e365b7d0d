// Appraisal of a verified TPM quote (and, when given, its replayed event log) against operator
// policy, and the mapping of what was established to SPIRE selector values.
//
// Appraise assumes VerifyQuote succeeded (and VerifyEventLog, for the log facts): it judges
// values, never authenticity or AK trust (ek_trust.h).
//
// Fail closed: a PCR allow-list entry whose PCR was not quoted, or not authenticated by the
// pcrDigest, is a refusal; require_secure_boot and a boot loader allow-list need an event log
// whose replay matched PCR 7 / PCR 4; SHA-1 quote signatures are refused unless
// allow_sha1_signatures. An empty PCR allow-list accepts any value (the values still reach
// SPIRE as selectors; pins_nothing() lets Configure warn). Every refusal says what it found and
// what it wanted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/checks.h"
#include "attestors/tpm/verify.h"

namespace twi::tpm {

// PCR 7 carries the secure boot state, PCR 4 the boot manager / boot loader (PC Client PFP).
inline constexpr uint32_t kSecureBootPcr = 7;
inline constexpr uint32_t kBootLoaderPcr = 4;

// One allow-list entry: PCR `index` of `bank` must hold one of `values`.
struct PcrRule {
  uint16_t bank = 0;
  uint32_t index = 0;
  std::vector<Bytes> values;
};

struct TpmPolicy {
  std::vector<PcrRule> pcrs;
  // The SecureBoot variable measured into PCR 7 must be enabled.
  bool require_secure_boot = false;
  // Digests (of the log's bank) allowed for the first EV_EFI_BOOT_SERVICES_APPLICATION in PCR 4
  // (empty = any).
  std::vector<Bytes> boot_loader_digests;
  // Quotes signed with SHA-1 (older AKs, e.g. GCE Windows) are refused unless set.
  bool allow_sha1_signatures = false;
  bool pins_nothing() const { return pcrs.empty() && boot_loader_digests.empty(); }
};

// Configuration form: {"sha256:7": ["<hex>", ...], ...}. Banks sha1, sha256, sha384, sha512;
// indices 0..23; values of the bank's digest size. Every problem reported in one
// INVALID_ARGUMENT.
absl::StatusOr<std::vector<PcrRule>> ParsePcrRules(
    const std::map<std::string, std::vector<std::string>>& config);
// Configuration-time validation of a policy built in code (sizes, banks, duplicates).
absl::Status ValidatePolicy(const TpmPolicy& policy);

// Runs every policy check (recorded under policy.signature_hash, policy.pcrs,
// policy.secure_boot, policy.boot_loader) and returns OK or PERMISSION_DENIED for the first
// failure. `log` is null when no event log was verified.
absl::Status Appraise(const VerifiedQuote& quote, const EventLogFacts* log,
                      const TpmPolicy& policy, CheckList& checks);

// Selector values (without SPIRE's plugin prefix): "tee:tpm", "tpm:pcr:<bank>:<index>:<hex>"
// for every authenticated PCR, "tpm:secure-boot:<bool>" when a replayed log says so.
std::vector<std::string> Selectors(const VerifiedQuote& quote, const EventLogFacts* log);

// Named claims, filled as far as verification got (hex lowercase): pcr_digest_ok ("true" /
// "false"), nonce (the quote's extraData), ak_pub_sha256, signature_scheme ("rsassa-sha256"),
// firmware_version, pcrs (JSON text {"sha256":{"0":"<hex>",...}} of the authenticated values,
// "{}" otherwise); with a log: eventlog_bank, eventlog_pcrs ("0,4,7"), secure_boot.
std::map<std::string, std::string> Claims(const VerifiedQuote& quote, const EventLogFacts* log);

}  // namespace twi::tpm
