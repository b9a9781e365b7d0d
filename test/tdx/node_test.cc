// The TDX appraiser as the server runs it (collateral source -> verify -> REPORTDATA binding ->
// CCEL -> policy), fed by the collector over the simulated device.
#include "attestors/tdx/node.h"

#include <fstream>

#include "attestors/appraisal/claims_vocabulary.h"
#include "attestors/core/file.h"
#include "attestors/tdx/sim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/collateral/temp_dir.h"

namespace twi::tdx {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class tdx_node : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sim = TdxSimulator::Create({});
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = std::move(*sim);
    std::ofstream(dir_ / "collateral.json") << sim_->collateral_json();
    collateral::DcapSourceOptions so;
    so.offline_path = dir_ / "collateral.json";
    auto source = collateral::MakeDcapCollateralSource(so, nullptr, nullptr);
    ASSERT_TRUE(source.ok()) << source.status();
    source_ = std::move(*source);
    options_.allow_simulation = true;
    options_.extra_roots = {sim_->root()};
    options_.collateral = source_.get();
  }
  Bytes ReportData() { return Bytes(64, 0x5a); }
  twi::v1::Evidence Evidence() {
    TdxCollector collector(std::make_unique<SimulatedTdxDevice>(sim_), CcelPaths{"", ""});
    auto e = collector.Collect(ReportData());
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *e : twi::v1::Evidence();
  }

  twi::testing::TempDir dir_;
  std::shared_ptr<const TdxSimulator> sim_;
  std::unique_ptr<collateral::DcapCollateralSource> source_;
  TdxAppraiserOptions options_;
  CheckList checks_;
};

TEST_F(tdx_node, SimulatedQuoteAppraisedWithClaimsInTheVocabulary) {
  auto r = TdxAppraiser(options_).Appraise(Evidence(), ReportData(), &checks_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->selectors, Contains("tee:tdx"));
  EXPECT_THAT(r->selectors, Contains("tdx:root:extra"));
  EXPECT_THAT(r->selectors, Contains("tdx:simulated:true"));
  EXPECT_EQ(r->fields.at("tdx.fmspc"), "00806f050000");
  EXPECT_EQ(r->claims.at("tee"), "tdx");
  EXPECT_EQ(r->claims.at("tdx_tcb_status"), "UpToDate");
  EXPECT_TRUE(appraisal::CheckClaims(r->claims).ok()) << appraisal::CheckClaims(r->claims);
  EXPECT_TRUE(checks_.all_passed());
}

TEST_F(tdx_node, SecondAppraisalHitsTheVerificationCache) {
  TdxAppraiser a(options_);
  ASSERT_TRUE(a.Appraise(Evidence(), ReportData(), &checks_).ok());
  CheckList second;
  ASSERT_TRUE(a.Appraise(Evidence(), ReportData(), &second).ok());
}

TEST_F(tdx_node, ReportDataMustBindTheNonce) {
  auto r = TdxAppraiser(options_).Appraise(Evidence(), Bytes(64, 0x00), &checks_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("quote.report_data: REPORTDATA"));
}

TEST_F(tdx_node, SimulatedRefusedUnlessAllowed) {
  options_.allow_simulation = false;
  auto r = TdxAppraiser(options_).Appraise(Evidence(), ReportData(), &checks_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("evidence.simulated: "));
}

// The simulated flag is the agent's word: a simulated quote that claims to be real still has
// to chain to the Intel root, which it cannot.
TEST_F(tdx_node, AttackSimulatedQuoteClaimingHardwareFailsTheChain) {
  options_.allow_simulation = false;
  auto e = Evidence();
  e.mutable_tdx()->set_simulated(false);
  auto r = TdxAppraiser(options_).Appraise(e, ReportData(), &checks_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("pck.chain: "));
}

TEST_F(tdx_node, NoCollateralSourceIsUnavailable) {
  options_.collateral = nullptr;
  options_.collateral_error = "no tdx collateral source: testing";
  auto r = TdxAppraiser(options_).Appraise(Evidence(), ReportData(), &checks_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(r.status().message()), "collateral.fetch: no tdx collateral source: testing");
}

TEST_F(tdx_node, GarbageQuoteIsInvalidArgument) {
  auto e = Evidence();
  e.mutable_tdx()->set_quote("not a quote");
  auto r = TdxAppraiser(options_).Appraise(e, ReportData(), &checks_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("quote.structure: "));
}

TEST_F(tdx_node, EvidenceWithoutTdxBodyIsInvalidArgument) {
  twi::v1::Evidence e;
  e.set_kind(twi::v1::EVIDENCE_KIND_TDX);
  auto r = TdxAppraiser(options_).Appraise(e, ReportData(), &checks_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(tdx_node, PolicyRefusalIsPermissionDenied) {
  options_.policy.mrtds = {Bytes(48, 0xaa)};
  auto r = TdxAppraiser(options_).Appraise(Evidence(), ReportData(), &checks_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("policy.mrtd: "));
}

TEST_F(tdx_node, NoEventLogIsNoFactsNotARefusal) {
  auto r = TdxAppraiser(options_).Appraise(Evidence(), ReportData(), &checks_);
  ASSERT_TRUE(r.ok()) << r.status();
  bool noted = false;
  for (const auto& c : checks_.checks()) noted |= c.name == "ccel.replay" && c.passed;
  EXPECT_TRUE(noted);
}

TEST_F(tdx_node, MalformedCcelTableIsInvalidArgument) {
  auto e = Evidence();
  e.mutable_tdx()->set_ccel_table("not a table");
  e.mutable_tdx()->set_ccel_data(std::string(64, '\xff'));
  auto r = TdxAppraiser(options_).Appraise(e, ReportData(), &checks_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("ccel.table: "));
}

// A genuine log of another TD (the T7 vector) does not explain this TD's RTMRs.
TEST_F(tdx_node, AnotherTdsEventLogIsRefusedNamingTheRtmr) {
  auto read = [](const char* f) {
    std::ifstream in(std::string(TWI_TESTDATA) + "/tdx/go-tdx-guest/" + f, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  auto e = Evidence();
  e.mutable_tdx()->set_ccel_table(read("ccel_table.dat"));
  e.mutable_tdx()->set_ccel_data(read("ccel_data_head.dat"));
  auto r = TdxAppraiser(options_).Appraise(e, ReportData(), &checks_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("ccel.replay: RTMR0 replays to "));
}

// The agent's side of the same log: a simulated TD whose RTMRs are that log's replay (as
// OpenLocalTdxDevice builds it) passes, and the log's boot facts become claims.
TEST(tdx_node_ccel, ReplayedLogGivesBootFactClaims) {
  twi::testing::TempDir dir;
  LocalTdxOptions o;
  o.simulate = "tdx";
  o.sim_dir = dir / "sim-intel";
  o.ccel = {std::string(TWI_TESTDATA) + "/tdx/go-tdx-guest/ccel_table.dat",
            std::string(TWI_TESTDATA) + "/tdx/go-tdx-guest/ccel_data_head.dat"};
  auto device = OpenLocalTdxDevice(o);
  ASSERT_TRUE(device.ok()) << device.status();
  collateral::DcapSourceOptions so;
  so.offline_path = dir / "sim-intel/collateral.json";
  auto source = collateral::MakeDcapCollateralSource(so, nullptr, nullptr);
  ASSERT_TRUE(source.ok()) << source.status();
  auto root = Certificate::FromPem(*ReadFileToString(dir / "sim-intel/root.pem"));
  ASSERT_TRUE(root.ok()) << root.status();
  TdxAppraiserOptions ao;
  ao.allow_simulation = true;
  ao.extra_roots = {*root};
  ao.collateral = source->get();
  TdxCollector collector(*std::move(device), o.ccel);
  auto e = collector.Collect(Bytes(64, 1));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_FALSE(e->tdx().ccel_data().empty());
  CheckList checks;
  auto r = TdxAppraiser(ao).Appraise(*e, Bytes(64, 1), &checks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->claims.contains("tdx_secure_boot"));
  EXPECT_TRUE(r->claims.contains("tdx_boot_loader"));
  EXPECT_TRUE(appraisal::CheckClaims(r->claims).ok()) << appraisal::CheckClaims(r->claims);
}

TEST_F(tdx_node, LocalContextSelectorsFromAFreshQuote) {
  SimulatedTdxDevice device(sim_);
  auto sel = LocalContextSelectors(device);
  ASSERT_TRUE(sel.ok()) << sel.status();
  EXPECT_EQ(sel->front(), "tee:tdx");
  EXPECT_THAT(*sel, Contains(StartsWith("tdx:rtmr2:")));
  EXPECT_THAT(*sel, Contains("tdx:debug:false"));
}

// Two agents sharing a simulation_dir share one root, so a server pinning it accepts both.
TEST(tdx_node_sim_dir, SimulatorsSharingADirectoryShareTheRoot) {
  twi::testing::TempDir dir;
  LocalTdxOptions o;
  o.simulate = "tdx";
  o.sim_dir = dir / "sim-intel";
  o.ccel = {"", ""};
  auto a = OpenLocalTdxDevice(o);
  ASSERT_TRUE(a.ok()) << a.status();
  std::ifstream root_a(dir / "sim-intel/root.pem");
  std::string pem_a((std::istreambuf_iterator<char>(root_a)), std::istreambuf_iterator<char>());
  SimOptions so;
  so.dir = dir / "sim-intel";
  auto b = TdxSimulator::Create(so);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->root_pem(), pem_a);
  EXPECT_TRUE(std::ifstream(dir / "sim-intel/collateral.json").good());
}

}  // namespace
}  // namespace twi::tdx
