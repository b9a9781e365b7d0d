#include "attestors/core/x509.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <climits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "attestors/core/status.h"

namespace twi {
namespace {

struct BnDeleter { void operator()(BIGNUM* p) const { BN_free(p); } };

bool LooksLikePem(ByteView data) {
  return AsString(data).find("-----BEGIN") != std::string_view::npos;
}

std::string NameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    OpenSslErrors();
    return "";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// Reads PEM blocks one at a time; `type` receives the block label ("CERTIFICATE", ...).
// Returns false at the end of input (no further BEGIN line).
absl::StatusOr<bool> NextPemBlock(BIO* bio, std::string& type, Bytes& der) {
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio, &name, &header, &data, &len) != 1) {
    unsigned long err = ERR_peek_last_error();
    if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
      ERR_clear_error();
      return false;
    }
    return OpenSslError("malformed PEM block", absl::StatusCode::kInvalidArgument);
  }
  type = name;
  der.assign(data, data + len);
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return true;
}

std::string FormatTimeOrMax(TimePoint t) { return FormatRfc3339(t); }

}  // namespace

absl::StatusOr<TimePoint> Asn1TimeToTimePoint(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return OpenSslError("invalid ASN.1 time", absl::StatusCode::kInvalidArgument);
  }
  // absl's civil time avoids timegm() and saturates far-future dates (e.g. 9999-12-31 on
  // TPM EK certificates) instead of overflowing the nanosecond system_clock.
  absl::CivilSecond cs(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec);
  return absl::ToChronoTime(absl::FromCivil(cs, absl::UTCTimeZone()));
}

// ---- Certificate ----

absl::StatusOr<Certificate> Certificate::FromDer(ByteView der) {
  const unsigned char* p = der.data();
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) {
    return OpenSslError(absl::StrCat("certificate is not valid DER (", der.size(), " bytes)"),
                        absl::StatusCode::kInvalidArgument);
  }
  if (p != der.data() + der.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate DER has ", der.data() + der.size() - p,
                     " trailing bytes after ", p - der.data(), " bytes"));
  }
  Certificate c;
  c.x509_ = std::move(x);
  c.der_.assign(der.begin(), der.end());
  TWI_RETURN_IF_ERROR(c.Init());
  return c;
}

absl::StatusOr<Certificate> Certificate::FromPem(std::string_view pem) {
  TWI_ASSIGN_OR_RETURN(std::vector<Certificate> certs, ParsePemBundle(pem));
  if (certs.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("pem holds ", certs.size(), " certificates, want exactly 1"));
  }
  return std::move(certs[0]);
}

absl::StatusOr<Certificate> Certificate::Parse(ByteView der_or_pem) {
  if (LooksLikePem(der_or_pem)) return FromPem(AsString(der_or_pem));
  return FromDer(der_or_pem);
}

Certificate Certificate::FromX509(X509* x509) {
  X509_up_ref(x509);
  Certificate c;
  c.x509_.reset(x509);
  unsigned char* der = nullptr;
  int len = i2d_X509(x509, &der);
  if (len > 0) {
    c.der_.assign(der, der + len);
    OPENSSL_free(der);
  }
  c.Init().IgnoreError();  // times of a cert we built ourselves are well formed
  return c;
}

absl::Status Certificate::Init() {
  sha256_ = Sha256(der_);
  auto nb = Asn1TimeToTimePoint(X509_get0_notBefore(x509_.get()));
  if (!nb.ok()) return Annotate(nb.status(), "certificate notBefore");
  auto na = Asn1TimeToTimePoint(X509_get0_notAfter(x509_.get()));
  if (!na.ok()) return Annotate(na.status(), "certificate notAfter");
  not_before_ = *nb;
  not_after_ = *na;
  return absl::OkStatus();
}

Certificate::Certificate(const Certificate& other)
    : der_(other.der_), sha256_(other.sha256_), not_before_(other.not_before_),
      not_after_(other.not_after_) {
  if (other.x509_) {
    X509_up_ref(other.x509_.get());
    x509_.reset(other.x509_.get());
  }
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) *this = Certificate(other);
  return *this;
}

std::string Certificate::subject() const {
  return NameToString(X509_get_subject_name(x509_.get()));
}
std::string Certificate::issuer() const {
  return NameToString(X509_get_issuer_name(x509_.get()));
}

std::string Certificate::subject_cn() const {
  const X509_NAME* name = X509_get_subject_name(x509_.get());
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, s);
  if (len < 0) {
    OpenSslErrors();
    return "";
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

std::string Certificate::label() const {
  std::string cn = subject_cn();
  return cn.empty() ? subject() : cn;
}

std::string Certificate::serial_hex() const {
  std::unique_ptr<BIGNUM, BnDeleter> bn(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509_.get()), nullptr));
  if (!bn) return "";
  char* hex = BN_bn2hex(bn.get());
  std::string out = absl::AsciiStrToLower(hex);
  OPENSSL_free(hex);
  // BN_bn2hex pads to whole bytes ("02"); messages read better without the padding.
  size_t first = out.find_first_not_of('0', out[0] == '-' ? 1 : 0);
  if (first == std::string::npos) return "0";
  return out[0] == '-' ? "-" + out.substr(first) : out.substr(first);
}

EVP_PKEY* Certificate::public_key() const { return X509_get0_pubkey(x509_.get()); }

bool Certificate::IsSelfIssued() const {
  return X509_NAME_cmp(X509_get_subject_name(x509_.get()), X509_get_issuer_name(x509_.get())) ==
         0;
}

bool Certificate::IssuedBy(const Certificate& issuer) const {
  return X509_NAME_cmp(X509_get_issuer_name(x509_.get()),
                       X509_get_subject_name(issuer.x509_.get())) == 0;
}

std::vector<X509Extension> Certificate::Extensions() const {
  std::vector<X509Extension> out;
  int n = X509_get_ext_count(x509_.get());
  for (int i = 0; i < n; ++i) {
    X509_EXTENSION* ext = X509_get_ext(x509_.get(), i);
    char oid[128];
    int len = OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), /*no_name=*/1);
    if (len <= 0 || len >= static_cast<int>(sizeof(oid))) continue;  // absurd OIDs are skipped
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    const uint8_t* p = ASN1_STRING_get0_data(data);
    out.push_back({std::string(oid, static_cast<size_t>(len)),
                   X509_EXTENSION_get_critical(ext) > 0,
                   Bytes(p, p + ASN1_STRING_length(data))});
  }
  return out;
}

// ---- bundles ----

absl::StatusOr<std::vector<Certificate>> ParsePemBundle(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(std::min<size_t>(pem.size(), INT_MAX))));
  if (!bio) return OpenSslError("BIO_new_mem_buf failed");
  std::vector<Certificate> out;
  std::string type;
  Bytes der;
  while (true) {
    TWI_ASSIGN_OR_RETURN(bool more, NextPemBlock(bio.get(), type, der));
    if (!more) break;
    if (type != "CERTIFICATE") {
      return absl::InvalidArgumentError(
          absl::StrCat("pem block ", out.size() + 1, " is \"", type, "\", want CERTIFICATE"));
    }
    auto cert = Certificate::FromDer(der);
    if (!cert.ok()) {
      return Annotate(cert.status(), absl::StrCat("pem certificate ", out.size() + 1));
    }
    out.push_back(std::move(*cert));
  }
  if (out.empty()) return absl::InvalidArgumentError("no PEM certificate found");
  return out;
}

absl::StatusOr<std::vector<Certificate>> ParseCertificates(ByteView der_or_pem) {
  if (LooksLikePem(der_or_pem)) return ParsePemBundle(AsString(der_or_pem));
  TWI_ASSIGN_OR_RETURN(Certificate c, Certificate::FromDer(der_or_pem));
  return std::vector<Certificate>{std::move(c)};
}

// ---- verification ----

absl::Status VerifySignedBy(const Certificate& subject, const Certificate& issuer) {
  if (!subject.IssuedBy(issuer)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate ", subject.label(), " names issuer \"", subject.issuer(),
        "\", but the candidate issuer's subject is \"", issuer.subject(), "\""));
  }
  EVP_PKEY* key = issuer.public_key();
  if (key == nullptr) {
    return OpenSslError(absl::StrCat("issuer ", issuer.label(), " has an unusable public key"),
                        absl::StatusCode::kInvalidArgument);
  }
  // X509_verify checks that the outer and inner signature algorithms agree and applies the
  // RSASSA-PSS parameters (hash, MGF1 hash, salt length) stated in the certificate.
  if (X509_verify(subject.get(), key) != 1) {
    std::string errs = OpenSslErrors();
    return absl::InvalidArgumentError(absl::StrCat(
        "signature on ", subject.label(), " (sha256 ", ShortHex(subject.sha256()),
        ") does not verify with the key of ", issuer.label(), " (sha256 ",
        ShortHex(issuer.sha256()), ")", errs.empty() ? "" : ": ", errs));
  }
  return absl::OkStatus();
}

absl::Status CheckValidity(const Certificate& cert, TimePoint at, std::string_view role) {
  std::string who = role.empty() ? cert.label() : absl::StrFormat("%s %s", role, cert.label());
  if (at < cert.not_before()) {
    return absl::InvalidArgumentError(absl::StrCat(
        who, " is not valid yet: notBefore ", FormatTimeOrMax(cert.not_before()),
        ", verification time ", FormatRfc3339(at)));
  }
  if (at > cert.not_after()) {
    return absl::InvalidArgumentError(absl::StrCat(
        who, " expired at ", FormatTimeOrMax(cert.not_after()), " (verification time ",
        FormatRfc3339(at), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckIsCa(const Certificate& issuer) {
  // 1 = basicConstraints CA:TRUE (and keyCertSign when keyUsage is present). Legacy v1 roots
  // (return 3) are refused: every root we pin is a v3 certificate.
  int rc = X509_check_ca(issuer.get());
  OpenSslErrors();
  if (rc != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate ", issuer.label(), " is not a CA (basicConstraints/keyUsage; check ", rc,
        ", want 1)"));
  }
  return absl::OkStatus();
}

absl::Status VerifyChain(const Certificate& leaf, std::span<const Certificate> chain,
                         const Certificate& root, TimePoint at) {
  const Certificate* child = &leaf;
  for (const Certificate& ca : chain) {
    TWI_RETURN_IF_ERROR(CheckIsCa(ca));
    TWI_RETURN_IF_ERROR(VerifySignedBy(*child, ca));
    child = &ca;
  }
  TWI_RETURN_IF_ERROR(CheckIsCa(root));
  TWI_RETURN_IF_ERROR(VerifySignedBy(*child, root));
  TWI_RETURN_IF_ERROR(VerifySignedBy(root, root));
  TWI_RETURN_IF_ERROR(CheckValidity(leaf, at));
  for (const Certificate& ca : chain) TWI_RETURN_IF_ERROR(CheckValidity(ca, at));
  return CheckValidity(root, at);
}

// ---- CRLs ----

absl::StatusOr<Crl> Crl::Parse(ByteView der_or_pem) {
  Crl c;
  Bytes der;
  if (LooksLikePem(der_or_pem)) {
    BioPtr bio(BIO_new_mem_buf(der_or_pem.data(),
                               static_cast<int>(std::min<size_t>(der_or_pem.size(), INT_MAX))));
    std::string type;
    TWI_ASSIGN_OR_RETURN(bool found, NextPemBlock(bio.get(), type, der));
    if (!found) return absl::InvalidArgumentError("no PEM block found in the crl input");
    if (type != "X509 CRL") {
      return absl::InvalidArgumentError(
          absl::StrCat("pem block is \"", type, "\", want X509 CRL"));
    }
  } else {
    der.assign(der_or_pem.begin(), der_or_pem.end());
  }
  const unsigned char* p = der.data();
  c.crl_.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!c.crl_) {
    return OpenSslError(absl::StrCat("crl is not valid DER (", der.size(), " bytes)"),
                        absl::StatusCode::kInvalidArgument);
  }
  if (p != der.data() + der.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("crl DER has ", der.data() + der.size() - p, " trailing bytes"));
  }
  c.sha256_ = Sha256(der);
  auto tu = Asn1TimeToTimePoint(X509_CRL_get0_lastUpdate(c.crl_.get()));
  if (!tu.ok()) return Annotate(tu.status(), "crl thisUpdate");
  c.this_update_ = *tu;
  if (const ASN1_TIME* nu = X509_CRL_get0_nextUpdate(c.crl_.get()); nu != nullptr) {
    auto t = Asn1TimeToTimePoint(nu);
    if (!t.ok()) return Annotate(t.status(), "crl nextUpdate");
    c.next_update_ = *t;
  }
  return c;
}

Crl::Crl(const Crl& other)
    : sha256_(other.sha256_), this_update_(other.this_update_),
      next_update_(other.next_update_) {
  if (other.crl_) {
    X509_CRL_up_ref(other.crl_.get());
    crl_.reset(other.crl_.get());
  }
}

Crl& Crl::operator=(const Crl& other) {
  if (this != &other) *this = Crl(other);
  return *this;
}

std::string Crl::issuer() const { return NameToString(X509_CRL_get_issuer(crl_.get())); }

bool Crl::IsRevoked(const Certificate& cert) const {
  X509_REVOKED* rev = nullptr;
  // 1 = listed, 2 = listed as removeFromCRL (a delta-CRL concept: not revoked).
  int rc = X509_CRL_get0_by_serial(crl_.get(), &rev,
                                   const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(cert.get())));
  return rc == 1;
}

absl::Status CheckCrl(const Crl& crl, const Certificate& issuer,
                      std::span<const Certificate> subjects, TimePoint at) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer.get())) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("crl issuer \"", crl.issuer(),
                                                   "\" is not \"", issuer.subject(), "\""));
  }
  if (X509_CRL_verify(crl.get(), issuer.public_key()) != 1) {
    std::string errs = OpenSslErrors();
    return absl::InvalidArgumentError(absl::StrCat(
        "crl signature (sha256 ", ShortHex(crl.sha256()), ") does not verify with the key of ",
        issuer.label(), errs.empty() ? "" : ": ", errs));
  }
  if (at < crl.this_update()) {
    return absl::InvalidArgumentError(
        absl::StrCat("crl is not valid yet: thisUpdate ", FormatRfc3339(crl.this_update()),
                     ", verification time ", FormatRfc3339(at)));
  }
  if (crl.next_update().has_value() && at > *crl.next_update()) {
    return absl::InvalidArgumentError(
        absl::StrCat("crl is stale: nextUpdate ", FormatRfc3339(*crl.next_update()),
                     " passed (verification time ", FormatRfc3339(at), ")"));
  }
  for (const Certificate& s : subjects) {
    if (!s.IssuedBy(issuer)) continue;
    if (crl.IsRevoked(s)) {
      return absl::InvalidArgumentError(absl::StrCat("certificate ", s.label(), " (serial ",
                                                     s.serial_hex(), ") is revoked by the crl of ",
                                                     issuer.label()));
    }
  }
  return absl::OkStatus();
}

}  // namespace twi
