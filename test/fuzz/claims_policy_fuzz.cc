// Fuzz target for claims policies (HCL parser + claims_mapper builder + evaluator). Beyond
// "no crash": rejections are INVALID_ARGUMENT, accepted policies evaluate deterministically
// and only emit claim: selectors.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "attestors/appraisal/claims_mapper.h"
#include "plugin/config/claims_config.h"

namespace {

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "claims_policy_fuzz: %s\n", why.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const twi::TimePoint now = std::chrono::system_clock::from_time_t(1'800'000'000);
  std::vector<std::string> warnings;
  auto policy = twi::config::BuildClaimsPolicyFile(text, now, &warnings);
  if (!policy.ok()) {
    if (policy.status().code() != absl::StatusCode::kInvalidArgument) Fail(policy.status().ToString());
    return 0;
  }
  const twi::appraisal::Claims claims = {
      {"tee", "sev-snp"}, {"debug", "false"}, {"sev_snp_tcb_snp", "5"}, {"gcp_zone", "europe-west4-a"},
      {"sev_snp_measurement", std::string(96, 'a')}, {"tdx_mrtd", std::string(96, 'b')}};
  auto a = twi::appraisal::Evaluate(**policy, claims, now);
  auto b = twi::appraisal::Evaluate(**policy, claims, now);
  if (a.selectors != b.selectors || a.status != b.status || a.message != b.message) Fail("not deterministic");
  for (const auto& s : a.selectors) {
    if (s.rfind("claim:", 0) != 0) Fail("emitted a non-claim selector: " + s);
  }
  if (a.accepted != twi::appraisal::DenialStatus(**policy, a).ok()) Fail("decision and status disagree");
  return 0;
}
