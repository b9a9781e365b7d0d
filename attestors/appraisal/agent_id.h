// Agent SPIFFE IDs: spiffe://<trust domain>/spire/agent/twi/<suffix>, the suffix rendered from
// a template over verified fields, e.g. "{instance_key_hash}" or
// "snp/{sev_snp.chip_id}/{sev_snp.report_id}". Every template must hold a per-instance field:
// chip IDs, measurements and host data are shared by many VMs or chosen by the host.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace twi::appraisal {

// Placeholders a template may use. A field that is unavailable for an attestation (e.g. an
// SEV-SNP field when the agent presented no SNP evidence) makes the attestation fail.
std::span<const std::string_view> AgentPathPlaceholders();
// The placeholders unique to one agent instance, one of which every template must use.
std::span<const std::string_view> PerInstancePlaceholders();

// Check at configuration time: balanced braces, known placeholders, at least one
// per-instance placeholder, and literal text limited to SPIFFE path characters
// [A-Za-z0-9._-/], no empty or dot segments.
absl::Status ValidateAgentPathTemplate(std::string_view tmpl);

// Renders the template and returns the full agent ID.
absl::StatusOr<std::string> RenderAgentId(std::string_view trust_domain, std::string_view tmpl,
                                          const std::map<std::string, std::string>& fields);

}  // namespace twi::appraisal
