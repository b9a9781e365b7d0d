// The SEV-SNP appraiser's claims are in the normalized vocabulary, canonical, and absent
// (not all-zero) for fields the guest did not set.
#include "attestors/appraisal/claims_vocabulary.h"
#include "attestors/sevsnp/node.h"
#include "attestors/sevsnp/sim.h"
#include "gtest/gtest.h"

namespace twi::sevsnp {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

AttestationReport SimReport(SimOptions o) {
  auto sim = SnpSimulator::Create(std::move(o));
  EXPECT_TRUE(sim.ok()) << sim.status();
  Bytes rd(64, 7);
  auto ev = (*sim)->GetReport(rd);
  EXPECT_TRUE(ev.ok()) << ev.status();
  auto r = ParseReport(ev->report);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

TEST(SnpClaims, VocabularyAndCanonicalValues) {
  SimOptions o;
  o.measurement = Bytes(48, 0xAB);
  o.id_key_digest = Bytes(48, 0x01);
  o.guest_svn = 3;
  auto c = NormalizedClaims(SimReport(std::move(o)), true);
  absl::Status s = appraisal::CheckClaims(c);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(c["tee"], "sev-snp");
  EXPECT_EQ(c["platform"], "milan");
  EXPECT_EQ(c["debug"], "false");
  EXPECT_EQ(c["simulated"], "true");
  EXPECT_EQ(c["sev_snp_measurement"], Repeat("ab", 48));
  EXPECT_EQ(c["sev_snp_id_key_digest"], Repeat("01", 48));
  EXPECT_EQ(c["sev_snp_guest_svn"], "3");
  EXPECT_EQ(c["sev_snp_vmpl"], "0");
  EXPECT_EQ(c["sev_snp_tcb_snp"], "22");
  EXPECT_EQ(c["sev_snp_tcb_microcode"], "213");
  EXPECT_EQ(c.count("sev_snp_tcb_fmc"), 0u);  // Milan has no FMC
  EXPECT_EQ(c.count("sev_snp_author_key_digest"), 0u);  // all zero: absent
  EXPECT_EQ(c.count("sev_snp_family_id"), 0u);
}

}  // namespace
}  // namespace twi::sevsnp
