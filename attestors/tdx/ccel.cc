#include "attestors/tdx/ccel.h"

#include <cstring>

#include "attestors/core/status.h"
#include "attestors/core/str.h"

namespace twi::tdx {
namespace {

constexpr size_t kAcpiHeader = 36;
constexpr size_t kCcelTableSize = kAcpiHeader + 20;  // + type, subtype, reserved, LAML, LASA
constexpr uint8_t kCcTypeTdx = 2;

}  // namespace

absl::StatusOr<CcelTable> ParseCcelTable(ByteView table) {
  if (table.size() < kCcelTableSize) {
    return absl::InvalidArgumentError(
        StrCat("ccel table: ", table.size(), " bytes, want at least ", kCcelTableSize));
  }
  if (std::memcmp(table.data(), "CCEL", 4) != 0) {
    return absl::InvalidArgumentError(
        StrCat("ccel table: signature ", ShortHex(table.first(4)), ", want \"CCEL\""));
  }
  const uint32_t length = LoadLe32(table.data() + 4);
  if (length < kCcelTableSize || length > table.size()) {
    return absl::InvalidArgumentError(StrCat("ccel table: declared length ", length, " for ",
                                             table.size(), " bytes"));
  }
  // ACPI: all bytes of the table sum to zero.
  uint8_t sum = 0;
  for (size_t i = 0; i < length; ++i) sum = static_cast<uint8_t>(sum + table[i]);
  if (sum != 0) return absl::InvalidArgumentError("ccel table: checksum mismatch");
  CcelTable t;
  t.cc_type = table[kAcpiHeader];
  t.cc_subtype = table[kAcpiHeader + 1];
  t.log_area_minimum_length = LoadLe64(table.data() + kAcpiHeader + 4);
  t.log_area_start_address = LoadLe64(table.data() + kAcpiHeader + 12);
  if (t.cc_type != kCcTypeTdx) {
    return absl::InvalidArgumentError(
        StrCat("ccel table: cc type ", t.cc_type, ", want ", kCcTypeTdx, " (tdx)"));
  }
  return t;
}

absl::StatusOr<CcelReplay> ReplayCcel(ByteView log_area) {
  eventlog::ParseOptions po;
  po.stop_at_padding = true;
  auto log = eventlog::Parse(log_area, po);
  if (!log.ok()) return Annotate(log.status(), "ccel");
  if (!log->crypto_agile) return absl::InvalidArgumentError("ccel: not a crypto-agile event log");
  auto values = eventlog::Replay(*log, eventlog::kAlgSha384);
  if (!values.ok()) return Annotate(values.status(), "ccel");
  CcelReplay out;
  for (Bytes& r : out.rtmr) r.assign(48, 0);
  for (auto& [index, value] : *values) {
    // MR index 0 is MRTD, which the log never extends; 1..4 are RTMR0..3.
    if (index < 1 || index > 4) {
      return absl::InvalidArgumentError(
          StrCat("ccel: event for mr index ", index, ", want 1..4 (rtmr0..rtmr3)"));
    }
    out.rtmr[index - 1] = std::move(value);
  }
  // Secure boot variables are measured into RTMR0 (MR 1), boot applications into RTMR1 (MR 2).
  out.facts = eventlog::ExtractFacts(*log, eventlog::kAlgSha384, 1, 2);
  out.log = *std::move(log);
  return out;
}

}  // namespace twi::tdx
