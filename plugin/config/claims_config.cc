#include "plugin/config/claims_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "attestors/core/str.h"

namespace twi::config {
namespace {

using appraisal::ClaimDoc;
using appraisal::ClaimType;
using appraisal::Predicate;

constexpr std::array kClaimsSchema = {
    KeyDoc{"claims_mapper.policy_id", "string", "", "\"acme-tee-7\"",
           "Required in a claims_mapper block: names the policy in logs and in every EAR "
           "(ear.appraisal-policy-id)."},
    KeyDoc{"claims_mapper.on_no_rule_match", "string", "\"deny\"", "\"deny\"",
           "\"deny\" refuses an agent no rule matches (PERMISSION_DENIED naming the closest rule "
           "and what it lacked); \"accept\" attests it without claims (EAR status warning)."},
    KeyDoc{"claims_mapper.emit_raw_selectors", "bool", "true", "true",
           "Also emit the raw tee:/sev-snp: selectors; false leaves only instance: and claim: "
           "selectors."},
    KeyDoc{"claims_mapper.refset", "labeled blocks", "",
           "{ img = { version = { v1 = { sev_snp_measurement = [\"" "000000000000000000000000000000000000000000000000"
           "000000000000000000000000000000000000000000000000" "\"] } } } }",
           "refset \"<name>\" { version \"<name>\" { state, not_before, not_after, <claim> = [...] } }: "
           "versioned reference values. state is active (default), deprecated or revoked; "
           "not_before/not_after are RFC 3339; every listed claim must match (any of its values)."},
    KeyDoc{"claims_mapper.rule", "labeled blocks", "",
           "{ r = { when = { tee = [\"sev-snp\"] }, emit = [\"claim:tee:sev-snp\"] } }",
           "rule \"<name>\" { when { <claim> = [...], refset = \"<name>\" } emit = [\"claim:...\"] }: "
           "when every predicate holds, emit these selectors. Predicates: a list (any of; strings "
           "may end in one *), true/false for bool claims, { min = N } for number claims."},
    KeyDoc{"ear_signing_key_file", "string", "\"\"", "\"/etc/twi-attestor/ear-key.pem\"",
           "PEM P-256 private key: each attestation result is also logged as an ES256 JWT."},
    KeyDoc{"ear_audit_file", "string", "\"\"", "\"/var/log/twi-attestor/ear.log\"",
           "Append every attestation result (the JWT when signing, else the JSON) as one line."},
};

constexpr int64_t kMaxNumber = std::numeric_limits<int64_t>::max();

bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// Names appear in traces, logs and EARs: short and plain.
void CheckName(Reader& r, std::string_view what, const std::string& name) {
  if (ValidName(name)) return;
  r.problems()->Add(r.pos(), twi::StrCat(what, " name \"", name.substr(0, 64),
                                         "\" must be 1-64 characters of A-Z a-z 0-9 - _ ."));
}

bool ValidEmit(std::string_view s) {
  constexpr std::string_view kPrefix = "claim:";
  if (s.size() <= kPrefix.size() || s.size() > 200 || s.substr(0, kPrefix.size()) != kPrefix) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_.:/").find(c) != std::string_view::npos;
  });
}

// Every claim name and the fixed keys of `context`, for "did you mean" hints.
std::vector<std::string> KnownNames(std::initializer_list<std::string_view> fixed) {
  std::vector<std::string> out(fixed.begin(), fixed.end());
  for (const auto& d : appraisal::Vocabulary()) out.emplace_back(d.name);
  return out;
}

// Reads one claim predicate `key` from `r`; nullopt (with a problem) when malformed.
std::optional<Predicate> ReadPredicate(Reader& r, const std::string& key, const ClaimDoc& doc,
                                       hcl::Kind kind) {
  Predicate p;
  p.claim = key;
  const std::string path = r.Path(key);
  if (doc.type == ClaimType::kBool) {
    auto b = r.Bool(key);
    if (!b) return std::nullopt;
    p.kind = Predicate::Kind::kBool;
    p.boolean = *b;
    return p;
  }
  if (doc.type == ClaimType::kNumber && kind == hcl::Kind::kObject) {
    Reader m = r.Block(key);
    auto min = m.Int("min", 0, kMaxNumber);
    m.Finish();
    if (!min) {
      r.Problem(key, twi::StrCat("\"", path, "\" must be a list of numbers or { min = N }"));
      return std::nullopt;
    }
    p.kind = Predicate::Kind::kMin;
    p.min = *min;
    return p;
  }
  std::vector<std::string> values;
  if (doc.type == ClaimType::kNumber) {
    auto l = r.IntList(key, 0, kMaxNumber);
    if (!l) return std::nullopt;
    for (int64_t v : *l) values.push_back(twi::StrCat(v));
  } else {
    auto l = r.StringList(key);
    if (!l) return std::nullopt;
    values = *std::move(l);
  }
  if (values.empty()) {
    r.Problem(key, twi::StrCat("\"", path, "\" must list at least one value"));
    return std::nullopt;
  }
  bool ok = true;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string& v = values[i];
    if (doc.type == ClaimType::kHex) v = absl::AsciiStrToLower(v);
    std::string_view checked = v;
    if (doc.type == ClaimType::kString && !v.empty() && v.back() == '*') checked.remove_suffix(1);
    absl::Status s;
    if (checked.find('*') != std::string_view::npos) {
      s = absl::InvalidArgumentError(doc.type == ClaimType::kString
                                         ? "allows a single trailing * as its only pattern"
                                         : "takes exact values, no patterns");
    } else if (!(doc.type == ClaimType::kString && v == "*")) {
      s = appraisal::CheckValue(doc, checked);
    }
    if (!s.ok()) {
      r.Problem(key, twi::StrCat("\"", path, "\"[", i, "]: ", doc.name, " ", s.message()));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  p.values = std::move(values);
  return p;
}

// Reads every member of `r` that is not one of `fixed` as a claim predicate.
std::vector<Predicate> ReadPredicates(Reader& r, std::initializer_list<std::string_view> fixed) {
  std::vector<Predicate> out;
  for (const auto& [key, kind] : r.Members()) {
    if (std::find(fixed.begin(), fixed.end(), key) != fixed.end()) continue;
    const ClaimDoc* doc = appraisal::FindClaim(key);
    if (doc == nullptr) {
      r.Problem(key, twi::StrCat("unknown claim \"", r.Path(key), "\" (", DidYouMean(key, KnownNames(fixed)),
                                 "see the claims vocabulary: `twi docs claims:vocabulary`)"));
      continue;
    }
    if (auto p = ReadPredicate(r, key, *doc, kind)) out.push_back(*std::move(p));
  }
  return out;
}

std::optional<TimePoint> ReadTime(Reader& r, std::string_view key) {
  auto s = r.String(key);
  if (!s) return std::nullopt;
  auto t = ParseRfc3339(*s);
  if (!t.ok()) {
    r.Problem(key, twi::StrCat("\"", r.Path(key), "\": ", t.status().message()));
    return std::nullopt;
  }
  return *t;
}

appraisal::RefSet ReadRefSet(const std::string& name, Reader& r) {
  appraisal::RefSet set;
  set.name = name;
  CheckName(r, "refset", name);
  for (auto& [vname, v] : r.LabeledBlocks("version")) {
    appraisal::RefVersion ver;
    ver.name = vname;
    CheckName(v, "version", vname);
    if (auto st = v.String("state")) {
      if (*st == "active") ver.state = appraisal::VersionState::kActive;
      else if (*st == "deprecated") ver.state = appraisal::VersionState::kDeprecated;
      else if (*st == "revoked") ver.state = appraisal::VersionState::kRevoked;
      else v.Problem("state", twi::StrCat("\"", v.Path("state"), "\" must be \"active\", \"deprecated\" or ",
                                          "\"revoked\", got \"", st->substr(0, 64), "\""));
    }
    ver.not_before = ReadTime(v, "not_before");
    ver.not_after = ReadTime(v, "not_after");
    if (ver.not_before && ver.not_after && *ver.not_after <= *ver.not_before) {
      v.Problem("not_after", twi::StrCat("\"", v.Path("not_after"), "\" must be later than not_before"));
    }
    ver.fields = ReadPredicates(v, {"state", "not_before", "not_after"});
    if (ver.fields.empty()) {
      v.problems()->Add(v.pos(), twi::StrCat("refset \"", name, "\" version \"", vname,
                                             "\" lists no reference values (it would match anything)"));
    }
    set.versions.push_back(std::move(ver));
  }
  r.Finish();
  if (set.versions.empty()) r.problems()->Add(r.pos(), twi::StrCat("refset \"", name, "\" has no versions"));
  return set;
}

appraisal::Rule ReadRule(const std::string& name, Reader& r) {
  appraisal::Rule rule;
  rule.name = name;
  CheckName(r, "rule", name);
  Reader when = r.Block("when");
  if (auto rs = when.String("refset")) rule.refset = *rs;
  rule.when = ReadPredicates(when, {"refset"});
  if (rule.when.empty() && rule.refset.empty()) {
    r.problems()->Add(r.pos(), twi::StrCat("rule \"", name, "\" has no predicates (when { ... } must name a claim or a refset)"));
  }
  if (auto e = r.StringList("emit")) {
    for (size_t i = 0; i < e->size(); ++i) {
      if (!ValidEmit((*e)[i])) {
        r.Problem("emit", twi::StrCat("\"", r.Path("emit"), "\"[", i, "] must be \"claim:<name>\" (A-Z a-z 0-9 - _ . : /, up to 200), got \"",
                                      (*e)[i].substr(0, 64), "\""));
      }
    }
    rule.emit = *std::move(e);
  }
  if (rule.emit.empty()) r.Problem("emit", twi::StrCat("rule \"", name, "\" must emit at least one claim: selector"));
  r.Finish();
  return rule;
}

void ReadClaimsMapper(Reader& m, TimePoint now, ClaimsSettings* out, std::vector<std::string>* warnings) {
  auto p = std::make_shared<appraisal::ClaimsPolicy>();
  if (auto v = m.String("policy_id")) p->policy_id = *v;
  if (p->policy_id.empty() || p->policy_id.size() > 128) {
    m.problems()->Add(m.pos(), "\"claims_mapper.policy_id\" is required (1-128 characters): it names the policy in every attestation result");
  }
  if (auto v = m.String("on_no_rule_match")) {
    if (*v == "deny" || *v == "accept") {
      p->deny_on_no_match = *v == "deny";
    } else {
      m.Problem("on_no_rule_match", twi::StrCat("\"claims_mapper.on_no_rule_match\" must be \"deny\" or \"accept\", got \"", v->substr(0, 64), "\""));
    }
  }
  if (auto v = m.Bool("emit_raw_selectors")) p->emit_raw_selectors = *v;
  for (auto& [name, r] : m.LabeledBlocks("refset")) p->refsets.push_back(ReadRefSet(name, r));
  for (auto& [name, r] : m.LabeledBlocks("rule")) {
    appraisal::Rule rule = ReadRule(name, r);
    if (!rule.refset.empty() &&
        std::none_of(p->refsets.begin(), p->refsets.end(), [&](const auto& s) { return s.name == rule.refset; })) {
      std::vector<std::string> names;
      for (const auto& s : p->refsets) names.push_back(s.name);
      r.Block("when").Problem("refset", twi::StrCat("rule \"", name, "\" names unknown refset \"", rule.refset.substr(0, 64), "\" (",
                                                    DidYouMean(rule.refset, names), "refsets: ", absl::StrJoin(names, ", "), ")"));
    }
    p->rules.push_back(std::move(rule));
  }
  m.Finish();
  for (const auto& set : p->refsets) {
    std::vector<std::string> users;
    for (const auto& rule : p->rules) {
      if (rule.refset == set.name) users.push_back(rule.name);
    }
    bool dead = !set.versions.empty() && std::all_of(set.versions.begin(), set.versions.end(), [&](const auto& v) {
      return v.state == appraisal::VersionState::kRevoked || (v.not_after && now >= *v.not_after);
    });
    if (dead) {
      warnings->push_back(twi::StrCat("claims_mapper: every version of refset \"", set.name,
                                      "\" is revoked or expired; ",
                                      users.empty() ? "no rule uses it"
                                                    : twi::StrCat("rules ", absl::StrJoin(users, ", "), " can never fire")));
    } else if (users.empty()) {
      warnings->push_back(twi::StrCat("claims_mapper: refset \"", set.name, "\" is not used by any rule"));
    }
  }
  out->policy = std::move(p);
}

}  // namespace

void ReadClaimsSettings(Reader& top, TimePoint now, ClaimsSettings* out, std::vector<std::string>* warnings) {
  if (auto v = top.String("ear_signing_key_file")) out->ear_signing_key_file = *v;
  if (auto v = top.String("ear_audit_file")) out->ear_audit_file = *v;
  Reader m = top.Block("claims_mapper");
  if (m.pos().line == 0 && m.Members().empty()) return;  // no block
  ReadClaimsMapper(m, now, out, warnings);
}

absl::StatusOr<std::shared_ptr<const appraisal::ClaimsPolicy>> BuildClaimsPolicyFile(
    std::string_view hcl, TimePoint now, std::vector<std::string>* warnings) {
  Problems problems;
  hcl::Value root = ParseOrRecord(hcl, &problems);
  if (!problems.empty()) return problems.ToStatus();
  Reader top(&root, "", &problems);
  ClaimsSettings s;
  Reader m = top.Block("claims_mapper");
  if (m.pos().line == 0) {
    problems.Add("the file must hold one claims_mapper { ... } block, as in the server's plugin_data");
  } else {
    ReadClaimsMapper(m, now, &s, warnings);
  }
  top.Finish();
  absl::Status st = problems.ToStatus();
  if (!st.ok()) return st;
  return s.policy;
}

void AddClaimsSettingsJson(const ClaimsSettings& s, nlohmann::ordered_json* j) {
  (*j)["ear_signing_key_file"] = s.ear_signing_key_file;
  (*j)["ear_audit_file"] = s.ear_audit_file;
  if (!s.policy) {
    (*j)["claims_mapper"] = nullptr;
    return;
  }
  const auto& p = *s.policy;
  nlohmann::ordered_json m = {{"policy_id", p.policy_id},
                              {"on_no_rule_match", p.deny_on_no_match ? "deny" : "accept"},
                              {"emit_raw_selectors", p.emit_raw_selectors}};
  m["refsets"] = nlohmann::ordered_json::object();
  for (const auto& set : p.refsets) {
    auto& versions = m["refsets"][set.name] = nlohmann::ordered_json::object();
    for (const auto& v : set.versions) versions[v.name] = appraisal::VersionStateName(v.state);
  }
  m["rules"] = nlohmann::ordered_json::object();
  for (const auto& r : p.rules) m["rules"][r.name] = r.emit;
  (*j)["claims_mapper"] = std::move(m);
}

std::span<const KeyDoc> ClaimsSchema() { return kClaimsSchema; }

}  // namespace twi::config
