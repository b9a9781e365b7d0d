// A simulated Google Cloud vTPM CA for tests, demos and CI: a root and an intermediate shaped
// like Google's EK/AK CA (RSA, sha256WithRSAEncryption), every name carrying
// O=twi-attestor simulated Google so it can never be mistaken for Google's, and AK certificates
// carrying the instance-information extension (abi.h) for a given AK public key.
//
// What this does not do: emulate a vTPM (the gcp-node simulation puts these certificates into a
// swtpm's NV indices) or decide trust: a verifier accepts simulated certificates only when the
// operator configures the simulated root as a CA.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"
#include "attestors/core/crypto.h"
#include "attestors/gcp/abi.h"

namespace twi::gcp {

struct SimCaOptions {
  int rsa_bits = 2048;  // Google's are 2048/4096; 2048 keeps tests fast
  // Start of the CA validity (100 years, like Google's). Unset: one day before now.
  std::optional<TimePoint> not_before;
  // When set, loaded from this directory if it holds a CA (root.pem root.key intermediate.pem
  // intermediate.key), else generated and saved there atomically (x509_mint.h SaveMinted).
  std::string dir;
};

struct SimAkCertOptions {
  InstanceInfo instance;  // default: SimInstanceInfo()
  bool include_instance_info = true;
  bool duplicate_instance_info = false;  // the extension twice (negative tests)
  std::optional<TimePoint> not_before;   // unset: one hour before now
  std::optional<TimePoint> not_after;    // unset: not_before + 30 years
  bool as_ca = false;                    // basicConstraints CA:TRUE + keyCertSign (negative)
  bool signed_by_root = false;           // skip the intermediate (still verifies)
};

// Instance information of a plausible production VM (project "twi-sim-project", zone
// "us-central1-a", instance "twi-sim-vm", fixed numbers, isProduction true).
InstanceInfo SimInstanceInfo();

class SimCa {
 public:
  static absl::StatusOr<std::shared_ptr<const SimCa>> Create(const SimCaOptions& options);
  // One CA per process, generated once and shared by unit tests.
  static absl::StatusOr<std::shared_ptr<const SimCa>> SharedForTests();

  X509* root() const { return root_.get(); }
  X509* intermediate() const { return intermediate_.get(); }
  EVP_PKEY* intermediate_key() const { return intermediate_key_.get(); }
  std::string root_pem() const;
  std::string intermediate_pem() const;
  // Root then intermediate: what an operator configures as the CA set.
  std::string BundlePem() const;

  // A DER AK certificate for `ak_spki` (DER SubjectPublicKeyInfo of the AK) issued by the
  // intermediate (or the root).
  absl::StatusOr<Bytes> IssueAkCert(ByteView ak_spki, const SimAkCertOptions& options = {}) const;

 private:
  SimCa() = default;
  EvpPkeyPtr root_key_, intermediate_key_;
  X509Ptr root_, intermediate_;
  friend class SimCaBuilder;
};

}  // namespace twi::gcp
