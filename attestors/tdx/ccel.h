// The TD's CC event log (CCEL): the ACPI "CCEL" table names the log area; the log itself
// (/sys/firmware/acpi/tables/data/CCEL) is a crypto-agile TCG event log with SHA-384 digests
// whose index is the MR index: 1 -> RTMR0, 2 -> RTMR1, 3 -> RTMR2, 4 -> RTMR3 (0 is MRTD,
// never extended by the log). Replaying it must reproduce the quote's RTMRs.
#pragma once

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/eventlog/tcg.h"

namespace twi::tdx {

// The ACPI CCEL table (signature "CCEL", revision, CC type 2 = TDX, log area length/address).
struct CcelTable {
  uint8_t cc_type = 0;
  uint8_t cc_subtype = 0;
  uint64_t log_area_minimum_length = 0;
  uint64_t log_area_start_address = 0;
};
absl::StatusOr<CcelTable> ParseCcelTable(ByteView table);

struct CcelReplay {
  std::array<Bytes, 4> rtmr;  // 48 bytes each: RTMR0..3 as the log extends them
  eventlog::EventLog log;
  eventlog::BootFacts facts;
};
// Parses the log area (padding after the last event tolerated) and replays it with SHA-384.
absl::StatusOr<CcelReplay> ReplayCcel(ByteView log_area);

}  // namespace twi::tdx
