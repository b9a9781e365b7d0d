// The config builders: defaults, types, every problem reported at once, unknown keys, and the
// schema (every documented key is accepted with its example value).
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plugin/config/configs.h"
#include "plugin/config/schema.h"

namespace twi::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ConfigTest, AgentDefaults) {
  auto c = BuildAgentConfig("", "example.org");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->trust_domain, "example.org");
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->state_dir, "/var/lib/twi-attestor/agent");
  EXPECT_EQ(c->simulate, "");
  EXPECT_EQ(c->snp_vmpl, 0);
  EXPECT_TRUE(c->warnings.empty());
}

TEST(ConfigTest, ServerDefaultsFailClosed) {
  auto c = BuildServerConfig("", "example.org");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->insecure_allow_no_tee);
  EXPECT_FALSE(c->insecure_simulation_roots);
  EXPECT_EQ(c->agent_path_template, "{instance_key_hash}");
}

TEST(ConfigTest, ReportsEveryProblemAtOnceInSourceOrder) {
  auto c = BuildAgentConfig(R"(
log_level = "loud"
polcy = 3
sev_snp {
  vmpl = 7
  devce_path = "/dev/x"
}
state_dir = 5
)", "example.org");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(c.status().message()),
            "invalid configuration (5 problems): "
            "line 2, column 1: \"log_level\" must be one of trace, debug, info, warn, error; got \"loud\"; "
            "line 3, column 1: unknown key \"polcy\" (known keys: azure, gcp, key_binding, log_level, sev_snp, simulate, simulate_debug_td, "
      "simulate_measurement, simulate_mrtd, simulation_dir, state_dir, tdx, tpm); "
            "line 5, column 3: \"sev_snp.vmpl\" must be between 0 and 3, got 7; "
            "line 6, column 3: unknown key \"sev_snp.devce_path\" (did you mean \"device_path\"? known keys in "
            "sev_snp: configfs_path, device_path, vmpl); "
            "line 8, column 1: \"state_dir\" must be a string, got number");
}

TEST(ConfigTest, SyntaxErrorIsOneProblemWithPosition) {
  auto c = BuildServerConfig("insecure_allow_no_tee = \n", "example.org");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              AllOf(HasSubstr("plugin_data is not valid HCL: line 2"), HasSubstr("invalid configuration: ")));
}

TEST(ConfigTest, DuplicateKeyIsAProblem) {
  auto c = BuildServerConfig("insecure_allow_no_tee = true\ninsecure_allow_no_tee = false\n", "example.org");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("line 2, column 1: \"insecure_allow_no_tee\" is set more than once (first at line 1)"));
}

TEST(ConfigTest, BoolMustBeABool) {
  auto c = BuildServerConfig("insecure_allow_no_tee = \"yes\"\n", "example.org");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("\"insecure_allow_no_tee\" must be a bool (true or false), got string"));
}

TEST(ConfigTest, TrustDomainChecked) {
  auto c = BuildServerConfig("", "spiffe://Example.org");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("trust domain \"spiffe://Example.org\" is not valid"));
}

TEST(ConfigTest, StateDirMustBeAbsolute) {
  auto c = BuildAgentConfig("state_dir = \"relative/dir\"", "example.org");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("\"state_dir\" must be an absolute path, got \"relative/dir\""));
}

TEST(ConfigTest, InsecureOptionsWarn) {
  auto c = BuildServerConfig(
      "insecure_allow_no_tee = true\ninsecure_simulation_roots = true\n"
      "sev_snp {\n  extra_roots = [\"vcek:/etc/twi/sim-amd/ark.pem\"]\n}\n",
      "example.org");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->warnings.size(), 6u);
  EXPECT_THAT(c->warnings[0], HasSubstr("insecure_allow_no_tee = true"));
  EXPECT_THAT(c->warnings[1], HasSubstr("insecure_simulation_roots = true"));
  EXPECT_EQ(c->warnings[4],
            "sev_snp.extra_roots: \"vcek:/etc/twi/sim-amd/ark.pem\" is trusted besides AMD's roots, "
            "for the product its ARK names and vcek-signed evidence only; evidence it verifies "
            "carries the selector sev-snp:root:extra");
}

// Issue 11 (6): the simulation opt-in trusts only a configured root file, so without one it is
// refused, with where to find the simulator's root.
TEST(AttackConfig, SimulationRootsNeedAPinnedRoot) {
  auto c = BuildServerConfig("insecure_simulation_roots = true\n", "example.org");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("insecure_simulation_roots = true needs the simulator's root pinned: add "
                        "sev_snp { extra_roots = [\"vcek:DIR/ark.pem\"] }"));
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("twi sim sev-snp --out OUT"));
}

// Every extra root names the key type it is trusted for.
TEST(ConfigTest, ExtraRootEntriesNameTheirKeyType) {
  auto c = BuildServerConfig(
      "sev_snp {\n  extra_roots = [\"vlek:/a/ark.pem\", \"vcek:/b/ark.pem\"]\n}\n", "example.org");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->sev_snp.extra_root_files.size(), 2u);
  EXPECT_EQ(c->sev_snp.extra_root_files[0].key, sevsnp::SigningKey::kVlek);
  EXPECT_EQ(c->sev_snp.extra_root_files[0].path, "/a/ark.pem");
  EXPECT_EQ(c->sev_snp.extra_root_files[1].Entry(), "vcek:/b/ark.pem");
  for (const char* bad : {"/a/ark.pem", "vcek:", "VCEK:/a/ark.pem"}) {
    auto b = BuildServerConfig(std::string("sev_snp {\n  extra_roots = [\"") + bad + "\"]\n}\n",
                               "example.org");
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_THAT(std::string(b.status().message()),
                HasSubstr(std::string("\"sev_snp.extra_roots\" entry \"") + bad +
                          "\" must be \"vcek:FILE\" or \"vlek:FILE\""));
  }
}

// Issue 11 (4): a server without allow-lists or a minimum TCB accepts any genuine guest of any
// tenant at any TCB; Configure and Validate say so, and stop saying so once they are set.
TEST(AttackConfig, OpenDefaultsWarn) {
  auto open = BuildServerConfig("", "example.org");
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_EQ(open->warnings.size(), 3u);
  EXPECT_THAT(open->warnings[0], HasSubstr("any genuine SEV-SNP guest of any cloud tenant is accepted"));
  EXPECT_THAT(open->warnings[1], HasSubstr("sev_snp.min_tcb is not set: reports at any TCB are accepted"));
  EXPECT_THAT(open->warnings[2], HasSubstr("tdx: no mrtd or rtmr0-3 allow-list is set: any genuine TD"));
  auto pinned = BuildServerConfig(
      "sev_snp {\n  host_data = [\"" + std::string(64, 'a') + "\"]\n  min_tcb { snp = 5 }\n}\n"
      "tdx {\n  rtmr1 = [\"" + std::string(96, 'b') + "\"]\n}\n",
      "example.org");
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_TRUE(pinned->warnings.empty()) << pinned->warnings[0];
}

// Issue 11 (3): templates built only from fields shared by many VMs or chosen by the host
// would let one VM claim another's agent ID; they are refused at Configure.
TEST(AttackConfig, AgentIdTakeoverTemplateRefused) {
  for (const char* tmpl : {"snp/{sev_snp.chip_id}", "{sev_snp.measurement}", "h/{sev_snp.host_data}",
                           "fixed", "{sev_snp.chip_id}-{sev_snp.host_data}"}) {
    auto c = BuildServerConfig(std::string("agent_path_template = \"") + tmpl + "\"", "example.org");
    ASSERT_FALSE(c.ok()) << tmpl;
    EXPECT_THAT(std::string(c.status().message()),
                HasSubstr("has no per-instance field; add {instance_key_hash}, {sev_snp.report_id}, {tpm.ek_hash} or {azure.vm_id} (or {gcp.instance_id}"))
        << tmpl;
    EXPECT_THAT(std::string(c.status().message()), HasSubstr("take over another agent's ID")) << tmpl;
  }
  for (const char* tmpl : {"snp/{sev_snp.chip_id}/{sev_snp.report_id}", "{sev_snp.measurement}/{instance_key_hash}"}) {
    auto c = BuildServerConfig(std::string("agent_path_template = \"") + tmpl + "\"", "example.org");
    EXPECT_TRUE(c.ok()) << tmpl << ": " << c.status();
  }
}

TEST(ConfigTest, AgentPathTemplateValidated) {
  struct Case {
    const char* tmpl;
    const char* error;  // "" = accepted
  } cases[] = {
      {"{instance_key_hash}", ""},
      {"snp/{sev_snp.chip_id}/{instance_key_hash}", ""},
      {"{nope}", "unknown placeholder {nope}"},
      {"{instance_key_hash", "unterminated '{' at offset 0"},
      {"a}b", "unbalanced '}' at offset 1"},
      {"a//{instance_key_hash}", "has an empty, '.' or '..' segment"},
      {"../{instance_key_hash}", "has an empty, '.' or '..' segment"},
      {"a b", "contains ' '"},
      {"", "agent path is empty"},
  };
  for (const auto& tc : cases) {
    auto c = BuildServerConfig(std::string("agent_path_template = \"") + tc.tmpl + "\"", "example.org");
    if (std::string(tc.error).empty()) {
      EXPECT_TRUE(c.ok()) << tc.tmpl << ": " << c.status();
    } else {
      ASSERT_FALSE(c.ok()) << tc.tmpl;
      EXPECT_THAT(std::string(c.status().message()), HasSubstr(tc.error)) << tc.tmpl;
    }
  }
}

TEST(ConfigTest, JsonFormAccepted) {
  auto c = BuildAgentConfig(R"({"state_dir": "/tmp/x", "sev_snp": {"vmpl": 1}})", "example.org");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->state_dir, "/tmp/x");
  EXPECT_EQ(c->snp_vmpl, 1);
}

// Builds one HCL document that sets every documented key to its example value.
std::string AllExamples(std::span<const KeyDoc> schema) {
  std::string out;
  for (const auto& k : schema) {
    std::string key(k.key);
    std::string suffix;
    size_t dot;
    int depth = 0;
    while ((dot = key.find('.')) != std::string::npos) {
      out += key.substr(0, dot) + " { ";
      key = key.substr(dot + 1);
      ++depth;
    }
    out += key + " = " + std::string(k.example);
    for (int i = 0; i < depth; ++i) out += " }";
    out += "\n";
  }
  return out;
}

TEST(ConfigTest, EveryDocumentedKeyIsRead) {
  // Keys inside one block are spread over several blocks in AllExamples, which HCL merges
  // poorly; so check one key at a time.
  for (const auto& k : AgentSchema()) {
    auto c = BuildAgentConfig(AllExamples(std::span(&k, 1)), "example.org");
    EXPECT_TRUE(c.ok()) << k.key << ": " << c.status();
  }
  for (const auto& k : ServerSchema()) {
    std::string hcl = AllExamples(std::span(&k, 1));
    // A tpm block needs a trust route: policy keys are checked beside one.
    if (hcl.rfind("tpm { ", 0) == 0 && k.key != "tpm.ek_hashes") {
      hcl = "tpm { ek_hashes = [\"" + std::string(64, '0') + "\"]\n" + hcl.substr(6);
    }
    // A gcp block needs its CAs and the TEE it requires.
    if (hcl.rfind("gcp { ", 0) == 0) {
      if (k.key != "gcp.ca_bundle") hcl = "gcp { ca_bundle = [\"/ca.pem\"]\n" + hcl.substr(6);
      if (k.key != "gcp.require_tee") hcl = "gcp { require_tee = \"none\"\n" + hcl.substr(6);
    }
    auto c = BuildServerConfig(hcl, "example.org");
    EXPECT_TRUE(c.ok()) << k.key << ": " << c.status();
  }
  for (const auto& k : WorkloadSchema()) {
    auto c = BuildWorkloadConfig(AllExamples(std::span(&k, 1)), "example.org");
    EXPECT_TRUE(c.ok()) << k.key << ": " << c.status();
  }
}

TEST(ConfigTest, WorkloadHashingLimits) {
  auto c = BuildWorkloadConfig(
      "max_concurrent_hashes = 4\nhash_timeout_ms = 250\nhash_budget_bytes_per_uid = 0\n"
      "proc_sys_root = \"/host/proc/sys\"\n",
      "example.org");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_concurrent_hashes, 4);
  EXPECT_EQ(c->hash_timeout_ms, 250);
  EXPECT_EQ(c->hash_budget_bytes_per_uid, 0);
  EXPECT_EQ(c->proc_sys_root, "/host/proc/sys");
  EXPECT_EQ(BuildWorkloadConfig("", "example.org")->ima_path,
            "/sys/kernel/security/ima/binary_runtime_measurements");
  auto bad = BuildWorkloadConfig("max_concurrent_hashes = 0\nhash_timeout_ms = 0\n", "example.org");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"max_concurrent_hashes\" must be between 1 and 64"));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"hash_timeout_ms\" must be between 1 and"));
}

TEST(ConfigTest, EffectiveConfigJson) {
  auto j = EffectiveConfigJson("agent", "state_dir = \"/tmp/a\"", "example.org");
  ASSERT_TRUE(j.ok());
  EXPECT_THAT(*j, HasSubstr("\"state_dir\": \"/tmp/a\""));
  EXPECT_FALSE(EffectiveConfigJson("nope", "", "example.org").ok());
}

}  // namespace
}  // namespace twi::config

namespace twi::config {
namespace {

TEST(TpmConfigTest, AgentBlockDefaultsAndErrorsNameTheKey) {
  auto d = BuildAgentConfig("", "example.org");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->tpm.tcti, "device:/dev/tpmrm0");
  EXPECT_EQ(d->tpm.pcr_banks, std::vector<std::string>{"sha256"});
  EXPECT_EQ(d->tpm.pcrs.size(), 8u);
  auto c = BuildAgentConfig(
      "tpm {\n  tcti = \"swtpm:port=1\"\n  pcr_banks = [\"sha1\", \"sha256\"]\n  pcrs = [0, 7]\n"
      "  ek_alg = \"ecc\"\n  ak_handle = 2164260865\n}\n", "example.org");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tpm.ek_alg, "ecc");
  EXPECT_EQ(c->tpm.ak_handle, 0x81000001u);
  auto bad = BuildAgentConfig(
      "tpm {\n  pcr_banks = [\"md5\"]\n  pcrs = [0, 24]\n  ek_alg = \"dsa\"\n  ak_handle = 5\n}\n",
      "example.org");
  ASSERT_FALSE(bad.ok());
  const std::string m(bad.status().message());
  EXPECT_THAT(m, HasSubstr("\"tpm.pcr_banks\" entry \"md5\" must be sha1, sha256, sha384 or sha512"));
  EXPECT_THAT(m, HasSubstr("\"tpm.pcrs\"[1] must be an integer between 0 and 23"));
  EXPECT_THAT(m, HasSubstr("\"tpm.ek_alg\" must be \"rsa\" or \"ecc\", got \"dsa\""));
  EXPECT_THAT(m, HasSubstr("\"tpm.ak_handle\" must be 0 or within 0x81000000-0x817fffff, got 0x5"));
}

TEST(TpmConfigTest, ServerBlockNeedsATrustRouteAndValidPolicy) {
  auto none = BuildServerConfig("", "example.org");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->tpm.enabled);
  auto empty = BuildServerConfig("tpm {}\n", "example.org");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(std::string(empty.status().message()),
              HasSubstr("needs a trust route: set \"tpm.ek_ca_files\", \"tpm.ek_hashes\" or \"tpm.ak_ca_files\""));
  const std::string h(64, 'a');
  auto ok = BuildServerConfig("tpm {\n  ek_hashes = [\"" + h + "\"]\n  pcrs {\n    \"sha256:7\" = [\"" + h +
                                  "\"]\n  }\n  selector_pcrs = [0]\n}\n",
                              "example.org");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->tpm.enabled);
  ASSERT_EQ(ok->tpm.policy.pcrs.size(), 1u);
  EXPECT_EQ(ok->tpm.policy.pcrs[0].index, 7u);
  auto bad = BuildServerConfig("tpm {\n  ek_hashes = [\"abcd\"]\n  pcrs {\n    \"sha256:30\" = [\"" + h +
                                   "\"]\n  }\n}\n",
                               "example.org");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"tpm.ek_hashes\" entry \"abcd\" must be 64 hex digits"));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"tpm.pcrs\": "));
}

}  // namespace
}  // namespace twi::config
