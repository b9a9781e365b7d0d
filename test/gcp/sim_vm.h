// A simulated Google Cloud confidential VM for tests below the plugins: a swtpm provisioned as
// a GCE vTPM (attestors/gcp/sim_vtpm.h, AK certificate from the shared simulated Google CA)
// and an SEV-SNP guest behind a fake configfs-tsm directory (test/sevsnp/fake_tsm_kernel.h,
// reports from the simulator over the shared simulated AMD hierarchy).
//
// swtpm ports: 26610-26689 are this area's (each swtpm takes port and port + 1).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "attestors/gcp/collect.h"
#include "attestors/gcp/sim.h"
#include "attestors/gcp/sim_vtpm.h"
#include "attestors/gcp/verify.h"
#include "attestors/sevsnp/node.h"
#include "attestors/sevsnp/sim.h"
#include "gtest/gtest.h"
#include "test/collateral/temp_dir.h"
#include "test/sevsnp/fake_tsm_kernel.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::gcp::testing {

inline std::shared_ptr<const SimCa> Ca() {
  auto ca = SimCa::SharedForTests();
  EXPECT_TRUE(ca.ok()) << ca.status();
  return ca.ok() ? *ca : nullptr;
}

inline std::shared_ptr<const sevsnp::SimHierarchy> AmdHierarchy() {
  return sevsnp::SimHierarchy::SharedForTests(sevsnp::SimProduct::kMilan).value();
}

// The configured trust of a server that accepts the simulated VM: the simulated Google CA.
inline CaSet SimCas() {
  auto ca = Ca();
  CaSet set;
  set.roots.push_back(Certificate::FromPem(ca->root_pem()).value());
  set.intermediates.push_back(Certificate::FromPem(ca->intermediate_pem()).value());
  return set;
}

// An SEV-SNP appraiser trusting the simulated AMD hierarchy (as sev_snp.extra_roots would).
inline std::unique_ptr<sevsnp::SnpAppraiser> SimSnpAppraiser() {
  sevsnp::SnpAppraiserOptions o;
  o.extra_roots = {{Certificate::FromDer(AmdHierarchy()->ark_der()).value(),
                    sevsnp::SigningKey::kVcek}};
  o.crl = sevsnp::CrlMode::kOff;
  return std::make_unique<sevsnp::SnpAppraiser>(o);
}

class SimVmTest : public twi::testing::SwtpmTest {
 protected:
  // Starts swtpm on `port` and provisions it as a GCE vTPM with an AK of `alg`.
  void StartVm(int port, tpm::KeyAlg alg = tpm::KeyAlg::kRsa2048,
               const std::string& banks = "sha256") {
    if (!twi::testing::Swtpm::Installed()) GTEST_SKIP() << "swtpm not installed";
    ASSERT_EQ(swtpm().Start(port, {banks}), "");
    SimVtpmOptions o;
    o.tcti = swtpm().tcti();
    o.ak_alg = alg;
    o.ca = Ca();
    o.cert.instance = SimInstanceInfo();
    auto v = ProvisionSimVtpm(o);
    ASSERT_TRUE(v.ok()) << v.status();
    vtpm_ = *std::move(v);
    alg_ = alg;
    ASSERT_TRUE(std::filesystem::create_directory(tsm_root_));
  }
  std::unique_ptr<tpm::TpmCollector> OpenVtpm() {
    auto c = tpm::TpmCollector::Open(VtpmOptions(swtpm().tcti(), alg_));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }
  // The guest's SEV-SNP collector over the fake configfs-tsm directory.
  std::unique_ptr<appraisal::EvidenceCollector> SnpTee() {
    tsm::ConfigfsTsmOptions o;
    o.root = tsm_root_;
    o.kernel = kernel_;
    return std::make_unique<sevsnp::SnpCollector>(
        std::make_unique<sevsnp::ConfigfsTsmDevice>(o), 0);
  }

  SimVtpm vtpm_;
  tpm::KeyAlg alg_ = tpm::KeyAlg::kRsa2048;
  twi::testing::TempDir tmp_;
  std::string tsm_root_ = tmp_ / "report";
  std::shared_ptr<sevsnp::FakeTsmKernel> kernel_ = std::make_shared<sevsnp::FakeTsmKernel>(
      [] {
        sevsnp::SimOptions so;
        so.hierarchy = AmdHierarchy();
        return std::shared_ptr<const sevsnp::SnpSimulator>(
            sevsnp::SnpSimulator::Create(std::move(so)).value());
      }());
};

}  // namespace twi::gcp::testing
