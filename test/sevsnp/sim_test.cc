#include "attestors/sevsnp/sim.h"

#include <sys/stat.h>

#include <filesystem>

#include "attestors/core/checks.h"
#include "attestors/core/x509.h"
#include "attestors/sevsnp/abi.h"
#include "attestors/sevsnp/verify.h"
#include "gtest/gtest.h"
#include "test/collateral/temp_dir.h"

namespace twi::sevsnp {
namespace {

Product ToProduct(SimProduct p) {
  switch (p) {
    case SimProduct::kMilan: return Product::kMilan;
    case SimProduct::kGenoa: return Product::kGenoa;
    case SimProduct::kTurin: return Product::kTurin;
  }
  return Product::kUnknown;
}

Bytes Filled(size_t n, uint8_t first) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

template <size_t N>
Bytes B(const std::array<uint8_t, N>& a) { return Bytes(a.begin(), a.end()); }

std::unique_ptr<SnpSimulator> MustCreate(SimOptions o) {
  auto sim = SnpSimulator::Create(std::move(o));
  EXPECT_TRUE(sim.ok()) << sim.status();
  return sim.ok() ? std::move(*sim) : nullptr;
}

Certificate Cert(ByteView der) { return Certificate::FromDer(der).value(); }

// Every configurable field lands at its spec offset and parses back with abi.h.
TEST(sevsnp_sim, MilanV3FieldsRoundTrip) {
  SimOptions o;
  o.product = SimProduct::kMilan;
  o.guest_svn = 7;
  o.policy = 0x3001F;
  o.family_id = {1, 2, 3};
  o.image_id = {9, 8, 7};
  o.reported_tcb = {.bl = 3, .tee = 1, .snp = 20, .ucode = 209};
  o.current_tcb = SimTcb{.bl = 4, .tee = 1, .snp = 21, .ucode = 210};
  o.committed_tcb = SimTcb{.bl = 2, .tee = 0, .snp = 19, .ucode = 200};
  o.launch_tcb = SimTcb{.bl = 1, .tee = 0, .snp = 18, .ucode = 190};
  o.platform_info = 0x27;
  o.author_key_en = true;
  o.measurement = Filled(48, 0x10);
  o.host_data = Filled(32, 0x40);
  o.id_key_digest = Filled(48, 0x60);
  o.author_key_digest = Filled(48, 0x90);
  o.report_id = Filled(32, 0xC0);
  o.report_id_ma = Filled(32, 0xE0);
  o.chip_id = Filled(64, 0x01);
  o.current_fw = {29, 55, 1};
  o.committed_fw = {3, 52, 1};
  auto sim = MustCreate(o);
  ASSERT_NE(sim, nullptr);
  Bytes report_data = Filled(64, 0xA0);
  auto ev = sim->GetReport(report_data, 2);
  ASSERT_TRUE(ev.ok()) << ev.status();
  ASSERT_EQ(ev->report.size(), 0x4A0u);

  auto r = ParseReport(ev->report);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 3u);
  EXPECT_EQ(r->product, Product::kMilan);
  EXPECT_EQ(r->guest_svn, 7u);
  EXPECT_EQ(r->policy.raw, 0x3001Fu);
  EXPECT_EQ(r->family_id[2], 3);
  EXPECT_EQ(r->image_id[0], 9);
  EXPECT_EQ(r->vmpl, 2u);
  EXPECT_EQ(r->signature_algo, 1u);
  EXPECT_EQ(r->platform_info.raw, 0x27u);
  EXPECT_TRUE(r->signer_info.author_key_en);
  EXPECT_EQ(r->signer_info.signing_key, SigningKey::kVcek);
  EXPECT_EQ(B(r->report_data), report_data);
  EXPECT_EQ(B(r->measurement), *o.measurement);
  EXPECT_EQ(B(r->host_data), *o.host_data);
  EXPECT_EQ(B(r->id_key_digest), *o.id_key_digest);
  EXPECT_EQ(B(r->author_key_digest), *o.author_key_digest);
  EXPECT_EQ(B(r->report_id), *o.report_id);
  EXPECT_EQ(B(r->report_id_ma), *o.report_id_ma);
  EXPECT_EQ(B(r->chip_id), *o.chip_id);
  EXPECT_EQ(TcbString(r->reported_tcb), "bl=3,tee=1,snp=20,ucode=209");
  EXPECT_EQ(TcbString(r->current_tcb), "bl=4,tee=1,snp=21,ucode=210");
  EXPECT_EQ(TcbString(r->committed_tcb), "bl=2,tee=0,snp=19,ucode=200");
  EXPECT_EQ(TcbString(r->launch_tcb), "bl=1,tee=0,snp=18,ucode=190");
  EXPECT_EQ(r->cpuid_fam_id, 0x19);
  EXPECT_EQ(r->cpuid_mod_id, 0x01);
  EXPECT_EQ(FirmwareString(r->current_fw), "1.55.29");
  EXPECT_EQ(FirmwareString(r->committed_fw), "1.52.3");
  EXPECT_EQ(r->reported_tcb.raw, sim->reported_tcb());
}

TEST(sevsnp_sim, TurinV5LayoutAndShortChipId) {
  SimOptions o;
  o.product = SimProduct::kTurin;
  o.reported_tcb = {.fmc = 1, .bl = 2, .tee = 3, .snp = 4, .ucode = 5};
  o.chip_id = Bytes{0x1e, 0x55, 0x0a, 0x8e, 0xe5, 0xcf, 0x9f, 0x4d};
  o.launch_mit_vector = 0x11;
  o.current_mit_vector = 0x22;
  auto sim = MustCreate(o);
  ASSERT_NE(sim, nullptr);
  auto ev = sim->GetReport(AsBytes("nonce"));
  ASSERT_TRUE(ev.ok()) << ev.status();
  auto r = ParseReport(ev->report);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 5u);
  EXPECT_EQ(r->product, Product::kTurin);
  EXPECT_EQ(r->cpuid_fam_id, 0x1A);
  EXPECT_EQ(TcbString(r->reported_tcb), "bl=2,tee=3,snp=4,ucode=5,fmc=1");
  EXPECT_EQ(r->launch_mit_vector, 0x11u);
  EXPECT_EQ(r->current_mit_vector, 0x22u);
  Bytes want_chip = *o.chip_id;
  want_chip.resize(64, 0);
  EXPECT_EQ(B(r->chip_id), want_chip);
  // A short REPORT_DATA is zero-padded, as configfs-tsm does.
  Bytes want_rd = ToBytes("nonce");
  want_rd.resize(64, 0);
  EXPECT_EQ(B(r->report_data), want_rd);
  EXPECT_EQ(EncodeSimTcb(SimProduct::kTurin, o.reported_tcb),
            EncodeTcb(r->reported_tcb, Product::kTurin));
}

TEST(sevsnp_sim, Version2HasNoCpuid) {
  SimOptions o;
  o.product = SimProduct::kGenoa;
  o.version = 2;
  auto sim = MustCreate(o);
  ASSERT_NE(sim, nullptr);
  auto ev = sim->GetReport(Bytes(64, 1));
  ASSERT_TRUE(ev.ok());
  auto r = ParseReport(ev->report, ParseOptions{Product::kGenoa});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->cpuid_fam_id, 0);
  EXPECT_EQ(r->cpuid_mod_id, 0);
}

TEST(sevsnp_sim, ReportsDifferOnlyInSignature) {
  auto sim = MustCreate({});
  ASSERT_NE(sim, nullptr);
  auto a = sim->GetReport(Bytes(64, 5)).value();
  auto b = sim->GetReport(Bytes(64, 5)).value();
  EXPECT_TRUE(std::equal(a.report.begin(), a.report.begin() + 0x2A0, b.report.begin()));
  EXPECT_EQ(a.cert_table, b.cert_table);
}

TEST(sevsnp_sim, CertTableHasVcekAskArk) {
  auto sim = MustCreate({});
  ASSERT_NE(sim, nullptr);
  auto ev = sim->GetReport(Bytes(64, 0)).value();
  auto entries = ParseCertTable(ev.cert_table);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ(GuidString((*entries)[0].guid), "63da758d-e664-4564-adc5-f4b93be8accd");
  EXPECT_EQ(GuidString((*entries)[1].guid), "4ab7b379-bbac-4fe4-a02f-05aef327c782");
  EXPECT_EQ(GuidString((*entries)[2].guid), "c0b406a4-a803-4952-9743-3fb6014cd0ae");
  EXPECT_EQ((*entries)[0].data, sim->vcek_der());
  EXPECT_EQ((*entries)[1].data, sim->ask_der());
  EXPECT_EQ((*entries)[2].data, sim->ark_der());
}

TEST(sevsnp_sim, VlekCertTableAndSignerInfo) {
  SimOptions o;
  o.signing_key = SimSigningKey::kVlek;
  o.mask_chip_id = true;
  auto sim = MustCreate(o);
  ASSERT_NE(sim, nullptr);
  auto ev = sim->GetReport(Bytes(64, 0)).value();
  auto r = ParseReport(ev.report).value();
  EXPECT_EQ(r.signer_info.signing_key, SigningKey::kVlek);
  EXPECT_EQ(B(r.chip_id), Bytes(64, 0));
  auto entries = ParseCertTable(ev.cert_table).value();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(GuidString(entries[0].guid), "a8074bc2-a25a-483e-aae6-39c045a0b8a1");
  EXPECT_EQ(entries[0].data, sim->vlek_der());
  EXPECT_EQ(entries[1].data, sim->asvk_der());  // the ASVK travels under the ASK GUID
}

TEST(sevsnp_sim, VcekExtensionsLikeAmd) {
  struct Case {
    SimProduct product;
    int64_t struct_version;
    std::string product_name;
    size_t hwid_len;
  };
  for (const Case& c : {Case{SimProduct::kMilan, 0, "Milan-B0", 64},
                        Case{SimProduct::kGenoa, 0, "Genoa", 64},
                        Case{SimProduct::kTurin, 1, "Turin", 8}}) {
    SimOptions o;
    o.product = c.product;
    o.reported_tcb = {.fmc = 6, .bl = 7, .tee = 8, .snp = 9, .ucode = 200};
    auto sim = MustCreate(o);
    ASSERT_NE(sim, nullptr);
    Certificate vcek = Cert(sim->vcek_der());
    EXPECT_EQ(vcek.serial_hex(), "0");
    EXPECT_EQ(vcek.subject_cn(), "SEV-VCEK");
    EXPECT_NE(vcek.subject().find("twi-attestor simulated AMD"), std::string::npos) << vcek.subject();
    EXPECT_EQ(EVP_PKEY_get_bits(vcek.public_key()), 384);
    auto ext = ParseAmdExtensions(vcek);
    ASSERT_TRUE(ext.ok()) << ext.status();
    EXPECT_EQ(ext->struct_version, c.struct_version);
    EXPECT_EQ(ext->product_name, c.product_name);
    EXPECT_EQ(ProductFromName(*ext->product_name), ToProduct(c.product));
    EXPECT_EQ(ext->bl_spl, 7);
    EXPECT_EQ(ext->tee_spl, 8);
    EXPECT_EQ(ext->snp_spl, 9);
    EXPECT_EQ(ext->ucode_spl, 200);
    if (c.product == SimProduct::kTurin) {
      EXPECT_EQ(ext->fmc_spl, 6);
    } else {
      EXPECT_FALSE(ext->fmc_spl.has_value());
    }
    ASSERT_TRUE(ext->hwid.has_value());
    EXPECT_EQ(*ext->hwid, Bytes(sim->chip_id().begin(), sim->chip_id().begin() + c.hwid_len));
    EXPECT_FALSE(ext->csp_id.has_value());

    auto vlek_ext = ParseAmdExtensions(Cert(sim->vlek_der())).value();
    EXPECT_EQ(vlek_ext.csp_id, "CN=twi-sim.example");
    EXPECT_FALSE(vlek_ext.hwid.has_value());
  }
}

TEST(sevsnp_sim, HierarchyIsAmdShaped) {
  auto sim = MustCreate({});
  ASSERT_NE(sim, nullptr);
  Certificate ark = Cert(sim->ark_der()), ask = Cert(sim->ask_der()), asvk = Cert(sim->asvk_der());
  Certificate vcek = Cert(sim->vcek_der()), vlek = Cert(sim->vlek_der());
  EXPECT_EQ(ark.subject_cn(), "ARK-Milan");
  EXPECT_EQ(ask.subject_cn(), "SEV-Milan");
  EXPECT_EQ(asvk.subject_cn(), "SEV-VLEK-Milan");
  EXPECT_TRUE(ark.IsSelfIssued());
  // Every link is RSASSA-PSS; VerifySignedBy honours the explicit parameters.
  EXPECT_TRUE(VerifySignedBy(ark, ark).ok());
  EXPECT_TRUE(VerifySignedBy(ask, ark).ok());
  EXPECT_TRUE(VerifySignedBy(asvk, ark).ok());
  EXPECT_TRUE(VerifySignedBy(vcek, ask).ok());
  EXPECT_TRUE(VerifySignedBy(vlek, asvk).ok());
  EXPECT_TRUE(CheckIsCa(ask).ok());
  EXPECT_EQ(X509_get_signature_nid(vcek.get()), NID_rsassaPss);
  // VLEKs live one year, VCEKs seven.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(vlek.not_after() - vlek.not_before()).count(),
            24 * 365);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::hours>(vcek.not_after() - vcek.not_before()).count(),
            7 * 24 * 365);
  EXPECT_EQ(sim->hierarchy().VcekCertChainPem(), sim->ask_pem() + sim->ark_pem());
  auto chain = ParsePemBundle(sim->hierarchy().VlekCertChainPem()).value();
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0].subject_cn(), "SEV-VLEK-Milan");
}

VerifyOptions SimVerifyOptions(const SnpSimulator& sim) {
  VerifyOptions v;
  v.time = std::chrono::system_clock::now();
  v.extra_trusted_roots = {{Cert(sim.ark_der()), SigningKey::kVcek},
                           {Cert(sim.ark_der()), SigningKey::kVlek}};
  v.allow_simulation_roots = true;
  return v;
}

absl::Status VerifyEvidence(const SnpSimulator& sim, const SimEvidence& ev) {
  auto entries = ParseCertTable(ev.cert_table);
  if (!entries.ok()) return entries.status();
  bool vlek = sim.options().signing_key == SimSigningKey::kVlek;
  const CertTableEntry* leaf = FindCert(*entries, vlek ? kGuidVlek : kGuidVcek);
  if (leaf == nullptr) return absl::NotFoundError("no endorsement key in the certificate table");
  std::vector<Certificate> chain;
  for (const Guid* g : {&kGuidAsk, &kGuidArk}) {
    if (const CertTableEntry* e = FindCert(*entries, *g)) chain.push_back(Cert(e->data));
  }
  CheckList checks;
  auto verified = VerifyReportBytes(ev.report, leaf->data, chain, SimVerifyOptions(sim), checks);
  return verified.status();
}

TEST(sevsnp_sim, EvidenceVerifiesForEveryProductAndKey) {
  for (SimProduct p : {SimProduct::kMilan, SimProduct::kGenoa, SimProduct::kTurin}) {
    for (SimSigningKey k : {SimSigningKey::kVcek, SimSigningKey::kVlek}) {
      SimOptions o;
      o.product = p;
      o.signing_key = k;
      auto sim = MustCreate(o);
      ASSERT_NE(sim, nullptr);
      auto ev = sim->GetReport(Bytes(64, 0x33)).value();
      EXPECT_TRUE(VerifyEvidence(*sim, ev).ok())
          << SimProductName(p) << " vlek=" << (k == SimSigningKey::kVlek) << ": "
          << VerifyEvidence(*sim, ev);
    }
  }
}

// Each defect makes a correct verifier fail, at the check named in its message.
TEST(sevsnp_sim, DefectsFailVerification) {
  struct Case {
    SimDefect defect;
    absl::StatusCode code;
    std::string check;  // the failed check's name, as verify.h reports it
  };
  const Case cases[] = {
      {SimDefect::kReportByteFlipped, absl::StatusCode::kInvalidArgument, "report.signature"},
      {SimDefect::kSignatureByteFlipped, absl::StatusCode::kInvalidArgument, "report.signature"},
      {SimDefect::kSignedByOtherKey, absl::StatusCode::kInvalidArgument, "report.signature"},
      {SimDefect::kNoSignature, absl::StatusCode::kInvalidArgument, "report.signing_key"},
      {SimDefect::kVcekTcbMismatch, absl::StatusCode::kInvalidArgument, "cert.tcb_match"},
      {SimDefect::kVcekHwidMismatch, absl::StatusCode::kInvalidArgument, "cert.hwid_match"},
      {SimDefect::kVcekProductMismatch, absl::StatusCode::kInvalidArgument, "report.product"},
      {SimDefect::kVcekWrongSigner, absl::StatusCode::kInvalidArgument, "cert.chain"},
      {SimDefect::kVcekExpired, absl::StatusCode::kInvalidArgument, "cert.validity"},
      {SimDefect::kCertTableWithoutVcek, absl::StatusCode::kNotFound, "no endorsement key"},
  };
  for (const Case& c : cases) {
    SimOptions o;
    o.defects = {c.defect};
    auto sim = MustCreate(o);
    ASSERT_NE(sim, nullptr);
    auto ev = sim->GetReport(Bytes(64, 0x44)).value();
    absl::Status s = VerifyEvidence(*sim, ev);
    EXPECT_EQ(s.code(), c.code) << c.check << ": " << s;
    EXPECT_EQ(std::string(s.message()).substr(0, c.check.size()), c.check) << s;
  }
}

TEST(sevsnp_sim, RejectsBadOptions) {
  struct Case {
    std::function<void(SimOptions&)> edit;
    std::string message;
  };
  const Case cases[] = {
      {[](SimOptions& o) { o.measurement = Bytes(47); }, "measurement: got 47 bytes, want 48"},
      {[](SimOptions& o) { o.host_data = Bytes(33); }, "host_data: got 33 bytes, want 32"},
      {[](SimOptions& o) { o.chip_id = Bytes(8, 1); }, "chip_id: got 8 bytes 0101010101010101, want 64 for Milan"},
      {[](SimOptions& o) {
         o.product = SimProduct::kTurin;
         o.chip_id = Bytes(64, 1);
       },
       "chip_id: got 64 bytes"},
  };
  for (const Case& c : cases) {
    SimOptions o;
    c.edit(o);
    auto sim = SnpSimulator::Create(o);
    EXPECT_EQ(sim.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(sim.status().message().find(c.message), std::string::npos) << sim.status();
  }
  auto sim = MustCreate({});
  ASSERT_NE(sim, nullptr);
  auto ev = sim->GetReport(Bytes(65));
  EXPECT_EQ(ev.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(ev.status().message()), "report_data: got 65 bytes, want at most 64");
}

TEST(sevsnp_sim_hierarchy, PersistsAndReloads) {
  twi::testing::TempDir dir;
  SimHierarchyOptions h;
  h.product = SimProduct::kGenoa;
  h.rsa_bits = 2048;
  h.dir = dir / "genoa";
  auto first = SimHierarchy::Create(h);
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat st;
  ASSERT_EQ(stat((h.dir + "/ark.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((h.dir + "/ark.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  auto second = SimHierarchy::Create(h);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->ark_der(), (*first)->ark_der());
  EXPECT_EQ((*second)->ask_der(), (*first)->ask_der());
  // The reloaded keys still sign: a simulator on top verifies.
  SimOptions o;
  o.hierarchy = *second;
  auto sim = MustCreate(o);
  ASSERT_NE(sim, nullptr);
  EXPECT_EQ(sim->product(), SimProduct::kGenoa);
  EXPECT_TRUE(VerifyEvidence(*sim, sim->GetReport(Bytes(64, 1)).value()).ok());

  h.product = SimProduct::kTurin;
  auto wrong = SimHierarchy::Create(h);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.status().message().find("got ARK-Genoa rsa-2048, want ARK-Turin rsa-2048"),
            std::string::npos)
      << wrong.status();
}

TEST(sevsnp_sim_hierarchy, CrlSignedByArk) {
  auto h = SimHierarchy::SharedForTests(SimProduct::kMilan).value();
  TimePoint now = std::chrono::system_clock::now();
  Certificate ark = Cert(h->ark_der()), ask = Cert(h->ask_der());
  auto der = h->MakeCrl({now - std::chrono::hours(1), now + std::chrono::hours(1), {}});
  ASSERT_TRUE(der.ok()) << der.status();
  auto crl = Crl::Parse(*der);
  ASSERT_TRUE(crl.ok()) << crl.status();
  std::vector<Certificate> subjects = {ask};
  EXPECT_TRUE(CheckCrl(*crl, ark, subjects, now).ok());
  EXPECT_FALSE(crl->IsRevoked(ask));

  auto revoking = h->MakeCrl({now - std::chrono::hours(1), now + std::chrono::hours(1),
                              {Bytes{0x01, 0x00, 0x01}}});  // the ASK's serial, 0x10001
  ASSERT_TRUE(revoking.ok());
  auto crl2 = Crl::Parse(*revoking).value();
  EXPECT_TRUE(crl2.IsRevoked(ask));
  EXPECT_FALSE(CheckCrl(crl2, ark, subjects, now).ok());
}

}  // namespace
}  // namespace twi::sevsnp
