// The server's `sev_snp { ... }` block: the SEV-SNP policy and where collateral comes from.
// `twi verify --policy FILE` reads the same keys from a file.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/sevsnp/policy.h"
#include "plugin/config/reader.h"

namespace twi::config {

struct SnpSettings {
  sevsnp::SnpPolicy policy;
  sevsnp::Product product = sevsnp::Product::kUnknown;
  // sev_snp.extra_roots entries "vcek:FILE" / "vlek:FILE": the ARK in FILE is trusted for its
  // product and that key type only.
  struct ExtraRootFile {
    sevsnp::SigningKey key = sevsnp::SigningKey::kVcek;
    std::string path;
    std::string Entry() const;  // back as written, "vcek:FILE"
  };
  std::vector<ExtraRootFile> extra_root_files;
  std::string crl = "if-available";  // "if-available", "require", "off"
  std::string kds_base_url = "https://kdsintf.amd.com";  // "" = never fetch
  std::string kds_cache_dir;
  std::string kds_offline_dir;
};

// Reads every sev_snp key from `r` (problems recorded in r's Problems) and calls r.Finish().
void ReadSnpSettings(Reader& r, SnpSettings* out);

// A policy file for `twi verify`: the keys of the server's sev_snp block at top level.
absl::StatusOr<SnpSettings> BuildSnpSettings(std::string_view hcl);
// BuildSnpSettings on the file at `path` (`twi verify --policy`): a file that cannot be read
// keeps its own error; a bad one is named by its path ("<path>: <problems>").
absl::StatusOr<SnpSettings> ReadSnpSettingsFile(const std::string& path);

}  // namespace twi::config
