#include "plugin/config/snp_config.h"

#include "attestors/core/file.h"
#include "attestors/core/str.h"

namespace twi::config {
namespace {

void SnpHexList(Reader& r, std::string_view key, size_t len, std::vector<Bytes>* out) {
  auto v = r.StringList(key);
  if (!v) return;
  auto parsed = sevsnp::ParseHexAllowList(*v, len, r.Path(key));
  if (!parsed.ok()) {
    r.Problem(key, std::string(parsed.status().message()));
    return;
  }
  *out = *std::move(parsed);
}

void Min(Reader& r, std::string_view key, std::optional<uint8_t>* out) {
  if (auto v = r.Int(key, 0, 255)) *out = static_cast<uint8_t>(*v);
}

}  // namespace

std::string SnpSettings::ExtraRootFile::Entry() const {
  return twi::StrCat(key == sevsnp::SigningKey::kVlek ? "vlek:" : "vcek:", path);
}

void ReadSnpSettings(Reader& r, SnpSettings* out) {
  sevsnp::SnpPolicy& p = out->policy;
  if (auto v = r.Bool("allow_debug")) p.allow_debug = *v;
  if (auto v = r.Bool("allow_smt")) p.allow_smt = *v;
  if (auto v = r.Bool("allow_migration_agent")) p.allow_migration_agent = *v;
  if (auto v = r.IntList("allowed_vmpls", 0, 3)) {
    p.allowed_vmpls.assign(v->begin(), v->end());
    if (v->empty()) r.Problem("allowed_vmpls", "\"" + r.Path("allowed_vmpls") + "\" must not be empty");
  }
  if (auto v = r.String("signing_key")) {
    if (*v == "both") {
      p.signing_key = sevsnp::SigningKeyPolicy::kBoth;
    } else if (*v == "vcek") {
      p.signing_key = sevsnp::SigningKeyPolicy::kVcekOnly;
    } else if (*v == "vlek") {
      p.signing_key = sevsnp::SigningKeyPolicy::kVlekOnly;
    } else {
      r.Problem("signing_key", twi::StrCat("\"", r.Path("signing_key"),
                                           "\" must be \"both\", \"vcek\" or \"vlek\", got \"", *v, "\""));
    }
  }
  Reader tcb = r.Block("min_tcb");
  Min(tcb, "bootloader", &p.min_tcb.bootloader);
  Min(tcb, "tee", &p.min_tcb.tee);
  Min(tcb, "snp", &p.min_tcb.snp);
  Min(tcb, "microcode", &p.min_tcb.microcode);
  Min(tcb, "fmc", &p.min_tcb.fmc);
  tcb.Finish();
  if (auto v = r.String("min_firmware")) {
    auto fw = sevsnp::ParseMinFirmware(*v);
    if (fw.ok()) {
      p.min_firmware = *fw;
    } else {
      r.Problem("min_firmware", twi::StrCat("\"", r.Path("min_firmware"), "\": ", fw.status().message()));
    }
  }
  SnpHexList(r, "measurements", 48, &p.measurements);
  SnpHexList(r, "host_data", 32, &p.host_data);
  SnpHexList(r, "id_key_digests", 48, &p.id_key_digests);
  SnpHexList(r, "author_key_digests", 48, &p.author_key_digests);
  if (auto v = r.String("product")) {
    out->product = sevsnp::ProductFromName(*v);
    if (out->product == sevsnp::Product::kUnknown) {
      r.Problem("product", twi::StrCat("\"", r.Path("product"), "\" must be milan, genoa or turin, got \"", *v, "\""));
    }
  }
  if (auto v = r.StringList("extra_roots")) {
    for (const std::string& e : *v) {
      SnpSettings::ExtraRootFile f;
      if (e.rfind("vcek:", 0) == 0 || e.rfind("vlek:", 0) == 0) {
        f.key = e[1] == 'l' ? sevsnp::SigningKey::kVlek : sevsnp::SigningKey::kVcek;
        f.path = e.substr(5);
      }
      if (f.path.empty()) {
        r.Problem("extra_roots",
                  twi::StrCat("\"", r.Path("extra_roots"), "\" entry \"", e.substr(0, 100),
                              "\" must be \"vcek:FILE\" or \"vlek:FILE\": the key type the root "
                              "in FILE is trusted for"));
        continue;
      }
      out->extra_root_files.push_back(std::move(f));
    }
  }
  if (auto v = r.String("crl")) {
    if (*v != "if-available" && *v != "require" && *v != "off") {
      r.Problem("crl", twi::StrCat("\"", r.Path("crl"), "\" must be \"if-available\", \"require\" or \"off\", got \"", *v, "\""));
    } else {
      out->crl = *v;
    }
  }
  if (auto v = r.String("kds_base_url")) {
    if (!v->empty() && v->rfind("https://", 0) != 0 && v->rfind("http://", 0) != 0) {
      r.Problem("kds_base_url", twi::StrCat("\"", r.Path("kds_base_url"), "\" must be an http(s) URL or \"\", got \"", *v, "\""));
    } else {
      out->kds_base_url = *v;
    }
  }
  if (auto v = r.String("kds_cache_dir")) out->kds_cache_dir = *v;
  if (auto v = r.String("kds_offline_dir")) out->kds_offline_dir = *v;
  absl::Status s = sevsnp::ValidatePolicy(p);
  if (!s.ok()) r.problems()->Add(r.pos(), twi::StrCat("sev_snp policy: ", s.message()));
  r.Finish();
}

absl::StatusOr<SnpSettings> BuildSnpSettings(std::string_view hcl) {
  Problems problems;
  hcl::Value root = ParseOrRecord(hcl, &problems);
  if (!problems.empty()) return problems.ToStatus();
  Reader r(&root, "", &problems);
  SnpSettings s;
  ReadSnpSettings(r, &s);
  absl::Status st = problems.ToStatus();
  if (!st.ok()) return st;
  return s;
}

absl::StatusOr<SnpSettings> ReadSnpSettingsFile(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  auto s = BuildSnpSettings(*text);
  if (!s.ok()) return absl::Status(s.status().code(), twi::StrCat(path, ": ", s.status().message()));
  return s;
}

}  // namespace twi::config
