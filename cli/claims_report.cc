#include "cli/claims_report.h"

#include <cstdio>

#include "absl/strings/str_join.h"
#include "attestors/appraisal/ear.h"

namespace twi::cli {

void AddClaimsJson(const ClaimsReport& r, const std::string& evidence_kind, const std::string& error,
                   const std::vector<std::string>& selectors, nlohmann::ordered_json* j) {
  if (!r.policy) return;
  appraisal::EarFacts f;
  f.iat = r.at;
  f.verifier_build = "twi verify";
  f.policy_id = r.policy->policy_id;
  f.evidence_kinds = {evidence_kind};
  f.claims_policy = r.evaluation.has_value();
  if (r.evaluation) {
    f.tee_evidence = true;
    f.trace = appraisal::TraceJson(*r.evaluation);
    for (const auto& rule : r.evaluation->rules) f.claims_recognized = f.claims_recognized || rule.fired;
    f.status = r.evaluation->status;
    if (!r.evaluation->accepted) f.failed_at = "executables";
  } else {
    f.status = appraisal::kContraindicated;
    f.failed_at = "hardware";
  }
  if (f.status == appraisal::kContraindicated) {
    f.error = error;
  } else {
    f.selectors = selectors;
    if (r.evaluation) f.selectors.insert(f.selectors.end(), r.evaluation->selectors.begin(), r.evaluation->selectors.end());
  }
  (*j)["claims_selectors"] = r.evaluation ? r.evaluation->selectors : std::vector<std::string>{};
  (*j)["ear"] = appraisal::BuildEar(f);
  (*j)["trace"] = f.trace.is_null() ? nlohmann::ordered_json::object() : f.trace;
}

void PrintClaimsText(const ClaimsReport& r) {
  if (!r.policy || !r.evaluation) return;
  const auto& e = *r.evaluation;
  std::printf("claims policy \"%s\": %s\n", r.policy->policy_id.c_str(), e.status.c_str());
  for (const auto& rule : e.rules) {
    std::printf("  rule %-20s %s%s%s\n", rule.rule.c_str(), rule.fired ? "fired" : "lacked: ",
                rule.fired ? "" : absl::StrJoin(rule.lacked, "; ").c_str(),
                rule.matched_versions.empty() ? ""
                                              : (" (versions " + absl::StrJoin(rule.matched_versions, ", ") + ")").c_str());
  }
  for (const auto& s : e.selectors) std::printf("  %s\n", s.c_str());
  if (!e.message.empty()) std::printf("  %s\n", e.message.c_str());
}

}  // namespace twi::cli
