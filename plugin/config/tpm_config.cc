#include "plugin/config/tpm_config.h"

#include <algorithm>
#include <map>

#include "attestors/core/str.h"
#include "attestors/tpm/abi.h"

namespace twi::config {
namespace {

constexpr uint32_t kMaxPcr = 23;

}  // namespace

std::vector<uint32_t> PcrList(Reader& r, std::string_view key, std::vector<uint32_t> fallback) {
  auto v = r.IntList(key, 0, kMaxPcr);
  if (!v) return fallback;
  std::vector<uint32_t> out;
  for (int64_t i : *v) {
    if (std::find(out.begin(), out.end(), static_cast<uint32_t>(i)) != out.end()) {
      r.Problem(key, twi::StrCat("\"", r.Path(key), "\" lists PCR ", i, " twice"));
    }
    out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

namespace {

// A TPM handle in its range (e.g. persistent 0x81000000-0x81FFFFFF); 0 means unset.
void Handle(Reader& r, std::string_view key, uint32_t lo, uint32_t hi, uint32_t* out) {
  auto v = r.Int(key, 0, 0xFFFFFFFF);
  if (!v) return;
  if (*v != 0 && (*v < lo || *v > hi)) {
    r.Problem(key, twi::StrCat("\"", r.Path(key), "\" must be 0 or within 0x", absl::Hex(lo),
                               "-0x", absl::Hex(hi), ", got 0x", absl::Hex(*v)));
    return;
  }
  *out = static_cast<uint32_t>(*v);
}

std::vector<Bytes> TpmHexList(Reader& r, std::string_view key, size_t len) {
  std::vector<Bytes> out;
  auto v = r.StringList(key);
  if (!v) return out;
  for (const std::string& h : *v) {
    auto b = HexDecode(h);
    if (!b.ok() || (len != 0 && b->size() != len)) {
      r.Problem(key, twi::StrCat("\"", r.Path(key), "\" entry \"", h.substr(0, 80), "\" must be ",
                                 len * 2, " hex digits"));
      continue;
    }
    out.push_back(*std::move(b));
  }
  return out;
}

}  // namespace

void ReadPcrBanks(Reader& r, std::vector<std::string>* banks) {
  if (auto v = r.StringList("pcr_banks")) {
    banks->clear();
    for (const std::string& b : *v) {
      if (tpm::HashAlgFromName(b) == 0) {
        r.Problem("pcr_banks", twi::StrCat("\"", r.Path("pcr_banks"), "\" entry \"", b.substr(0, 40),
                                           "\" must be sha1, sha256, sha384 or sha512"));
      } else if (std::find(banks->begin(), banks->end(), b) != banks->end()) {
        r.Problem("pcr_banks", twi::StrCat("\"", r.Path("pcr_banks"), "\" lists ", b, " twice"));
      } else {
        banks->push_back(b);
      }
    }
    if (v->empty()) r.Problem("pcr_banks", twi::StrCat("\"", r.Path("pcr_banks"), "\" must not be empty"));
  }
}

void ReadTpmPolicy(Reader& r, tpm::TpmPolicy* policy) {
  tpm::TpmPolicy& p = *policy;
  Reader pcrs = r.Block("pcrs");
  std::map<std::string, std::vector<std::string>> rules;
  for (const auto& [key, kind] : pcrs.Members()) {
    if (auto v = pcrs.StringList(key)) rules[key] = *v;
  }
  pcrs.Finish();
  if (!rules.empty()) {
    auto parsed = tpm::ParsePcrRules(rules);
    if (parsed.ok()) {
      p.pcrs = *std::move(parsed);
    } else {
      r.Problem("pcrs", twi::StrCat("\"", r.Path("pcrs"), "\": ", parsed.status().message()));
    }
  }
  if (auto v = r.Bool("require_secure_boot")) p.require_secure_boot = *v;
  p.boot_loader_digests = TpmHexList(r, "boot_loader_digests", 0);
  if (auto v = r.Bool("allow_sha1_signatures")) p.allow_sha1_signatures = *v;
}

void ReadTpmAgentSettings(Reader& r, TpmAgentSettings* out) {
  if (auto v = r.String("tcti")) out->tcti = *v;
  ReadPcrBanks(r, &out->pcr_banks);
  out->pcrs = PcrList(r, "pcrs", out->pcrs);
  if (out->pcrs.empty()) r.Problem("pcrs", twi::StrCat("\"", r.Path("pcrs"), "\" must not be empty"));
  if (auto v = r.String("ek_alg")) {
    if (*v != "rsa" && *v != "ecc") {
      r.Problem("ek_alg", twi::StrCat("\"", r.Path("ek_alg"), "\" must be \"rsa\" or \"ecc\", got \"",
                                      v->substr(0, 40), "\""));
    } else {
      out->ek_alg = *v;
    }
  }
  Handle(r, "ek_handle", 0x81000000, 0x81FFFFFF, &out->ek_handle);
  Handle(r, "ak_handle", 0x81000000, 0x817FFFFF, &out->ak_handle);
  Handle(r, "ak_cert_nv_index", 0x01000000, 0x01FFFFFF, &out->ak_cert_nv_index);
  if (auto v = r.String("event_log_path")) out->event_log_path = *v;
  r.Finish();
}

void ReadTpmServerSettings(Reader& r, TpmServerSettings* out, std::vector<std::string>* warnings) {
  out->enabled = r.pos().line != 0 || !r.Members().empty();
  if (auto v = r.StringList("ek_ca_files")) out->ek_ca_files = *v;
  out->ek_hashes = TpmHexList(r, "ek_hashes", 32);
  if (auto v = r.StringList("ak_ca_files")) out->ak_ca_files = *v;
  ReadTpmPolicy(r, &out->policy);
  const tpm::TpmPolicy& p = out->policy;
  out->selector_pcrs = PcrList(r, "selector_pcrs", {});
  if (out->enabled) {
    if (out->ek_ca_files.empty() && out->ek_hashes.empty() && out->ak_ca_files.empty()) {
      r.problems()->Add(r.pos(), twi::StrCat(
          "the tpm block needs a trust route: set \"", r.Path("ek_ca_files"), "\", \"",
          r.Path("ek_hashes"), "\" or \"", r.Path("ak_ca_files"),
          "\" (a TPM nobody vouches for proves nothing)"));
    }
    absl::Status s = tpm::ValidatePolicy(p);
    if (!s.ok()) r.problems()->Add(r.pos(), twi::StrCat("tpm policy: ", s.message()));
    if (p.pins_nothing()) {
      warnings->push_back(
          "tpm: no pcrs or boot_loader_digests allow-list is set: any trusted TPM is accepted "
          "whatever it booted (registration entries must then select on tpm:pcr via "
          "selector_pcrs); pin the boot chain you run");
    }
    if (p.allow_sha1_signatures) {
      warnings->push_back("tpm.allow_sha1_signatures = true: quotes signed over SHA-1 are accepted");
    }
  }
  r.Finish();
}

}  // namespace twi::config
