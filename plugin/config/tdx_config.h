// The server's `tdx { ... }` block: the TDX policy (the keys `twi verify --type tdx --policy`
// reads), where Intel DCAP collateral comes from, and extra roots for the simulator.
#pragma once

#include <string>
#include <vector>

#include "attestors/collateral/dcap_source.h"
#include "attestors/tdx/policy.h"
#include "plugin/config/reader.h"

namespace twi::config {

inline constexpr char kIntelPcsUrl[] = "https://api.trustedservices.intel.com";

struct TdxSettings {
  tdx::TdxPolicy policy;
  bool allow_missing_crls = false;
  // PEM files of roots trusted beside the Intel SGX Root CA (the simulator's root.pem), only
  // with insecure_simulation_roots.
  std::vector<std::string> extra_root_files;
  collateral::DcapSourceOptions collateral = [] {
    collateral::DcapSourceOptions o;
    o.base_url = kIntelPcsUrl;
    return o;
  }();
  // True when the block set a collateral key: then a collateral source that cannot be created
  // fails Configure instead of failing each TDX attestation.
  bool collateral_configured = false;
};

// Reads every tdx key from `r` (problems recorded in r's Problems) and calls r.Finish().
void ReadTdxSettings(Reader& r, TdxSettings* out);

// A policy file for `twi verify --type tdx --policy FILE`: the keys of the server's tdx block
// at top level, plus insecure_simulation_roots (the server's top-level opt-in).
struct TdxPolicyFile {
  TdxSettings settings;
  bool insecure_simulation_roots = false;
};
absl::StatusOr<TdxPolicyFile> BuildTdxPolicyFile(std::string_view hcl);

}  // namespace twi::config
