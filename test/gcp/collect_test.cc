// Agent-side GCP collection against a swtpm provisioned as a GCE vTPM (sim_vtpm.h) and an
// SEV-SNP guest behind a fake configfs-tsm directory; the output is checked with gcp-core's
// verifier (VerifyGcp). swtpm ports 26610-26629.
#include "attestors/gcp/collect.h"

#include <tss2/tss2_mu.h>

#include <fstream>

#include "attestors/appraisal/protocol.h"
#include "attestors/core/crypto.h"
#include "attestors/gcp/verify.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/esys.h"
#include "attestors/tpm/templates.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/gcp/sim_vm.h"

namespace twi::gcp {
namespace {

using ::testing::HasSubstr;
using testing::SimVmTest;

const Bytes kNonce(32, 0x4E);
const Bytes kSpki = ToBytes("instance key spki");

Bytes Qd() { return appraisal::TpmQualifyingData(kNonce, kSpki); }
Bytes Rd() { return appraisal::ReportData(kNonce, kSpki); }

CollectOptions Sha256Pcrs(std::vector<uint32_t> pcrs = {0, 7}) {
  CollectOptions o;
  o.banks = {{0x000B, std::move(pcrs)}};
  o.event_log_path = "";
  return o;
}

// gcp-core's verifier over one quote of `ev`, requiring the SEV-SNP report when `snp`.
absl::Status Verify(const twi::v1::GcpEvidence& ev, int quote, bool snp, CheckList& checks,
                    VerifiedGcp* out) {
  const auto& q = ev.quotes(quote);
  Evidence e;
  e.ak_cert = AsBytes(ev.ak_certificate());
  e.ak_public = AsBytes(ev.ak_public());
  e.quote = AsBytes(q.attest());
  e.signature = AsBytes(q.signature());
  for (const auto& [index, digest] : q.pcrs()) {
    e.pcrs[static_cast<uint16_t>(q.hash_alg())][index] = ToBytes(digest);
  }
  VerifyOptions o;
  o.time = std::chrono::system_clock::now();
  o.cas = testing::SimCas();
  o.allow_simulated_ca = true;
  o.nonce = Qd();
  if (snp) {
    e.snp_report = AsBytes(ev.sev_snp().report());
    e.snp_cert_table = AsBytes(ev.sev_snp().cert_table());
    o.hardware = Hardware::kSevSnp;
    o.expected_report_data = Rd();
    o.snp.extra_trusted_roots = {{Certificate::FromDer(testing::AmdHierarchy()->ark_der()).value(),
                                  sevsnp::SigningKey::kVcek}};
    o.snp.allow_simulation_roots = true;
  }
  return VerifyGcp(e, o, checks, out);
}

using GcpCollectTest = SimVmTest;

TEST_F(GcpCollectTest, RsaAkCertificateQuoteAndSevSnpReportVerify) {
  StartVm(26610);
  auto vtpm = OpenVtpm();
  ASSERT_NE(vtpm, nullptr);
  auto tee = SnpTee();
  auto ev = Collect(*vtpm, tee.get(), Qd(), Rd(), Sha256Pcrs());
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ToBytes(ev->ak_public()), vtpm_.ak_public);
  EXPECT_EQ(ToBytes(ev->ak_certificate()), vtpm_.ak_cert);  // the NV index, padding trimmed
  ASSERT_EQ(ev->quotes_size(), 1);
  EXPECT_EQ(ev->quotes(0).hash_alg(), 0x000Bu);
  EXPECT_EQ(ev->quotes(0).pcrs_size(), 2);
  ASSERT_TRUE(ev->has_sev_snp());
  EXPECT_EQ(kernel_->last_inblob, std::string(AsString(Rd())));  // REPORT_DATA = report data
  EXPECT_FALSE(ev->simulated());
  EXPECT_TRUE(ev->event_log().empty());

  CheckList checks;
  VerifiedGcp v;
  absl::Status s = Verify(*ev, 0, /*snp=*/true, checks, &v);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(v.instance.project_id, SimInstanceInfo().project_id);
  EXPECT_EQ(v.quote.sig_alg, 0x0014);  // TPM_ALG_RSASSA
}

TEST_F(GcpCollectTest, EccAkFromItsOwnIndices) {
  StartVm(26612, tpm::KeyAlg::kEccP256);
  auto vtpm = OpenVtpm();
  ASSERT_NE(vtpm, nullptr);
  EXPECT_EQ(vtpm->options().ak_template_nv_index, kAkTemplateNvIndexEcc);
  EXPECT_EQ(vtpm->options().ak_cert_nv_index, kAkCertNvIndexEcc);
  auto ev = Collect(*vtpm, nullptr, Qd(), Rd(), Sha256Pcrs());
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_FALSE(ev->has_sev_snp() || ev->has_tdx());
  CheckList checks;
  VerifiedGcp v;
  absl::Status s = Verify(*ev, 0, /*snp=*/false, checks, &v);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(v.quote.sig_alg, 0x0018);  // TPM_ALG_ECDSA
  // The RSA indices were never provisioned on this vTPM.
  auto rsa = tpm::TpmCollector::Open(VtpmOptions(swtpm().tcti(), tpm::KeyAlg::kRsa2048));
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ((*rsa)->Ak().status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GcpCollectTest, OneQuotePerBankEachVerifies) {
  StartVm(26614, tpm::KeyAlg::kRsa2048, "sha1,sha256");
  auto vtpm = OpenVtpm();
  ASSERT_NE(vtpm, nullptr);
  CollectOptions o = Sha256Pcrs();
  o.banks.push_back({0x0004, {0, 7}});
  auto ev = Collect(*vtpm, nullptr, Qd(), Rd(), o);
  ASSERT_TRUE(ev.ok()) << ev.status();
  ASSERT_EQ(ev->quotes_size(), 2);
  EXPECT_EQ(ev->quotes(1).hash_alg(), 0x0004u);
  for (int i = 0; i < 2; ++i) {
    CheckList checks;
    VerifiedGcp v;
    absl::Status s = Verify(*ev, i, false, checks, &v);
    EXPECT_TRUE(s.ok()) << i << ": " << s;
  }
}

TEST_F(GcpCollectTest, SameAkAfterATpmResetAndNoSlotLeftBehind) {
  StartVm(26616);
  auto vtpm = OpenVtpm();
  ASSERT_NE(vtpm, nullptr);
  auto first = Collect(*vtpm, nullptr, Qd(), Rd(), Sha256Pcrs());
  ASSERT_TRUE(first.ok()) << first.status();
  auto handles = vtpm->TransientHandles();
  ASSERT_TRUE(handles.ok());
  EXPECT_TRUE(handles->empty());  // swtpm has 3 slots: the AK is flushed after every use
  // A reboot drops the saved context: the AK is made again from the template, the same key.
  ASSERT_EQ(swtpm().PowerCycle(), "");
  auto second = Collect(*vtpm, nullptr, Qd(), Rd(), Sha256Pcrs());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->ak_public(), first->ak_public());
  CheckList checks;
  VerifiedGcp v;
  EXPECT_TRUE(Verify(*second, 0, false, checks, &v).ok());
}

TEST_F(GcpCollectTest, ReprovisioningReplacesTheCertificateForTheSameKey) {
  StartVm(26618);
  SimVtpmOptions o;
  o.tcti = swtpm().tcti();
  o.ca = testing::Ca();
  o.cert.instance = SimInstanceInfo();
  o.cert.instance.instance_name = "second-vm";
  auto again = ProvisionSimVtpm(o);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ak_public, vtpm_.ak_public);  // one endorsement seed, one template
  EXPECT_NE(again->ak_cert, vtpm_.ak_cert);
  auto vtpm = OpenVtpm();
  ASSERT_NE(vtpm, nullptr);
  auto ak = vtpm->Ak();
  ASSERT_TRUE(ak.ok()) << ak.status();
  EXPECT_EQ(ak->certificate, again->ak_cert);
}

TEST_F(GcpCollectTest, TemplateThatIsNotAnAttestationKeyRefused) {
  StartVm(26620);
  // An EK template (restricted decrypt) where GCE keeps the AK template.
  const TPM2B_PUBLIC ek = tpm::EkTemplate(tpm::KeyAlg::kRsa2048);
  auto bytes = tpm::Marshal(ek.publicArea, Tss2_MU_TPMT_PUBLIC_Marshal, "EK template");
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteNvIndex(swtpm().tcti(), kAkTemplateNvIndexRsa, *bytes).ok());
  auto vtpm = OpenVtpm();
  ASSERT_NE(vtpm, nullptr);
  auto ev = Collect(*vtpm, nullptr, Qd(), Rd(), Sha256Pcrs());
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(ev.status().message()),
              HasSubstr("the AK template in nv index 0x01c10001 holds a key of type 0x1"));
  // Bytes that are no TPMT_PUBLIC at all.
  ASSERT_TRUE(WriteNvIndex(swtpm().tcti(), kAkTemplateNvIndexRsa, Bytes{0x00, 0x01, 0x02}).ok());
  auto garbage = OpenVtpm();
  ASSERT_NE(garbage, nullptr);
  auto ev2 = Collect(*garbage, nullptr, Qd(), Rd(), Sha256Pcrs());
  EXPECT_EQ(ev2.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(ev2.status().message()), HasSubstr("is not a TPMT_PUBLIC"));
}

TEST_F(GcpCollectTest, VtpmWithoutAnAkCertificateRefused) {
  StartVm(26622);
  // A vTPM with the template but no certificate: the quote would prove nothing about GCE.
  auto conn = tpm::EsysConnection::Open(swtpm().tcti());
  ASSERT_TRUE(conn.ok());
  ESYS_TR tr = ESYS_TR_NONE;
  ASSERT_EQ(Esys_TR_FromTPMPublic((*conn)->ctx(), kAkCertNvIndexRsa, ESYS_TR_NONE, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &tr), TSS2_RC_SUCCESS);
  ASSERT_EQ(Esys_NV_UndefineSpace((*conn)->ctx(), ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD,
                                  ESYS_TR_NONE, ESYS_TR_NONE), TSS2_RC_SUCCESS);
  conn->reset();
  auto o = VtpmOptions(swtpm().tcti(), tpm::KeyAlg::kRsa2048);
  o.ak_cert_nv_index = 0;  // not read: Collect must notice the missing certificate itself
  auto vtpm = tpm::TpmCollector::Open(o);
  ASSERT_TRUE(vtpm.ok());
  auto ev = Collect(**vtpm, nullptr, Qd(), Rd(), Sha256Pcrs());
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(ev.status().message()), HasSubstr("has no AK certificate"));
}

TEST_F(GcpCollectTest, EventLogSentAndSimulatedMarked) {
  StartVm(26624);
  const std::string log = tmp_ / "binary_bios_measurements";
  std::ofstream(log, std::ios::binary) << "not parsed by the agent";
  auto vtpm = OpenVtpm();
  ASSERT_NE(vtpm, nullptr);
  CollectOptions o = Sha256Pcrs();
  o.event_log_path = log;
  o.simulated = true;
  auto ev = Collect(*vtpm, nullptr, Qd(), Rd(), o);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->event_log(), "not parsed by the agent");
  EXPECT_TRUE(ev->simulated());
  o.event_log_path = tmp_ / "absent";  // no log on this machine: none sent, no error
  auto none = Collect(*vtpm, nullptr, Qd(), Rd(), o);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->event_log().empty());
}

TEST(GcpVtpmOptions, OpenRefusesATemplateAkBesideAPersistentOne) {
  auto o = VtpmOptions("swtpm:port=1", tpm::KeyAlg::kRsa2048);
  o.ak_handle = 0x81000003;
  auto c = tpm::TpmCollector::Open(o);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("name two AKs"));
}

}  // namespace
}  // namespace twi::gcp
