#include "plugin/config/tdx_config.h"

#include "absl/strings/ascii.h"
#include "attestors/core/str.h"

namespace twi::config {
namespace {

// Hex with an optional 0x prefix; `len` 0 = any length up to 8 bytes (a 64-bit value).
std::optional<Bytes> Hex(Reader& r, std::string_view key, std::string s, size_t len) {
  if (s.rfind("0x", 0) == 0) s = s.substr(2);
  if (len == 0 && s.size() % 2 == 1) s = "0" + s;
  auto b = HexDecode(s);
  if (!b.ok() || (len != 0 && b->size() != len) || (len == 0 && (b->empty() || b->size() > 8))) {
    r.Problem(key, twi::StrCat("\"", r.Path(key), "\" must be ",
                               len ? twi::StrCat(len * 2, " hex digits") : std::string("a hex value of up to 64 bits"),
                               ", got \"", s.substr(0, 100), "\""));
    return std::nullopt;
  }
  return *std::move(b);
}

uint64_t U64(const Bytes& b) {
  uint64_t v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return v;
}

void TdxHexList(Reader& r, std::string_view key, std::vector<Bytes>* out) {
  auto v = r.StringList(key);
  if (!v) return;
  for (const std::string& s : *v) {
    if (auto b = Hex(r, key, s, 48)) out->push_back(*std::move(b));
  }
}

}  // namespace

void ReadTdxSettings(Reader& r, TdxSettings* out) {
  tdx::TdxPolicy& p = out->policy;
  if (auto v = r.StringList("allowed_tcb_statuses")) p.allowed_tcb_statuses = *v;
  if (auto v = r.StringList("allowed_advisory_ids")) p.allowed_advisory_ids = *v;
  if (auto v = r.Bool("allow_debug")) p.allow_debug = *v;
  if (auto v = r.Bool("require_sept_ve_disable")) p.require_sept_ve_disable = *v;
  if (auto v = r.Bool("allow_missing_crls")) out->allow_missing_crls = *v;
  TdxHexList(r, "mrtd", &p.mrtds);
  for (size_t i = 0; i < 4; ++i) TdxHexList(r, twi::StrCat("rtmr", i), &p.rtmrs[i]);
  TdxHexList(r, "mrconfigid", &p.mrconfigids);
  TdxHexList(r, "mrowner", &p.mrowners);
  TdxHexList(r, "mrownerconfig", &p.mrownerconfigs);
  if (auto v = r.StringList("xfam")) {
    for (const std::string& s : *v) {
      if (auto b = Hex(r, "xfam", s, 0)) p.xfams.push_back(U64(*b));
    }
  }
  if (auto v = r.String("td_attributes_mask")) {
    if (auto b = Hex(r, "td_attributes_mask", *v, 0)) p.td_attributes_mask = U64(*b);
  }
  if (auto v = r.String("td_attributes")) {
    if (auto b = Hex(r, "td_attributes", *v, 0)) p.td_attributes_value = U64(*b);
  }
  if (auto v = r.String("min_tee_tcb_svn")) {
    if (auto b = Hex(r, "min_tee_tcb_svn", *v, 16)) {
      p.min_tee_tcb_svn.emplace();
      std::copy(b->begin(), b->end(), p.min_tee_tcb_svn->begin());
    }
  }
  if (auto v = r.Int("min_qe_svn", 0, 65535)) p.min_qe_svn = static_cast<uint16_t>(*v);
  if (auto v = r.StringList("extra_roots")) out->extra_root_files = *v;
  if (auto v = r.String("collateral_base_url")) {
    out->collateral_configured = true;
    if (!v->empty() && v->rfind("https://", 0) != 0 && v->rfind("http://", 0) != 0) {
      r.Problem("collateral_base_url",
                twi::StrCat("\"", r.Path("collateral_base_url"), "\" must be an http(s) URL or \"\", got \"",
                            v->substr(0, 100), "\""));
    } else {
      out->collateral.base_url = *v;
    }
  }
  if (auto v = r.String("collateral_offline_path")) {
    out->collateral_configured = true;
    out->collateral.offline_path = *v;
  }
  if (auto v = r.Bool("pccs_allow_self_signed_tls")) {
    out->collateral_configured = true;
    out->collateral.allow_self_signed_tls = *v;
  }
  if (auto v = r.String("collateral_tls_ca_file")) {
    out->collateral_configured = true;
    out->collateral.tls_ca_file = *v;
  }
  if (auto v = r.String("collateral_cache_dir")) {
    out->collateral_configured = true;
    out->collateral.cache_dir = *v;
  }
  absl::Status s = tdx::ValidatePolicy(p);
  if (!s.ok()) r.problems()->Add(r.pos(), std::string(s.message()));
  r.Finish();
}

absl::StatusOr<TdxPolicyFile> BuildTdxPolicyFile(std::string_view hcl) {
  Problems problems;
  hcl::Value root = ParseOrRecord(hcl, &problems);
  if (!problems.empty()) return problems.ToStatus();
  Reader r(&root, "", &problems);
  TdxPolicyFile f;
  if (auto v = r.Bool("insecure_simulation_roots")) f.insecure_simulation_roots = *v;
  ReadTdxSettings(r, &f.settings);
  absl::Status st = problems.ToStatus();
  if (!st.ok()) return st;
  return f;
}

}  // namespace twi::config
