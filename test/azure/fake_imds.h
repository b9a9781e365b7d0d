// IMDS's TD quoting service for tests: the local HTTP server (test/collateral/local_server.h)
// answering POST /acc/tdquote with `quote` only for the request body of exactly `td_report`
// (anything else gets 400). Shared by the Azure TDX e2e test and the `twi collect` tests.
#pragma once

#include <fstream>
#include <string>

#include "attestors/azure/hcl_builder.h"
#include "attestors/azure/imds_tdquote.h"
#include "nlohmann/json.hpp"
#include "test/collateral/local_server.h"

namespace twi::azure::testing {

// The request and answer files are written into `dir`.
inline void ServeTdQuote(collateral::testing::LocalServer& imds, const std::string& dir,
                         ByteView td_report, ByteView quote) {
  std::ofstream(dir + "/tdquote-request.json") << TdQuoteRequest(td_report);
  std::ofstream(dir + "/tdquote-answer.json") << nlohmann::json{{"quote", Base64UrlEncode(quote)}}.dump();
  imds.RoutePost(kTdQuotePath, dir + "/tdquote-answer.json", dir + "/tdquote-request.json");
}

}  // namespace twi::azure::testing
