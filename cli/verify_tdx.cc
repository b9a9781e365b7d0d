// twi verify --type tdx --quote FILE --collateral FILE [--at RFC3339] [--policy FILE] [--json]
//
// Verifies a TDX (or SGX) DCAP quote offline with the same verifier and policy the server
// uses, and prints every check. --collateral is the nine-key JSON bundle (collateral/
// dcap_bundle.h); --quote is raw bytes or hex text. --policy holds the TDX policy keys at top
// level (HCL or JSON):
//
//   allowed_tcb_statuses = ["UpToDate"]      allowed_advisory_ids = []
//   allow_debug = false                       require_sept_ve_disable = true
//   mrtd = ["<96 hex>"]  rtmr0 .. rtmr3, mrconfigid, mrowner, mrownerconfig (lists of hex)
//   xfam = ["0x602e7"]   td_attributes_mask = "0x..."  td_attributes = "0x..."
//   min_tee_tcb_svn = "<32 hex>"  min_qe_svn = 4  allow_missing_crls = false
//   extra_roots = ["root.pem"]  insecure_simulation_roots = false
//
// extra_roots (PEM files, relative to the policy file) are trusted beside the Intel SGX Root CA
// only with insecure_simulation_roots = true or --insecure-simulation-roots: they exist for the
// simulator (`twi sim tdx`), whose quotes must never pass for Intel-rooted evidence by accident.
//
// Output: the same shape as the SEV-SNP verifier's, evidence_type "tdx"; claims are filled as
// far as verification got, also when policy refuses the quote.
#include "cli/verify_tdx.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>

#include "attestors/collateral/dcap_bundle.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tdx/policy.h"
#include "attestors/tdx/verify.h"
#include "cli/outcome.h"
#include "nlohmann/json.hpp"
#include "plugin/hcl/hcl.h"

namespace twi::cli {
namespace {

int Usage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi verify: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi verify --type tdx --quote FILE --collateral FILE [--at RFC3339]\n"
               "                  [--policy FILE] [--insecure-simulation-roots] [--json]\n");
  return 2;
}

struct Settings {
  tdx::TdxPolicy policy;
  bool allow_missing_crls = false;
  std::vector<Certificate> extra_roots;
  bool insecure_simulation_roots = false;
};

absl::StatusOr<std::vector<std::string>> Strings(const hcl::Value& v, const std::string& key) {
  if (v.kind != hcl::Kind::kList) return absl::InvalidArgumentError(StrCat(key, " must be a list"));
  std::vector<std::string> out;
  for (const hcl::Value& e : v.list) {
    if (e.kind != hcl::Kind::kString) {
      return absl::InvalidArgumentError(StrCat(key, " must hold strings"));
    }
    out.push_back(e.str);
  }
  return out;
}

absl::StatusOr<Bytes> Hex(std::string s, size_t len, const std::string& key) {
  if (s.rfind("0x", 0) == 0) s = s.substr(2);
  auto b = HexDecode(s);
  if (!b.ok()) return absl::InvalidArgumentError(StrCat(key, ": ", b.status().message()));
  if (len != 0 && b->size() != len) {
    return absl::InvalidArgumentError(StrCat(key, " is ", b->size(), " bytes, want ", len));
  }
  return b;
}

absl::StatusOr<uint64_t> HexU64(const std::string& s, const std::string& key) {
  auto b = Hex(s.size() % 2 ? "0" + s.substr(s.rfind("0x", 0) == 0 ? 2 : 0) : s, 0, key);
  if (!b.ok()) return b.status();
  if (b->size() > 8) return absl::InvalidArgumentError(StrCat(key, " exceeds 64 bits"));
  uint64_t v = 0;
  for (uint8_t x : *b) v = (v << 8) | x;
  return v;
}

absl::StatusOr<bool> Bool(const hcl::Value& v, const std::string& key) {
  if (v.kind != hcl::Kind::kBool) return absl::InvalidArgumentError(StrCat(key, " must be a bool"));
  return v.boolean;
}

// PEM roots named by `extra_roots`, relative paths resolved against the policy file's folder.
absl::Status ReadRoots(const hcl::Value& v, const std::filesystem::path& base, Settings& s) {
  TWI_ASSIGN_OR_RETURN(auto paths, Strings(v, "extra_roots"));
  for (const std::string& p : paths) {
    std::filesystem::path path = base / p;  // an absolute p replaces base
    TWI_ASSIGN_OR_RETURN(std::string pem, ReadFileToString(path.string()));
    auto certs = ParsePemBundle(pem);
    if (!certs.ok()) return Annotate(certs.status(), StrCat("extra_roots: ", p));
    s.extra_roots.insert(s.extra_roots.end(), certs->begin(), certs->end());
  }
  return absl::OkStatus();
}

absl::Status ReadKey(const std::string& key, const hcl::Value& v,
                     const std::filesystem::path& base, Settings& s) {
  tdx::TdxPolicy& p = s.policy;
  std::map<std::string, std::vector<Bytes>*> lists = {
      {"mrtd", &p.mrtds},          {"rtmr0", &p.rtmrs[0]},       {"rtmr1", &p.rtmrs[1]},
      {"rtmr2", &p.rtmrs[2]},      {"rtmr3", &p.rtmrs[3]},       {"mrconfigid", &p.mrconfigids},
      {"mrowner", &p.mrowners},    {"mrownerconfig", &p.mrownerconfigs}};
  if (auto it = lists.find(key); it != lists.end()) {
    TWI_ASSIGN_OR_RETURN(auto hex, Strings(v, key));
    for (size_t i = 0; i < hex.size(); ++i) {
      TWI_ASSIGN_OR_RETURN(Bytes b, Hex(hex[i], 48, StrCat(key, "[", i, "]")));
      it->second->push_back(std::move(b));
    }
  } else if (key == "allowed_tcb_statuses") {
    TWI_ASSIGN_OR_RETURN(p.allowed_tcb_statuses, Strings(v, key));
  } else if (key == "allowed_advisory_ids") {
    TWI_ASSIGN_OR_RETURN(p.allowed_advisory_ids, Strings(v, key));
  } else if (key == "allow_debug") {
    TWI_ASSIGN_OR_RETURN(p.allow_debug, Bool(v, key));
  } else if (key == "require_sept_ve_disable") {
    TWI_ASSIGN_OR_RETURN(p.require_sept_ve_disable, Bool(v, key));
  } else if (key == "extra_roots") {
    TWI_RETURN_IF_ERROR(ReadRoots(v, base, s));
  } else if (key == "insecure_simulation_roots") {
    TWI_ASSIGN_OR_RETURN(s.insecure_simulation_roots, Bool(v, key));
  } else if (key == "allow_missing_crls") {
    TWI_ASSIGN_OR_RETURN(s.allow_missing_crls, Bool(v, key));
  } else if (key == "xfam") {
    TWI_ASSIGN_OR_RETURN(auto hex, Strings(v, key));
    for (const std::string& h : hex) {
      TWI_ASSIGN_OR_RETURN(uint64_t x, HexU64(h, key));
      p.xfams.push_back(x);
    }
  } else if ((key == "td_attributes_mask" || key == "td_attributes") &&
             v.kind == hcl::Kind::kString) {
    TWI_ASSIGN_OR_RETURN(uint64_t x, HexU64(v.str, key));
    (key == "td_attributes" ? p.td_attributes_value : p.td_attributes_mask) = x;
  } else if (key == "min_tee_tcb_svn" && v.kind == hcl::Kind::kString) {
    TWI_ASSIGN_OR_RETURN(Bytes b, Hex(v.str, 16, key));
    p.min_tee_tcb_svn.emplace();
    std::copy(b.begin(), b.end(), p.min_tee_tcb_svn->begin());
  } else if (key == "min_qe_svn" && v.kind == hcl::Kind::kNumber && v.is_integer &&
             v.integer >= 0 && v.integer <= 65535) {
    p.min_qe_svn = static_cast<uint16_t>(v.integer);
  } else {
    return absl::InvalidArgumentError(StrCat("unknown key or wrong type: \"", key, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<Settings> ReadSettings(const std::string& text, const std::filesystem::path& base) {
  TWI_ASSIGN_OR_RETURN(hcl::Value doc, hcl::Parse(text));
  Settings s;
  for (const hcl::Member& m : doc.members) TWI_RETURN_IF_ERROR(ReadKey(m.key, m.value, base, s));
  TWI_RETURN_IF_ERROR(tdx::ValidatePolicy(s.policy));
  return s;
}

// Raw quote bytes, or hex text (optional 0x, whitespace ignored). Not ReadBlob: a binary quote embeds its
// PCK chain as PEM, which must not be mistaken for a PEM file.
absl::StatusOr<Bytes> ReadQuote(const std::string& path) {
  TWI_ASSIGN_OR_RETURN(Bytes raw, ReadFileBytes(path));
  std::string hex;
  size_t start = raw.size() >= 2 && raw[0] == '0' && (raw[1] == 'x' || raw[1] == 'X') ? 2 : 0;
  for (uint8_t c : ByteView(raw).subspan(start)) {
    if (std::isspace(c)) continue;
    if (!std::isxdigit(c)) return raw;
    hex.push_back(static_cast<char>(c));
  }
  if (hex.empty()) return raw;
  return HexDecode(hex);
}

bool IsUsageError(const absl::Status& s) {
  return absl::IsNotFound(s) || absl::IsPermissionDenied(s);
}

}  // namespace

int VerifyTdx(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  bool json = false, insecure_simulation_roots = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--insecure-simulation-roots") {
      insecure_simulation_roots = true;
    } else if ((a == "--type" || a == "--quote" || a == "--collateral" || a == "--at" ||
                a == "--policy") && i + 1 < args.size()) {
      opt[a] = args[++i];
    } else {
      return Usage(StrCat("unexpected argument \"", a, "\""));
    }
  }
  if (opt["--quote"].empty()) return Usage("--quote is required");
  if (opt["--collateral"].empty()) return Usage("--collateral is required");
  Settings settings;
  if (!opt["--policy"].empty()) {
    auto text = ReadFileToString(opt["--policy"]);
    if (!text.ok()) return Usage(std::string(text.status().message()));
    auto s = ReadSettings(*text, std::filesystem::path(opt["--policy"]).parent_path());
    if (!s.ok()) return Usage(StrCat(opt["--policy"], ": ", s.status().message()));
    settings = *std::move(s);
  }
  tdx::VerifyOptions options;
  options.time = std::chrono::system_clock::now();
  options.allow_missing_crls = settings.allow_missing_crls;
  options.extra_trusted_roots = settings.extra_roots;
  options.allow_simulation_roots = settings.insecure_simulation_roots || insecure_simulation_roots;
  if (!opt["--at"].empty()) {
    auto t = ParseRfc3339(opt["--at"]);
    if (!t.ok()) return Usage(std::string(t.status().message()));
    options.time = *t;
  }
  auto quote = ReadQuote(opt["--quote"]);
  if (!quote.ok() && IsUsageError(quote.status())) return Usage(std::string(quote.status().message()));
  auto bundle_text = ReadFileToString(opt["--collateral"]);
  if (!bundle_text.ok() && IsUsageError(bundle_text.status())) {
    return Usage(std::string(bundle_text.status().message()));
  }

  VerifyOutcome out;
  if (!quote.ok()) {
    out.error = std::string(quote.status().message());
    (void)out.checks.Fail("quote.structure", out.error, absl::StatusCode::kInvalidArgument);
    return PrintOutcome(out, "tdx", json);
  }
  absl::StatusOr<collateral::DcapCollateral> bundle =
      bundle_text.ok() ? collateral::ParseDcapBundle(*bundle_text) : bundle_text.status();
  if (!bundle.ok()) {
    out.error = StrCat("collateral.bundle: ", bundle.status().message());
    (void)out.checks.Fail("collateral.bundle", std::string(bundle.status().message()),
                          absl::StatusCode::kInvalidArgument);
    return PrintOutcome(out, "tdx", json);
  }
  tdx::VerifiedQuote verified;
  absl::Status s = tdx::VerifyQuoteBytes(*quote, *bundle, options, out.checks, &verified);
  out.claims = tdx::Claims(verified);
  if (s.ok()) s = tdx::Appraise(verified, settings.policy, out.checks);
  if (!s.ok()) {
    out.error = std::string(s.message());
    if (!options.extra_trusted_roots.empty() && !options.allow_simulation_roots) {
      out.error += " (extra_roots are trusted only with insecure_simulation_roots = true or "
                   "--insecure-simulation-roots, for simulated evidence)";
    }
    return PrintOutcome(out, "tdx", json);
  }
  out.selectors = tdx::Selectors(verified);
  out.verified = true;
  return PrintOutcome(out, "tdx", json);
}

}  // namespace twi::cli
