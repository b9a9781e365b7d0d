#include "cli/input.h"

#include <openssl/evp.h>

#include <cctype>

#include "attestors/core/file.h"
#include "attestors/core/str.h"

namespace twi::cli {
namespace {

bool LooksHex(const std::string& s) {
  size_t digits = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '0' && i + 1 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
      ++i;
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    ++digits;
  }
  return digits > 0 && digits % 2 == 0;
}

absl::StatusOr<Bytes> PemBody(const std::string& s) {
  size_t begin = s.find("-----BEGIN");
  size_t body = s.find('\n', begin);
  size_t end = s.find("-----END", body);
  if (body == std::string::npos || end == std::string::npos) {
    return absl::InvalidArgumentError("unterminated PEM block");
  }
  std::string b64;
  for (char c : s.substr(body + 1, end - body - 1)) {
    if (!std::isspace(static_cast<unsigned char>(c))) b64.push_back(c);
  }
  Bytes out(b64.size() / 4 * 3 + 3);
  EVP_ENCODE_CTX* ctx = EVP_ENCODE_CTX_new();
  int n1 = 0, n2 = 0;
  EVP_DecodeInit(ctx);
  int rc = EVP_DecodeUpdate(ctx, out.data(), &n1, reinterpret_cast<const unsigned char*>(b64.data()),
                            static_cast<int>(b64.size()));
  if (rc >= 0) rc = EVP_DecodeFinal(ctx, out.data() + n1, &n2);
  EVP_ENCODE_CTX_free(ctx);
  if (rc < 0) return absl::InvalidArgumentError("PEM body is not valid base64");
  out.resize(static_cast<size_t>(n1 + n2));
  return out;
}

}  // namespace

absl::StatusOr<Bytes> ReadBlob(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  if (text->find("-----BEGIN") != std::string::npos) {
    auto b = PemBody(*text);
    if (!b.ok()) return absl::InvalidArgumentError(twi::StrCat("\"", path, "\": ", b.status().message()));
    return b;
  }
  if (LooksHex(*text)) {
    std::string hex;
    for (size_t i = 0; i < text->size(); ++i) {
      char c = (*text)[i];
      if (c == '0' && i + 1 < text->size() && ((*text)[i + 1] == 'x' || (*text)[i + 1] == 'X')) {
        ++i;
        continue;
      }
      if (!std::isspace(static_cast<unsigned char>(c))) hex.push_back(c);
    }
    return HexDecode(hex);
  }
  return ToBytes(*text);
}

absl::StatusOr<std::vector<Certificate>> ReadCertificates(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  auto certs = ParseCertificates(AsBytes(*text));
  if (!certs.ok()) return absl::InvalidArgumentError(twi::StrCat("\"", path, "\": ", certs.status().message()));
  return certs;
}

bool IsUsageError(const absl::Status& s) {
  return absl::IsNotFound(s) || absl::IsPermissionDenied(s);
}

}  // namespace twi::cli
