// `twi verify --type gcp` through the built twi: simulated GCE evidence (the simulated vTPM CA,
// a software AK) and P1's real GCE Shielded VM quote under a simulated AK certificate; verified
// with the issue's claims, refusals exit 1 naming the check, usage errors exit 2.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/core/bytes.h"
#include "nlohmann/json.hpp"
#include "test/cli/run.h"
#include "test/gcp/soft_ak.h"
#include "test/tpm/testdata.h"

namespace twi::gcp {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using cli::testing::Sh;
using cli::testing::Twi;
namespace fs = std::filesystem;

const Bytes kNonce = ToBytes("cli-challenge");

void Write(const std::string& path, ByteView data) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

std::string PcrsJson(const tpm::PcrBanks& banks) {
  nlohmann::json j;
  for (const auto& [alg, pcrs] : banks) {
    const char* name = alg == TPM2_ALG_SHA1 ? "sha1" : "sha256";
    for (const auto& [i, v] : pcrs) j[name][std::to_string(i)] = HexEncode(v);
  }
  return j.dump();
}

// Evidence files in a fresh directory.
class GcpVerifyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/twi-gcp-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto ca = testing::Ca();
    Write(dir_ + "/root.pem", AsBytes(ca->root_pem()));
    Write(dir_ + "/intermediate.pem", AsBytes(ca->intermediate_pem()));
    Write(dir_ + "/bundle.pem", AsBytes(ca->BundlePem()));
    static const testing::SoftAk* ak = new testing::SoftAk(testing::SoftAk::Create());
    Write(dir_ + "/ak.der", *ca->IssueAkCert(ak->spki));
    auto q = testing::MakeQuote(ak->key.get(), kNonce);
    Write(dir_ + "/quote.bin", q.attest);
    Write(dir_ + "/sig.bin", q.signature);
    Write(dir_ + "/pcrs.json", AsBytes(PcrsJson(q.pcrs)));
    // P1: a real GCE quote (empty nonce, SHA-1) and its AK under a simulated certificate.
    tpm::testing::QuoteVector p1 = tpm::testing::P1();
    auto pub = tpm::ParsePublicAny(p1.ak);
    ASSERT_TRUE(pub.ok());
    Write(dir_ + "/p1-ak.der", *ca->IssueAkCert(*tpm::PublicSpki(*pub)));
    Write(dir_ + "/p1-quote.bin", p1.attest);
    Write(dir_ + "/p1-sig.bin", p1.signature);
    Write(dir_ + "/p1-pcrs.json", AsBytes(PcrsJson(p1.pcrs)));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Args(const std::string& extra, const std::string& nonce,
                   const std::string& prefix = "") const {
    return Twi() + " verify --type gcp --ak-cert " + dir_ + "/" + prefix + "ak.der --quote " +
           dir_ + "/" + prefix + "quote.bin --signature " + dir_ + "/" + prefix +
           "sig.bin --pcrs " + dir_ + "/" + prefix + "pcrs.json --nonce '" + nonce +
           "' --json " + extra;
  }
  std::string Sim() const { return " --insecure-simulation-roots --ca " + dir_ + "/bundle.pem"; }
  static nlohmann::json Json(const cli::testing::Run& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  std::string dir_;
};

TEST_F(GcpVerifyCli, VerifiesWithClaims) {
  auto r = Sh(Args(Sim(), HexEncode(kNonce)), false);
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = Json(r);
  EXPECT_EQ(j["evidence_type"], "gcp");
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["claims"]["project_id"], "twi-sim-project");
  EXPECT_EQ(j["claims"]["zone"], "us-central1-a");
  EXPECT_EQ(j["claims"]["instance_id"], "4242424242424242424");
  EXPECT_EQ(j["claims"]["ak_pub_sha256"].get<std::string>().size(), 64u);
  EXPECT_THAT(r.out, HasSubstr("gcp:project-id:twi-sim-project"));
  EXPECT_THAT(r.out, HasSubstr("gcp:instance-id:4242424242424242424"));
  // The CA set split over two files.
  r = Sh(Args(" --insecure-simulation-roots --ca " + dir_ + "/root.pem --ca " + dir_ +
                  "/intermediate.pem",
              HexEncode(kNonce)),
         false);
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST_F(GcpVerifyCli, RealGceQuoteVerifies) {
  auto r = Sh(Args(Sim(), "", "p1-"), false);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(Json(r)["claims"]["project_id"], "twi-sim-project");
}

TEST_F(GcpVerifyCli, Refusals) {
  // The simulated CA needs the explicit flag.
  auto r = Sh(Args(" --ca " + dir_ + "/bundle.pem", HexEncode(kNonce)), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("ak_cert.chain: anchored in "));
  // Google's CAs did not issue the simulated certificate.
  r = Sh(Args(" --ca " + std::string(TWI_SOURCE_DIR) + "/examples/gcp/vtpm-ca-bundle.pem",
              HexEncode(kNonce)),
         false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("ak_cert.chain: no configured root"));
  r = Sh(Args(Sim(), "00"), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("quote.nonce: "));
  // P1's quote is not by our AK's certificate key.
  r = Sh(Twi() + " verify --type gcp --ak-cert " + dir_ + "/ak.der --quote " + dir_ +
             "/p1-quote.bin --signature " + dir_ + "/p1-sig.bin --pcrs " + dir_ +
             "/p1-pcrs.json --nonce '' --json" + Sim(),
         false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("quote.signature: "));
  // Hardware asked for but incomplete: refused after the quote checks, naming what is missing.
  r = Sh(Args(Sim() + " --td-quote " + dir_ + "/quote.bin", HexEncode(kNonce)), false);
  EXPECT_EQ(r.code, 1) << r.out;
  auto j = Json(r);
  EXPECT_EQ(j["error"], "hw.required: options require tdx; no dcap collateral for the quote");
  EXPECT_EQ(j["claims"]["zone"], "us-central1-a");
  r = Sh(Args(Sim() + " --report " + dir_ + "/quote.bin", HexEncode(kNonce)), false);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_THAT(Json(r)["error"].get<std::string>(), StartsWith("hw.required: options require sev-snp; the evidence has no vcek"));
}

TEST_F(GcpVerifyCli, UsageErrors) {
  const std::string nonce = HexEncode(kNonce);
  EXPECT_EQ(Sh(Args("", nonce)).code, 2);  // no --ca
  EXPECT_EQ(Sh(Args(Sim() + " --report x --td-quote y", nonce)).code, 2);
  EXPECT_EQ(Sh(Args(Sim(), "zz")).code, 2);
  EXPECT_EQ(Sh(Args(" --ca /nonexistent/ca.pem", nonce)).code, 2);
  EXPECT_EQ(Sh(Args(Sim() + " --report /nonexistent/report.bin --vcek /nonexistent/v.pem", nonce)).code, 2);
  EXPECT_EQ(Sh(Twi() + " verify --type gcp --ak-cert x --ca y --nonce 00").code, 2);
  // --policy is the hardware's: without --report or --td-quote it has nothing to apply to; a
  // file the server's reader refuses is a usage error, as for --type sev-snp and tdx.
  auto no_hw = Sh(Args(Sim() + " --policy /nonexistent/policy.hcl", nonce));
  EXPECT_EQ(no_hw.code, 2);
  EXPECT_THAT(no_hw.out, HasSubstr("--policy applies to the hardware report"));
  std::ofstream(dir_ + "/bad-policy.hcl") << "no_such_key = 1\n";
  EXPECT_EQ(Sh(Args(Sim() + " --report " + dir_ + "/quote.bin --policy " + dir_ + "/bad-policy.hcl", nonce)).code, 2);
}

}  // namespace
}  // namespace twi::gcp
