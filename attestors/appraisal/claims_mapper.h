// The claims mapper: a pure function (policy, verified claims, now) -> (decision, selectors,
// appraisal status, trace). No I/O, no clock, no dependence on the order of rules or versions:
// refsets and rules are judged by name, the output is sorted and de-duplicated.
//
// A refset version is live when it is not revoked and `now` lies in [not_before, not_after);
// it matches when every field it lists holds (any-of per field). Fields of another TEE than
// the attested one (sev_snp_* on TDX, tdx_* on SEV-SNP) do not apply, so one version can
// name a release's SEV-SNP and TDX builds; at least one field must apply. A rule fires when every
// predicate of its `when` holds, including its refset matching. Fired rules' `emit` values
// are the claim selectors. The policy itself is built and validated in plugin/config
// (claims_config.h); this file assumes a validated policy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "attestors/appraisal/claims_vocabulary.h"
#include "attestors/core/clock.h"
#include "nlohmann/json.hpp"

namespace twi::appraisal {

// One predicate over one claim. Values are canonical (hex lowercase, length-checked).
struct Predicate {
  enum class Kind { kAnyOf, kBool, kMin };
  std::string claim;
  Kind kind = Kind::kAnyOf;
  // kAnyOf: exact values; a string claim's value may end in one '*' (prefix match).
  std::vector<std::string> values;
  bool boolean = false;  // kBool
  int64_t min = 0;       // kMin: numeric claim >= min
};

enum class VersionState { kActive, kDeprecated, kRevoked };
std::string_view VersionStateName(VersionState s);  // "active", "deprecated", "revoked"

struct RefVersion {
  std::string name;
  VersionState state = VersionState::kActive;
  std::optional<TimePoint> not_before, not_after;
  std::vector<Predicate> fields;
};

struct RefSet {
  std::string name;
  std::vector<RefVersion> versions;
};

struct Rule {
  std::string name;
  std::vector<Predicate> when;
  std::string refset;  // "" = none
  std::vector<std::string> emit;  // "claim:..." selector values
};

struct ClaimsPolicy {
  std::string policy_id;
  bool deny_on_no_match = true;  // on_no_rule_match = "deny"
  bool emit_raw_selectors = true;
  std::vector<RefSet> refsets;
  std::vector<Rule> rules;
};

// EAR status tiers (draft-ietf-rats-ear / AR4SI).
inline constexpr char kAffirming[] = "affirming";
inline constexpr char kWarning[] = "warning";
inline constexpr char kContraindicated[] = "contraindicated";

struct VersionTrace {
  std::string version;
  VersionState state = VersionState::kActive;
  bool live = false;
  bool matched = false;
  std::string why;  // why it did not match ("" when it did)
};

struct RuleTrace {
  std::string rule;
  bool fired = false;
  std::vector<std::string> lacked;  // one entry per failing predicate
  std::string refset;
  std::vector<std::string> matched_versions;
  bool deprecated_only = false;  // fired only through deprecated versions
};

struct Evaluation {
  bool accepted = false;
  std::string status;                  // kAffirming, kWarning or kContraindicated
  std::vector<std::string> selectors;  // sorted, unique "claim:..." values
  std::vector<RuleTrace> rules;        // by rule name
  std::map<std::string, std::vector<VersionTrace>> refsets;  // versions by name
  // Denial: names the closest rule and what it lacked. Warning: what was deprecated.
  std::string message;
};

Evaluation Evaluate(const ClaimsPolicy& policy, const Claims& claims, TimePoint now);

// PERMISSION_DENIED "claims.policy: policy \"<id>\": <message>" when it refused; OK otherwise.
absl::Status DenialStatus(const ClaimsPolicy& policy, const Evaluation& e);

// The trace as JSON: {"rules": [...], "refsets": {...}}.
nlohmann::ordered_json TraceJson(const Evaluation& e);

}  // namespace twi::appraisal
