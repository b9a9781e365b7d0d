// TCG PC Client event logs (TCG PC Client Platform Firmware Profile, section 10): the legacy
// SHA-1 format (TCG_PCR_EVENT only) and the crypto-agile format (a TCG_PCR_EVENT carrying the
// "Spec ID Event03" header, then TCG_PCR_EVENT2 records with one digest per algorithm). The
// TPM's boot log and TDX's CCEL log share this format; for CCEL the index is the MR index
// (1 -> RTMR0 ... 4 -> RTMR3).
//
// What this does not do: trust the log. A log is evidence only once its replay equals values a
// verified quote or report signed (Replay + the caller's comparison); the facts read from an
// unreplayed log mean nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"

namespace twi::eventlog {

// TPM_ALG_ID values.
inline constexpr uint16_t kAlgSha1 = 0x0004;
inline constexpr uint16_t kAlgSha256 = 0x000B;
inline constexpr uint16_t kAlgSha384 = 0x000C;
inline constexpr uint16_t kAlgSha512 = 0x000D;
// Digest size of a TPM_ALG_ID, 0 when unknown.
size_t DigestSize(uint16_t alg);
// "sha1", "sha256", "sha384", "sha512", or "alg-0x...." for others.
std::string AlgName(uint16_t alg);

// Event types used by replay and facts (section 10.4.1).
inline constexpr uint32_t kEvNoAction = 0x00000003;
inline constexpr uint32_t kEvSeparator = 0x00000004;
inline constexpr uint32_t kEvEfiVariableDriverConfig = 0x80000001;
inline constexpr uint32_t kEvEfiBootServicesApplication = 0x80000003;

struct Event {
  uint32_t index = 0;  // PCR index (TPM) or MR index (CCEL)
  uint32_t type = 0;
  std::map<uint16_t, Bytes> digests;  // by algorithm; legacy logs have SHA-1 only
  Bytes data;
  size_t offset = 0;  // of the record in the log, for error messages
};

struct EventLog {
  bool crypto_agile = false;
  // Algorithms the Spec ID event declares (crypto-agile), or {SHA-1} for legacy logs.
  std::vector<uint16_t> algorithms;
  // From a StartupLocality EV_NO_ACTION event in PCR 0 (0 when absent): the TPM starts PCR 0
  // at 0..03 instead of zeros when the locality is 3.
  uint8_t startup_locality = 0;
  // Every event after the header, EV_NO_ACTION included (replay skips them).
  std::vector<Event> events;
};

struct ParseOptions {
  // Most events accepted (a bound for hostile input).
  size_t max_events = 100000;
  // CCEL's log area is longer than the log: stop at the first record whose header is all 0x00
  // or all 0xFF instead of failing on it.
  bool stop_at_padding = false;
};

// INVALID_ARGUMENT naming the offset and what was wrong; never reads past `log`.
absl::StatusOr<EventLog> Parse(ByteView log, const ParseOptions& options = {});

// Replays `alg` digests by index: each index starts at zeros (PCR 0 at the startup locality)
// and is extended with every event's digest of `alg`, EV_NO_ACTION skipped. An event lacking
// `alg` is an error naming it.
absl::StatusOr<std::map<uint32_t, Bytes>> Replay(const EventLog& log, uint16_t alg);

// Facts a policy may use once the log has replayed to signed values.
struct BootFacts {
  // The SecureBoot EFI variable as measured (EV_EFI_VARIABLE_DRIVER_CONFIG, PCR 7); nullopt
  // when the log does not measure it.
  std::optional<bool> secure_boot;
  // Digests (of `alg`) of EV_EFI_BOOT_SERVICES_APPLICATION events in PCR 4 (TPM) / MR 2
  // (CCEL), in log order: the boot loader first.
  std::vector<Bytes> boot_applications;
};
BootFacts ExtractFacts(const EventLog& log, uint16_t alg, uint32_t secure_boot_index,
                       uint32_t boot_app_index);

}  // namespace twi::eventlog
