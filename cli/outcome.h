// What `twi verify` prints for every evidence type: the checks, the claims as far as
// verification got, the selectors, and the refusal; with --claims-policy also the claims
// mapper's result. One shape for all types (`--json`: verified, evidence_type, checks, claims,
// selectors, error).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "attestors/core/checks.h"
#include "cli/claims_report.h"

namespace twi::cli {

struct VerifyOutcome {
  bool verified = false;
  std::string error;
  CheckList checks;
  std::map<std::string, std::string> claims;
  std::vector<std::string> selectors;
  ClaimsReport claims_report;  // empty without --claims-policy
};

// Prints `o` (JSON or text) and returns the exit status: 0 verified, 1 rejected.
int PrintOutcome(const VerifyOutcome& o, const std::string& evidence_type, bool json);

// Evidence refused before verification (a file that does not parse): records `check` as failed
// with the status's message, makes "<check>: <message>" the error, prints, returns 1.
int PrintRefusal(VerifyOutcome& o, const std::string& check, const absl::Status& s,
                 const std::string& evidence_type, bool json);

}  // namespace twi::cli
