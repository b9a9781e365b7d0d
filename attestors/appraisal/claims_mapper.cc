#include "attestors/appraisal/claims_mapper.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_join.h"
#include "attestors/core/str.h"

namespace twi::appraisal {
namespace {

// A claim value for messages: hex cut to 16 digits, strings to 64 printable characters.
// Claims are verified, but cloud metadata strings are still bounded and made printable.
std::string Show(const std::string& claim, const std::string& v) {
  const ClaimDoc* d = FindClaim(claim);
  size_t max = d != nullptr && d->type == ClaimType::kHex ? 16 : 64;
  std::string out;
  for (size_t i = 0; i < v.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '?';
  }
  if (v.size() > max) out += "...";
  return out;
}

bool ValueMatches(const std::string& want, const std::string& got) {
  if (!want.empty() && want.back() == '*') {
    return got.compare(0, want.size() - 1, want, 0, want.size() - 1) == 0;
  }
  return want == got;
}

// "" when `p` holds for `claims`, else what is missing.
std::string Lacks(const Predicate& p, const Claims& claims) {
  auto it = claims.find(p.claim);
  if (it == claims.end()) return twi::StrCat(p.claim, ": absent");
  const std::string& v = it->second;
  switch (p.kind) {
    case Predicate::Kind::kAnyOf:
      for (const auto& w : p.values) {
        if (ValueMatches(w, v)) return "";
      }
      return twi::StrCat(p.claim, ": ", Show(p.claim, v), " is not listed (", p.values.size(),
                         p.values.size() == 1 ? " value)" : " values)");
    case Predicate::Kind::kBool:
      if (v == (p.boolean ? "true" : "false")) return "";
      return twi::StrCat(p.claim, ": ", Show(p.claim, v), ", want ", p.boolean ? "true" : "false");
    case Predicate::Kind::kMin: {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (end != v.c_str() && *end == '\0' && n >= p.min) return "";
      return twi::StrCat(p.claim, ": ", Show(p.claim, v), ", want at least ", p.min);
    }
  }
  return "unknown predicate";
}

std::vector<VersionTrace> JudgeRefSet(const RefSet& set, const Claims& claims, TimePoint now) {
  std::vector<VersionTrace> out;
  for (const auto& v : set.versions) {
    VersionTrace t;
    t.version = v.name;
    t.state = v.state;
    if (v.state == VersionState::kRevoked) {
      t.why = "revoked";
    } else if (v.not_before && now < *v.not_before) {
      t.why = twi::StrCat("not valid before ", FormatRfc3339(*v.not_before));
    } else if (v.not_after && now >= *v.not_after) {
      t.why = twi::StrCat("expired at ", FormatRfc3339(*v.not_after));
    } else {
      t.live = true;
      // Fields of another TEE describe the same release built for that TEE: they do not
      // apply here. Every field that applies must hold, and at least one must apply.
      auto tee = claims.find("tee");
      std::vector<std::string> lacks;
      size_t applied = 0;
      for (const auto& f : v.fields) {
        std::string_view f_tee = TeeOf(f.claim);
        if (!f_tee.empty() && (tee == claims.end() || tee->second != f_tee)) continue;
        ++applied;
        std::string l = Lacks(f, claims);
        if (!l.empty()) lacks.push_back(std::move(l));
      }
      std::sort(lacks.begin(), lacks.end());
      if (applied == 0) {
        lacks.push_back(twi::StrCat("lists no values for tee ",
                                    tee == claims.end() ? "(none)" : Show("tee", tee->second)));
      }
      t.matched = lacks.empty();
      t.why = absl::StrJoin(lacks, ", ");
    }
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(),
            [](const VersionTrace& a, const VersionTrace& b) { return a.version < b.version; });
  return out;
}

}  // namespace

std::string_view VersionStateName(VersionState s) {
  switch (s) {
    case VersionState::kActive: return "active";
    case VersionState::kDeprecated: return "deprecated";
    case VersionState::kRevoked: return "revoked";
  }
  return "?";
}

Evaluation Evaluate(const ClaimsPolicy& policy, const Claims& claims, TimePoint now) {
  Evaluation e;
  for (const auto& set : policy.refsets) e.refsets[set.name] = JudgeRefSet(set, claims, now);
  for (const auto& rule : policy.rules) {
    RuleTrace t;
    t.rule = rule.name;
    for (const auto& p : rule.when) {
      std::string l = Lacks(p, claims);
      if (!l.empty()) t.lacked.push_back(std::move(l));
    }
    std::sort(t.lacked.begin(), t.lacked.end());
    if (!rule.refset.empty()) {
      t.refset = rule.refset;
      std::vector<std::string> why;
      bool any_active = false;
      for (const auto& v : e.refsets[rule.refset]) {
        if (v.matched) {
          t.matched_versions.push_back(v.version);
          any_active = any_active || v.state == VersionState::kActive;
        } else {
          why.push_back(twi::StrCat(v.version, ": ", v.why));
        }
      }
      if (t.matched_versions.empty()) {
        t.lacked.push_back(twi::StrCat("refset \"", rule.refset, "\": no live version matches (",
                                       absl::StrJoin(why, "; "), ")"));
      } else {
        t.deprecated_only = !any_active;
      }
    }
    t.fired = t.lacked.empty();
    if (t.fired) e.selectors.insert(e.selectors.end(), rule.emit.begin(), rule.emit.end());
    e.rules.push_back(std::move(t));
  }
  std::sort(e.rules.begin(), e.rules.end(),
            [](const RuleTrace& a, const RuleTrace& b) { return a.rule < b.rule; });
  std::sort(e.selectors.begin(), e.selectors.end());
  e.selectors.erase(std::unique(e.selectors.begin(), e.selectors.end()), e.selectors.end());

  std::vector<std::string> deprecated;
  const RuleTrace* closest = nullptr;
  bool fired = false;
  for (const auto& r : e.rules) {
    fired = fired || r.fired;
    if (r.fired && r.deprecated_only) {
      deprecated.push_back(twi::StrCat("rule \"", r.rule, "\" matched only deprecated versions of refset \"",
                                       r.refset, "\" (", absl::StrJoin(r.matched_versions, ", "), ")"));
    }
    if (!r.fired && (closest == nullptr || r.lacked.size() < closest->lacked.size())) closest = &r;
  }
  if (fired) {
    e.accepted = true;
    e.status = deprecated.empty() ? kAffirming : kWarning;
    e.message = absl::StrJoin(deprecated, "; ");
    return e;
  }
  std::string why = closest == nullptr
                        ? "the policy has no rules"
                        : twi::StrCat("closest rule \"", closest->rule, "\" lacked: ",
                                      absl::StrJoin(closest->lacked, "; "));
  if (policy.deny_on_no_match) {
    e.status = kContraindicated;
    e.message = twi::StrCat("no claims rule matched; ", why);
  } else {
    e.accepted = true;
    e.status = kWarning;
    e.message = twi::StrCat("no claims rule matched, attested without claims "
                            "(on_no_rule_match = \"accept\"); ", why);
  }
  return e;
}

absl::Status DenialStatus(const ClaimsPolicy& policy, const Evaluation& e) {
  if (e.accepted) return absl::OkStatus();
  return absl::PermissionDeniedError(
      twi::StrCat("claims.policy: policy \"", policy.policy_id, "\": ", e.message));
}

nlohmann::ordered_json TraceJson(const Evaluation& e) {
  nlohmann::ordered_json j;
  j["rules"] = nlohmann::ordered_json::array();
  for (const auto& r : e.rules) {
    nlohmann::ordered_json rj{{"rule", r.rule}, {"fired", r.fired}};
    if (!r.refset.empty()) {
      rj["refset"] = r.refset;
      rj["matched_versions"] = r.matched_versions;
      if (r.deprecated_only) rj["deprecated_only"] = true;
    }
    if (!r.lacked.empty()) rj["lacked"] = r.lacked;
    j["rules"].push_back(std::move(rj));
  }
  j["refsets"] = nlohmann::ordered_json::object();
  for (const auto& [name, versions] : e.refsets) {
    auto& arr = j["refsets"][name] = nlohmann::ordered_json::array();
    for (const auto& v : versions) {
      nlohmann::ordered_json vj{{"version", v.version},
                                {"state", VersionStateName(v.state)},
                                {"live", v.live},
                                {"matched", v.matched}};
      if (!v.why.empty()) vj["why"] = v.why;
      arr.push_back(std::move(vj));
    }
  }
  return j;
}

}  // namespace twi::appraisal
