// twi inspect on every SEV-SNP vector (golden output for a few), its JSON field names against
// twi verify --json's claims, and the "not a ... because ..." message for anything else.
#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "attestors/sevsnp/sim.h"
#include "cli/inspect.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"
#include "test/collateral/temp_dir.h"

namespace twi::cli {
namespace {

using ::testing::HasSubstr;
using testing::Sh;
using testing::Twi;

namespace fs = std::filesystem;

std::string Vector(const std::string& rel) { return std::string(TWI_TESTDATA) + "/sevsnp/" + rel; }

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(InspectTest, DecodesEveryVector) {
  int n = 0;
  for (const auto& e : fs::recursive_directory_iterator(std::string(TWI_TESTDATA) + "/sevsnp")) {
    if (!e.is_regular_file() || e.path().extension() == ".md") continue;
    ++n;
    auto human = Sh(Twi() + " inspect " + e.path().string());
    EXPECT_EQ(human.code, 0) << e.path() << "\n" << human.out;
    auto json = Sh(Twi() + " inspect --json " + e.path().string(), false);
    ASSERT_EQ(json.code, 0) << e.path();
    auto j = nlohmann::json::parse(json.out);
    EXPECT_THAT(std::string(j["format"]), ::testing::AnyOf("sev-snp-report", "certificates", "sev-snp-cert-table"))
        << e.path();
  }
  EXPECT_GE(n, 20);
}

// Golden files: test/cli/golden/<name>; TWI_UPDATE_GOLDEN=1 rewrites them.
struct GoldenCase {
  const char* vector;  // relative to `dir`
  const char* golden;
  const char* flags;
};
void ExpectGolden(const std::string& dir, std::initializer_list<GoldenCase> cases) {
  for (const GoldenCase& c : cases) {
    auto r = Sh(Twi() + " inspect " + c.flags + dir + "/" + c.vector, false);
    ASSERT_EQ(r.code, 0) << c.vector;
    std::string golden = std::string(TWI_SOURCE_DIR) + "/test/cli/golden/" + c.golden;
    if (std::getenv("TWI_UPDATE_GOLDEN") != nullptr) std::ofstream(golden, std::ios::trunc) << r.out;
    EXPECT_EQ(r.out, ReadAll(golden)) << c.golden << " (TWI_UPDATE_GOLDEN=1 rewrites it)";
  }
}

TEST(InspectTest, GoldenOutput) {
  ExpectGolden(std::string(TWI_TESTDATA) + "/sevsnp",
               {{"virtee-sev/report_milan.hex", "report_milan.txt", ""},
                {"virtee-sev/report_milan.hex", "report_milan.json", "--json "},
                {"virtee-sev/cert_chain_milan", "cert_chain_milan.txt", ""},
                {"trustee/test-vlek.der", "test-vlek.json", "--json "},
                {"ms-tee-attestation-verification/milan_vcek.pem", "milan_vcek.txt", ""}});
}

TEST(InspectTest, ReportFieldsAreVerifysClaimNames) {
  auto v = Sh(Twi() + " verify --type sev-snp --report " + Vector("virtee-sev/report_milan.hex") + " --vcek " +
                  Vector("virtee-sev/vcek_milan.der") + " --cert-chain " + Vector("virtee-sev/cert_chain_milan") +
                  " --at 2024-01-01T00:00:00Z --json",
              false);
  ASSERT_EQ(v.code, 0) << v.out;
  auto i = Sh(Twi() + " inspect --json " + Vector("virtee-sev/report_milan.hex"), false);
  ASSERT_EQ(i.code, 0);
  auto vj = nlohmann::json::parse(v.out)["claims"];
  auto ij = nlohmann::json::parse(i.out)["claims"];
  std::vector<std::string> vk, ik;
  for (const auto& [k, _] : vj.items()) vk.push_back(k);
  for (const auto& [k, _] : ij.items()) ik.push_back(k);
  EXPECT_THAT(ik, ::testing::UnorderedElementsAreArray(vk));
  for (const char* k : {"measurement", "chip_id", "report_data", "policy", "vmpl", "host_data"}) {
    EXPECT_EQ(ij[k], vj[k]) << k;
  }
}

TEST(InspectTest, SimulatedCertificateTableAndCollectedFiles) {
  twi::testing::TempDir dir;
  // An extended-report certificate table as a host supplies it (configfs-tsm auxblob).
  auto sim = sevsnp::SnpSimulator::Create({});
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto ev = (*sim)->GetReport(Bytes(64, 0));
  ASSERT_TRUE(ev.ok()) << ev.status();
  std::ofstream(dir / "auxblob", std::ios::binary) << AsString(ev->cert_table);
  auto t = Sh(Twi() + " inspect --json " + (dir / "auxblob"), false);
  ASSERT_EQ(t.code, 0) << t.out;
  auto tj = nlohmann::json::parse(t.out);
  EXPECT_EQ(tj["format"], "sev-snp-cert-table");
  ASSERT_EQ(tj["entries"].size(), 3u);
  EXPECT_EQ(tj["entries"][0]["guid"], "63da758d-e664-4564-adc5-f4b93be8accd");
  EXPECT_EQ(tj["entries"][0]["certificate"]["role"], "vcek");
  EXPECT_EQ(tj["entries"][1]["certificate"]["role"], "ask");
  EXPECT_EQ(tj["entries"][2]["certificate"]["role"], "ark");

  // What `twi collect` writes decodes too.
  ASSERT_EQ(Sh(Twi() + " collect --simulate sev-snp --rsa-bits 2048 --out " + (dir / "ev")).code, 0);
  auto c = Sh(Twi() + " inspect --json " + (dir / "ev/cert_chain.pem"), false);
  ASSERT_EQ(c.code, 0) << c.out;
  auto cj = nlohmann::json::parse(c.out);
  ASSERT_EQ(cj["certificates"].size(), 2u);
  EXPECT_EQ(cj["certificates"][0]["role"], "ask");
  EXPECT_EQ(cj["certificates"][1]["role"], "ark");
  auto v = Sh(Twi() + " inspect --json " + (dir / "ev/vcek.der"), false);
  EXPECT_EQ(nlohmann::json::parse(v.out)["certificates"][0]["role"], "vcek");
  EXPECT_EQ(Sh(Twi() + " inspect " + (dir / "ev/report.bin")).code, 0);
}

TEST(InspectTest, UnknownInputSaysWhatItIsNot) {
  twi::testing::TempDir dir;
  std::ofstream(dir / "junk") << "hello, this is not evidence\n";
  auto r = Sh(Twi() + " inspect " + (dir / "junk"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("is not an evidence file twi knows: not an SEV-SNP report because it is 28 bytes, "
                               "want 1184; not a DCAP quote because it is 28 bytes, want at least 48; not a DCAP "
                               "collateral bundle because it has no \"tcb_info\" key; "));
  EXPECT_THAT(r.out, HasSubstr("; not an SEV-SNP certificate table because"));
  EXPECT_THAT(r.out, HasSubstr("; not a certificate because"));
  EXPECT_THAT(r.out, HasSubstr("; not a CRL because"));
  // A report-sized file of zeros parses structurally but is not a report.
  std::ofstream(dir / "zeros", std::ios::binary) << std::string(1184, '\0');
  auto z = Sh(Twi() + " inspect " + (dir / "zeros"));
  EXPECT_EQ(z.code, 1) << z.out;
  EXPECT_THAT(z.out, HasSubstr("not an SEV-SNP report because"));
  EXPECT_THAT(z.out, HasSubstr("not a DCAP quote because header version 0 / attestation key type 0 is not 3-5 / 2"));
  EXPECT_EQ(Sh(Twi() + " inspect " + (dir / "missing")).code, 2);
  EXPECT_EQ(Sh(Twi() + " inspect").code, 2);
}

// ---- Intel DCAP: TDX/SGX quotes, collateral bundles, PCS documents, CRLs ----

std::string TdxVector(const std::string& rel) { return std::string(TWI_TESTDATA) + "/tdx/" + rel; }

TEST(InspectTdxTest, DecodesEveryVector) {
  std::map<std::string, std::string> formats;
  for (const auto& e : fs::recursive_directory_iterator(std::string(TWI_TESTDATA) + "/tdx")) {
    if (!e.is_regular_file() || e.path().extension() == ".md") continue;
    auto human = Sh(Twi() + " inspect " + e.path().string());
    EXPECT_EQ(human.code, 0) << e.path() << "\n" << human.out;
    auto json = Sh(Twi() + " inspect --json " + e.path().string(), false);
    ASSERT_EQ(json.code, 0) << e.path();
    formats[e.path().filename().string()] = nlohmann::json::parse(json.out)["format"];
  }
  EXPECT_EQ(formats["tdx_quote"], "tdx-quote");
  EXPECT_EQ(formats["tdx_quote_outdated"], "tdx-quote");  // v5
  EXPECT_EQ(formats["tdx_prod_quote_SPR_E4.dat"], "tdx-quote");
  EXPECT_EQ(formats["cos-113-tdx-quote.dat"], "tdx-quote");
  EXPECT_EQ(formats["sgx_quote"], "sgx-quote");
  EXPECT_EQ(formats["tdx_quote_collateral.json"], "dcap-collateral");
  EXPECT_EQ(formats["sample_tcbInfo_response"], "dcap-tcb-info");
  EXPECT_EQ(formats["enclaveIdentity.json"], "dcap-qe-identity");
  EXPECT_EQ(formats["pckcrl"], "crl");
  EXPECT_EQ(formats["rootcrl.der"], "crl");
  EXPECT_EQ(formats["trusted_root.pem"], "certificates");
  EXPECT_EQ(formats["ccel_table.dat"], "ccel-table");
  EXPECT_EQ(formats["ccel_data_head.dat"], "tcg-event-log");
  EXPECT_GE(formats.size(), 25u);
}

// Event logs: every vector decodes; T7's CCEL log replays to its quote's RTMR0-2, side by side.
TEST(InspectTdxTest, EventLogsAndCcel) {
  for (const auto& e : fs::directory_iterator(std::string(TWI_TESTDATA) + "/eventlog")) {
    std::string ext = e.path().extension().string();
    if (ext == ".md" || ext == ".txt") continue;
    auto r = Sh(Twi() + " inspect --json " + e.path().string(), false);
    ASSERT_EQ(r.code, 0) << e.path();
    EXPECT_EQ(nlohmann::json::parse(r.out)["format"], "tcg-event-log") << e.path();
  }
  auto log = Sh(Twi() + " inspect --json " + TdxVector("go-tdx-guest/ccel_data_head.dat"), false);
  auto quote = Sh(Twi() + " inspect --json " + TdxVector("go-tdx-guest/cos-113-tdx-quote.dat"), false);
  ASSERT_EQ(log.code, 0);
  ASSERT_EQ(quote.code, 0);
  auto replay = nlohmann::json::parse(log.out)["replay"]["sha384"];
  auto claims = nlohmann::json::parse(quote.out)["claims"];
  EXPECT_EQ(replay["1"], claims["rtmr0"]);
  EXPECT_EQ(replay["2"], claims["rtmr1"]);
  EXPECT_EQ(replay["3"], claims["rtmr2"]);
  auto human = Sh(Twi() + " inspect " + TdxVector("go-tdx-guest/ccel_data_head.dat"), false);
  EXPECT_THAT(human.out, HasSubstr("replay sha384[1] (rtmr0)"));
}

TEST(InspectTdxTest, GoldenOutput) {
  ExpectGolden(std::string(TWI_TESTDATA) + "/tdx",
               {{"phala-dcap-qvl/tdx_quote", "tdx_quote.txt", ""},
                {"phala-dcap-qvl/tdx_quote_outdated", "tdx_quote_v5.json", "--json "},
                {"phala-dcap-qvl/sgx_quote", "sgx_quote.txt", ""},
                {"phala-dcap-qvl/tdx_quote_collateral.json", "tdx_collateral.txt", ""}});
}

// `twi inspect --json file`'s claims are all in `twi verify <verify_args> --json`'s, with the
// same values (verify adds the TCB ones), and include `want`. Returns inspect's JSON.
nlohmann::json ExpectVerifysClaims(const std::string& verify_args, const std::string& file,
                                   std::initializer_list<const char*> want) {
  auto v = Sh(Twi() + " verify " + verify_args + " --json", false);
  EXPECT_EQ(v.code, 0) << v.out;
  auto i = Sh(Twi() + " inspect --json " + file, false);
  EXPECT_EQ(i.code, 0);
  auto vj = nlohmann::json::parse(v.out, nullptr, false)["claims"];
  auto inspected = nlohmann::json::parse(i.out, nullptr, false);
  auto ij = inspected["claims"];
  for (const auto& [k, val] : ij.items()) {
    EXPECT_TRUE(vj.contains(k)) << k;
    EXPECT_EQ(val, vj[k]) << k;
  }
  for (const char* k : want) EXPECT_TRUE(ij.contains(k)) << k;
  return inspected;
}

TEST(InspectTdxTest, QuoteFieldsAreVerifysClaimNames) {
  auto i = ExpectVerifysClaims("--type tdx --quote " + TdxVector("phala-dcap-qvl/tdx_quote") + " --collateral " +
                                   TdxVector("phala-dcap-qvl/tdx_quote_collateral.json") + " --at 2025-07-01T00:00:00Z",
                               TdxVector("phala-dcap-qvl/tdx_quote"),
                               {"mrtd", "rtmr0", "rtmr3", "mrconfigid", "td_attributes", "debug", "fmspc", "quote_version"});
  auto d = i["decoded"];
  EXPECT_EQ(d["td_attributes_flags"], "sept_ve_disable");
  EXPECT_EQ(d["pck"]["extensions"]["sgx_tcb_components"], "3,3,2,2,4,1,0,5,0,0,0,0,0,0,0,0");
  EXPECT_EQ(d["qe_report"]["isv_prod_id"], 2);
}

// A debug TD from the simulator: DEBUG is decoded by name.
TEST(InspectTdxTest, DebugTdIsShown) {
  twi::testing::TempDir dir;
  ASSERT_EQ(Sh(Twi() + " sim tdx --report-data 00 --debug --out " + dir.path()).code, 0);
  auto r = Sh(Twi() + " inspect " + (dir / "quote.bin"), false);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("td_attributes_flags        debug,sept_ve_disable\n"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("debug +true"));
  auto c = Sh(Twi() + " inspect --json " + (dir / "collateral.json"), false);
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_EQ(nlohmann::json::parse(c.out)["collateral"]["tcb_info"]["id"], "TDX");
}

// Total on garbage: truncations, byte flips and overwrites of a real quote and of a bundle
// either decode or say why not, with a bounded message; never a crash (ASan runs this too).
TEST(InspectTdxTest, TotalOnMutatedInput) {
  std::string quote = ReadAll(TdxVector("phala-dcap-qvl/tdx_quote"));
  std::string bundle = ReadAll(TdxVector("phala-dcap-qvl/tdx_quote_collateral.json"));
  uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
  };
  int decoded = 0, refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string in = i % 3 == 2 ? bundle : quote;
    switch (i % 4) {
      case 0: in.resize(next() % in.size()); break;
      case 1: for (int k = 0; k < 4; ++k) in[next() % in.size()] ^= static_cast<char>(1u << (next() % 8)); break;
      case 2: for (int k = 0; k < 16; ++k) in[next() % in.size()] = static_cast<char>(next()); break;
      case 3: in.insert(next() % in.size(), std::string(next() % 64, static_cast<char>(next()))); break;
    }
    InspectInput input{ToBytes(in), in};
    auto got = InspectBytes(input);
    if (got.ok()) {
      ++decoded;
      EXPECT_FALSE(FormatHuman(*got).empty());
      EXPECT_FALSE(got->json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).empty());
    } else {
      ++refused;
      EXPECT_LT(got.status().message().size(), 8192u);
    }
  }
  EXPECT_GT(decoded, 0);
  EXPECT_GT(refused, 0);
}

// ---- Azure: HCL reports (SEV-SNP and TDX hardware), a bare TDREPORT ----

std::string AzureVector(const std::string& rel) { return std::string(TWI_TESTDATA) + "/azure/" + rel; }

TEST(InspectAzureTest, DecodesHclReportsAndTdReport) {
  struct Case {
    const char* file;
    const char* format;
    const char* evidence_type;
    const char* claim;  // one the hardware report gives
  };
  for (const Case& c : {Case{"kinvolk-azure-cvm-tooling/hcl-report-tdx.bin", "azure-hcl-report", "azure-tdx", "mrtd"},
                        Case{"kinvolk-azure-cvm-tooling/hcl-report-snp.bin", "azure-hcl-report", "azure-sev-snp", "measurement"},
                        Case{"trustee/hcl-report.bin", "azure-hcl-report", "azure-sev-snp", "measurement"},
                        Case{"derived/a1/hcl-report.bin", "azure-hcl-report", "azure-sev-snp", "measurement"}}) {
    auto r = Sh(Twi() + " inspect --json " + AzureVector(c.file), false);
    ASSERT_EQ(r.code, 0) << c.file << r.out;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["format"], c.format) << c.file;
    EXPECT_EQ(j["evidence_type"], c.evidence_type) << c.file;
    EXPECT_TRUE(j["claims"].contains(c.claim)) << c.file;
    EXPECT_EQ(j["claims"]["platform"], "azure") << c.file;
    // Real reports bind their runtime claims; the digest is shown as verify names it.
    EXPECT_EQ(j["decoded"]["report_data_binds_claims"], true) << c.file;
    EXPECT_TRUE(j["claims"].contains("report_data_binding")) << c.file;
    EXPECT_TRUE(j["claims"].contains("ak_pub_sha256")) << c.file;
  }
  auto td = Sh(Twi() + " inspect --json " + std::string(TWI_SOURCE_DIR) +
                   "/test/fuzz/corpus/inspect/tdx_tdreport", false);
  ASSERT_EQ(td.code, 0) << td.out;
  auto tj = nlohmann::json::parse(td.out);
  EXPECT_EQ(tj["format"], "tdx-tdreport");
  EXPECT_TRUE(tj["claims"].contains("rtmr3"));
  EXPECT_FALSE(tj["claims"].contains("quote_version"));  // a TDREPORT is not a quote
  // The TDREPORT inside A8's HCL report is that file: the same claims.
  auto hcl = nlohmann::json::parse(
      Sh(Twi() + " inspect --json " + AzureVector("kinvolk-azure-cvm-tooling/hcl-report-tdx.bin"), false).out);
  for (const auto& [k, v] : tj["claims"].items()) EXPECT_EQ(hcl["claims"][k], v) << k;
}

TEST(InspectAzureTest, GoldenOutput) {
  ExpectGolden(std::string(TWI_TESTDATA) + "/azure",
               {{"kinvolk-azure-cvm-tooling/hcl-report-tdx.bin", "azure_hcl_tdx.txt", ""},
                {"derived/a1/hcl-report.bin", "azure_hcl_snp.json", "--json "}});
}

// inspect's claims of an HCL report are twi verify --json's (verify adds the TCB ones).
TEST(InspectAzureTest, HclFieldsAreVerifysClaimNames) {
  const std::string a1 = AzureVector("derived/a1/");
  ExpectVerifysClaims("--type azure-sev-snp --hcl-report " + a1 + "hcl-report.bin --quote " + a1 +
                          "quote.bin --signature " + a1 + "signature.bin --pcrs " + a1 + "pcrs.json --nonce " +
                          "6368616c6c656e6765 --vcek " + a1 + "vcek.pem --at 2026-01-01T00:00:00Z",
                      a1 + "hcl-report.bin", {"measurement", "vm_id", "ak_pub_sha256", "report_data_binding"});
}

// A type neither SEV-SNP nor TDX, a truncated report and a TDREPORT of another type say why.
TEST(InspectAzureTest, OddHclReportsSayWhy) {
  twi::testing::TempDir dir;
  std::string hcl = ReadAll(AzureVector("kinvolk-azure-cvm-tooling/hcl-report-tdx.bin"));
  std::string odd = hcl;
  odd[0x4C0 + 8] = 7;  // runtime data's report type
  std::ofstream(dir / "odd.bin", std::ios::binary) << odd;
  auto r = Sh(Twi() + " inspect " + (dir / "odd.bin"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("not an Azure HCL report because hcl.structure: report type got 7, want 2 (snp) or 4 (tdx)"));
  std::string td = hcl.substr(0x20, 1024);
  td[0] = 0x02;  // REPORTTYPE.type: SGX, not TDX
  std::ofstream(dir / "td.bin", std::ios::binary) << td;
  auto t = Sh(Twi() + " inspect " + (dir / "td.bin"));
  EXPECT_EQ(t.code, 1);
  EXPECT_THAT(t.out, HasSubstr("not a TDX TDREPORT because tdreport"));
  std::ofstream(dir / "short.bin", std::ios::binary) << hcl.substr(0, 100);
  auto s = Sh(Twi() + " inspect " + (dir / "short.bin"));
  EXPECT_EQ(s.code, 1);
  EXPECT_THAT(s.out, HasSubstr("not an Azure HCL report because hcl.structure: got 100 bytes"));
}

}  // namespace
}  // namespace twi::cli
