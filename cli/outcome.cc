#include "cli/outcome.h"

#include <cstdio>

#include "nlohmann/json.hpp"

namespace twi::cli {

int PrintOutcome(const VerifyOutcome& o, const std::string& evidence_type, bool json) {
  if (json) {
    nlohmann::ordered_json j;
    j["verified"] = o.verified;
    j["evidence_type"] = evidence_type;
    j["checks"] = nlohmann::ordered_json::array();
    for (const auto& c : o.checks.checks()) {
      j["checks"].push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
    }
    j["claims"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : o.claims) j["claims"][k] = v;
    j["selectors"] = o.selectors;
    j["error"] = o.error;
    AddClaimsJson(o.claims_report, evidence_type, o.error, o.selectors, &j);
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    for (const auto& c : o.checks.checks()) {
      std::printf("%-4s %-24s %s\n", c.passed ? "ok" : "FAIL", c.name.c_str(), c.detail.c_str());
    }
    if (!o.selectors.empty()) {
      std::printf("selectors:\n");
      for (const auto& s : o.selectors) std::printf("  %s\n", s.c_str());
    }
    PrintClaimsText(o.claims_report);
    if (o.verified) {
      std::printf("verified\n");
    } else {
      std::printf("rejected: %s\n", o.error.c_str());
    }
  }
  return o.verified ? 0 : 1;
}

int PrintRefusal(VerifyOutcome& o, const std::string& check, const absl::Status& s,
                 const std::string& evidence_type, bool json) {
  o.error = check + ": " + std::string(s.message());
  (void)o.checks.Fail(check, std::string(s.message()), absl::StatusCode::kInvalidArgument);
  return PrintOutcome(o, evidence_type, json);
}

}  // namespace twi::cli
