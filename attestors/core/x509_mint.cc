#include "attestors/core/x509_mint.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "attestors/core/crypto.h"

namespace twi {
namespace {

struct X509ExtDeleter { void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); } };

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
    return OpenSslError(absl::StrCat("adding extension ", OBJ_nid2sn(nid), " failed"));
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
  if (!ok) return OpenSslError(absl::StrCat("adding extension ", std::string(oid), " failed"));
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

}  // namespace twi
