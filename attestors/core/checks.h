// A record of every check an appraisal ran, for operator-facing reports (`twi verify --json`)
// and for refusal messages that name the failed check.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace twi {

struct Check {
  std::string name;    // stable, e.g. "report_signature", "policy.debug"
  bool passed = false;
  std::string detail;  // what was expected and what was found
};

class CheckList {
 public:
  void Pass(std::string name, std::string detail = "") {
    checks_.push_back({std::move(name), true, std::move(detail)});
  }
  // Records a failure and returns the status to propagate: "<name>: <detail>".
  absl::Status Fail(std::string name, std::string detail,
                    absl::StatusCode code = absl::StatusCode::kPermissionDenied) {
    absl::Status s(code, name + ": " + detail);
    checks_.push_back({std::move(name), false, std::move(detail)});
    return s;
  }
  const std::vector<Check>& checks() const { return checks_; }
  bool all_passed() const {
    for (const auto& c : checks_) if (!c.passed) return false;
    return true;
  }

 private:
  std::vector<Check> checks_;
};

// Lets every check of an appraisal run and be recorded while keeping the first failure:
// policies report every problem in the check list and refuse with the first one.
class FirstFailure {
 public:
  explicit FirstFailure(CheckList& checks,
                        absl::StatusCode code = absl::StatusCode::kPermissionDenied)
      : checks_(checks), code_(code) {}
  void Pass(std::string name, std::string detail) {
    checks_.Pass(std::move(name), std::move(detail));
  }
  void Fail(std::string name, std::string detail) {
    absl::Status s = checks_.Fail(std::move(name), std::move(detail), code_);
    if (first_.ok()) first_ = s;
  }
  absl::Status status() const { return first_; }

 private:
  CheckList& checks_;
  absl::StatusCode code_;
  absl::Status first_;
};

}  // namespace twi
