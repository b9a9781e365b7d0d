// `twi verify --claims-policy FILE`: the claims mapper applied to verified evidence, with the
// same EAR the server logs, so an owner can try a policy on recorded evidence offline.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attestors/appraisal/claims_mapper.h"
#include "nlohmann/json.hpp"

namespace twi::cli {

struct ClaimsReport {
  std::shared_ptr<const appraisal::ClaimsPolicy> policy;  // null without --claims-policy
  std::optional<appraisal::Evaluation> evaluation;       // set once the evidence verified
  TimePoint at;
};

// Adds claims_selectors, ear and trace to `j`. `error` is the refusal ("" when verified);
// `selectors` the raw selectors of verified evidence.
void AddClaimsJson(const ClaimsReport& r, const std::string& evidence_kind, const std::string& error,
                   const std::vector<std::string>& selectors, nlohmann::ordered_json* j);
// Text form: the claim selectors, the status and the trace's rule lines.
void PrintClaimsText(const ClaimsReport& r);

}  // namespace twi::cli
