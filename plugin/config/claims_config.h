// The server's `claims_mapper { ... }` block (the workload owner's claims policy) and the
// attestation-result keys, read through the same Reader as every other key so Configure,
// Validate, `twi check-config` and `twi verify --claims-policy` report every problem with its
// line and column. Hex is normalized and length-checked here, so evaluation never fails.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/appraisal/claims_mapper.h"
#include "attestors/core/clock.h"
#include "nlohmann/json.hpp"
#include "plugin/config/reader.h"
#include "plugin/config/schema.h"

namespace twi::config {

struct ClaimsSettings {
  std::shared_ptr<const appraisal::ClaimsPolicy> policy;  // null without a claims_mapper block
  std::string ear_signing_key_file;  // "" = EARs are logged unsigned
  std::string ear_audit_file;        // "" = no audit file
};

// Reads claims_mapper and the ear_* keys from the server's top-level reader. `now` decides
// which refsets draw the "every version expired or revoked" warning.
void ReadClaimsSettings(Reader& top, TimePoint now, ClaimsSettings* out,
                        std::vector<std::string>* warnings);

// A claims policy file for `twi verify --claims-policy`: one claims_mapper block, as in the
// server's plugin_data. Warnings are appended to `warnings`.
absl::StatusOr<std::shared_ptr<const appraisal::ClaimsPolicy>> BuildClaimsPolicyFile(
    std::string_view hcl, TimePoint now, std::vector<std::string>* warnings);

// The effective settings for `twi check-config`: claims_mapper (policy, refsets with their
// versions and states, rule names) and the ear_* keys.
void AddClaimsSettingsJson(const ClaimsSettings& s, nlohmann::ordered_json* j);

// The documented keys (README table config:claims).
std::span<const KeyDoc> ClaimsSchema();

}  // namespace twi::config
