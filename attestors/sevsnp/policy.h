// Appraisal of a verified SEV-SNP report against operator policy, and the mapping of its
// fields to SPIRE selector values and claims.
//
// Appraise assumes the report was verified (verify.h): it judges values, never authenticity.
// It does not check REPORT_DATA (freshness and key binding belong to the appraisal layer,
// which knows the nonce).
//
// Fail closed: debug guests are refused unless allow_debug; POLICY bit 17 must be 1 and the
// undefined bits 63:26 zero; only VMPL 0 by default; a guest whose policy lets a migration
// agent export its memory is refused by default. Allow-lists and minimums are enforced when
// given; an empty allow-list accepts any value (configure one to pin images).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/checks.h"
#include "attestors/sevsnp/abi.h"

namespace twi::sevsnp {

// Per-component floors; unset components are not checked. `fmc` applies to Turin only.
struct TcbMinimum {
  std::optional<uint8_t> bootloader, tee, snp, microcode, fmc;
  bool empty() const { return !bootloader && !tee && !snp && !microcode && !fmc; }
};

// "1.55" or "1.55.29"; build unset compares major.minor only.
struct MinFirmware {
  uint8_t major = 0;
  uint8_t minor = 0;
  std::optional<uint8_t> build;
};
absl::StatusOr<MinFirmware> ParseMinFirmware(std::string_view s);

enum class SigningKeyPolicy { kBoth, kVcekOnly, kVlekOnly };

struct SnpPolicy {
  // POLICY.DEBUG (bit 19) lets the host decrypt guest memory: refused unless set.
  bool allow_debug = false;
  // Checked against REPORTED_TCB, COMMITTED_TCB and CURRENT_TCB: all three must meet it, so
  // neither a stale VCEK nor a rollback-able platform slips through.
  TcbMinimum min_tcb;
  // Allow-lists of exact values (empty = any). Lengths: 48, 32, 48, 48 bytes.
  std::vector<Bytes> measurements;
  std::vector<Bytes> host_data;
  std::vector<Bytes> id_key_digests;
  std::vector<Bytes> author_key_digests;  // also requires AUTHOR_KEY_EN when non-empty
  // VMPL that requested the report. 0 by default: a lower-privileged VMPL (e.g. a guest
  // kernel under an SVSM) must be opted into.
  std::vector<uint32_t> allowed_vmpls = {0};
  // POLICY.SMT (bit 16). Default true: almost every cloud guest sets it (the real samples
  // 0x30000 and 0x3001F do) and refusing it would refuse nearly all production guests.
  // Set false to require guests that can never share a core with another thread.
  bool allow_smt = true;
  // POLICY.MIGRATE_MA (bit 18). Default false: a migration agent can export guest memory, so
  // it widens the trusted computing base beyond the PSP; opt in when one is used.
  bool allow_migration_agent = false;
  // Checked against both CURRENT and COMMITTED firmware versions when set.
  std::optional<MinFirmware> min_firmware;
  SigningKeyPolicy signing_key = SigningKeyPolicy::kBoth;
};

// Configuration-time validation: allow-list lengths, VMPLs 0..3, a non-empty VMPL list.
// Reports every problem in one INVALID_ARGUMENT.
absl::Status ValidatePolicy(const SnpPolicy& policy);
// Decodes hex allow-list values, each `want_len` bytes; errors name the field and index.
absl::StatusOr<std::vector<Bytes>> ParseHexAllowList(std::span<const std::string> hex,
                                                     size_t want_len, std::string_view field);

// Runs every policy check (all are recorded in `checks`) and returns OK, or PERMISSION_DENIED
// for the first failure: "<check>: <what was found>; <what is wanted>".
absl::Status Appraise(const AttestationReport& report, const SnpPolicy& policy,
                      CheckList& checks);

// Selector values (without SPIRE's plugin-name prefix), e.g. "tee:sev-snp",
// "sev-snp:measurement:<hex>", "sev-snp:tcb:bl=2,tee=0,snp=5,ucode=68". Call with a verified
// report (product known).
std::vector<std::string> Selectors(const AttestationReport& report);
// Named claims for reports and agent-ID templates (hex values lowercase): measurement,
// report_version, product, reported_tcb, current_tcb, committed_tcb, launch_tcb, chip_id,
// policy, policy_debug, vmpl, guest_svn, host_data, id_key_digest, author_key_digest,
// family_id, image_id, report_id, report_data, signing_key, platform_info, current_firmware,
// committed_firmware.
std::map<std::string, std::string> Claims(const AttestationReport& report);

}  // namespace twi::sevsnp
