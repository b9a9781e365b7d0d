#include "attestors/collateral/http.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace twi::collateral {
namespace {

struct CurlDeleter { void operator()(CURL* c) const { curl_easy_cleanup(c); } };
struct SlistDeleter { void operator()(curl_slist* l) const { curl_slist_free_all(l); } };

struct Transfer {
  HttpResponse* response;
  size_t max_body;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->response->body.size() + len > t->max_body) {
    t->too_large = true;
    return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
  }
  t->response->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  // Each response of a redirect chain starts with a status line; keep only the last one's headers.
  if (line.substr(0, 5) == "HTTP/") t->response->headers.clear();
  std::string name, value;
  if (ParseHeaderLine(line, &name, &value)) {
    auto [it, inserted] = t->response->headers.emplace(name, value);
    if (!inserted) it->second = absl::StrCat(it->second, ", ", value);
  }
  return len;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  std::string key(name);
  absl::AsciiStrToLower(&key);
  auto it = headers.find(key);
  return it == headers.end() ? "" : it->second;
}

bool ParseHeaderLine(std::string_view line, std::string* name, std::string* value) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 || line.substr(0, 5) == "HTTP/") return false;
  std::string n(line.substr(0, colon));
  // Field names are tokens: no whitespace or controls (RFC 9110 5.1).
  for (char c : n) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  absl::AsciiStrToLower(&n);
  std::string v(line.substr(colon + 1));
  absl::StripAsciiWhitespace(&v);
  *name = std::move(n);
  *value = std::move(v);
  return true;
}

CurlHttpGetter::CurlHttpGetter(CurlOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

absl::StatusOr<HttpResponse> CurlHttpGetter::Get(const std::string& url) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return absl::InternalError("curl_easy_init failed");
  HttpResponse response;
  Transfer transfer{&response, options_.max_body_bytes};
  char error[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  // No signals: timeouts must not use SIGALRM in a multi-threaded plugin.
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, options_.max_redirects > 0 ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(options_.max_redirects));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (!options_.tls_ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.tls_ca_file.c_str());
  if (options_.tls_skip_verification) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const std::string& h : options_.headers) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (next == nullptr) return absl::InternalError("curl_slist_append failed");
    headers.release();
    headers.reset(next);
  }
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  // Proxies come from the usual environment variables, which libcurl reads by itself.
  CURLcode rc = curl_easy_perform(c);
  if (transfer.too_large) {
    return absl::UnavailableError(absl::StrCat("GET ", url, ": body larger than ",
                                               options_.max_body_bytes, " bytes"));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("GET ", url, ": ",
                                               error[0] ? error : curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

void RealSleeper::Sleep(std::chrono::milliseconds duration) {
  std::this_thread::sleep_for(duration);
}

}  // namespace twi::collateral
