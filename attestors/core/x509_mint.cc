#include "attestors/core/x509_mint.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "attestors/core/crypto.h"
#include "attestors/core/file.h"
#include "attestors/core/str.h"

namespace twi {
namespace {

struct X509ExtDeleter { void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); } };

absl::Status WriteNewFile(const std::filesystem::path& p, const std::string& data, mode_t mode) {
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return absl::InternalError(twi::StrCat("creating ", p.string(), ": ", std::strerror(errno)));
  // PEM files are a few KiB: one write either completes or fails.
  bool ok = !data.empty() &&
            write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ok = fsync(fd) == 0 && ok;
  close(fd);
  if (!ok) return absl::InternalError(twi::StrCat("writing ", p.string(), " failed"));
  return absl::OkStatus();
}

}  // namespace

X509NamePtr MakeX509Name(std::initializer_list<std::pair<const char*, std::string_view>> entries) {
  X509NamePtr n(X509_NAME_new());
  for (const auto& [field, v] : entries) {
    if (n == nullptr) break;
    X509_NAME_add_entry_by_txt(n.get(), field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(v.data()),
                               static_cast<int>(v.size()), -1, 0);
  }
  return n;
}

absl::Status AddConfExt(X509* x, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, X509ExtDeleter> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
    return OpenSslError(twi::StrCat("adding extension ", OBJ_nid2sn(nid), " failed"));
  }
  return absl::OkStatus();
}

absl::Status AddOpaqueExt(X509* x, std::string_view oid, ByteView value) {
  ASN1_OBJECT* obj = OBJ_txt2obj(std::string(oid).c_str(), 1);
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  bool ok = obj != nullptr && os != nullptr &&
            ASN1_OCTET_STRING_set(os, value.data(), static_cast<int>(value.size())) == 1;
  X509_EXTENSION* ext = ok ? X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, os) : nullptr;
  ok = ext != nullptr && X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(os);
  ASN1_OBJECT_free(obj);
  if (!ok) return OpenSslError(twi::StrCat("adding extension ", std::string(oid), " failed"));
  return absl::OkStatus();
}

Bytes X509Der(X509* x) {
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  if (len <= 0) return {};
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string X509Pem(X509* x) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x) != 1) return "";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return "";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::Status LoadMinted(const std::filesystem::path& dir, std::span<const MintedItem> items) {
  for (const MintedItem& item : items) {
    const std::filesystem::path cert_path = dir / twi::StrCat(item.stem, ".pem");
    const std::filesystem::path key_path = dir / twi::StrCat(item.stem, ".key");
    auto cert_pem = ReadFileToString(cert_path.string());
    auto key_pem = ReadFileToString(key_path.string());
    if (!cert_pem.ok() || !key_pem.ok()) {
      return absl::FailedPreconditionError(twi::StrCat(
          "cannot read the simulated ", item.stem, " in ", dir.string(), ": ",
          (cert_pem.ok() ? key_pem.status() : cert_pem.status()).message()));
    }
    BioPtr cb(BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size())));
    BioPtr kb(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
    item.cert->reset(cb ? PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr) : nullptr);
    item.key->reset(kb ? PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!*item.cert || !*item.key) {
      return OpenSslError(twi::StrCat("reading the simulated ", item.stem, " from ", dir.string(),
                                       " failed"),
                          absl::StatusCode::kFailedPrecondition);
    }
  }
  return absl::OkStatus();
}

absl::Status SaveMinted(const std::filesystem::path& dir, std::span<const MintedItem> items) {
  std::error_code ec;
  std::filesystem::create_directories(dir.parent_path(), ec);
  std::string tmpl = dir.string() + ".tmp-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError(twi::StrCat("creating ", tmpl, ": ", std::strerror(errno)));
  }
  std::filesystem::path tmp(tmpl);
  for (const MintedItem& item : items) {
    absl::Status s = WriteNewFile(tmp / twi::StrCat(item.stem, ".pem"), X509Pem(item.cert->get()), 0644);
    if (s.ok()) s = WriteNewFile(tmp / twi::StrCat(item.stem, ".key"), KeyPem(item.key->get()), 0600);
    if (!s.ok()) {
      std::filesystem::remove_all(tmp, ec);
      return s;
    }
  }
  if (rename(tmp.c_str(), dir.c_str()) != 0) {
    int err = errno;
    std::filesystem::remove_all(tmp, ec);
    if (err == EEXIST || err == ENOTEMPTY) {
      return absl::AlreadyExistsError(twi::StrCat(dir.string(), " was saved by another process"));
    }
    return absl::InternalError(
        twi::StrCat("saving the simulated hierarchy to ", dir.string(), ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace twi
