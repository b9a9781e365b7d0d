#include "attestors/azure/imds_tdquote.h"

#include "absl/status/status.h"
#include "attestors/azure/abi.h"
#include "attestors/azure/hcl_builder.h"
#include "attestors/azure/thim.h"
#include "attestors/core/echo.h"
#include "attestors/core/str.h"
#include "nlohmann/json.hpp"

namespace twi::azure {
namespace {

absl::Status Bad(std::string detail) {
  return absl::InvalidArgumentError(StrCat("imds tdquote: ", detail));
}

}  // namespace

std::string TdQuoteRequest(ByteView td_report) {
  return nlohmann::json{{"report", Base64UrlEncode(td_report)}}.dump();
}

absl::StatusOr<Bytes> ParseTdQuoteResponse(std::string_view json) {
  if (json.size() > kMaxTdQuoteResponse) {
    return Bad(StrCat("answer got ", json.size(), " bytes, want at most ", kMaxTdQuoteResponse));
  }
  auto j = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Bad(StrCat("answer is not a JSON object: \"", EchoText(json, 64), "\""));
  }
  auto q = j.find("quote");
  if (q == j.end() || !q->is_string()) return Bad("answer has no string \"quote\"");
  auto quote = Base64UrlDecode(q->get_ref<const std::string&>());
  if (!quote.ok()) return Bad(StrCat("\"quote\": ", quote.status().message()));
  if (quote->empty()) return Bad("\"quote\" is empty");
  return quote;
}

absl::StatusOr<Bytes> FetchTdQuote(collateral::HttpGetter& http, const std::string& base_url,
                                   ByteView td_report) {
  std::string url = base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += kTdQuotePath;
  auto r = http.Post(url, TdQuoteRequest(td_report), "application/json");
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::UnavailableError(StrCat("POST ", url, ": http status ", r->status, ": \"",
                                         EchoText(r->body, 120), "\""));
  }
  return ParseTdQuoteResponse(r->body);
}

collateral::CurlOptions TdQuoteCurlOptions() {
  collateral::CurlOptions o = ImdsCurlOptions();
  o.max_body_bytes = kMaxTdQuoteResponse;
  return o;
}

}  // namespace twi::azure
