// Agent-side Azure vTPM collection against swtpm provisioned as a simulated Azure CVM (sim.h):
// the HCL report read back from NV 0x01400001 in chunks, the AK at 0x81000003, quotes over the
// caller's qualifying data, and what a TPM that is not an Azure vTPM answers. Then the
// collected evidence through VerifyAzureSnp. swtpm ports 26210 upward.
#include "attestors/azure/collect.h"

#include "attestors/azure/abi.h"
#include "attestors/azure/sim.h"
#include "attestors/azure/verify.h"
#include "attestors/core/crypto.h"
#include "attestors/core/x509.h"
#include "attestors/tpm/abi.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::azure {
namespace {

using ::testing::HasSubstr;

class AzureCollectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
  }
  VtpmOptions Options(uint16_t chunk = 0) {
    VtpmOptions o;
    o.tcti = tpm_.tcti();
    o.banks = {{0x000B, {0, 1, 2, 3, 4, 5, 6, 7}}};
    o.event_log_path = "";
    o.nv_chunk_size = chunk;
    return o;
  }
  twi::testing::Swtpm tpm_;
};

TEST_F(AzureCollectTest, ReadsWhatTheSimulatorProvisionedAndItVerifies) {
  ASSERT_EQ(tpm_.Start(26210, {}), "");
  auto vm = ProvisionSimAzureVm(tpm_.tcti(), {});
  ASSERT_TRUE(vm.ok()) << vm.status();
  // Small chunks: the report takes several NV_Reads, as on a TPM with a small NV buffer.
  auto vtpm = AzureVtpm::Open(Options(/*chunk=*/256));
  ASSERT_TRUE(vtpm.ok()) << vtpm.status();
  EXPECT_EQ((*vtpm)->ak().public_area, vm->ak_public);
  EXPECT_TRUE((*vtpm)->ak().certificate.empty());
  auto hcl = (*vtpm)->ReadHclReport();
  ASSERT_TRUE(hcl.ok()) << hcl.status();
  EXPECT_EQ(*hcl, vm->hcl_report);

  const Bytes nonce = Sha256(ToBytes("qualifying data"));
  twi::v1::AzureEvidence ev;
  ASSERT_TRUE((*vtpm)->Collect(nonce, &ev).ok());
  ASSERT_EQ(ev.quotes_size(), 1);
  EXPECT_EQ(ev.quotes(0).pcrs_size(), 8);

  // The collected pieces verify as Azure SNP evidence against the simulator's root.
  auto hierarchy = sevsnp::SimHierarchy::SharedForTests(sevsnp::SimProduct::kMilan);
  ASSERT_TRUE(hierarchy.ok());
  auto ark = Certificate::FromDer((*hierarchy)->ark_der());
  ASSERT_TRUE(ark.ok());
  auto ask = Certificate::FromDer(vm->ask);
  ASSERT_TRUE(ask.ok());
  std::vector<Certificate> chain = {*ask};
  Evidence e;
  e.chain = chain;
  e.hcl_report = AsBytes(ev.hcl_report());
  e.vcek = vm->vcek;
  e.quote = AsBytes(ev.quotes(0).attest());
  e.signature = AsBytes(ev.quotes(0).signature());
  for (const auto& [i, d] : ev.quotes(0).pcrs()) e.pcrs[0x000B][i] = ToBytes(d);
  auto pub = tpm::ParsePublic(AsBytes(ev.ak_public()));
  ASSERT_TRUE(pub.ok());
  e.ak_public = *pub;
  VerifyOptions vo;
  vo.snp.time = std::chrono::system_clock::now();
  vo.snp.extra_trusted_roots = {{*ark, sevsnp::SigningKey::kVcek}};
  vo.snp.allow_simulation_roots = true;
  vo.nonce = nonce;
  CheckList checks;
  VerifiedAzureSnp v;
  absl::Status s = VerifyAzureSnp(e, vo, checks, &v);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(v.claims.vm_unique_id.value_or(""), SimAzureOptions().vm_id);
  EXPECT_EQ(v.snp.report.vmpl, 0u);
}

TEST_F(AzureCollectTest, ReprovisioningKeepsTheAkAndReplacesTheReport) {
  ASSERT_EQ(tpm_.Start(26212, {}), "");
  auto first = ProvisionSimAzureVm(tpm_.tcti(), {});
  ASSERT_TRUE(first.ok()) << first.status();
  SimAzureOptions o;
  o.vm_id = "11111111-2222-4333-8444-555555555555";
  auto second = ProvisionSimAzureVm(tpm_.tcti(), o);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->ak_public, second->ak_public);
  auto vtpm = AzureVtpm::Open(Options());
  ASSERT_TRUE(vtpm.ok()) << vtpm.status();
  auto hcl = (*vtpm)->ReadHclReport();
  ASSERT_TRUE(hcl.ok());
  auto parsed = ParseHclReport(*hcl);
  ASSERT_TRUE(parsed.ok());
  EXPECT_THAT(std::string(AsString(parsed->runtime_claims)), HasSubstr(o.vm_id));
}

TEST_F(AzureCollectTest, PlainTpmIsNotAnAzureVtpmAndGetsNoKeyOfOurs) {
  ASSERT_EQ(tpm_.Start(26214, {}), "");
  auto vtpm = AzureVtpm::Open(Options());
  ASSERT_TRUE(absl::IsNotFound(vtpm.status())) << vtpm.status();
  EXPECT_THAT(vtpm.status().message(), HasSubstr("0x81000003"));
  // Nothing was made at Azure's AK handle.
  tpm::TpmCollectOptions o;
  o.tcti = tpm_.tcti();
  auto c = tpm::TpmCollector::Open(o);
  ASSERT_TRUE(c.ok());
  auto handles = (*c)->PersistentHandles();
  ASSERT_TRUE(handles.ok());
  EXPECT_EQ(std::count(handles->begin(), handles->end(), kAkHandle), 0);
}

TEST_F(AzureCollectTest, AkWithoutHclReportIsNotFound) {
  ASSERT_EQ(tpm_.Start(26216, {}), "");
  {
    tpm::TpmCollectOptions o;
    o.tcti = tpm_.tcti();
    o.ak_handle = kAkHandle;
    auto c = tpm::TpmCollector::Open(o);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Ak().ok());
  }
  auto vtpm = AzureVtpm::Open(Options());
  ASSERT_TRUE(absl::IsNotFound(vtpm.status())) << vtpm.status();
  EXPECT_THAT(vtpm.status().message(), HasSubstr("0x01400001"));
}

TEST(AzureUnreachableTpmTest, Unavailable) {
  VtpmOptions o;
  o.tcti = "swtpm:port=26238";  // nothing listens
  o.banks = {{0x000B, {0}}};
  auto vtpm = AzureVtpm::Open(o);
  EXPECT_TRUE(absl::IsUnavailable(vtpm.status())) << vtpm.status();
}

}  // namespace
}  // namespace twi::azure
