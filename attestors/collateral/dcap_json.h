// Intel DCAP collateral documents (spec 2.6): TCB Info v3 (TDX and SGX) and Enclave/QE
// Identity v2, parsed from the exact signed JSON text.
//
// The signature covers the bytes of the inner object as Intel served them, so callers verify
// the signature over the text first and parse afterwards; nothing here re-serialises. PCS
// responses wrap the object as {"tcbInfo": {...}, "signature": "..."}: ExtractSignedJson
// returns the inner object's exact bytes and the signature. Unknown keys are ignored, known
// ones are type- and length-checked; errors are INVALID_ARGUMENT naming the JSON path.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"

namespace twi::collateral {

// tcbStatus values of TCB Info levels (also used for identity levels: UpToDate, OutOfDate,
// Revoked). Anything else is a parse error: an unknown status must not be guessed at.
bool IsKnownTcbStatus(std::string_view s);

struct IdentityTcbLevel {
  uint16_t isvsvn = 0;
  TimePoint tcb_date{};
  std::string status;
  std::vector<std::string> advisory_ids;
};

struct TdxModule {
  Bytes mrsigner;            // 48
  Bytes attributes;          // 8
  Bytes attributes_mask;     // 8
};

struct TdxModuleIdentity {
  std::string id;  // "TDX_01", "TDX_03", ...
  TdxModule module;
  std::vector<IdentityTcbLevel> levels;
};

struct TcbLevel {
  std::array<uint8_t, 16> sgx{};
  uint16_t pcesvn = 0;
  bool has_tdx = false;
  std::array<uint8_t, 16> tdx{};
  TimePoint tcb_date{};
  std::string status;
  std::vector<std::string> advisory_ids;
};

struct TcbInfo {
  std::string id;  // "TDX" or "SGX"
  int version = 0;
  TimePoint issue_date{}, next_update{};
  Bytes fmspc;   // 6
  Bytes pce_id;  // 2
  int tcb_type = 0;
  uint32_t tcb_evaluation_data_number = 0;
  std::optional<TdxModule> tdx_module;
  std::vector<TdxModuleIdentity> tdx_module_identities;
  std::vector<TcbLevel> levels;  // as listed (highest first)
};

struct EnclaveIdentity {
  std::string id;  // "TD_QE", "QE", "QVE"
  int version = 0;
  TimePoint issue_date{}, next_update{};
  uint32_t tcb_evaluation_data_number = 0;
  uint32_t miscselect = 0, miscselect_mask = 0;  // hex read big-endian
  Bytes attributes, attributes_mask;             // 16 each
  Bytes mrsigner;                                // 32
  uint16_t isvprodid = 0;
  std::vector<IdentityTcbLevel> levels;
};

// TCB Info v3 (`id` TDX or SGX). TDX levels must carry tdxtcbcomponents.
absl::StatusOr<TcbInfo> ParseTcbInfo(std::string_view signed_text);
// Enclave identity v2.
absl::StatusOr<EnclaveIdentity> ParseEnclaveIdentity(std::string_view signed_text);

struct SignedJson {
  std::string body;       // exact bytes of the inner object
  std::string signature;  // hex as served
};
// From a PCS response `{"<key>": {...}, "signature": "<hex>"}`.
absl::StatusOr<SignedJson> ExtractSignedJson(std::string_view response, std::string_view key);

}  // namespace twi::collateral
