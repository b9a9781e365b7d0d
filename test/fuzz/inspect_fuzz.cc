// Fuzzes `twi inspect` end to end over in-memory input: every decoder (SEV-SNP report and
// certificate table, DCAP quote, Azure HCL report, TDX TDREPORT, collateral bundle and
// documents, certificates, CRLs, CCEL table, TCG event log) and both output forms. Decoding must either succeed or give a reason;
// the output must render (JSON with invalid UTF-8 replaced, as the CLI prints it).
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::cli::InspectInput input;
  input.text.assign(reinterpret_cast<const char*>(data), size);
  input.bytes.assign(data, data + size);
  auto got = twi::cli::InspectBytes(input);
  if (got.ok()) {
    if (twi::cli::FormatHuman(*got).empty()) __builtin_trap();
    (void)got->json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (got.status().message().empty()) {
    __builtin_trap();  // a refusal always says why
  }
  return 0;
}
