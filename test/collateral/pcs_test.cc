// The Intel PCS / PCCS collateral client against a local HTTP(S) server (kds_server.py) serving
// the simulator's collateral and the real go-tdx-guest PCS responses (vector T4), and the
// offline bundle source. Fault tests: a 404 or stuck FMSPC never affects another, stale items
// are named, identical fetches coalesce, cache hits do no request.
#include "attestors/collateral/pcs.h"

#include <sys/stat.h>

#include <condition_variable>
#include <fstream>
#include <future>
#include <thread>

#include "absl/strings/ascii.h"
#include "attestors/collateral/pcs_response.h"
#include "attestors/core/checks.h"
#include "attestors/core/file.h"
#include "attestors/tdx/sim.h"
#include "attestors/tdx/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test/collateral/fakes.h"
#include "test/collateral/local_server.h"
#include "test/collateral/temp_dir.h"

namespace twi::collateral {
namespace {

using ::testing::HasSubstr;
using std::chrono::hours;
using std::chrono::seconds;

constexpr char kTcbPath[] = "/tdx/certification/v4/tcb?fmspc=";
constexpr char kQePath[] = "/tdx/certification/v4/qe/identity";
constexpr char kPckCrlPath[] = "/sgx/certification/v4/pckcrl?ca=platform&encoding=der";
constexpr char kRootCrlPath[] = "/sgx/certification/v4/rootcacrl";

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

using testing::GatedGetter;
using testing::ManualClock;
using testing::NoNetwork;
using testing::RecordingSleeper;

// Percent-encodes everything but unreserved characters, as Intel PCS does.
std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

std::string Testdata(const std::string& rel) { return std::string(TWI_TESTDATA) + "/tdx/" + rel; }
std::string TestText(const std::string& rel) { return ReadFileToString(Testdata(rel)).value(); }

Bytes Fmspc(const char* hex) { return HexDecode(hex).value(); }

// Serves collateral in PCS's shapes from a local server.
class PcsServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.ok()) << "kds_server.py did not start"; }

  std::string Write(const std::string& name, std::string_view data) {
    std::string path = dir_ / name;
    std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    return path;
  }

  std::unique_ptr<tdx::TdxSimulator> Sim(const char* fmspc_hex,
                                         std::set<tdx::SimDefect> defects = {}) {
    tdx::SimOptions o;
    o.clock = &clock_;
    o.fmspc = Fmspc(fmspc_hex);
    o.defects = std::move(defects);
    auto sim = tdx::TdxSimulator::Create(o);
    EXPECT_TRUE(sim.ok()) << sim.status();
    return std::move(*sim);
  }

  // Routes a nine-key bundle's items as PCS serves them; `tag` keeps files of several apart.
  void PublishBundle(const std::string& bundle, ByteView fmspc, const std::string& tag,
                     DcapTee tee = DcapTee::kTdx, PckCa ca = PckCa::kPlatform,
                     bool shared_items = true) {
    auto b = nlohmann::json::parse(bundle);
    auto item = [&](const char* key) { return b[key].get<std::string>(); };
    auto der = [&](const char* key) {
      std::string v = item(key);
      return v.rfind("-----BEGIN", 0) == 0 ? v : std::string(AsString(HexDecode(v).value()));
    };
    server_.RouteWithHeaders(
        PcsTcbInfoUrl("", tee, fmspc),
        Write(tag + "-tcb.json", absl::StrCat("{\"tcbInfo\":", item("tcb_info"), ",\"signature\":\"",
                                              item("tcb_info_signature"), "\"}")),
        {{"TCB-Info-Issuer-Chain", UrlEncode(item("tcb_info_issuer_chain"))}});
    if (!shared_items) return;
    server_.RouteWithHeaders(
        PcsQeIdentityUrl("", tee),
        Write(tag + "-qe.json", absl::StrCat("{\"enclaveIdentity\":", item("qe_identity"),
                                             ",\"signature\":\"", item("qe_identity_signature"), "\"}")),
        {{"SGX-Enclave-Identity-Issuer-Chain", UrlEncode(item("qe_identity_issuer_chain"))}});
    server_.RouteWithHeaders(PcsPckCrlUrl("", ca), Write(tag + "-pck.crl", der("pck_crl")),
                             {{"SGX-PCK-CRL-Issuer-Chain", UrlEncode(item("pck_crl_issuer_chain"))}});
    // A PCCS answers the root CA CRL as hex text.
    server_.Route(kRootCrlPath, Write(tag + "-root.crl", HexEncode(AsBytes(der("root_ca_crl")))));
  }
  void Publish(const tdx::TdxSimulator& sim, const std::string& tag, bool shared_items = true) {
    PublishBundle(sim.collateral_json(), sim.options().fmspc, tag, DcapTee::kTdx, PckCa::kPlatform,
                  shared_items);
  }

  std::unique_ptr<PcsClient> Client(const std::string& cache_dir = "") {
    PcsOptions o;
    o.cache_dir = cache_dir;
    o.base_url = server_.base_url() + "/";
    o.backoff.max_attempts = 1;
    auto c = PcsClient::Create(o, &http_, &clock_, &sleeper_);
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  absl::Status Verify(const tdx::TdxSimulator& sim, const DcapCollateral& c) {
    Bytes quote = sim.GetQuote(Bytes(64, 0x5A)).value();
    tdx::VerifyOptions o;
    o.time = clock_.Now();
    o.extra_trusted_roots = {sim.root()};
    o.allow_simulation_roots = true;
    CheckList checks;
    tdx::VerifiedQuote out;
    return tdx::VerifyQuoteBytes(quote, c, o, checks, &out);
  }

  testing::LocalServer server_;
  twi::testing::TempDir dir_;
  CurlHttpGetter http_;
  ManualClock clock_{std::chrono::system_clock::from_time_t(1767225600)};  // 2026-01-01
  RecordingSleeper sleeper_;
};
using collateral_pcs_server = PcsServerTest;

TEST(collateral_pcs_urls, IntelPcsV4Paths) {
  Bytes fmspc = Fmspc("50806f000000");
  EXPECT_EQ(PcsTcbInfoUrl(kIntelPcsBaseUrl, DcapTee::kTdx, fmspc),
            "https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=50806F000000");
  EXPECT_EQ(PcsTcbInfoUrl("https://pccs:8081/", DcapTee::kSgx, fmspc),
            "https://pccs:8081/sgx/certification/v4/tcb?fmspc=50806F000000");
  EXPECT_EQ(PcsQeIdentityUrl(kIntelPcsBaseUrl, DcapTee::kTdx),
            "https://api.trustedservices.intel.com/tdx/certification/v4/qe/identity");
  EXPECT_EQ(PcsQeIdentityUrl(kIntelPcsBaseUrl, DcapTee::kSgx),
            "https://api.trustedservices.intel.com/sgx/certification/v4/qe/identity");
  EXPECT_EQ(PcsPckCrlUrl(kIntelPcsBaseUrl, PckCa::kProcessor),
            "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=processor&encoding=der");
  EXPECT_EQ(PcsRootCaCrlUrl("https://api.trustedservices.intel.com/"),
            "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der");
  EXPECT_EQ(PcsRootCaCrlUrl("https://pccs:8081"), "https://pccs:8081/sgx/certification/v4/rootcacrl");
}

TEST(collateral_pcs_response, IssuerChainHeaderIsUrlDecoded) {
  std::string pem = TestText("go-tdx-guest/tcb_info_issuer_chain.pem");
  auto chain = ParseIssuerChainHeader(UrlEncode(pem));
  ASSERT_TRUE(chain.ok()) << chain.status();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[0].subject_cn(), "Intel SGX TCB Signing");
  EXPECT_EQ((*chain)[1].subject_cn(), "Intel SGX Root CA");
  // A '+' of base64 is kept, not turned into a space (PEM bodies are full of them).
  EXPECT_EQ(PercentDecode("a+b%2Bc%0A").value(), "a+b+c\n");
  EXPECT_THAT(Msg(PercentDecode("abc%4").status()), HasSubstr("bad percent-encoding at byte 3"));
  EXPECT_THAT(Msg(PercentDecode("%zz").status()), HasSubstr("bad percent-encoding at byte 0"));
  EXPECT_THAT(Msg(ParseIssuerChainHeader("").status()), HasSubstr("empty issuer chain"));
  EXPECT_FALSE(ParseIssuerChainHeader("-----BEGIN%20CERTIFICATE-----%0Agarbage").ok());
}

TEST(collateral_pcs_response, CrlBodiesDerPemOrHex) {
  Bytes der = ReadFileBytes(Testdata("go-tdx-guest/rootcrl.der")).value();
  auto a = ParseCrlBody(AsString(der));
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = ParseCrlBody(HexEncode(der) + "\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->sha256(), b->sha256());
  EXPECT_FALSE(ParseCrlBody("<html>maintenance</html>").ok());
}

TEST(collateral_pcs_response, SignedDocumentsAreExtractedByteExact) {
  std::string response = TestText("go-tdx-guest/sample_tcbInfo_response");
  auto tcb = ParseTcbInfoResponse(response, "TDX", Fmspc("50806f000000"));
  ASSERT_TRUE(tcb.ok()) << tcb.status();
  EXPECT_EQ(tcb->body, response.substr(11, tcb->body.size()));  // after {"tcbInfo":
  EXPECT_EQ(tcb->body.back(), '}');
  EXPECT_EQ(FormatRfc3339(tcb->next_update), "2023-07-18T08:42:58Z");
  EXPECT_THAT(Msg(ParseTcbInfoResponse(response, "TDX", Fmspc("00806f050000")).status()),
              HasSubstr("tcbInfo.fmspc: got 50806f000000, want 00806f050000"));
  EXPECT_THAT(Msg(ParseTcbInfoResponse(response, "SGX", Fmspc("50806f000000")).status()),
              HasSubstr("tcbInfo.id: got \"TDX\", want SGX"));
  std::string qe = TestText("go-tdx-guest/sample_qeIdentity_response");
  auto identity = ParseQeIdentityResponse(qe, "TD_QE");
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(FormatRfc3339(identity->next_update), "2023-07-08T07:24:59Z");
  EXPECT_THAT(Msg(ParseQeIdentityResponse(qe, "QE").status()), HasSubstr("want QE"));
}

TEST_F(collateral_pcs_server, HappyPathBuildsABundleTheVerifierAccepts) {
  auto sim = Sim("00806F050000");
  Publish(*sim, "a");
  auto client = Client();
  auto c = client->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(Verify(*sim, **c).ok()) << Verify(*sim, **c);
  EXPECT_EQ(server_.Log(), absl::StrCat(kTcbPath, "00806F050000\n", kQePath, "\n", kPckCrlPath,
                                        "\n", kRootCrlPath, "\n"));
  // The same collateral as the simulator's own bundle, item for item.
  EXPECT_EQ((*c)->digest, sim->Collateral().value().digest);

  // Cache hit: no request at all, and the very bundle built before.
  auto again = client->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), c->get());
  EXPECT_EQ(server_.Count(), 4);
}

TEST_F(collateral_pcs_server, SharedItemsAreFetchedOnceForAllFmspcs) {
  auto a = Sim("00806F050000");
  Publish(*a, "a");
  // A second platform type under the same hierarchy is the same root only in real life; here it
  // is enough that its TCB Info is served: shared items come from the first publication.
  auto b = Sim("B0C06F000000");
  Publish(*b, "b", /*shared_items=*/false);
  auto client = Client();
  ASSERT_TRUE(client->Get(DcapTee::kTdx, a->options().fmspc, PckCa::kPlatform).ok());
  ASSERT_TRUE(client->Get(DcapTee::kTdx, b->options().fmspc, PckCa::kPlatform).ok());
  EXPECT_EQ(server_.Count(), 5);
  EXPECT_EQ(server_.Count(kQePath), 1);
  EXPECT_EQ(server_.Count(kRootCrlPath), 1);
}

TEST_F(collateral_pcs_server, NotFoundForOneFmspcLeavesAnotherWorking) {
  auto sim = Sim("00806F050000");
  Publish(*sim, "a");
  auto client = Client();
  Bytes unknown = Fmspc("50806F000000");
  auto missing = client->Get(DcapTee::kTdx, unknown, PckCa::kPlatform);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Msg(missing.status()),
            absl::StrCat("tdx tcb info for fmspc 50806F000000: GET ", server_.base_url(), kTcbPath,
                         "50806F000000: http status 404"));
  auto ok = client->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  ASSERT_TRUE(ok.ok()) << ok.status();
  // Failures are not cached: asking again asks PCS again (it may have learnt the FMSPC).
  EXPECT_FALSE(client->Get(DcapTee::kTdx, unknown, PckCa::kPlatform).ok());
  EXPECT_EQ(server_.Count(kTcbPath + std::string("50806F000000")), 2);
}

TEST_F(collateral_pcs_server, ErrorsNameItemUrlStatusAndIntelsMessage) {
  auto sim = Sim("00806F050000");
  Publish(*sim, "a");
  server_.RouteWithHeaders(kPckCrlPath, "", {{"Error-Code", "InvalidParameter"},
                                             {"Error-Message", "bad\x1b[31m ca"}}, 400);
  auto r = Client()->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Msg(r.status()),
            absl::StrCat("pck crl (platform ca): GET ", server_.base_url(), kPckCrlPath,
                         ": http status 400 (InvalidParameter: bad\\x1b[31m ca)"));
}

TEST_F(collateral_pcs_server, GarbageAndMissingChainsAreUnusableAndNotCached) {
  auto sim = Sim("00806F050000");
  Publish(*sim, "a");
  server_.RouteWithHeaders(kQePath, Write("junk", "<html>maintenance</html>"),
                           {{"SGX-Enclave-Identity-Issuer-Chain", "x"}});
  auto client = Client();
  auto r = client->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(Msg(r.status()), HasSubstr("tdx qe identity: GET "));
  EXPECT_THAT(Msg(r.status()), HasSubstr("unusable response: collateral response: not valid json"));

  // A TCB Info without its issuer-chain header.
  auto b = nlohmann::json::parse(sim->collateral_json());
  std::string tcb = absl::StrCat("{\"tcbInfo\":", b["tcb_info"].get<std::string>(),
                                 ",\"signature\":\"", b["tcb_info_signature"].get<std::string>(), "\"}");
  server_.Route(kTcbPath + std::string("00806F050000"), Write("tcb-nochain", tcb));
  r = Client()->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  EXPECT_THAT(Msg(r.status()), HasSubstr("unusable response: no TCB-Info-Issuer-Chain header"));
  EXPECT_EQ(server_.Count(kTcbPath + std::string("00806F050000")), 2);
}

TEST_F(collateral_pcs_server, StaleItemIsRefusedByName) {
  auto sim = Sim("00806F050000", {tdx::SimDefect::kTcbInfoExpired});
  Publish(*sim, "a");
  auto r = Client()->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Msg(r.status()),
              HasSubstr(absl::StrCat("tdx tcb info for fmspc 00806F050000 from ", server_.base_url(),
                                     kTcbPath, "00806F050000 is stale: nextUpdate 2025-12-31T00:00:00Z "
                                     "is before now 2026-01-01T00:00:00Z")));
}

TEST_F(collateral_pcs_server, ItemsAreCachedUntilTheirNextUpdate) {
  auto sim = Sim("00806F050000");
  Publish(*sim, "a");
  auto client = Client();
  ASSERT_TRUE(client->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform).ok());
  clock_.Advance(hours(24 * 29));
  ASSERT_TRUE(client->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform).ok());
  EXPECT_EQ(server_.Count(), 4);

  // Past nextUpdate (30 days) every item is fetched again; PCS still serving the old ones is
  // reported as stale, by the first item asked for.
  clock_.Advance(hours(48));
  auto stale = client->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Msg(stale.status()), HasSubstr("tdx tcb info for fmspc 00806F050000 from"));
  EXPECT_EQ(server_.Count(), 5);

  auto renewed = Sim("00806F050000");  // minted at the new time
  Publish(*renewed, "renewed");
  auto fresh = client->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(Verify(*renewed, **fresh).ok());
  EXPECT_EQ(server_.Count(), 9);
}

TEST_F(collateral_pcs_server, DiskCacheSurvivesANewClientUntilNextUpdate) {
  auto sim = Sim("00806F050000");
  Publish(*sim, "a");
  std::string cache = dir_ / "cache";
  auto first = Client(cache)->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  ASSERT_TRUE(first.ok()) << first.status();
  for (const char* f : {"tdx-tcb-00806F050000", "tdx-qe-identity", "pckcrl-platform", "rootcacrl"}) {
    struct stat st;
    ASSERT_EQ(stat((cache + "/" + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0644u) << f;
  }
  // A restarted server: nothing asked, the same collateral.
  auto second = Client(cache)->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->digest, (*first)->digest);
  EXPECT_EQ(server_.Count(), 4);

  // A corrupt file is fetched again and replaced; past nextUpdate every file is.
  std::ofstream(cache + "/tdx-qe-identity") << "garbage";
  ASSERT_TRUE(Client(cache)->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform).ok());
  EXPECT_EQ(server_.Count(), 5);
  ASSERT_TRUE(Client(cache)->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform).ok());
  EXPECT_EQ(server_.Count(), 5);
  clock_.Advance(hours(24 * 31));
  auto renewed = Sim("00806F050000");
  Publish(*renewed, "renewed");
  auto third = Client(cache)->Get(DcapTee::kTdx, sim->options().fmspc, PckCa::kPlatform);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(Verify(*renewed, **third).ok());
  EXPECT_EQ(server_.Count(), 9);
}

// Vector T4: Intel's real PCS responses (go-tdx-guest), served with URL-encoded chain headers
// and the DER CRLs, verify up to the documented outcome (no TCB level matches).
TEST_F(collateral_pcs_server, RealPcsResponsesOfVectorT4) {
  Bytes fmspc = Fmspc("50806F000000");
  server_.RouteWithHeaders(
      kTcbPath + std::string("50806F000000"), Testdata("go-tdx-guest/sample_tcbInfo_response"),
      {{"TCB-Info-Issuer-Chain", UrlEncode(TestText("go-tdx-guest/tcb_info_issuer_chain.pem"))}});
  server_.RouteWithHeaders(kQePath, Testdata("go-tdx-guest/sample_qeIdentity_response"),
                           {{"SGX-Enclave-Identity-Issuer-Chain",
                             UrlEncode(TestText("go-tdx-guest/qe_identity_issuer_chain.pem"))}});
  server_.RouteWithHeaders(kPckCrlPath, Testdata("go-tdx-guest/pckcrl"),
                           {{"SGX-PCK-CRL-Issuer-Chain",
                             UrlEncode(TestText("go-tdx-guest/pck_crl_issuer_chain.pem"))}});
  server_.Route(kRootCrlPath, Testdata("go-tdx-guest/rootcrl.der"));
  clock_ = ManualClock(ParseRfc3339("2023-07-01T01:00:00Z").value());
  auto c = Client()->Get(DcapTee::kTdx, fmspc, PckCa::kPlatform);
  ASSERT_TRUE(c.ok()) << c.status();
  tdx::VerifyOptions o;
  o.time = clock_.Now();
  CheckList checks;
  tdx::VerifiedQuote out;
  absl::Status s = tdx::VerifyQuoteBytes(ReadFileBytes(Testdata("go-tdx-guest/tdx_prod_quote_SPR_E4.dat")).value(),
                                         **c, o, checks, &out);
  EXPECT_THAT(Msg(s), HasSubstr("tcb.level: tcb not supported"));
  for (const char* name : {"crl.root_ca", "crl.pck", "tcb_info.signature", "qe_identity.signature",
                           "tcb_info.match", "qe_identity.match"}) {
    bool passed = false;
    for (const Check& check : checks.checks()) passed |= check.name == name && check.passed;
    EXPECT_TRUE(passed) << name;
  }
}

// Vector T2: an SGX v3 quote whose PCK comes from the Processor CA, its collateral served
// under /sgx/ and pckcrl?ca=processor, verifies with its documented TCB status.
TEST_F(collateral_pcs_server, SgxQuoteOfVectorT2ThroughTheProcessorCa) {
  Bytes fmspc = Fmspc("00A067110000");
  PublishBundle(TestText("phala-dcap-qvl/sgx_quote_collateral.json"), fmspc, "t2", DcapTee::kSgx,
                PckCa::kProcessor);
  clock_ = ManualClock(ParseRfc3339("2025-07-01T00:00:00Z").value());
  auto c = Client()->Get(DcapTee::kSgx, fmspc, PckCa::kProcessor);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(server_.Log(), absl::StrCat("/sgx/certification/v4/tcb?fmspc=00A067110000\n",
                                        "/sgx/certification/v4/qe/identity\n",
                                        "/sgx/certification/v4/pckcrl?ca=processor&encoding=der\n",
                                        kRootCrlPath, "\n"));
  tdx::VerifyOptions o;
  o.time = clock_.Now();
  CheckList checks;
  tdx::VerifiedQuote out;
  absl::Status s = tdx::VerifyQuoteBytes(ReadFileBytes(Testdata("phala-dcap-qvl/sgx_quote")).value(), **c, o,
                                         checks, &out);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out.tcb.status, "ConfigurationAndSWHardeningNeeded");
  EXPECT_EQ(out.pck_ca, "processor");
}

// HTTPS with a self-signed certificate, as a PCCS serves it.
TEST(collateral_pcs_tls, SelfSignedPccsOnlyWithTheOption) {
  twi::testing::TempDir dir;
  testing::LocalServer server(dir.path());
  ASSERT_TRUE(server.ok()) << "kds_server.py --tls did not start (python3 ssl, openssl)";
  server.Route(kRootCrlPath, Testdata("go-tdx-guest/rootcrl.der"));
  FixedClock clock(ParseRfc3339("2023-07-01T01:00:00Z").value());
  auto fetch = [&](DcapSourceOptions o) -> absl::Status {
    o.base_url = server.base_url();
    o.backoff.max_attempts = 1;
    auto source = MakeDcapCollateralSource(o, nullptr, &clock);
    if (!source.ok()) return source.status();
    // Nothing but the root CA CRL is routed: getting as far as the TCB Info's 404 means TLS
    // was accepted.
    return (*source)->Get(DcapTee::kTdx, Fmspc("50806F000000"), PckCa::kPlatform).status();
  };
  absl::Status refused = fetch({});
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_THAT(Msg(refused), HasSubstr("tdx tcb info for fmspc 50806F000000: GET https://127.0.0.1"));
  EXPECT_EQ(server.Count(), 0);

  DcapSourceOptions allow;
  allow.allow_self_signed_tls = true;
  EXPECT_EQ(fetch(allow).code(), absl::StatusCode::kNotFound);
  DcapSourceOptions pinned;
  pinned.tls_ca_file = dir / "cert.pem";
  EXPECT_EQ(fetch(pinned).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(server.Count(), 2);
}

TEST(collateral_pcs_tls, SelfSignedOptionIsRefusedForIntelPcs) {
  DcapSourceOptions o;
  o.allow_self_signed_tls = true;
  auto s = MakeDcapCollateralSource(o, nullptr, nullptr);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(s.status()), HasSubstr("allow_self_signed_tls is for a pccs"));
  o.base_url = "ftp://pccs";
  EXPECT_THAT(Msg(MakeDcapCollateralSource(o, nullptr, nullptr).status()), HasSubstr("is not http(s)"));
  // The TLS options configure the source's own client: with a getter passed in they would be
  // silently ignored, so that is refused.
  o.base_url = "https://pccs:8081";
  NoNetwork http;
  EXPECT_THAT(Msg(MakeDcapCollateralSource(o, &http, nullptr).status()),
              HasSubstr("pass no getter to use them"));
  o.allow_self_signed_tls = false;
  EXPECT_TRUE(MakeDcapCollateralSource(o, &http, nullptr).ok());
}

// ---- faults: one FMSPC's trouble never reaches another; identical fetches coalesce ----

constexpr char kBase[] = "http://pcs.invalid";

// Routes `sim`'s collateral into `http` under kBase.
void Serve(GatedGetter& http, const tdx::TdxSimulator& sim) {
  auto b = nlohmann::json::parse(sim.collateral_json());
  auto doc = [&](const char* key, const char* item, const char* sig, const char* header,
                 const char* chain) {
    HttpResponse r{200, absl::StrCat("{\"", key, "\":", b[item].get<std::string>(), ",\"signature\":\"",
                                     b[sig].get<std::string>(), "\"}"), {}};
    r.headers[absl::AsciiStrToLower(header)] = UrlEncode(b[chain].get<std::string>());
    return r;
  };
  http.Serve(PcsTcbInfoUrl(kBase, DcapTee::kTdx, sim.options().fmspc),
             doc("tcbInfo", "tcb_info", "tcb_info_signature", "TCB-Info-Issuer-Chain", "tcb_info_issuer_chain"));
  http.Serve(PcsQeIdentityUrl(kBase, DcapTee::kTdx),
             doc("enclaveIdentity", "qe_identity", "qe_identity_signature",
                 "SGX-Enclave-Identity-Issuer-Chain", "qe_identity_issuer_chain"));
  HttpResponse crl{200, std::string(AsString(HexDecode(b["pck_crl"].get<std::string>()).value())), {}};
  crl.headers["sgx-pck-crl-issuer-chain"] = UrlEncode(b["pck_crl_issuer_chain"].get<std::string>());
  http.Serve(PcsPckCrlUrl(kBase, PckCa::kPlatform), crl);
  http.Serve(PcsRootCaCrlUrl(kBase), HttpResponse{200, b["root_ca_crl"].get<std::string>(), {}});
}

class PcsFaultTest : public ::testing::Test {
 protected:
  std::unique_ptr<PcsClient> Client(GatedGetter* http) {
    PcsOptions o;
    o.base_url = kBase;
    o.backoff.max_attempts = 1;
    return PcsClient::Create(o, http, &clock_, &sleeper_).value();
  }
  std::unique_ptr<tdx::TdxSimulator> Sim(const char* fmspc) {
    tdx::SimOptions o;
    o.clock = &clock_;
    o.fmspc = Fmspc(fmspc);
    return tdx::TdxSimulator::Create(o).value();
  }
  ManualClock clock_{std::chrono::system_clock::from_time_t(1767225600)};
  RecordingSleeper sleeper_;
};
using collateral_pcs_faults = PcsFaultTest;

TEST_F(collateral_pcs_faults, StuckFmspcDoesNotStallAnother) {
  auto a = Sim("00806F050000");
  GatedGetter http({404, "", {}}, "fmspc=AAAAAAAAAAAA");
  Serve(http, *a);
  auto client = Client(&http);
  auto stuck = std::async(std::launch::async, [&] {
    return client->Get(DcapTee::kTdx, Fmspc("AAAAAAAAAAAA"), PckCa::kPlatform).status();
  });
  GatedGetter::OpenOnExit open{http};
  ASSERT_TRUE(http.WaitBlocked(1));
  auto other = std::async(std::launch::async, [&] {
    return client->Get(DcapTee::kTdx, a->options().fmspc, PckCa::kPlatform).status();
  });
  ASSERT_EQ(other.wait_for(seconds(60)), std::future_status::ready) << "blocked behind another fmspc";
  EXPECT_TRUE(other.get().ok());
  http.Open();
  EXPECT_EQ(stuck.get().code(), absl::StatusCode::kNotFound);
}

TEST_F(collateral_pcs_faults, IdenticalFetchesCoalesce) {
  auto a = Sim("00806F050000");
  GatedGetter http({404, "", {}}, "/tcb?");
  Serve(http, *a);
  auto client = Client(&http);
  constexpr int kCallers = 6;
  std::vector<std::future<absl::Status>> calls;
  for (int i = 0; i < kCallers; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      return client->Get(DcapTee::kTdx, a->options().fmspc, PckCa::kPlatform).status();
    }));
  }
  GatedGetter::OpenOnExit open{http};
  ASSERT_TRUE(http.WaitBlocked(1));
  for (int i = 0; i < 6000 && client->coalesced() < kCallers - 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(client->coalesced(), size_t{kCallers - 1});
  http.Open();
  for (auto& c : calls) EXPECT_TRUE(c.get().ok());
  EXPECT_EQ(http.calls(PcsTcbInfoUrl(kBase, DcapTee::kTdx, a->options().fmspc)), 1);
  EXPECT_EQ(http.calls(PcsQeIdentityUrl(kBase, DcapTee::kTdx)), 1);
}

TEST_F(collateral_pcs_faults, MemoryCacheIsBounded) {
  auto a = Sim("00806F050000");
  GatedGetter http({404, "", {}}, "");
  Serve(http, *a);
  PcsOptions o;
  o.base_url = kBase;
  o.max_memory_entries = 2;
  auto client = PcsClient::Create(o, &http, &clock_, &sleeper_).value();
  ASSERT_TRUE(client->Get(DcapTee::kTdx, a->options().fmspc, PckCa::kPlatform).ok());
  ASSERT_TRUE(client->Get(DcapTee::kTdx, a->options().fmspc, PckCa::kPlatform).ok());
  // Four items, room for two: some were fetched again, none is held beyond the bound.
  int total = 0;
  for (const std::string& url : {PcsTcbInfoUrl(kBase, DcapTee::kTdx, a->options().fmspc),
                                 PcsQeIdentityUrl(kBase, DcapTee::kTdx),
                                 PcsPckCrlUrl(kBase, PckCa::kPlatform), PcsRootCaCrlUrl(kBase)}) {
    total += http.calls(url);
  }
  EXPECT_GT(total, 4);
}

// ---- offline: a bundle file or a directory of <FMSPC>.json ----

class OfflineTest : public ::testing::Test {
 protected:
  std::string WriteBundle(const std::string& name, const std::string& json) {
    std::string path = dir_ / name;
    std::ofstream(path) << json;
    return path;
  }
  twi::testing::TempDir dir_;
};
using collateral_dcap_offline = OfflineTest;

TEST_F(collateral_dcap_offline, SingleBundleServesEveryFmspc) {
  FixedClock clock(ParseRfc3339("2025-07-01T00:00:00Z").value());
  NoNetwork no_network;
  DcapSourceOptions o;
  o.offline_path = Testdata("phala-dcap-qvl/tdx_quote_collateral.json");
  auto source = MakeDcapCollateralSource(o, &no_network, &clock).value();
  auto a = source->Get(DcapTee::kTdx, Fmspc("B0C06F000000"), PckCa::kPlatform);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE((*a)->pck_crl.has_value());
  EXPECT_TRUE(source->Get(DcapTee::kTdx, Fmspc("00806F050000"), PckCa::kPlatform).ok());
}

TEST_F(collateral_dcap_offline, DirectoryIsKeyedByFmspc) {
  FixedClock clock(ParseRfc3339("2025-07-01T00:00:00Z").value());
  WriteBundle("B0C06F000000.json", TestText("phala-dcap-qvl/tdx_quote_collateral.json"));
  WriteBundle("00A067110000.json", "{not json");
  DcapSourceOptions o;
  o.offline_path = dir_.path();
  auto source = MakeDcapCollateralSource(o, nullptr, &clock).value();
  EXPECT_TRUE(source->Get(DcapTee::kTdx, Fmspc("b0c06f000000"), PckCa::kPlatform).ok());
  auto missing = source->Get(DcapTee::kTdx, Fmspc("50806F000000"), PckCa::kPlatform);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Msg(missing.status()), HasSubstr("tdx collateral for fmspc 50806F000000: "));
  EXPECT_THAT(Msg(missing.status()), HasSubstr("50806F000000.json"));
  auto bad = source->Get(DcapTee::kSgx, Fmspc("00A067110000"), PckCa::kProcessor);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(bad.status()), HasSubstr("collateral bundle: not a json object"));
}

TEST_F(collateral_dcap_offline, StaleItemIsNamed) {
  DcapSourceOptions o;
  o.offline_path = Testdata("phala-dcap-qvl/tdx_quote_collateral.json");
  // T1's items run to 2025-07-19 (the root CA CRL to 2026); TCB Info is checked first.
  FixedClock late(ParseRfc3339("2025-08-01T00:00:00Z").value());
  auto r = MakeDcapCollateralSource(o, nullptr, &late).value()->Get(DcapTee::kTdx, Fmspc("B0C06F000000"),
                                                                    PckCa::kPlatform);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Msg(r.status()), HasSubstr("tcb_info is stale: nextUpdate 2025-07-"));
  EXPECT_THAT(Msg(r.status()), HasSubstr("is before now 2025-08-01T00:00:00Z"));
}

}  // namespace
}  // namespace twi::collateral
