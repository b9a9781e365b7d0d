// EAR shape (draft-ietf-rats-ear names), the AR4SI vector per outcome, and ES256 JWTs.
#include <openssl/pem.h>

#include <fstream>

#include "attestors/appraisal/claims_mapper.h"
#include "attestors/appraisal/ear.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace twi::appraisal {
namespace {

EarFacts Accepted() {
  EarFacts f;
  f.iat = std::chrono::system_clock::from_time_t(1'800'000'000);
  f.verifier_build = "test";
  f.policy_id = "acme-tee-7";
  f.status = kAffirming;
  f.tee_evidence = true;
  f.claims_policy = true;
  f.claims_recognized = true;
  f.agent_id = "spiffe://example.org/spire/agent/twi/x";
  f.selectors = {"claim:workload:payroll"};
  f.evidence_kinds = {"sev-snp"};
  return f;
}

TEST(Ear, ShapeFollowsTheDraft) {
  auto ear = BuildEar(Accepted());
  EXPECT_EQ(ear["eat_profile"], kEarProfile);
  EXPECT_EQ(ear["iat"], 1'800'000'000);
  EXPECT_EQ(ear["ear.verifier-id"]["developer"], "twi-attestor");
  const auto& sub = ear["submods"]["twi-node"];
  EXPECT_EQ(sub["ear.status"], "affirming");
  EXPECT_EQ(sub["ear.appraisal-policy-id"], "acme-tee-7");
  EXPECT_EQ(sub["ear.trustworthiness-vector"]["executables"], 2);
  EXPECT_EQ(sub["ear.trustworthiness-vector"]["hardware"], 2);
  EXPECT_EQ(sub["ear.trustworthiness-vector"]["instance-identity"], 2);
}

TEST(Ear, VectorTiersFollowTheOutcome) {
  EarFacts f = Accepted();
  f.status = kWarning;
  EXPECT_EQ(TrustworthinessVector(f)["executables"], 32);
  f.claims_recognized = false;
  EXPECT_EQ(TrustworthinessVector(f)["executables"], 33);
  f.status = kContraindicated;
  f.failed_at = "executables";
  EXPECT_EQ(TrustworthinessVector(f)["executables"], 96);
  f.failed_at = "hardware";
  EXPECT_EQ(TrustworthinessVector(f), (std::map<std::string, int>{{"instance-identity", 2}, {"hardware", 97}}));
  f.failed_at = "instance-identity";
  EXPECT_EQ(TrustworthinessVector(f), (std::map<std::string, int>{{"instance-identity", 97}}));
  EXPECT_EQ(BuildEar(EarFacts{})["submods"]["twi-node"]["ear.appraisal-policy-id"], "twi:no-claims-policy");
}

TEST(Ear, Es256JwtRoundTripAndTamperDetection) {
  auto key = GenerateP256Key();
  ASSERT_TRUE(key.ok());
  std::string path = ::testing::TempDir() + "/ear-key.pem";
  {
    BioPtr bio(BIO_new_file(path.c_str(), "w"));
    ASSERT_TRUE(bio && PEM_write_bio_PrivateKey(bio.get(), key->get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  }
  auto loaded = LoadEarSigningKey(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto ear = BuildEar(Accepted());
  auto jwt = SignEarJwt(ear, loaded->get());
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(std::count(jwt->begin(), jwt->end(), '.'), 2);
  auto payload = VerifyEarJwt(*jwt, key->get());
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ((*payload)["submods"]["twi-node"]["ear.status"], "affirming");
  std::string tampered = *jwt;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_FALSE(VerifyEarJwt(tampered, key->get()).ok());
  std::ofstream(path) << "not a key";
  EXPECT_EQ(LoadEarSigningKey(path).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace twi::appraisal
