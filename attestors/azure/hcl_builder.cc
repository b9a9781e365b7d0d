#include "attestors/azure/hcl_builder.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include "absl/status/status.h"
#include "attestors/core/str.h"
#include "nlohmann/json.hpp"

namespace twi::azure {
namespace {

constexpr uint32_t kHclVersion = 2;       // header v2, as current Azure CVMs write it
constexpr uint32_t kRequestType = 2;      // the value Azure's HCL reports carry
constexpr uint32_t kRuntimeDataVersion = 1;

ByteView StripLeadingZeros(const Bytes& b) {
  size_t lead = 0;
  while (lead + 1 < b.size() && b[lead] == 0) ++lead;
  return ByteView(b).subspan(lead);
}

}  // namespace

std::string Base64UrlEncode(ByteView data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

absl::StatusOr<JwkSpec> RsaJwkSpec(std::string kid, std::vector<std::string> key_ops,
                                   EVP_PKEY* key) {
  JwkSpec out{std::move(kid), std::move(key_ops), {}, {}};
  for (auto [name, dst] : {std::pair{OSSL_PKEY_PARAM_RSA_N, &out.n},
                           std::pair{OSSL_PKEY_PARAM_RSA_E, &out.e}}) {
    BIGNUM* bn = nullptr;
    if (key == nullptr || EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
      return OpenSslError("jwk: not an rsa key");
    }
    dst->resize(static_cast<size_t>(BN_num_bytes(bn)));
    BN_bn2bin(bn, dst->data());
    BN_free(bn);
  }
  return out;
}

std::string BuildRuntimeClaims(const RuntimeClaimsSpec& spec) {
  nlohmann::ordered_json keys = nlohmann::ordered_json::array();
  for (const JwkSpec& k : spec.keys) {
    keys.push_back({{"kid", k.kid},
                    {"key_ops", k.key_ops},
                    {"kty", "RSA"},
                    {"e", Base64UrlEncode(StripLeadingZeros(k.e))},
                    {"n", Base64UrlEncode(StripLeadingZeros(k.n))}});
  }
  nlohmann::ordered_json vm = {{"console-enabled", spec.console_enabled},
                               {"secure-boot", spec.secure_boot},
                               {"tpm-enabled", spec.tpm_enabled},
                               {"tpm-persisted", spec.tpm_persisted}};
  if (spec.vm_unique_id) vm["vmUniqueId"] = *spec.vm_unique_id;
  nlohmann::ordered_json j = {{"keys", keys}, {"vm-configuration", vm}};
  if (spec.user_data) {
    std::string user_data = HexEncode(*spec.user_data);
    for (char& c : user_data) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    j["user-data"] = user_data;
  }
  return j.dump();
}

absl::StatusOr<Bytes> HclReportData(ByteView claims, HashType hash) {
  auto d = HashRuntimeClaims(static_cast<uint32_t>(hash), claims);
  if (!d.ok()) return d.status();
  Bytes rd = *std::move(d);
  rd.resize(64, 0);
  return rd;
}

absl::StatusOr<Bytes> BuildHclReport(const HclReportSpec& spec) {
  const size_t want = spec.type == ReportType::kTdx ? kTdReportSize : kHwReportSize;
  if (spec.hw_report.size() != want) {
    return absl::InvalidArgumentError(
        StrCat("hardware report got ", spec.hw_report.size(), " bytes, want ", want));
  }
  if (spec.runtime_claims.size() > kMaxHclReportSize - kVarDataOffset) {
    return absl::InvalidArgumentError(StrCat("runtime claims got ", spec.runtime_claims.size(),
                                             " bytes, want at most ",
                                             kMaxHclReportSize - kVarDataOffset));
  }
  const auto var_size = static_cast<uint32_t>(spec.runtime_claims.size());
  Bytes out(kVarDataOffset, 0);
  StoreLe32(&out[0x0], kHclSignature);
  StoreLe32(&out[0x4], kHclVersion);
  StoreLe32(&out[0x8], static_cast<uint32_t>(kVarDataOffset) + var_size);
  StoreLe32(&out[0xC], kRequestType);
  // status (0x10) and the reserved bytes up to 0x20 stay zero
  std::copy(spec.hw_report.begin(), spec.hw_report.end(), out.begin() + kHwReportOffset);
  uint8_t* rd = &out[kRuntimeDataOffset];
  StoreLe32(rd, static_cast<uint32_t>(kRuntimeDataHeaderSize) + var_size);
  StoreLe32(rd + 4, kRuntimeDataVersion);
  StoreLe32(rd + 8, static_cast<uint32_t>(spec.type));
  StoreLe32(rd + 12, static_cast<uint32_t>(spec.hash));
  StoreLe32(rd + 16, var_size);
  out.insert(out.end(), spec.runtime_claims.begin(), spec.runtime_claims.end());
  if (out.size() < spec.pad_to) out.resize(spec.pad_to, 0);
  return out;
}

}  // namespace twi::azure
