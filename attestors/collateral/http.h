// HTTP GET behind an interface, so collateral clients (AMD KDS, Intel PCS) can be tested against a
// local server or a fake, and a sleeper so retry delays cost nothing in tests.
//
// What this does not do: retries or caching (backoff.h, kds.h), or other methods than GET. TLS
// uses libcurl's defaults (system CA store, peer and host verification on) unless CurlOptions
// names a CA file or, for a PCCS with a self-signed certificate, turns verification off.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace twi::collateral {

struct HttpResponse {
  int status = 0;
  std::string body;
  // Names lowercased. A repeated header keeps its values joined by ", " (RFC 9110 5.3).
  std::map<std::string, std::string> headers;

  // The value of `name` (any case), or "" when absent.
  std::string Header(std::string_view name) const;
};

class HttpGetter {
 public:
  virtual ~HttpGetter() = default;
  // Any HTTP status is a response; only transport failures (DNS, connect, TLS, timeout, body
  // too large) are errors, as UNAVAILABLE naming the URL.
  virtual absl::StatusOr<HttpResponse> Get(const std::string& url) = 0;
};

struct CurlOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{30'000};
  size_t max_body_bytes = 16 << 20;  // collateral is a few KiB; refuse to buffer a runaway body
  std::string user_agent = "twi-attestor";
  int max_redirects = 3;
  // PEM file of CAs trusted for TLS instead of the system store ("" = system store); a PCCS's
  // self-signed certificate can be pinned this way.
  std::string tls_ca_file;
  // Accepts any server certificate and host name (Intel's PCCS client calls this
  // USE_SECURE_CERT=false). Only for collateral whose every item is signed and checked against a
  // pinned root afterwards, so TLS protects nothing but the privacy of the request.
  bool tls_skip_verification = false;
  // Request headers sent with every GET ("Name: value"), e.g. Azure IMDS's "Metadata: true",
  // without which IMDS refuses the request (it proves the caller is not a redirected browser).
  std::vector<std::string> headers;
};

// libcurl, one easy handle per request (safe to call from several threads). The only global
// state is curl_global_init, run once on first construction.
class CurlHttpGetter final : public HttpGetter {
 public:
  explicit CurlHttpGetter(CurlOptions options = {});
  absl::StatusOr<HttpResponse> Get(const std::string& url) override;

 private:
  CurlOptions options_;
};

// Splits one raw header line ("Name: value\r\n") into a lowercased name and a trimmed value.
// False for status lines, blank lines and lines without a colon. Exposed for fuzzing.
bool ParseHeaderLine(std::string_view line, std::string* name, std::string* value);

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void Sleep(std::chrono::milliseconds duration) = 0;
};

class RealSleeper final : public Sleeper {
 public:
  void Sleep(std::chrono::milliseconds duration) override;
};

}  // namespace twi::collateral
