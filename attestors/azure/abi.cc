#include "attestors/azure/abi.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "absl/status/status.h"
#include "attestors/core/echo.h"
#include "attestors/core/str.h"
#include "nlohmann/json.hpp"

namespace twi::azure {
namespace {

constexpr size_t kSnpReportDataOffset = 0x50;
constexpr size_t kTdReportDataOffset = 0x80;

absl::Status Bad(std::string_view what, std::string detail) {
  return absl::InvalidArgumentError(StrCat(what, ": ", detail));
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// DER: tag, definite length, contents.
void DerPut(Bytes& out, uint8_t tag, ByteView contents) {
  out.push_back(tag);
  const size_t n = contents.size();
  if (n < 0x80) {
    out.push_back(static_cast<uint8_t>(n));
  } else {
    uint8_t len[sizeof(size_t)];
    size_t k = 0;
    for (size_t v = n; v != 0; v >>= 8) len[k++] = static_cast<uint8_t>(v);
    out.push_back(static_cast<uint8_t>(0x80 | k));
    while (k > 0) out.push_back(len[--k]);
  }
  out.insert(out.end(), contents.begin(), contents.end());
}

// A positive INTEGER from big-endian magnitude bytes (minimal, sign byte when needed).
void DerUnsigned(Bytes& out, ByteView magnitude) {
  if (magnitude.empty()) {
    DerPut(out, 0x02, Bytes{0x00});
    return;
  }
  size_t lead = 0;
  while (lead + 1 < magnitude.size() && magnitude[lead] == 0) ++lead;
  Bytes v;
  if ((magnitude[lead] & 0x80) != 0) v.push_back(0);
  v.insert(v.end(), magnitude.begin() + static_cast<long>(lead), magnitude.end());
  DerPut(out, 0x02, v);
}

std::optional<bool> OptionalBool(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

}  // namespace

ByteView HclReport::report_data() const {
  const size_t off = is_tdx() ? kTdReportDataOffset : kSnpReportDataOffset;
  return ByteView(hw_report.data() + off, 64);
}

absl::StatusOr<HclReport> ParseHclReport(ByteView data) {
  constexpr std::string_view kWhat = "hcl.structure";
  if (data.size() < kVarDataOffset) {
    return Bad(kWhat, StrCat("got ", data.size(), " bytes, want at least ", kVarDataOffset));
  }
  if (data.size() > kMaxHclReportSize) {
    return Bad(kWhat, StrCat("got ", data.size(), " bytes, want at most ", kMaxHclReportSize));
  }
  const uint8_t* p = data.data();
  const uint32_t signature = LoadLe32(p);
  if (signature != kHclSignature) {
    return Bad(kWhat, StrCat("signature got ", ShortHex(ByteView(p, 4)), ", want 48434c41 (\"HCLA\")"));
  }
  HclReport r;
  r.version = LoadLe32(p + 0x4);
  r.report_size = LoadLe32(p + 0x8);
  r.request_type = LoadLe32(p + 0xC);
  r.status = LoadLe32(p + 0x10);
  r.hw_report.assign(p + kHwReportOffset, p + kHwReportOffset + kHwReportSize);
  const uint8_t* rd = p + kRuntimeDataOffset;
  r.data_size = LoadLe32(rd);
  r.data_version = LoadLe32(rd + 4);
  r.report_type = LoadLe32(rd + 8);
  r.hash_type = LoadLe32(rd + 12);
  const uint32_t var_size = LoadLe32(rd + 16);
  if (r.version != 1 && r.version != 2) {
    return Bad(kWhat, StrCat("version got ", r.version, ", want 1 or 2"));
  }
  if (var_size > data.size() - kVarDataOffset) {
    return Bad(kWhat, StrCat("variable data size got ", var_size, ", want at most ",
                             data.size() - kVarDataOffset, " (the bytes after 0x4d4)"));
  }
  if (static_cast<uint64_t>(r.data_size) != kRuntimeDataHeaderSize + uint64_t{var_size}) {
    return Bad(kWhat, StrCat("runtime data size got ", r.data_size, ", want ",
                             kRuntimeDataHeaderSize + uint64_t{var_size}, " (20 + variable size)"));
  }
  if (static_cast<uint64_t>(r.report_size) != kVarDataOffset + uint64_t{var_size}) {
    return Bad(kWhat, StrCat("report size got ", r.report_size, ", want ",
                             kVarDataOffset + uint64_t{var_size}, " (0x4d4 + variable size)"));
  }
  if (r.status != 0) return Bad(kWhat, StrCat("status got ", r.status, ", want 0"));
  if (!r.is_snp() && !r.is_tdx()) {
    return Bad(kWhat, StrCat("report type got ", r.report_type, ", want 2 (snp) or 4 (tdx)"));
  }
  r.runtime_claims.assign(p + kVarDataOffset, p + kVarDataOffset + var_size);
  return r;
}

absl::StatusOr<Bytes> HashRuntimeClaims(uint32_t hash_type, ByteView data) {
  switch (static_cast<HashType>(hash_type)) {
    case HashType::kSha256: return Sha256(data);
    case HashType::kSha384: return Sha384(data);
    case HashType::kSha512: return Sha512(data);
  }
  return absl::InvalidArgumentError(
      StrCat("hash type got ", hash_type, ", want 1 (sha256), 2 (sha384) or 3 (sha512)"));
}

absl::StatusOr<Bytes> Base64UrlDecode(std::string_view s) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  if (s.size() % 4 == 1) return absl::InvalidArgumentError("base64url: impossible length");
  Bytes out;
  out.reserve(s.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = Base64UrlValue(c);
    if (v < 0) return absl::InvalidArgumentError("base64url: invalid character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return absl::InvalidArgumentError("base64url: non-zero trailing bits");
  return out;
}

Bytes RsaSpki(ByteView n, ByteView e) {
  // Written directly rather than through OpenSSL 3's encoder, which costs more than the RSA
  // signature check this key is for.
  static constexpr uint8_t kRsaAlgorithm[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                              0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
  Bytes ints, rsa_key, bits = {0x00}, body(std::begin(kRsaAlgorithm), std::end(kRsaAlgorithm)), spki;
  DerUnsigned(ints, n);
  DerUnsigned(ints, e);
  DerPut(rsa_key, 0x30, ints);
  bits.insert(bits.end(), rsa_key.begin(), rsa_key.end());
  DerPut(body, 0x03, bits);
  DerPut(spki, 0x30, body);
  return spki;
}

absl::StatusOr<EvpPkeyPtr> RsaKeyFromJwk(std::string_view n_b64url, std::string_view e_b64url) {
  auto n = Base64UrlDecode(n_b64url);
  if (!n.ok()) return Bad("n", std::string(n.status().message()));
  auto e = Base64UrlDecode(e_b64url);
  if (!e.ok()) return Bad("e", std::string(e.status().message()));
  size_t lead = 0;
  while (lead < n->size() && (*n)[lead] == 0) ++lead;
  const size_t n_bytes = n->size() - lead;
  if (n_bytes < 128 || n_bytes > 1024) {
    return Bad("n", StrCat("modulus got ", n_bytes * 8, " bits (at most), want 1024..8192"));
  }
  if (e->empty() || e->size() > 8 || IsAllZero(*e)) return Bad("e", "want 1..8 bytes, non-zero");
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_n(
      BN_bin2bn(n->data(), static_cast<int>(n->size()), nullptr), BN_free);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn_e(
      BN_bin2bn(e->data(), static_cast<int>(e->size()), nullptr), BN_free);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return OpenSslError("jwk rsa params");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return OpenSslError("jwk rsa key");
  }
  return EvpPkeyPtr(raw);
}

const Jwk* RuntimeClaims::FindKey(std::string_view kid) const {
  for (const auto& k : keys) if (k.kid == kid) return &k;
  return nullptr;
}

absl::StatusOr<RuntimeClaims> ParseRuntimeClaims(ByteView json) {
  constexpr std::string_view kWhat = "runtime_claims.structure";
  if (json.size() > kMaxRuntimeClaimsSize) {
    return Bad(kWhat, StrCat("got ", json.size(), " bytes, want at most ", kMaxRuntimeClaimsSize));
  }
  auto j = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad(kWhat, "not a JSON object");
  RuntimeClaims out;
  auto keys = j.find("keys");
  if (keys == j.end() || !keys->is_array()) return Bad(kWhat, "\"keys\" missing or not an array");
  if (keys->size() > kMaxJwks) {
    return Bad(kWhat, StrCat("\"keys\" got ", keys->size(), " entries, want at most ", kMaxJwks));
  }
  for (const auto& k : *keys) {
    if (!k.is_object()) return Bad(kWhat, "a \"keys\" entry is not an object");
    auto kid = k.find("kid");
    auto kty = k.find("kty");
    if (kid == k.end() || !kid->is_string()) return Bad(kWhat, "a key has no string \"kid\"");
    const std::string& kid_s = kid->get_ref<const std::string&>();
    if (kty == k.end() || !kty->is_string() || kty->get_ref<const std::string&>() != "RSA") {
      continue;  // only RSA keys are used (the vTPM's AK and EK)
    }
    if (out.FindKey(kid_s) != nullptr) {
      return Bad(kWhat, StrCat("key \"", EchoText(kid_s, 64), "\" appears twice"));
    }
    auto n = k.find("n");
    auto e = k.find("e");
    if (n == k.end() || e == k.end() || !n->is_string() || !e->is_string()) {
      return Bad(kWhat, StrCat("key \"", EchoText(kid_s, 64), "\": n and e must be strings"));
    }
    auto key = RsaKeyFromJwk(n->get_ref<const std::string&>(), e->get_ref<const std::string&>());
    if (!key.ok()) {
      return Bad(kWhat, StrCat("key \"", EchoText(kid_s, 64), "\": ", key.status().message()));
    }
    // n and e decoded again (cheap) rather than read back out of the key.
    Bytes spki = RsaSpki(*Base64UrlDecode(n->get_ref<const std::string&>()),
                         *Base64UrlDecode(e->get_ref<const std::string&>()));
    Jwk jwk;
    jwk.kid = kid_s;
    if (auto ops = k.find("key_ops"); ops != k.end() && ops->is_array()) {
      for (const auto& op : *ops) {
        if (op.is_string() && jwk.key_ops.size() < 8) jwk.key_ops.push_back(op.get<std::string>());
      }
    }
    jwk.key = std::shared_ptr<EVP_PKEY>(key->release(), EVP_PKEY_free);
    jwk.spki = std::move(spki);
    out.keys.push_back(std::move(jwk));
  }
  if (auto vm = j.find("vm-configuration"); vm != j.end()) {
    if (!vm->is_object()) return Bad(kWhat, "\"vm-configuration\" is not an object");
    if (auto id = vm->find("vmUniqueId"); id != vm->end()) {
      if (!id->is_string() || id->get_ref<const std::string&>().size() > 128) {
        return Bad(kWhat, "\"vmUniqueId\" must be a string of at most 128 bytes");
      }
      out.vm_unique_id = id->get<std::string>();
    }
    out.console_enabled = OptionalBool(*vm, "console-enabled");
    out.secure_boot = OptionalBool(*vm, "secure-boot");
    out.tpm_enabled = OptionalBool(*vm, "tpm-enabled");
    out.tpm_persisted = OptionalBool(*vm, "tpm-persisted");
  }
  if (auto ud = j.find("user-data"); ud != j.end()) {
    if (!ud->is_string() || ud->get_ref<const std::string&>().size() > 256) {
      return Bad(kWhat, "\"user-data\" must be a string of at most 256 bytes");
    }
    out.user_data = ud->get<std::string>();
  }
  return out;
}

}  // namespace twi::azure
