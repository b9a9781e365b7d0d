// The TDX TDREPORT (TDREPORT_STRUCT, 1024 bytes; Intel TDX module ABI, TDG.MR.REPORT): what an
// Azure TDX HCL report carries as its hardware report, and what the host's quoting service
// turns into a DCAP quote. Little-endian; offsets from the start of the structure:
//
//   REPORTMACSTRUCT   0..255   REPORTTYPE (type 0x81 = TDX, subtype 0, version 0 or 1) at 0,
//                              CPUSVN 16, TEE_TCB_INFO_HASH 32, TEE_INFO_HASH 80,
//                              REPORTDATA 128, MAC 224
//   TEE_TCB_INFO    256..494   VALID 256, TEE_TCB_SVN 264, MRSEAM 280, MRSIGNERSEAM 328,
//                              ATTRIBUTES 376, TEE_TCB_SVN2 384 (TDX 1.5), reserved to 494
//   reserved        495..511
//   TDINFO         512..1023   ATTRIBUTES 512, XFAM 520, MRTD 528, MRCONFIGID 576, MROWNER 624,
//                              MROWNERCONFIG 672, RTMR0-3 720..911, SERVTD_HASH 912, reserved
//
// The MAC is keyed by the CPU and cannot be checked off the platform; the quote (verified by
// tdx/verify.h) is what authenticates these values, once matched field by field. What parsing
// does check: the size, the report type, and that TEE_TCB_INFO_HASH and TEE_INFO_HASH are the
// SHA-384 of the two structures (the MAC covers only REPORTMACSTRUCT, so these hashes are what
// ties the rest to it). Errors are INVALID_ARGUMENT "tdreport: <field> ..." with got/want.
#pragma once

#include <array>
#include <cstdint>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/tdx/abi.h"

namespace twi::azure {

inline constexpr uint8_t kTdReportTypeTdx = 0x81;

struct TdReportStruct {
  // REPORTMACSTRUCT
  uint8_t type = 0, subtype = 0, version = 0;
  std::array<uint8_t, 16> cpu_svn{};
  tdx::Mr tee_tcb_info_hash{}, tee_info_hash{};
  std::array<uint8_t, 32> mac{};
  // The fields a TD quote body carries (tdx::TdReport layout and names): TEE_TCB_INFO's
  // TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, ATTRIBUTES (as seam_attributes), TEE_TCB_SVN2; TDINFO's
  // ATTRIBUTES (td_attributes), XFAM, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0-3,
  // SERVTD_HASH (mr_service_td); REPORTDATA. TEE_TCB_SVN2 and SERVTD_HASH are read whatever the
  // version (Azure's version-0 reports fill TEE_TCB_SVN2); `tdx15` is REPORTTYPE version 1.
  tdx::TdReport body;
  std::array<uint8_t, 8> tcb_info_valid{};
};

inline constexpr size_t kTdReportStructSize = 1024;

// Exactly 1024 bytes.
absl::StatusOr<TdReportStruct> ParseTdReport(ByteView data);

// The 1024-byte TDREPORT holding `body` (REPORTTYPE version 1 when body.tdx15), with both
// hashes computed and `mac` as given: for simulators and tests (no CPU key, no real MAC).
Bytes EncodeTdReport(const tdx::TdReport& body, const std::array<uint8_t, 16>& cpu_svn,
                     const std::array<uint8_t, 32>& mac);

}  // namespace twi::azure
