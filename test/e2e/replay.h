// Relay hooks shared by the evidence-replay tests of every TEE kind.
#pragma once

#include <string>

#include "gtest/gtest.h"
#include "test/harness/host.h"
#include "twi/v1/attestation.pb.h"

namespace twi::e2e {

// Relay hooks for replay tests: record one attestation's challenge response, then put its
// evidence under a later response's fresh signature.
inline host::RelayHooks RecordResponse(std::string* recorded) {
  host::RelayHooks h;
  h.challenge_response = [recorded](std::string& b) { *recorded = b; };
  return h;
}
inline host::RelayHooks ReplayEvidence(const std::string* recorded) {
  host::RelayHooks h;
  h.challenge_response = [recorded](std::string& b) {
    twi::v1::ChallengeResponse fresh, old;
    ASSERT_TRUE(fresh.ParseFromString(b));
    ASSERT_TRUE(old.ParseFromString(*recorded));
    *fresh.mutable_evidence() = old.evidence();  // keep the fresh signature, old evidence
    b = fresh.SerializeAsString();
  };
  return h;
}

}  // namespace twi::e2e
