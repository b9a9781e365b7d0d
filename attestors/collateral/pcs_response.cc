#include "attestors/collateral/pcs_response.h"

#include "absl/strings/ascii.h"
#include "attestors/collateral/dcap_json.h"
#include "attestors/core/echo.h"
#include "attestors/core/status.h"

namespace twi::collateral {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<Bytes> Signature(const std::string& hex) {
  auto b = HexDecode(hex);
  if (!b.ok()) return Invalid(StrCat("signature: ", b.status().message()));
  if (b->size() != 64) return Invalid(StrCat("signature: ", b->size(), " bytes, want 64 (r||s)"));
  return *std::move(b);
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 2 < s.size() ? HexDigit(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? HexDigit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Invalid(StrCat("bad percent-encoding at byte ", i, ": \"",
                            EchoText(s.substr(i, 3), 3), "\""));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

absl::StatusOr<std::vector<Certificate>> ParseIssuerChainHeader(std::string_view value) {
  if (value.empty()) return Invalid("empty issuer chain");
  TWI_ASSIGN_OR_RETURN(std::string pem, PercentDecode(value));
  auto chain = ParsePemBundle(pem);
  if (!chain.ok()) return Annotate(chain.status(), "issuer chain");
  return chain;
}

absl::StatusOr<Crl> ParseCrlBody(std::string_view body) {
  std::string trimmed(body);
  absl::StripAsciiWhitespace(&trimmed);
  bool hex = !trimmed.empty() && trimmed.size() % 2 == 0;
  for (char c : trimmed) hex = hex && HexDigit(c) >= 0;
  if (hex) {
    auto der = HexDecode(trimmed);
    if (!der.ok()) return der.status();
    return Crl::Parse(*der);
  }
  return Crl::Parse(AsBytes(body));
}

absl::StatusOr<SignedCollateral> ParseTcbInfoResponse(std::string_view body, std::string_view id,
                                                      ByteView fmspc) {
  TWI_ASSIGN_OR_RETURN(SignedJson signed_json, ExtractSignedJson(body, "tcbInfo"));
  TWI_ASSIGN_OR_RETURN(TcbInfo info, ParseTcbInfo(signed_json.body));
  if (info.id != id) return Invalid(StrCat("tcbInfo.id: got \"", EchoText(info.id, 16), "\", want ", id));
  if (info.fmspc != Bytes(fmspc.begin(), fmspc.end())) {
    return Invalid(StrCat("tcbInfo.fmspc: got ", HexEncode(info.fmspc), ", want ", HexEncode(fmspc)));
  }
  SignedCollateral out;
  TWI_ASSIGN_OR_RETURN(out.signature, Signature(signed_json.signature));
  out.body = std::move(signed_json.body);
  out.next_update = info.next_update;
  return out;
}

absl::StatusOr<SignedCollateral> ParseQeIdentityResponse(std::string_view body,
                                                         std::string_view id) {
  TWI_ASSIGN_OR_RETURN(SignedJson signed_json, ExtractSignedJson(body, "enclaveIdentity"));
  TWI_ASSIGN_OR_RETURN(EnclaveIdentity identity, ParseEnclaveIdentity(signed_json.body));
  if (identity.id != id) {
    return Invalid(StrCat("enclaveIdentity.id: got \"", EchoText(identity.id, 16), "\", want ", id));
  }
  SignedCollateral out;
  TWI_ASSIGN_OR_RETURN(out.signature, Signature(signed_json.signature));
  out.body = std::move(signed_json.body);
  out.next_update = identity.next_update;
  return out;
}

absl::Status CheckNotStale(std::string_view what, std::optional<TimePoint> next_update,
                           TimePoint now) {
  if (!next_update.has_value() || *next_update >= now) return absl::OkStatus();
  return absl::FailedPreconditionError(StrCat(what, " is stale: nextUpdate ",
                                              FormatRfc3339(*next_update), " is before now ",
                                              FormatRfc3339(now)));
}

}  // namespace twi::collateral
