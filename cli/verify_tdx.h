// `twi verify --type tdx`: verifies an Intel DCAP quote offline against a collateral bundle.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/collateral/dcap_bundle.h"
#include "attestors/core/bytes.h"
#include "attestors/core/x509.h"
#include "attestors/tdx/policy.h"

namespace twi::cli {

// A --policy file of the server's `tdx` block keys (shared with --type azure-tdx).
struct TdxSettings {
  tdx::TdxPolicy policy;
  bool allow_missing_crls = false;
  std::vector<Certificate> extra_roots;
  bool insecure_simulation_roots = false;
};

// The policy file through the server's own `tdx` reader (plugin/config/tdx_config.h), so a
// file that passes here configures the server the same way. extra_roots are PEM files,
// relative paths resolved against `base` (the policy file's folder).
absl::StatusOr<TdxSettings> ReadTdxSettings(const std::string& text,
                                            const std::filesystem::path& base);

// A quote file: raw bytes, or hex text (optional 0x, whitespace ignored).
absl::StatusOr<Bytes> ReadDcapQuote(const std::string& path);

// --collateral: the nine-key bundle file parsed. Read errors are returned as they are (see
// IsUsageError), a bundle that does not parse as INVALID_ARGUMENT (check collateral.bundle).
absl::StatusOr<collateral::DcapCollateral> ReadCollateralBundle(const std::string& path);

// What a refusal adds when extra roots are configured but not trusted.
std::string ExtraRootsHint(const TdxSettings& settings, bool trusted);

// Exit 0 verified, 1 rejected (including malformed quote or collateral), 2 usage errors.
int VerifyTdx(const std::vector<std::string>& args);

}  // namespace twi::cli
