// SnpAppraiser, the server's SEV-SNP step in node attestation: the endorsement from the
// certificate table or from collateral (offline KDS directory), CRLs per sev_snp.crl, the
// REPORT_DATA binding, and the simulation opt-in. Evidence comes from the simulator anchored
// in an explicitly trusted extra root (as an operator would configure a non-AMD root).
#include <filesystem>

#include "attestors/collateral/file_store.h"
#include "attestors/collateral/kds.h"
#include "attestors/sevsnp/node.h"
#include "attestors/sevsnp/sim.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace twi::sevsnp {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class SnpAppraiserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hierarchy_ = SimHierarchy::SharedForTests(SimProduct::kMilan).value();
    SimOptions so;
    so.hierarchy = hierarchy_;
    sim_ = SnpSimulator::Create(so).value();
    report_data_ = Bytes(64, 0x5A);
    auto ev = sim_->GetReport(report_data_).value();
    evidence_.set_kind(twi::v1::EVIDENCE_KIND_SEV_SNP);
    evidence_.mutable_sev_snp()->set_report(std::string(AsString(ev.report)));
    evidence_.mutable_sev_snp()->set_cert_table(std::string(AsString(ev.cert_table)));
    dir_ = ::testing::TempDir() + "/snp-node-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    static const SystemClock clock;
    collateral::KdsOptions ko;
    ko.offline_dir = dir_;
    kds_ = collateral::KdsClient::Create(ko, nullptr, &clock).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  SnpAppraiserOptions Options(CrlMode crl) {
    SnpAppraiserOptions o;
    o.extra_roots = {{Certificate::FromDer(hierarchy_->ark_der()).value(), SigningKey::kVcek}};
    o.crl = crl;
    o.kds = kds_.get();
    return o;
  }
  void WriteOffline(const std::string& rel, ByteView data) {
    ASSERT_TRUE(collateral::WriteFileAtomic(dir_ + "/" + rel, data).ok());
  }
  void WriteCrl(std::vector<Bytes> revoked) {
    TimePoint now = std::chrono::system_clock::now();
    auto crl = hierarchy_->MakeCrl({now - std::chrono::hours(1), now + std::chrono::hours(24), revoked});
    ASSERT_TRUE(crl.ok());
    WriteOffline(collateral::KdsClient::CrlPath(collateral::AmdProduct::kMilan, collateral::AmdKeyKind::kVcek), *crl);
  }
  Bytes AskSerial() {
    auto ask = Certificate::FromDer(hierarchy_->ask_der()).value();
    std::string hex = ask.serial_hex();
    return HexDecode(hex.size() % 2 ? "0" + hex : hex).value();
  }
  absl::StatusOr<appraisal::EvidenceResult> Run(const SnpAppraiser& a, CheckList* checks) {
    return a.Appraise(evidence_, report_data_, checks);
  }

  std::shared_ptr<const SimHierarchy> hierarchy_;
  std::unique_ptr<SnpSimulator> sim_;
  Bytes report_data_;
  twi::v1::Evidence evidence_;
  std::string dir_;
  std::unique_ptr<collateral::KdsClient> kds_;
};

TEST_F(SnpAppraiserTest, VerifiesWithEndorsementFromTheCertTable) {
  SnpAppraiser a(Options(CrlMode::kOff));
  CheckList checks;
  auto r = Run(a, &checks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->selectors, Contains("tee:sev-snp"));
  EXPECT_THAT(r->selectors, Contains("sev-snp:product:milan"));
  EXPECT_EQ(r->fields.at("sev_snp.chip_id"), HexEncode(sim_->chip_id()));
  EXPECT_TRUE(checks.all_passed());
}

TEST_F(SnpAppraiserTest, ReportDataMustBindTheNonce) {
  SnpAppraiser a(Options(CrlMode::kOff));
  CheckList checks;
  auto r = a.Appraise(evidence_, Bytes(64, 0x00), &checks);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("report.report_data: REPORT_DATA 5a5a5a5a5a5a5a5a..."));
}

TEST_F(SnpAppraiserTest, CrlRequiredButUnavailable) {
  SnpAppraiser a(Options(CrlMode::kRequire));
  CheckList checks;
  auto r = Run(a, &checks);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), StartsWith("cert.crl: no AMD CRL available ("));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("the crl policy requires one"));
}

TEST_F(SnpAppraiserTest, CrlCheckedWhenAvailable) {
  WriteCrl({});
  SnpAppraiser a(Options(CrlMode::kRequire));
  for (int i = 0; i < 2; ++i) {  // the second attestation uses the parsed CRL kept in memory
    CheckList checks;
    auto r = Run(a, &checks);
    ASSERT_TRUE(r.ok()) << r.status();
    bool crl_checked = false;
    for (const auto& c : checks.checks()) {
      if (c.name == "cert.crl" && c.passed && c.detail.find("skipped") == std::string::npos) crl_checked = true;
    }
    EXPECT_TRUE(crl_checked);
  }
}

TEST_F(SnpAppraiserTest, RevokedAskRefused) {
  WriteCrl({AskSerial()});
  SnpAppraiser a(Options(CrlMode::kIfAvailable));
  CheckList checks;
  auto r = Run(a, &checks);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), StartsWith("cert.crl: "));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("revoked"));
}

TEST_F(SnpAppraiserTest, VcekFetchedFromCollateralWhenTheHostSuppliesNone) {
  auto entries = ParseCertTable(AsBytes(evidence_.sev_snp().cert_table())).value();
  std::vector<CertTableEntry> kept;
  Bytes vcek;
  for (auto& e : entries) {
    if (e.guid == kGuidVcek) {
      vcek = e.data;
    } else {
      kept.push_back(e);
    }
  }
  ASSERT_FALSE(vcek.empty());
  evidence_.mutable_sev_snp()->set_cert_table(std::string(AsString(SerializeCertTable(kept))));
  SnpAppraiser a(Options(CrlMode::kOff));
  {
    CheckList checks;
    auto missing = Run(a, &checks);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(std::string(missing.status().message()), StartsWith("collateral.vcek: "));
  }
  auto report = ParseReport(AsBytes(evidence_.sev_snp().report())).value();
  collateral::KdsTcb tcb{report.reported_tcb.fmc, report.reported_tcb.bootloader, report.reported_tcb.tee,
                         report.reported_tcb.snp, report.reported_tcb.microcode};
  WriteOffline(collateral::KdsClient::VcekFilePath(collateral::AmdProduct::kMilan,
                                                   ByteView(report.chip_id.data(), 64), tcb).value(),
               vcek);
  CheckList checks;
  auto r = Run(a, &checks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(checks.checks(), Contains(::testing::Field(&Check::name, "collateral.vcek")));
}

TEST_F(SnpAppraiserTest, SimulatedEvidenceNeedsTheOptIn) {
  evidence_.mutable_sev_snp()->set_simulated(true);
  SnpAppraiserOptions o = Options(CrlMode::kOff);  // the simulator's ARK pinned
  {
    SnpAppraiser refuse(o);
    CheckList checks;
    auto r = Run(refuse, &checks);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(std::string(r.status().message()), StartsWith("evidence.simulated: "));
  }
  o.allow_simulation = true;
  {
    SnpAppraiser accept(o);
    CheckList checks;
    auto r = Run(accept, &checks);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_THAT(r->selectors, Contains("sev-snp:simulated:true"));
  }
  // The opt-in alone trusts nothing: the simulator root the evidence carries is not a
  // configured one.
  o.extra_roots.clear();
  SnpAppraiser unpinned(o);
  CheckList checks;
  auto r = Run(unpinned, &checks);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), StartsWith("cert.chain: "));
}

// ---- Issue 11: attacks on the SEV-SNP server path ----

// (7) A host may put vendor blobs in the certificate table under GUIDs of its own; they are
// skipped, never parsed as X.509 (a junk blob used to fail the attestation).
TEST_F(SnpAppraiserTest, UnknownCertTableGuidSkipped) {
  auto entries = ParseCertTable(AsBytes(evidence_.sev_snp().cert_table())).value();
  CertTableEntry vendor;
  vendor.guid = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01};
  vendor.data = ToBytes("vendor blob, not a certificate");
  entries.push_back(vendor);
  evidence_.mutable_sev_snp()->set_cert_table(std::string(AsString(SerializeCertTable(entries))));
  SnpAppraiser a(Options(CrlMode::kOff));
  CheckList checks;
  auto r = Run(a, &checks);
  ASSERT_TRUE(r.ok()) << r.status();
}

// (7) After a firmware update the host's table may still hold the VCEK of the old TCB: the
// server fetches the VCEK for REPORTED_TCB instead of refusing valid evidence.
TEST_F(SnpAppraiserTest, StaleVcekInTheTableFallsBackToKds) {
  SimOptions so;
  so.hierarchy = hierarchy_;
  so.reported_tcb = {.fmc = 1, .bl = 4, .tee = 0, .snp = 23, .ucode = 213};  // one SNP SPL newer
  auto updated = SnpSimulator::Create(so).value();
  auto ev = updated->GetReport(report_data_).value();
  auto entries = ParseCertTable(ev.cert_table).value();
  for (auto& e : entries) {
    if (e.guid == kGuidVcek) e.data = sim_->vcek_der();  // the old TCB's VCEK
  }
  evidence_.mutable_sev_snp()->set_report(std::string(AsString(ev.report)));
  evidence_.mutable_sev_snp()->set_cert_table(std::string(AsString(SerializeCertTable(entries))));
  SnpAppraiser a(Options(CrlMode::kOff));
  {
    CheckList checks;
    auto missing = Run(a, &checks);  // KDS (offline dir) does not have it yet
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(std::string(missing.status().message()), StartsWith("collateral.vcek: "));
  }
  auto report = ParseReport(ev.report).value();
  WriteOffline(collateral::KdsClient::VcekFilePath(collateral::AmdProduct::kMilan,
                                                   ByteView(report.chip_id.data(), 64),
                                                   {1, 4, 0, 23, 213}).value(),
               updated->vcek_der());
  CheckList checks;
  auto r = Run(a, &checks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(checks.checks(), Contains(::testing::Field(&Check::name, "evidence.vcek")));
}

// (2) A junk attestation for another product (its chain does not verify) must not switch CRL
// checking off for everyone: the CRL is chosen from the verified chain, so the junk never
// causes a fetch, and failures are scoped per (product, signing key).
TEST_F(SnpAppraiserTest, JunkRequestDoesNotSwitchCrlCheckingOff) {
  WriteCrl({AskSerial()});
  SnpAppraiser a(Options(CrlMode::kIfAvailable));
  SimOptions genoa;
  genoa.hierarchy = SimHierarchy::SharedForTests(SimProduct::kGenoa).value();
  auto junk = SnpSimulator::Create(genoa).value()->GetReport(report_data_).value();
  twi::v1::Evidence junk_ev = evidence_;
  junk_ev.mutable_sev_snp()->set_report(std::string(AsString(junk.report)));
  junk_ev.mutable_sev_snp()->set_cert_table(std::string(AsString(junk.cert_table)));
  for (int i = 0; i < 3; ++i) {
    CheckList checks;
    auto r = a.Appraise(junk_ev, report_data_, &checks);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(std::string(r.status().message()), StartsWith("cert.chain: "));
  }
  CheckList checks;
  auto r = Run(a, &checks);  // the revoked Milan ASK is still caught
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("revoked"));
}

// (6) Simulated evidence must chain to a configured root: a simulator hierarchy of the
// attacker's own making is not trusted just because it says "simulator".
TEST_F(SnpAppraiserTest, SimulatedEvidenceOfAnotherSimulatorRefused) {
  SimOptions other;
  other.hierarchy = SimHierarchy::SharedForTests(SimProduct::kGenoa).value();
  auto ev = SnpSimulator::Create(other).value()->GetReport(report_data_).value();
  evidence_.mutable_sev_snp()->set_report(std::string(AsString(ev.report)));
  evidence_.mutable_sev_snp()->set_cert_table(std::string(AsString(ev.cert_table)));
  evidence_.mutable_sev_snp()->set_simulated(true);
  SnpAppraiserOptions o = Options(CrlMode::kOff);  // pinned: the Milan simulator's ARK
  o.allow_simulation = true;
  {
    SnpAppraiser pinned(o);
    CheckList checks;
    auto r = Run(pinned, &checks);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(std::string(r.status().message()), StartsWith("cert.chain: "));
  }
  o.extra_roots.clear();  // nothing pinned: the carried simulator root is not taken either
  SnpAppraiser open(o);
  CheckList checks;
  auto r = Run(open, &checks);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), StartsWith("cert.chain: "));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("is not a pinned amd root"));
}

// (6) The selector says which kind of root verified the evidence.
TEST_F(SnpAppraiserTest, RootSelectorNamesTheExtraRoot) {
  SnpAppraiser a(Options(CrlMode::kOff));
  CheckList checks;
  auto r = Run(a, &checks);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->selectors, Contains("sev-snp:root:extra"));
  EXPECT_THAT(r->fields.at("sev_snp.root"), StartsWith("extra ARK-Milan"));
}

}  // namespace
}  // namespace twi::sevsnp
