#include "attestors/tpm/ek_trust.h"

#include <openssl/x509v3.h>

#include <set>

#include "absl/strings/str_join.h"
#include "attestors/core/echo.h"
#include "attestors/core/status.h"

namespace twi::tpm {
namespace {

constexpr size_t kMaxChainDepth = 6;

// Critical extensions this code understands (or that the TCG EK profile mandates and carry no
// constraint to enforce): keyUsage, basicConstraints, subjectAltName, subjectDirectoryAttributes,
// certificatePolicies, extKeyUsage, authority/subject key identifiers.
const std::set<std::string>& UnderstoodCritical() {
  static const auto* s = new std::set<std::string>{
      "2.5.29.15", "2.5.29.19", "2.5.29.17", "2.5.29.9",
      "2.5.29.32", "2.5.29.37", "2.5.29.35", "2.5.29.14"};
  return *s;
}

std::string ObjText(const ASN1_OBJECT* obj) {
  char buf[80];
  int n = OBJ_obj2txt(buf, sizeof(buf), obj, /*no_name=*/1);
  return n > 0 ? std::string(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1)) : "";
}

absl::Status CheckCriticalExtensions(const Certificate& c) {
  for (const X509Extension& e : c.Extensions()) {
    if (e.critical && !UnderstoodCritical().count(e.oid)) {
      return absl::InvalidArgumentError(StrCat(c.label(), " has critical extension ",
                                               EchoText(e.oid, 64), " that is not understood"));
    }
  }
  return absl::OkStatus();
}

// Builds leaf <- intermediates... <- root from `pool`, checking each link's signature.
using Path = CertPath;

absl::StatusOr<Path> BuildPath(const Certificate& leaf, const std::vector<Certificate>& pool,
                               const std::vector<Certificate>& roots) {
  Path p;
  const Certificate* cur = &leaf;
  for (size_t depth = 0; depth < kMaxChainDepth; ++depth) {
    for (const Certificate& r : roots) {
      if (cur->IssuedBy(r) && VerifySignedBy(*cur, r).ok()) {
        p.root = &r;
        return p;
      }
    }
    const Certificate* next = nullptr;
    for (const Certificate& c : pool) {
      if (c.IsSelfIssued() || !cur->IssuedBy(c)) continue;
      bool used = false;
      for (const Certificate& u : p.chain) used = used || u.sha256() == c.sha256();
      if (!used && VerifySignedBy(*cur, c).ok()) {
        next = &c;
        break;
      }
    }
    if (next == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("no configured root or intermediate issued ", cur->label(), " (issuer \"",
                 EchoText(cur->issuer(), 128), "\")"));
    }
    p.chain.push_back(*next);
    cur = &p.chain.back();
  }
  return absl::InvalidArgumentError(StrCat("no path to a configured root within ",
                                           kMaxChainDepth, " certificates"));
}

}  // namespace

// A whole chain: path, CA flags, validity, understood critical extensions.
absl::StatusOr<CertPath> VerifyCertPath(const Certificate& leaf,
                                        std::span<const Certificate> presented,
                                        const std::vector<Certificate>& intermediates,
                                        const std::vector<Certificate>& roots, TimePoint at) {
  if (roots.empty()) return absl::FailedPreconditionError("no roots configured for this route");
  std::vector<Certificate> pool(presented.begin(), presented.end());
  pool.insert(pool.end(), intermediates.begin(), intermediates.end());
  TWI_ASSIGN_OR_RETURN(Path p, BuildPath(leaf, pool, roots));
  TWI_RETURN_IF_ERROR(VerifyChain(leaf, p.chain, *p.root, at));
  TWI_RETURN_IF_ERROR(CheckCriticalExtensions(leaf));
  for (const Certificate& c : p.chain) TWI_RETURN_IF_ERROR(CheckCriticalExtensions(c));
  return p;
}

std::string CertPathLabel(const Certificate& leaf, const CertPath& p) {
  std::vector<std::string> labels = {leaf.label()};
  for (const Certificate& c : p.chain) labels.push_back(c.label());
  labels.push_back(StrCat("root ", p.root->label(), " (sha256 ", ShortHex(p.root->sha256()), ")"));
  return absl::StrJoin(labels, " <- ");
}

namespace {

absl::Status CheckEku(const Certificate& c) {
  EXTENDED_KEY_USAGE* eku = static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(c.get(), NID_ext_key_usage, nullptr, nullptr));
  if (eku == nullptr) return absl::OkStatus();  // absent: older EK certificates
  std::vector<std::string> oids;
  bool found = false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) {
    std::string oid = ObjText(sk_ASN1_OBJECT_value(eku, i));
    found = found || oid == kOidEkCertificateEku;
    oids.push_back(oid);
  }
  sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
  if (found) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("extKeyUsage [", EchoList(oids), "] lacks ",
                                           kOidEkCertificateEku, " (tcg-kp-EKCertificate)"));
}

bool SameKey(EVP_PKEY* a, EVP_PKEY* b) { return a != nullptr && b != nullptr && EVP_PKEY_eq(a, b) == 1; }

}  // namespace

absl::StatusOr<TpmDeviceAttributes> ParseTpmDeviceAttributes(const Certificate& ek_cert) {
  TpmDeviceAttributes out;
  int crit = 0;
  GENERAL_NAMES* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(ek_cert.get(), NID_subject_alt_name, &crit, nullptr));
  if (names == nullptr) {
    if (crit == -1) return out;  // no subjectAltName
    OpenSslErrors();
    return absl::InvalidArgumentError("subjectAltName does not decode");
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_DIRNAME) continue;
    X509_NAME* dn = gn->d.directoryName;
    for (int j = 0; j < X509_NAME_entry_count(dn); ++j) {
      X509_NAME_ENTRY* e = X509_NAME_get_entry(dn, j);
      std::string oid = ObjText(X509_NAME_ENTRY_get_object(e));
      unsigned char* utf8 = nullptr;
      int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
      if (len < 0) continue;
      std::string value = EchoText(std::string_view(reinterpret_cast<char*>(utf8), len), 64);
      OPENSSL_free(utf8);
      if (oid == kOidTpmManufacturer) out.manufacturer = value;
      if (oid == kOidTpmModel) out.model = value;
      if (oid == kOidTpmVersion) out.version = value;
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

absl::Status VerifyEkCertificate(const Certificate& ek_cert,
                                 std::span<const Certificate> presented, const Public& ek,
                                 const TrustAnchors& anchors, TimePoint at, CheckList& checks,
                                 TpmIdentity* out) {
  auto fail = [&](std::string detail) { return checks.Fail("ek.certificate", std::move(detail)); };
  auto key = PublicKey(ek);
  if (!key.ok()) return fail(std::string(key.status().message()));
  if (!SameKey(ek_cert.public_key(), key->get())) {
    OpenSslErrors();
    return fail(StrCat(ek_cert.label(), " certifies another key than the ek public area"));
  }
  auto path = VerifyCertPath(ek_cert, presented, anchors.ek_intermediates, anchors.ek_roots, at);
  if (!path.ok()) return fail(std::string(path.status().message()));
  absl::Status eku = CheckEku(ek_cert);
  if (!eku.ok()) return fail(std::string(eku.message()));
  auto device = ParseTpmDeviceAttributes(ek_cert);
  if (!device.ok()) return fail(std::string(device.status().message()));
  auto spki = PublicSpki(ek);
  if (!spki.ok()) return fail(std::string(spki.status().message()));
  out->route = "ek_certificate";
  out->ek_spki_sha256 = Sha256(*spki);
  out->device = *std::move(device);
  out->ca = path->root->label();
  checks.Pass("ek.certificate", StrCat(CertPathLabel(ek_cert, *path), "; manufacturer \"",
                                       out->device.manufacturer, "\""));
  return absl::OkStatus();
}

absl::Status CheckEkHash(const Public& ek, const TrustAnchors& anchors, CheckList& checks,
                         TpmIdentity* out) {
  auto spki = PublicSpki(ek);
  if (!spki.ok()) return checks.Fail("ek.hash", std::string(spki.status().message()));
  Bytes h = Sha256(*spki);
  for (const Bytes& want : anchors.ek_spki_sha256) {
    if (ConstantTimeEqual(h, want)) {
      out->route = "ek_hash";
      out->ek_spki_sha256 = h;
      checks.Pass("ek.hash", StrCat("ek spki sha256 ", HexEncode(h), " is allow-listed"));
      return absl::OkStatus();
    }
  }
  return checks.Fail("ek.hash", StrCat("ek spki sha256 ", HexEncode(h), " is not among the ",
                                       anchors.ek_spki_sha256.size(), " allow-listed ek hashes"));
}

absl::Status VerifyAkCertificate(const Certificate& ak_cert,
                                 std::span<const Certificate> presented, const AkKey& ak,
                                 const TrustAnchors& anchors, TimePoint at, CheckList& checks,
                                 TpmIdentity* out) {
  auto fail = [&](std::string detail) { return checks.Fail("ak.certificate", std::move(detail)); };
  if (!SameKey(ak_cert.public_key(), ak.key.get())) {
    OpenSslErrors();
    return fail(StrCat(ak_cert.label(), " certifies another key than the ak"));
  }
  auto path = VerifyCertPath(ak_cert, presented, anchors.ak_intermediates, anchors.ak_roots, at);
  if (!path.ok()) return fail(std::string(path.status().message()));
  out->route = "ak_certificate";
  out->ca = path->root->label();
  checks.Pass("ak.certificate", CertPathLabel(ak_cert, *path));
  return absl::OkStatus();
}

std::vector<std::string> IdentitySelectors(const TpmIdentity& id) {
  std::vector<std::string> out;
  if (!id.ek_spki_sha256.empty()) out.push_back(StrCat("tpm:ek-hash:", HexEncode(id.ek_spki_sha256)));
  if (!id.device.manufacturer.empty()) {
    out.push_back(StrCat("tpm:manufacturer:", id.device.manufacturer));
  }
  return out;
}

}  // namespace twi::tpm
