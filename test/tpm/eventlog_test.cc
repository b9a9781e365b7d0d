// Event logs against verified quotes: P1's legacy SHA-1 log replays to its quoted PCRs; a
// crypto-agile log built here and measured into swtpm replays to a real quote and yields the
// secure boot and boot loader facts policy uses; every mismatch names the PCR.
#include <cstring>

#include "attestors/tpm/policy.h"
#include "attestors/tpm/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/tpm/swtpm.h"
#include "test/tpm/testdata.h"

namespace twi::tpm {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::StartsWith;
using testing::Msg;

constexpr int kPortLog = 23231;

VerifiedQuote VerifiedP1() {
  VerifiedQuote q;
  EXPECT_TRUE(testing::Verify(testing::P1(), &q).ok());
  return q;
}

TEST(TpmEventLog, P1LegacyLogReplaysToTheQuotedSha1Pcrs) {
  VerifiedQuote q = VerifiedP1();
  EventLogFacts facts;
  CheckList checks;
  absl::Status s = VerifyEventLog(q, testing::P1EventLog(), checks, &facts);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(facts.bank, TPM2_ALG_SHA1);
  EXPECT_THAT(facts.matched_pcrs, ElementsAre(0, 4, 5, 7, 11, 12, 13, 14));
  EXPECT_GT(facts.events, 0u);
}

// Legacy TCG_PCR_EVENT records: pcr u32, type u32, SHA-1 digest[20], size u32, data. The offset
// of the first record's digest is 8; find a PCR 4 record by walking the log.
size_t DigestOffsetOfFirstEventIn(const Bytes& log, uint32_t pcr) {
  size_t off = 0;
  while (off + 32 <= log.size()) {
    uint32_t index = LoadLe32(log.data() + off);
    uint32_t size = LoadLe32(log.data() + off + 28);
    if (index == pcr) return off + 8;
    off += 32 + size;
  }
  return 0;
}

TEST(TpmEventLog, P1TamperedEventIsRefusedNamingThePcr) {
  VerifiedQuote q = VerifiedP1();
  Bytes log = testing::P1EventLog();
  size_t at = DigestOffsetOfFirstEventIn(log, 4);
  ASSERT_GT(at, 0u);
  log[at] ^= 0x01;
  EventLogFacts facts;
  CheckList checks;
  EXPECT_THAT(Msg(VerifyEventLog(q, log, checks, &facts)),
              StartsWith("eventlog.replay: sha1:4 replays to "));
  EXPECT_TRUE(facts.matched_pcrs.empty());
  log = testing::P1EventLog();
  log.resize(log.size() - 3);
  EXPECT_THAT(Msg(VerifyEventLog(q, log, checks, &facts)), StartsWith("eventlog.structure: "));
}

TEST(TpmEventLog, NeedsAuthenticatedPcrsOfABankTheLogCarries) {
  VerifiedQuote q = VerifiedP1();
  q.pcr_digest_ok = false;
  EventLogFacts facts;
  CheckList checks;
  EXPECT_EQ(Msg(VerifyEventLog(q, testing::P1EventLog(), checks, &facts)),
            "eventlog.replay: no quoted and authenticated pcr bank the log also carries (log: sha1)");
  VerifiedQuote p2;
  ASSERT_TRUE(testing::Verify(testing::P2(), &p2).ok());  // a SHA-256 quote
  EXPECT_EQ(Msg(VerifyEventLog(p2, testing::P1EventLog(), checks, &facts)),
            "eventlog.replay: no quoted and authenticated pcr bank the log also carries (log: sha1)");
}

// ---- a crypto-agile SHA-256 log measured into swtpm ----

void Put32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

struct LogBuilder {
  Bytes log;
  std::vector<std::pair<uint32_t, Bytes>> extends;  // what the TPM must see
  LogBuilder() {
    Bytes data(16, 0);
    std::memcpy(data.data(), "Spec ID Event03", 16);
    Put32(data, 0);
    data.insert(data.end(), {0, 2, 0, 2});
    Put32(data, 1);
    Put16(data, TPM2_ALG_SHA256);
    Put16(data, 32);
    data.push_back(0);
    Put32(log, 0);
    Put32(log, 3);  // EV_NO_ACTION
    log.insert(log.end(), 20, 0);
    Put32(log, static_cast<uint32_t>(data.size()));
    log.insert(log.end(), data.begin(), data.end());
  }
  void Event(uint32_t pcr, uint32_t type, const Bytes& data) {
    Bytes digest = Sha256(data);
    Put32(log, pcr);
    Put32(log, type);
    Put32(log, 1);
    Put16(log, TPM2_ALG_SHA256);
    log.insert(log.end(), digest.begin(), digest.end());
    Put32(log, static_cast<uint32_t>(data.size()));
    log.insert(log.end(), data.begin(), data.end());
    extends.push_back({pcr, digest});
  }
  // EV_EFI_VARIABLE_DRIVER_CONFIG for SecureBoot = `value`.
  void SecureBoot(uint8_t value) {
    Bytes d = {0x61, 0xDF, 0xE4, 0x8B, 0xCA, 0x93, 0xD2, 0x11,
               0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C};
    for (int i = 0; i < 8; ++i) d.push_back(i == 0 ? 10 : 0);  // name length (chars)
    for (int i = 0; i < 8; ++i) d.push_back(i == 0 ? 1 : 0);   // data length
    for (char c : std::string("SecureBoot")) Put16(d, static_cast<uint16_t>(c));
    d.push_back(value);
    Event(7, 0x80000001, d);
  }
};

TEST(TpmEventLog, CryptoAgileLogReplaysToASwtpmQuoteAndFeedsPolicy) {
  if (!testing::HaveSwtpm()) GTEST_SKIP() << "swtpm not installed";
  LogBuilder b;
  b.Event(0, 0x00000008, ToBytes("firmware"));  // EV_S_CRTM_VERSION
  b.SecureBoot(1);
  b.Event(7, 0x00000004, Bytes(4, 0));  // EV_SEPARATOR
  b.Event(4, 0x80000003, ToBytes("shim"));  // EV_EFI_BOOT_SERVICES_APPLICATION
  b.Event(4, 0x80000003, ToBytes("grub"));

  testing::Swtpm tpm(kPortLog);
  ASSERT_TRUE(tpm.ready());
  testing::Esys esys(tpm.tcti());
  ASSERT_NE(esys.get(), nullptr);
  for (const auto& [pcr, digest] : b.extends) {
    TPML_DIGEST_VALUES v{};
    v.count = 1;
    v.digests[0].hashAlg = TPM2_ALG_SHA256;
    std::memcpy(v.digests[0].digest.sha256, digest.data(), 32);
    ASSERT_EQ(Esys_PCR_Extend(esys.get(), ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                              ESYS_TR_NONE, &v), TSS2_RC_SUCCESS);
  }
  ESYS_TR ak = ESYS_TR_NONE;
  Public ak_pub;
  ASSERT_EQ(testing::CreatePrimary(esys.get(), ESYS_TR_RH_OWNER,
                                   testing::AkTemplate(TPM2_ALG_RSASSA), &ak, &ak_pub),
            TSS2_RC_SUCCESS);
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[0] = 0x91;  // PCR 0, 4, 7
  UINT32 counter = 0;
  TPML_PCR_SELECTION* sel_out = nullptr;
  TPML_DIGEST* values = nullptr;
  ASSERT_EQ(Esys_PCR_Read(esys.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter,
                          &sel_out, &values), TSS2_RC_SUCCESS);
  PcrBanks pcrs;
  uint32_t idx[] = {0, 4, 7};
  for (int i = 0; i < 3; ++i) {
    pcrs[TPM2_ALG_SHA256][idx[i]].assign(values->digests[i].buffer,
                                         values->digests[i].buffer + values->digests[i].size);
  }
  Esys_Free(sel_out);
  Esys_Free(values);
  TPM2B_DATA nonce{};
  nonce.size = 16;
  std::memset(nonce.buffer, 0x33, 16);
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;
  TPM2B_ATTEST* quoted = nullptr;
  TPMT_SIGNATURE* sig = nullptr;
  ASSERT_EQ(Esys_Quote(esys.get(), ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &nonce,
                       &scheme, &sel, &quoted, &sig), TSS2_RC_SUCCESS);
  Bytes attest(quoted->attestationData, quoted->attestationData + quoted->size);
  Bytes sig_bytes(sizeof(TPMT_SIGNATURE));
  size_t off = 0;
  ASSERT_EQ(Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sig_bytes.data(), sig_bytes.size(), &off),
            TSS2_RC_SUCCESS);
  sig_bytes.resize(off);
  Esys_Free(quoted);
  Esys_Free(sig);
  Esys_FlushContext(esys.get(), ak);

  VerifyOptions o;
  o.nonce = Bytes(16, 0x33);
  CheckList checks;
  VerifiedQuote q;
  absl::Status s = VerifyQuote(*AkKey::FromPublic(ak_pub), attest, sig_bytes, pcrs, o, checks, &q);
  ASSERT_TRUE(s.ok()) << s;
  EventLogFacts facts;
  s = VerifyEventLog(q, b.log, checks, &facts);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(facts.matched_pcrs, ElementsAre(0, 4, 7));
  EXPECT_EQ(facts.secure_boot, std::optional<bool>(true));
  ASSERT_EQ(facts.boot_applications.size(), 2u);
  EXPECT_EQ(facts.boot_applications[0], Sha256(ToBytes("shim")));

  TpmPolicy policy;
  policy.require_secure_boot = true;
  policy.boot_loader_digests = {Sha256(ToBytes("shim"))};
  EXPECT_TRUE(Appraise(q, &facts, policy, checks).ok());
  EXPECT_THAT(Selectors(q, &facts), Contains("tpm:secure-boot:true"));
  policy.boot_loader_digests = {Sha256(ToBytes("grub"))};
  EXPECT_THAT(Msg(Appraise(q, &facts, policy, checks)), StartsWith("policy.boot_loader: boot loader "));

  // A log that says SecureBoot was off no longer replays to the quoted PCR 7.
  LogBuilder off_log;
  off_log.Event(0, 0x00000008, ToBytes("firmware"));
  off_log.SecureBoot(0);
  EXPECT_THAT(Msg(VerifyEventLog(q, off_log.log, checks, &facts)),
              StartsWith("eventlog.replay: sha256:7 replays to "));
}

}  // namespace
}  // namespace twi::tpm
