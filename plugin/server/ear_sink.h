// Where the server puts each attestation result (EAR): one log line per attestation, signed as
// an ES256 JWT when ear_signing_key_file is set, and appended to ear_audit_file when set.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/appraisal/ear.h"
#include "plugin/config/claims_config.h"

namespace twi::server {

class LoggingEarSink final : public appraisal::EarSink {
 public:
  // Loads the signing key and checks the audit file can be opened for appending.
  static absl::StatusOr<std::shared_ptr<const LoggingEarSink>> Create(const config::ClaimsSettings& s);
  void Record(const appraisal::EarFacts& facts) const override;

 private:
  EvpPkeyPtr key_;
  std::string audit_path_;
  mutable std::mutex mu_;  // one audit line at a time
};

}  // namespace twi::server
