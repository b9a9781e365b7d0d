#include "attestors/azure/thim.h"

#include <nlohmann/json.hpp>

#include "attestors/core/echo.h"
#include "attestors/core/str.h"
#include "attestors/core/x509.h"

namespace twi::azure {
namespace {

constexpr size_t kMaxThimBytes = 64 * 1024;
constexpr size_t kMaxChain = 4;

absl::Status Bad(std::string_view detail) {
  return absl::InvalidArgumentError(twi::StrCat("thim: ", detail));
}

}  // namespace

absl::StatusOr<ThimCertification> ParseThimResponse(std::string_view json) {
  if (json.size() > kMaxThimBytes) {
    return Bad(twi::StrCat("answer has ", json.size(), " bytes, want at most ", kMaxThimBytes));
  }
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("answer is not a JSON object");
  auto str = [&](const char* key) -> const std::string* {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return nullptr;
    return it->get_ptr<const std::string*>();
  };
  const std::string* vcek_pem = str("vcekCert");
  if (vcek_pem == nullptr || vcek_pem->empty()) return Bad("no \"vcekCert\" string");
  ThimCertification out;
  auto vcek = ParseCertificates(AsBytes(*vcek_pem));
  if (!vcek.ok() || vcek->size() != 1) {
    return Bad(twi::StrCat("\"vcekCert\" is not one certificate",
                           vcek.ok() ? "" : twi::StrCat(": ", vcek.status().message())));
  }
  out.vcek = (*vcek)[0].der();
  if (const std::string* chain = str("certificateChain"); chain != nullptr && !chain->empty()) {
    auto certs = ParseCertificates(AsBytes(*chain));
    if (!certs.ok()) return Bad(twi::StrCat("\"certificateChain\": ", certs.status().message()));
    if (certs->size() > kMaxChain) {
      return Bad(twi::StrCat("\"certificateChain\" has ", certs->size(), " certificates, want at most ",
                             kMaxChain));
    }
    for (const Certificate& c : *certs) out.chain.push_back(c.der());
  }
  if (const std::string* tcbm = str("tcbm")) out.tcbm = EchoText(*tcbm).substr(0, 32);
  return out;
}

absl::StatusOr<ThimCertification> FetchThim(collateral::HttpGetter& http,
                                            const std::string& base_url) {
  std::string url = base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += kThimPath;
  auto r = http.Get(url);
  if (!r.ok()) return absl::UnavailableError(twi::StrCat("thim: ", r.status().message()));
  if (r->status != 200) {
    return absl::UnavailableError(twi::StrCat("thim: GET ", url, ": HTTP ", r->status, ": ",
                                              EchoText(r->body.substr(0, 200))));
  }
  return ParseThimResponse(r->body);
}

collateral::CurlOptions ImdsCurlOptions() {
  collateral::CurlOptions o;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.total_timeout = std::chrono::milliseconds(10000);
  o.max_body_bytes = kMaxThimBytes + 1;
  o.max_redirects = 0;
  o.headers = {"Metadata: true"};
  return o;
}

}  // namespace twi::azure
