// Policy appraisal over real reports, one targeted change per case, each refusal message
// asserted in full; selectors and claims.
#include "attestors/sevsnp/policy.h"

#include <fstream>
#include <functional>
#include <iterator>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace twi::sevsnp {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

AttestationReport Load(const std::string& rel, Product product = Product::kUnknown) {
  std::ifstream f(std::string(TWI_TESTDATA) + "/sevsnp/" + rel, std::ios::binary);
  Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto r = ParseReport(b, {product});
  EXPECT_TRUE(r.ok()) << rel << ": " << r.status();
  return r.ok() ? *r : AttestationReport{};
}

// S6: Milan v3, POLICY 0x3001F, VMPL 0, VCEK, TCB bl=4 tee=0 snp=24 ucode=219, fw 1.55.29.
AttestationReport S6() { return Load("ms-tee-attestation-verification/milan_attestation_report.bin"); }
// S1: Milan v2, POLICY 0xB0000 (debug).
AttestationReport S1() { return Load("go-sev-guest/attestation.bin"); }
// S4: Milan v3, VLEK, VMPL 1, REPORTED ucode 217 < COMMITTED 219 < CURRENT 220.
AttestationReport S4() { return Load("trustee/test-vlek-report.bin"); }

struct Case {
  const char* name;
  std::function<AttestationReport()> report;
  std::function<void(SnpPolicy&)> policy;
  std::string error;  // "" = accepted
};

TEST(sevsnp_policy, AppraisalTable) {
  auto none = [](SnpPolicy&) {};
  auto with_policy = [](uint64_t raw) {
    return [raw] {
      AttestationReport r = S6();
      r.policy = DecodePolicy(raw);
      return r;
    };
  };
  const std::string s6_measurement =
      "5feee30d6d7e1a29f403d70a4198237ddfb13051a2d6976439487c609388ed7f98189887920ab2fa0096903a0c"
      "23fca1";
  const Case cases[] = {
      {"defaults accept s6", S6, none, ""},
      {"debug refused", S1, none,
       "policy.debug: guest policy allows debugging (POLICY bit 19 set, 0x00000000000b0000); "
       "set allow_debug = true to accept debug guests"},
      {"debug allowed", S1, [](SnpPolicy& p) { p.allow_debug = true; }, ""},
      {"reserved bit 17", with_policy(0x1001F), none,
       "policy.reserved_bit17: POLICY bit 17 is 0 (0x000000000001001f); the spec requires it "
       "to be 1"},
      {"undefined bits", with_policy(0x3001F | uint64_t{1} << 30), none,
       "policy.undefined_bits: POLICY sets undefined bits 0x0000000040000000 "
       "(0x000000004003001f); want bits 63:26 zero"},
      {"smt refused", S6, [](SnpPolicy& p) { p.allow_smt = false; },
       "policy.smt: guest policy allows SMT (POLICY bit 16 set, 0x000000000003001f); set "
       "allow_smt = true to accept SMT guests"},
      {"smt off accepted without smt", with_policy(0x2001F),
       [](SnpPolicy& p) { p.allow_smt = false; }, ""},
      {"migration agent refused", with_policy(0x7001F), none,
       "policy.migration_agent: guest policy allows a migration agent (POLICY bit 18 set, "
       "0x000000000007001f); set allow_migration_agent = true to accept migratable guests"},
      {"migration agent allowed", with_policy(0x7001F),
       [](SnpPolicy& p) { p.allow_migration_agent = true; }, ""},
      {"vmpl 1 refused by default", S4, none,
       "policy.vmpl: report VMPL is 1; allowed VMPLs are {0}"},
      {"vmpl 1 allowed", S4, [](SnpPolicy& p) { p.allowed_vmpls = {0, 1}; }, ""},
      {"vlek only", S6, [](SnpPolicy& p) { p.signing_key = SigningKeyPolicy::kVlekOnly; },
       "policy.signing_key: report is signed by the vcek; policy allows only the vlek"},
      {"vcek only refuses vlek", S4,
       [](SnpPolicy& p) {
         p.allowed_vmpls = {1};
         p.signing_key = SigningKeyPolicy::kVcekOnly;
       },
       "policy.signing_key: report is signed by the vlek; policy allows only the vcek"},
      {"min snp", S6, [](SnpPolicy& p) { p.min_tcb.snp = 25; },
       "policy.tcb.reported: REPORTED_TCB snp=24 is below the minimum 25 "
       "(bl=4,tee=0,snp=24,ucode=219)"},
      {"min snp met", S6, [](SnpPolicy& p) {
         p.min_tcb = {4, 0, 24, 219, std::nullopt};
       }, ""},
      {"stale reported tcb", S4,
       [](SnpPolicy& p) {
         p.allowed_vmpls = {1};
         p.min_tcb.microcode = 218;
       },
       "policy.tcb.reported: REPORTED_TCB ucode=217 is below the minimum 218 "
       "(bl=4,tee=0,snp=24,ucode=217)"},
      {"committed tcb",
       [] {
         AttestationReport r = S6();
         r.committed_tcb = DecodeTcb(0xDB17000000000004, Product::kMilan);
         return r;
       },
       [](SnpPolicy& p) { p.min_tcb.snp = 24; },
       "policy.tcb.committed: COMMITTED_TCB snp=23 is below the minimum 24 "
       "(bl=4,tee=0,snp=23,ucode=219)"},
      {"current tcb",
       [] {
         AttestationReport r = S6();
         r.current_tcb = DecodeTcb(0xDB18000000000003, Product::kMilan);
         return r;
       },
       [](SnpPolicy& p) { p.min_tcb.bootloader = 4; },
       "policy.tcb.current: CURRENT_TCB bl=3 is below the minimum 4 "
       "(bl=3,tee=0,snp=24,ucode=219)"},
      {"fmc floor does not apply to milan", S6, [](SnpPolicy& p) { p.min_tcb.fmc = 9; }, ""},
      {"unknown product fails closed", S1,
       [](SnpPolicy& p) {
         p.allow_debug = true;
         p.min_tcb.snp = 1;
       },
       "policy.tcb.reported: REPORTED_TCB raw=0x4405000000000002 cannot be compared: product "
       "unknown"},
      {"min firmware minor", S6, [](SnpPolicy& p) { p.min_firmware = MinFirmware{1, 56, {}}; },
       "policy.firmware: CURRENT firmware 1.55.29 is below the minimum 1.56"},
      {"min firmware build", S6, [](SnpPolicy& p) { p.min_firmware = MinFirmware{1, 55, 30}; },
       "policy.firmware: CURRENT firmware 1.55.29 is below the minimum 1.55.30"},
      {"min firmware met", S6, [](SnpPolicy& p) { p.min_firmware = MinFirmware{1, 55, {}}; }, ""},
      {"committed firmware",
       [] {
         AttestationReport r = S6();
         r.committed_fw = {1, 55, 20};
         return r;
       },
       [](SnpPolicy& p) { p.min_firmware = MinFirmware{1, 55, 29}; },
       "policy.firmware: COMMITTED firmware 1.55.20 is below the minimum 1.55.29"},
      {"measurement not allowed", S6,
       [](SnpPolicy& p) { p.measurements = {Bytes(48, 0xAB)}; },
       "policy.measurement: MEASUREMENT " + s6_measurement +
           " is not in the allow-list (1 value: abababababababab...)"},
      {"measurement allowed", S6,
       [&](SnpPolicy& p) { p.measurements = {Bytes(48, 1), *HexDecode(s6_measurement)}; }, ""},
      {"host data not allowed", S6,
       [](SnpPolicy& p) { p.host_data = {Bytes(32, 1), Bytes(32, 2)}; },
       "policy.host_data: HOST_DATA "
       "4f4448c67f3c8dfc8de8a5e37125d807dadcc41f06cf23f615dbd52eec777d10 is not in the "
       "allow-list (2 values, first 0101010101010101...)"},
      {"id key digest not allowed", S6, [](SnpPolicy& p) { p.id_key_digests = {Bytes(48, 0)}; },
       "policy.id_key_digest: ID_KEY_DIGEST "
       "0ad79ceb0b648b0e6a90d8aa9f6ea24c33a968b6632085353145e8b19a4741a2dab9ba342e13be4fc0d225e8"
       "89cc1a58 is not in the allow-list (1 value: 0000000000000000...)"},
      {"author key without AUTHOR_KEY_EN", S6,
       [](SnpPolicy& p) { p.author_key_digests = {Bytes(48, 0)}; },
       "policy.author_key_digest: AUTHOR_KEY_EN is 0 (no author key), but an "
       "author_key_digests allow-list is configured"},
  };
  for (const Case& c : cases) {
    SnpPolicy policy;
    c.policy(policy);
    CheckList checks;
    absl::Status s = Appraise(c.report(), policy, checks);
    if (c.error.empty()) {
      EXPECT_TRUE(s.ok()) << c.name << ": " << s;
      EXPECT_TRUE(checks.all_passed()) << c.name;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << c.name;
      EXPECT_EQ(s.message(), c.error) << c.name;
    }
  }
}

TEST(sevsnp_policy, EveryCheckIsRecordedAndTheFirstFailureReturned) {
  SnpPolicy policy;
  policy.allow_smt = false;
  CheckList checks;
  absl::Status s = Appraise(S1(), policy, checks);  // debug and smt both refused
  EXPECT_THAT(std::string(s.message()), HasSubstr("policy.debug:"));
  std::vector<std::string> failed, names;
  for (const Check& c : checks.checks()) {
    names.push_back(c.name);
    if (!c.passed) failed.push_back(c.name);
  }
  EXPECT_THAT(failed, ElementsAre("policy.debug", "policy.smt"));
  EXPECT_THAT(names, ElementsAre("policy.debug", "policy.reserved_bit17",
                                 "policy.undefined_bits", "policy.smt", "policy.migration_agent",
                                 "policy.vmpl", "policy.signing_key", "policy.tcb.reported",
                                 "policy.tcb.committed", "policy.tcb.current", "policy.firmware",
                                 "policy.measurement", "policy.host_data",
                                 "policy.id_key_digest", "policy.author_key_digest"));
}

TEST(sevsnp_policy, ValidatePolicyReportsEveryProblem) {
  SnpPolicy p;
  EXPECT_TRUE(ValidatePolicy(p).ok());
  p.measurements = {Bytes(47)};
  p.host_data = {Bytes(32), Bytes(31)};
  p.allowed_vmpls = {0, 4};
  EXPECT_EQ(ValidatePolicy(p).message(),
            "invalid sev-snp policy: measurements[0] is 47 bytes, want 48; host_data[1] is 31 "
            "bytes, want 32; allowed_vmpls has 4, want 0..3");
  SnpPolicy q;
  q.allowed_vmpls.clear();
  EXPECT_EQ(ValidatePolicy(q).message(),
            "invalid sev-snp policy: allowed_vmpls is empty: no report could pass");
}

TEST(sevsnp_policy, ParseMinFirmwareTable) {
  struct Case { const char* in; std::string error; int major, minor, build; };
  const Case cases[] = {
      {"1.55", "", 1, 55, -1},
      {"1.55.29", "", 1, 55, 29},
      {"1", "firmware version \"1\" must be major.minor or major.minor.build", 0, 0, 0},
      {"1.2.3.4", "firmware version \"1.2.3.4\" must be major.minor or major.minor.build", 0, 0, 0},
      {"1.x", "firmware version \"1.x\": part \"x\" is not a number 0..255", 0, 0, 0},
      {"1.256", "firmware version \"1.256\": part \"256\" is not a number 0..255", 0, 0, 0},
  };
  for (const Case& c : cases) {
    auto m = ParseMinFirmware(c.in);
    if (c.error.empty()) {
      ASSERT_TRUE(m.ok()) << c.in;
      EXPECT_EQ(m->major, c.major);
      EXPECT_EQ(m->minor, c.minor);
      EXPECT_EQ(m->build.has_value() ? *m->build : -1, c.build);
    } else {
      EXPECT_EQ(m.status().message(), c.error) << c.in;
    }
  }
}

TEST(sevsnp_policy, ParseHexAllowList) {
  std::vector<std::string> ok = {std::string(96, 'a'), std::string(96, 'B')};
  auto v = ParseHexAllowList(ok, 48, "measurements");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)[1][0], 0xBB);
  std::vector<std::string> short_value = {"abcd"};
  EXPECT_EQ(ParseHexAllowList(short_value, 48, "measurements").status().message(),
            "measurements[0] is 2 bytes, want 48");
  std::vector<std::string> bad = {std::string(64, '0'), "zz"};
  EXPECT_EQ(ParseHexAllowList(bad, 32, "host_data").status().message(),
            "host_data[1]: invalid hex character at position 0");
}

TEST(sevsnp_policy, SelectorsForVcekReport) {
  EXPECT_THAT(
      Selectors(S6()),
      ElementsAre(
          "tee:sev-snp",
          "sev-snp:measurement:5feee30d6d7e1a29f403d70a4198237ddfb13051a2d6976439487c609388ed7f"
          "98189887920ab2fa0096903a0c23fca1",
          "sev-snp:product:milan", "sev-snp:policy-debug:false",
          "sev-snp:host-data:4f4448c67f3c8dfc8de8a5e37125d807dadcc41f06cf23f615dbd52eec777d10",
          "sev-snp:tcb:bl=4,tee=0,snp=24,ucode=219", "sev-snp:signing-key:vcek", "sev-snp:vmpl:0",
          "sev-snp:id-key-digest:0ad79ceb0b648b0e6a90d8aa9f6ea24c33a968b6632085353145e8b19a4741a2"
          "dab9ba342e13be4fc0d225e889cc1a58",
          "sev-snp:guest-svn:2"));
}

TEST(sevsnp_policy, SelectorsForVlekAndTurin) {
  std::vector<std::string> vlek = Selectors(S4());
  EXPECT_THAT(vlek, Contains("sev-snp:signing-key:vlek"));
  EXPECT_THAT(vlek, Contains("sev-snp:vmpl:1"));
  EXPECT_THAT(vlek, Not(Contains(HasSubstr("id-key-digest"))));  // zero: no selector
  AttestationReport turin = S4();
  turin.product = Product::kUnknown;
  ASSERT_TRUE(SetProduct(turin, Product::kTurin).ok());
  EXPECT_THAT(Selectors(turin), Contains("sev-snp:product:turin"));
  // Same raw TCB bytes, Turin layout: fmc@0 bl@1 tee@2 snp@3.
  EXPECT_THAT(Selectors(turin), Contains("sev-snp:tcb:bl=0,tee=0,snp=0,ucode=217,fmc=4"));
  EXPECT_THAT(Selectors(S1()), Contains("sev-snp:policy-debug:true"));
  EXPECT_THAT(Selectors(S1()), Not(Contains(HasSubstr("sev-snp:product:"))));
}

TEST(sevsnp_policy, Claims) {
  auto c = Claims(S6());
  EXPECT_EQ(c["report_version"], "3");
  EXPECT_EQ(c["product"], "milan");
  EXPECT_EQ(c["reported_tcb"], "bl=4,tee=0,snp=24,ucode=219");
  EXPECT_EQ(c["policy"], "0x000000000003001f");
  EXPECT_EQ(c["policy_debug"], "false");
  EXPECT_EQ(c["signing_key"], "vcek");
  EXPECT_EQ(c["current_firmware"], "1.55.29");
  EXPECT_EQ(c["chip_id"].substr(0, 8), "4ffb5cb4");
  EXPECT_EQ(c["chip_id"].size(), 128u);
  EXPECT_EQ(c["guest_svn"], "2");
  EXPECT_EQ(c["platform_info"], "0x0000000000000025");
  for (const char* key : {"measurement", "host_data", "id_key_digest", "author_key_digest",
                          "report_id", "report_data", "family_id", "image_id", "vmpl",
                          "current_tcb", "committed_tcb", "launch_tcb", "committed_firmware"}) {
    EXPECT_TRUE(c.contains(key)) << key;
  }
}

}  // namespace
}  // namespace twi::sevsnp
