// Fuzzes what the Intel PCS / PCCS client reads from a response before anything is verified
// (attestors/collateral/pcs_response.h): URL-encoded issuer-chain headers, CRL bodies (DER,
// PEM or hex), and the TCB Info / QE Identity envelopes whose inner object must come out
// byte-exact. The first input byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "attestors/collateral/pcs_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const uint8_t fmspc[6] = {0x50, 0x80, 0x6f, 0x00, 0x00, 0x00};
  // An extracted signed object is a {...} slice of the response, never rebuilt.
  auto check_signed = [&](const auto& doc) {
    if (!doc.ok()) return;
    if (doc->body.empty() || doc->body.front() != '{' || doc->body.back() != '}' ||
        input.find(doc->body) == std::string_view::npos || doc->signature.size() != 64) {
      __builtin_trap();
    }
  };
  switch (data[0] % 4) {
    case 0: {
      auto decoded = twi::collateral::PercentDecode(input);
      if (decoded.ok() && decoded->size() > input.size()) __builtin_trap();
      auto chain = twi::collateral::ParseIssuerChainHeader(input);
      if (chain.ok() && chain->empty()) __builtin_trap();  // at least one certificate
      break;
    }
    case 1:
      (void)twi::collateral::ParseCrlBody(input);
      break;
    case 2:
      check_signed(twi::collateral::ParseTcbInfoResponse(input, "TDX", twi::ByteView(fmspc, 6)));
      break;
    case 3:
      check_signed(twi::collateral::ParseQeIdentityResponse(input, "TD_QE"));
      break;
  }
  return 0;
}
