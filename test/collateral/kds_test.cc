#include "attestors/collateral/kds.h"

#include <sys/stat.h>

#include <condition_variable>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

#include "attestors/collateral/file_store.h"
#include "attestors/core/status.h"
#include "attestors/sevsnp/sim.h"
#include "gtest/gtest.h"
#include "test/collateral/fakes.h"
#include "test/collateral/local_server.h"
#include "test/collateral/temp_dir.h"

namespace twi::collateral {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The Milan-B0 chip of vector S1 (go-sev-guest attestation.bin), whose KDS URL is known.
constexpr char kMilanHwidHex[] =
    "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b"
    "564ea464cdce40c05f63c9b610c5068b006b5d";
// The Turin chip of vector S7 (virtee vcek_turin.der).
constexpr char kTurinHwidHex[] = "1e550a8ee5cf9f4d";

Bytes Hex(const char* hex) { return HexDecode(hex).value(); }

using testing::GatedGetter;
using testing::ManualClock;
using testing::NoNetwork;
using testing::RecordingSleeper;

TEST(collateral_kds_paths, MilanVcekUrlMatchesKnownAnswer) {
  // The URL go-sev-guest's test uses for vector S1.
  auto path = KdsClient::VcekUrlPath(AmdProduct::kMilan, Hex(kMilanHwidHex),
                                     KdsTcb{.bl = 2, .tee = 0, .snp = 5, .ucode = 68});
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, absl::StrCat("/vcek/v1/Milan/", kMilanHwidHex,
                                "?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68"));
}

TEST(collateral_kds_paths, GenoaVcekUrl) {
  Bytes hwid(64, 0xAB);
  auto path = KdsClient::VcekUrlPath(AmdProduct::kGenoa, hwid,
                                     KdsTcb{.fmc = 9, .bl = 10, .tee = 1, .snp = 23, .ucode = 213});
  ASSERT_TRUE(path.ok());
  // fmc is a Turin component and must not appear.
  std::string hex;
  for (int i = 0; i < 64; ++i) hex += "ab";
  EXPECT_EQ(*path, absl::StrCat("/vcek/v1/Genoa/", hex,
                                "?blSPL=10&teeSPL=1&snpSPL=23&ucodeSPL=213"));
}

TEST(collateral_kds_paths, TurinVcekUrlUsesEightByteIdAndFmc) {
  KdsTcb tcb{.fmc = 1, .bl = 2, .tee = 3, .snp = 4, .ucode = 5};
  std::string want = absl::StrCat("/vcek/v1/Turin/", kTurinHwidHex,
                                  "?fmcSPL=1&blSPL=2&teeSPL=3&snpSPL=4&ucodeSPL=5");
  auto short_id = KdsClient::VcekUrlPath(AmdProduct::kTurin, Hex(kTurinHwidHex), tcb);
  ASSERT_TRUE(short_id.ok());
  EXPECT_EQ(*short_id, want);
  // A whole CHIP_ID (8 bytes then 56 zeros) is accepted too.
  Bytes chip_id = Hex(kTurinHwidHex);
  chip_id.resize(64, 0);
  auto long_id = KdsClient::VcekUrlPath(AmdProduct::kTurin, chip_id, tcb);
  ASSERT_TRUE(long_id.ok());
  EXPECT_EQ(*long_id, want);
  auto file = KdsClient::VcekFilePath(AmdProduct::kTurin, chip_id, tcb);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*file, absl::StrCat("vcek/v1/Turin/", kTurinHwidHex, "/fmc1-bl2-tee3-snp4-ucode5.der"));
}

TEST(collateral_kds_paths, BadHwids) {
  struct Case {
    AmdProduct product;
    Bytes hwid;
    absl::StatusCode code;
    std::string message;
  };
  Bytes turin_dirty_tail = Hex(kTurinHwidHex);
  turin_dirty_tail.resize(64, 0);
  turin_dirty_tail[63] = 1;
  const Case cases[] = {
      {AmdProduct::kMilan, Bytes(8, 1), absl::StatusCode::kInvalidArgument,
       "hwid for Milan: got 8 bytes 0101010101010101, want 64"},
      {AmdProduct::kTurin, turin_dirty_tail, absl::StatusCode::kInvalidArgument,
       "hwid for Turin: got 64 bytes"},
      {AmdProduct::kGenoa, Bytes(64, 0), absl::StatusCode::kFailedPrecondition,
       "hwid is all zero"},
      {AmdProduct::kTurin, Bytes(8, 0), absl::StatusCode::kFailedPrecondition,
       "hwid is all zero"},
  };
  for (const Case& c : cases) {
    auto path = KdsClient::VcekUrlPath(c.product, c.hwid, {});
    EXPECT_EQ(path.status().code(), c.code) << path.status();
    EXPECT_NE(path.status().message().find(c.message), std::string::npos) << path.status();
  }
}

TEST(collateral_kds_paths, ChainsAndCrls) {
  EXPECT_EQ(KdsClient::CertChainPath(AmdProduct::kMilan, AmdKeyKind::kVcek), "vcek/v1/Milan/cert_chain");
  EXPECT_EQ(KdsClient::CertChainPath(AmdProduct::kTurin, AmdKeyKind::kVlek), "vlek/v1/Turin/cert_chain");
  EXPECT_EQ(KdsClient::CrlPath(AmdProduct::kGenoa, AmdKeyKind::kVcek), "vcek/v1/Genoa/crl");
  EXPECT_EQ(KdsClient::CrlPath(AmdProduct::kGenoa, AmdKeyKind::kVlek), "vlek/v1/Genoa/crl");
}

TEST(collateral_kds_create, RequiresHttpUnlessOffline) {
  FixedClock clock(std::chrono::system_clock::now());
  EXPECT_EQ(KdsClient::Create({}, nullptr, &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  KdsOptions offline;
  offline.offline_dir = "/nonexistent";
  EXPECT_TRUE(KdsClient::Create(offline, nullptr, &clock).ok());
}

// Serves simulated AMD collateral from a local server.
class KdsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok()) << "kds_server.py did not start";
    sevsnp::SimOptions o;
    o.product = sevsnp::SimProduct::kMilan;
    o.reported_tcb = {.bl = 2, .tee = 0, .snp = 5, .ucode = 68};
    o.chip_id = Hex(kMilanHwidHex);
    auto sim = sevsnp::SnpSimulator::Create(o);
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = std::move(*sim);
    vcek_target_ = KdsClient::VcekUrlPath(AmdProduct::kMilan, sim_->chip_id(), kTcb).value();
  }

  std::string WriteBody(const std::string& name, ByteView data) {
    std::string path = dir_ / name;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                                static_cast<std::streamsize>(data.size()));
    return path;
  }

  std::unique_ptr<KdsClient> Client(const std::string& cache_dir = "") {
    KdsOptions options;
    options.base_url = server_.base_url() + "/";  // a trailing slash is tolerated
    options.cache_dir = cache_dir;
    auto c = KdsClient::Create(options, &http_, &clock_, &sleeper_);
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  Bytes Crl(TimePoint this_update, TimePoint next_update) {
    auto crl = sim_->hierarchy().MakeCrl({this_update, next_update, {}});
    EXPECT_TRUE(crl.ok()) << crl.status();
    return *crl;
  }

  static constexpr KdsTcb kTcb{.bl = 2, .tee = 0, .snp = 5, .ucode = 68};
  testing::LocalServer server_;
  twi::testing::TempDir dir_;
  CurlHttpGetter http_;
  ManualClock clock_{std::chrono::system_clock::from_time_t(1767225600)};  // 2026-01-01
  RecordingSleeper sleeper_;
  std::unique_ptr<sevsnp::SnpSimulator> sim_;
  std::string vcek_target_;
};
using collateral_kds_server = KdsServerTest;

TEST_F(collateral_kds_server, FetchesVcekOnceThenServesFromMemory) {
  server_.Route(vcek_target_, WriteBody("vcek.der", sim_->vcek_der()));
  auto client = Client();
  auto first = client->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, sim_->vcek_der());
  EXPECT_EQ(server_.Log(), absl::StrCat("/vcek/v1/Milan/", kMilanHwidHex,
                                        "?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68\n"));
  auto second = client->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(server_.Count(), 1);
}

TEST_F(collateral_kds_server, DiskCacheSurvivesANewClient) {
  server_.Route(vcek_target_, WriteBody("vcek.der", sim_->vcek_der()));
  std::string cache = dir_ / "cache";
  ASSERT_TRUE(Client(cache)->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb).ok());
  std::string file = cache + "/" + KdsClient::VcekFilePath(AmdProduct::kMilan, sim_->chip_id(), kTcb).value();
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0) << file;
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  auto again = Client(cache)->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, sim_->vcek_der());
  EXPECT_EQ(server_.Count(), 1);
}

TEST_F(collateral_kds_server, CorruptCacheFileIsRefetched) {
  server_.Route(vcek_target_, WriteBody("vcek.der", sim_->vcek_der()));
  std::string cache = dir_ / "cache";
  std::string file = cache + "/" + KdsClient::VcekFilePath(AmdProduct::kMilan, sim_->chip_id(), kTcb).value();
  ASSERT_TRUE(WriteFileAtomic(file, AsBytes("<html>oops</html>")).ok());
  auto got = Client(cache)->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(server_.Count(), 1);
  EXPECT_EQ(ReadWholeFile(file).value(), sim_->vcek_der());
}

TEST_F(collateral_kds_server, CertChainsForVcekAndVlek) {
  std::string vcek_chain = sim_->hierarchy().VcekCertChainPem();
  std::string vlek_chain = sim_->hierarchy().VlekCertChainPem();
  server_.Route("/vcek/v1/Milan/cert_chain", WriteBody("vcek_chain.pem", AsBytes(vcek_chain)));
  server_.Route("/vlek/v1/Milan/cert_chain", WriteBody("vlek_chain.pem", AsBytes(vlek_chain)));
  auto client = Client();
  EXPECT_EQ(client->GetCertChain(AmdProduct::kMilan, AmdKeyKind::kVcek).value(), vcek_chain);
  EXPECT_EQ(client->GetCertChain(AmdProduct::kMilan, AmdKeyKind::kVlek).value(), vlek_chain);
  EXPECT_EQ(client->GetCertChain(AmdProduct::kMilan, AmdKeyKind::kVcek).value(), vcek_chain);
  EXPECT_EQ(server_.Count(), 2);
}

TEST_F(collateral_kds_server, RateLimitBackoffHonoursRetryAfter) {
  server_.Route("/vcek/v1/Milan/cert_chain",
                WriteBody("chain.pem", AsBytes(sim_->hierarchy().VcekCertChainPem())), 200,
                /*fail429=*/2, /*retry_after=*/"1");
  auto chain = Client()->GetCertChain(AmdProduct::kMilan, AmdKeyKind::kVcek);
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(server_.Count(), 3);
  EXPECT_EQ(sleeper_.sleeps, (std::vector<milliseconds>{seconds(1), seconds(1)}));
}

TEST_F(collateral_kds_server, RateLimitGivesUpAfterBoundedAttempts) {
  server_.Route(vcek_target_, WriteBody("vcek.der", sim_->vcek_der()), 200, /*fail429=*/100);
  auto got = Client()->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find(server_.base_url() + vcek_target_), std::string::npos)
      << got.status();
  EXPECT_NE(got.status().message().find("http status 429"), std::string::npos) << got.status();
  EXPECT_EQ(server_.Count(), 4);  // BackoffOptions::max_attempts
  EXPECT_EQ(sleeper_.sleeps.size(), 3u);
}

TEST_F(collateral_kds_server, HttpErrorsMapToStatuses) {
  server_.Route("/vcek/v1/Milan/cert_chain", "", 500);
  auto client = Client();
  // No route: the server answers 404.
  auto vcek = client->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb);
  EXPECT_EQ(vcek.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(vcek.status().message().find(vcek_target_), std::string::npos) << vcek.status();
  // 404 on a chain is the service misbehaving, not a missing chip.
  auto crl = client->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVlek);
  EXPECT_EQ(crl.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(crl.status().message().find("/vlek/v1/Milan/crl: http status 404"), std::string::npos)
      << crl.status();
  auto chain = client->GetCertChain(AmdProduct::kMilan, AmdKeyKind::kVcek);
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(chain.status().message()),
            absl::StrCat("GET ", server_.base_url(), "/vcek/v1/Milan/cert_chain: http status 500"));
}

TEST_F(collateral_kds_server, GarbageBodyIsRejectedAndNotCached) {
  server_.Route(vcek_target_, WriteBody("junk", AsBytes("<html>maintenance</html>")));
  std::string cache = dir_ / "cache";
  auto client = Client(cache);
  for (int i = 0; i < 2; ++i) {
    auto got = client->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(got.status().message().find("unusable response: not a DER certificate"),
              std::string::npos)
        << got.status();
  }
  EXPECT_EQ(server_.Count(), 2);
  EXPECT_FALSE(std::filesystem::exists(cache + "/vcek"));
}

TEST_F(collateral_kds_server, CrlIsCachedUntilNextUpdate) {
  TimePoint t0 = clock_.Now();
  Bytes crl1 = Crl(t0 - hours(1), t0 + hours(1));
  Bytes crl2 = Crl(t0 + hours(1), t0 + hours(25));
  std::string body = WriteBody("crl.der", crl1);
  server_.Route("/vcek/v1/Milan/crl", body);
  std::string cache = dir_ / "cache";
  auto client = Client(cache);

  EXPECT_EQ(client->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVcek).value(), crl1);
  clock_.Advance(std::chrono::minutes(30));
  EXPECT_EQ(client->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVcek).value(), crl1);
  // A new client finds the still-fresh CRL on disk.
  EXPECT_EQ(Client(cache)->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVcek).value(), crl1);
  EXPECT_EQ(server_.Count(), 1);

  // Past nextUpdate both memory and disk copies are stale: fetch the new CRL.
  WriteBody("crl.der", crl2);
  clock_.Advance(hours(2));
  EXPECT_EQ(client->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVcek).value(), crl2);
  EXPECT_EQ(server_.Count(), 2);
  EXPECT_EQ(Client(cache)->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVcek).value(), crl2);
  EXPECT_EQ(server_.Count(), 2);
}

TEST_F(collateral_kds_server, AlreadyExpiredCrlIsReturnedButNotCached) {
  TimePoint t0 = clock_.Now();
  server_.Route("/vcek/v1/Milan/crl", WriteBody("crl.der", Crl(t0 - hours(48), t0 - hours(24))));
  auto client = Client();
  ASSERT_TRUE(client->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVcek).ok());
  ASSERT_TRUE(client->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVcek).ok());
  EXPECT_EQ(server_.Count(), 2);
}

TEST_F(collateral_kds_server, OfflineDirectoryNeedsNoNetwork) {
  // Fill a cache online, then use that directory as an air-gapped server's offline directory.
  TimePoint t0 = clock_.Now();
  Bytes crl = Crl(t0 - hours(1), t0 + hours(1));
  server_.Route(vcek_target_, WriteBody("vcek.der", sim_->vcek_der()));
  server_.Route("/vcek/v1/Milan/cert_chain",
                WriteBody("chain.pem", AsBytes(sim_->hierarchy().VcekCertChainPem())));
  server_.Route("/vcek/v1/Milan/crl", WriteBody("crl.der", crl));
  std::string cache = dir_ / "cache";
  {
    auto online = Client(cache);
    ASSERT_TRUE(online->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb).ok());
    ASSERT_TRUE(online->GetCertChain(AmdProduct::kMilan, AmdKeyKind::kVcek).ok());
    ASSERT_TRUE(online->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVcek).ok());
  }
  NoNetwork no_network;
  KdsOptions options;
  options.offline_dir = cache;
  auto offline = KdsClient::Create(options, &no_network, &clock_).value();
  EXPECT_EQ(offline->GetVcek(AmdProduct::kMilan, sim_->chip_id(), kTcb).value(), sim_->vcek_der());
  EXPECT_EQ(offline->GetCertChain(AmdProduct::kMilan, AmdKeyKind::kVcek).value(),
            sim_->hierarchy().VcekCertChainPem());
  // Offline CRLs are returned even when stale: the verifier reports the dates.
  clock_.Advance(hours(5));
  EXPECT_EQ(offline->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVcek).value(), crl);

  auto missing = offline->GetCrl(AmdProduct::kMilan, AmdKeyKind::kVlek);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(missing.status().message()),
            absl::StrCat("offline kds: ", cache, "/vlek/v1/Milan/crl does not exist"));

  ASSERT_TRUE(WriteFileAtomic(cache + "/vlek/v1/Milan/cert_chain", AsBytes("junk")).ok());
  auto junk = offline->GetCertChain(AmdProduct::kMilan, AmdKeyKind::kVlek);
  EXPECT_EQ(junk.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(junk.status().message().find("not a PEM certificate chain: got 0 certificates"),
            std::string::npos)
      << junk.status();
  EXPECT_EQ(server_.Count(), 3);
}

// ---- Issue 11 (2): attacker-chosen collateral lookups must not stall other attestations ----

class KdsAttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sevsnp::SimOptions o;
    sim_ = sevsnp::SnpSimulator::Create(o).value();
  }
  std::unique_ptr<KdsClient> Client(HttpGetter* http, size_t max_entries = 4096) {
    KdsOptions options;
    options.base_url = "http://kds.invalid";
    options.max_memory_entries = max_entries;
    options.backoff.max_attempts = 1;
    return KdsClient::Create(options, http, &clock_, &sleeper_).value();
  }
  static Bytes Hwid(uint8_t b) { return Bytes(64, b); }
  ManualClock clock_{std::chrono::system_clock::from_time_t(1767225600)};
  RecordingSleeper sleeper_;
  std::unique_ptr<sevsnp::SnpSimulator> sim_;
};
using AttackKds = KdsAttackTest;

// A fetch stuck on KDS (slow, rate limited, Retry-After) for one chip does not hold a lock
// that another chip's fetch needs. Before the fix a single fetch lock serialized them all.
TEST_F(AttackKds, StuckFetchDoesNotStallADifferentOne) {
  Bytes der = sim_->vcek_der();
  GatedGetter http({200, std::string(AsString(der)), {}}, HexEncode(Hwid(0xAA)));
  auto client = Client(&http);
  auto stuck = std::async(std::launch::async, [&] { return client->GetVcek(AmdProduct::kMilan, Hwid(0xAA), {}); });
  GatedGetter::OpenOnExit open_stuck{http};
  ASSERT_TRUE(http.WaitBlocked(1));
  auto other = std::async(std::launch::async, [&] { return client->GetVcek(AmdProduct::kMilan, Hwid(0xBB), {}); });
  ASSERT_EQ(other.wait_for(seconds(60)), std::future_status::ready) << "blocked behind another chip's fetch";
  EXPECT_TRUE(other.get().ok());
  http.Open();
  EXPECT_TRUE(stuck.get().ok());
}

// Identical concurrent requests share one KDS request, including its failure (which is not
// cached, so without coalescing every waiter would ask again).
TEST_F(AttackKds, IdenticalFetchesCoalesce) {
  GatedGetter http({404, "not found", {}}, "/vcek/");
  auto client = Client(&http);
  constexpr int kCallers = 8;
  std::vector<std::future<absl::StatusOr<Bytes>>> calls;
  for (int i = 0; i < kCallers; ++i) {
    calls.push_back(std::async(std::launch::async, [&] { return client->GetVcek(AmdProduct::kMilan, Hwid(0xCC), {}); }));
  }
  GatedGetter::OpenOnExit open_all{http};
  ASSERT_TRUE(http.WaitBlocked(1));
  for (int i = 0; i < 6000 && client->coalesced() < kCallers - 1; ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_EQ(client->coalesced(), size_t{kCallers - 1});
  http.Open();
  for (auto& c : calls) EXPECT_EQ(c.get().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(http.calls(), 1);
}

// Made-up chip IDs cannot grow the memory cache without bound: the oldest entries go.
TEST_F(AttackKds, MemoryCacheIsBounded) {
  Bytes der = sim_->vcek_der();
  GatedGetter http({200, std::string(AsString(der)), {}}, "");
  auto client = Client(&http, /*max_entries=*/3);
  for (uint8_t b = 1; b <= 5; ++b) ASSERT_TRUE(client->GetVcek(AmdProduct::kMilan, Hwid(b), {}).ok());
  EXPECT_EQ(http.calls(), 5);
  ASSERT_TRUE(client->GetVcek(AmdProduct::kMilan, Hwid(5), {}).ok());  // newest: still cached
  EXPECT_EQ(http.calls(), 5);
  ASSERT_TRUE(client->GetVcek(AmdProduct::kMilan, Hwid(1), {}).ok());  // oldest: evicted
  EXPECT_EQ(http.calls(), 6);
}

TEST(collateral_file_store, AtomicWriteReplacesAndSetsMode) {
  twi::testing::TempDir dir;
  std::string path = dir / "a/b/c.bin";
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes("one")).ok());
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes("two!"), 0640).ok());
  EXPECT_EQ(ReadWholeFile(path).value(), ToBytes("two!"));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // No temporary files are left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "a/b")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(ReadWholeFile(dir / "missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace twi::collateral
