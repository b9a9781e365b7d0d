// The agent's TPM access against swtpm (the TCTI is the device seam): EK from the profile
// templates and its certificate, AK creation and persistence, credential activation with the
// TPM's own MakeCredential, quotes checked with OpenSSL, and no transient handle left behind.
#include "attestors/tpm/collect.h"

#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "attestors/core/crypto.h"
#include "attestors/tpm/esys.h"
#include "test/tpm/quote_check.h"
#include "test/tpm/swtpm_fixture.h"

namespace twi::tpm {
namespace {

using ::testing::HasSubstr;
using ::twi::testing::SwtpmTest;

void ExpectNoTransients(TpmCollector& tpm) {
  absl::StatusOr<std::vector<uint32_t>> handles = tpm.TransientHandles();
  ASSERT_TRUE(handles.ok()) << handles.status();
  EXPECT_TRUE(handles->empty()) << handles->size() << " transient handles left";
}

std::unique_ptr<TpmCollector> OpenOrDie(TpmCollectOptions options) {
  absl::StatusOr<std::unique_ptr<TpmCollector>> tpm = TpmCollector::Open(std::move(options));
  EXPECT_TRUE(tpm.ok()) << tpm.status();
  return tpm.ok() ? std::move(*tpm) : nullptr;
}

Bytes Nonce(uint8_t fill) { return Bytes(32, fill); }

class TpmCollectTest : public SwtpmTest {
 protected:
  // A collector on this test's swtpm with its EK and AK made.
  void OpenWithKeys(TpmCollectOptions options = {}) {
    options.tcti = swtpm().tcti();
    tpm_ = OpenOrDie(std::move(options));
    ASSERT_NE(tpm_, nullptr);
    absl::StatusOr<TpmKeyInfo> ek = tpm_->Ek();
    ASSERT_TRUE(ek.ok()) << ek.status();
    absl::StatusOr<TpmKeyInfo> ak = tpm_->Ak();
    ASSERT_TRUE(ak.ok()) << ak.status();
    ek_ = *ek;
    ak_ = *ak;
  }
  void TearDown() override {
    tpm_.reset();
    SwtpmTest::TearDown();
  }

  std::unique_ptr<TpmCollector> tpm_;
  TpmKeyInfo ek_, ak_;
};

// ---- EK ----

TEST_F(TpmCollectTest, RsaEkFromTemplateMatchesItsCertificateAndThePersistentEk) {
  TWI_START_SWTPM(24210);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti()});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<TpmKeyInfo> ek = tpm->Ek();
  ASSERT_TRUE(ek.ok()) << ek.status();
  TPMT_PUBLIC pub = MuPublic(ek->public_area);
  EXPECT_EQ(pub.type, TPM2_ALG_RSA);
  EXPECT_EQ(pub.objectAttributes, kEkAttributes);
  EXPECT_EQ(pub.parameters.rsaDetail.keyBits, 2048);
  EXPECT_EQ(ek->persistent_handle, 0u);
  // Name = nameAlg || SHA-256(TPMT_PUBLIC).
  Bytes name = {0x00, 0x0B};
  Bytes h = Sha256(ek->public_area);
  name.insert(name.end(), h.begin(), h.end());
  EXPECT_EQ(ek->name, name);

  // swtpm_setup --create-ek-cert wrote a certificate for this very key into NV 0x01C00002.
  ASSERT_FALSE(ek->certificate.empty());
  const uint8_t* p = ek->certificate.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(ek->certificate.size())));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(p, ek->certificate.data() + ek->certificate.size());
  EvpPkeyPtr key = OpenSslKey(pub);
  EXPECT_EQ(Spki(X509_get0_pubkey(cert.get())), Spki(key.get()));
  ExpectNoTransients(*tpm);

  // swtpm_setup also persisted the same EK at the conventional handle.
  auto persistent = OpenOrDie({.tcti = swtpm().tcti(), .ek_handle = 0x81010001});
  ASSERT_NE(persistent, nullptr);
  absl::StatusOr<TpmKeyInfo> pek = persistent->Ek();
  ASSERT_TRUE(pek.ok()) << pek.status();
  EXPECT_EQ(pek->public_area, ek->public_area);
  EXPECT_EQ(pek->persistent_handle, 0x81010001u);
  EXPECT_EQ(pek->certificate, ek->certificate);
}

TEST_F(TpmCollectTest, EccEkFromTemplateL2) {
  TWI_START_SWTPM(24212);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti(), .ek_alg = KeyAlg::kEccP256});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<TpmKeyInfo> ek = tpm->Ek();
  ASSERT_TRUE(ek.ok()) << ek.status();
  EXPECT_EQ(ek->alg, KeyAlg::kEccP256);
  TPMT_PUBLIC pub = MuPublic(ek->public_area);
  EXPECT_EQ(pub.type, TPM2_ALG_ECC);
  EXPECT_EQ(pub.parameters.eccDetail.curveID, TPM2_ECC_NIST_P256);
  EXPECT_EQ(pub.objectAttributes, kEkAttributes);
  EXPECT_EQ(pub.unique.ecc.x.size, 32);
  EXPECT_EQ(Bytes(pub.authPolicy.buffer, pub.authPolicy.buffer + pub.authPolicy.size),
            Bytes(kEkAuthPolicy.begin(), kEkAuthPolicy.end()));
  // swtpm_setup certifies a P-384 EK (high range), so the L-2 index is absent: no certificate.
  EXPECT_TRUE(ek->certificate.empty());
  ExpectNoTransients(*tpm);

  // Asked for explicitly, an absent certificate index is an error.
  auto strict = OpenOrDie({.tcti = swtpm().tcti(), .ek_alg = KeyAlg::kEccP256,
                           .ek_cert_nv_index = kEkCertNvEccP256});
  ASSERT_NE(strict, nullptr);
  absl::StatusOr<TpmKeyInfo> none = strict->Ek();
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("0x01c0000a is not defined"));
}

TEST_F(TpmCollectTest, PersistentEccP384EkFindsItsOwnCertificate) {
  TWI_START_SWTPM(24246);
  // swtpm_setup persists an ECC P-384 EK (high-range template) and certifies it at 0x01C00016.
  auto tpm = OpenOrDie({.tcti = swtpm().tcti(), .ek_handle = 0x81010016});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<TpmKeyInfo> ek = tpm->Ek();
  ASSERT_TRUE(ek.ok()) << ek.status();
  TPMT_PUBLIC pub = MuPublic(ek->public_area);
  EXPECT_EQ(pub.parameters.eccDetail.curveID, TPM2_ECC_NIST_P384);
  EXPECT_EQ(EkCertNvIndexFor(pub), 0x01C00016u);
  ASSERT_FALSE(ek->certificate.empty());
  const uint8_t* p = ek->certificate.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(ek->certificate.size())));
  ASSERT_NE(cert, nullptr);
  EvpPkeyPtr key = OpenSslKey(pub);
  EXPECT_EQ(Spki(X509_get0_pubkey(cert.get())), Spki(key.get()));

  // Its policy is the high-range PolicyOR, which the agent does not satisfy: a clear refusal
  // instead of the TPM's "policy check failed".
  absl::StatusOr<TpmKeyInfo> ak = tpm->Ak();
  EXPECT_EQ(ak.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ak.status().message(), HasSubstr("the EK at 0x81010016 has authPolicy"));
  ExpectNoTransients(*tpm);
}

TEST_F(TpmCollectTest, NvReadsInChunksOfAnySize) {
  TWI_START_SWTPM(24214);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti()});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<Bytes> whole = tpm->ReadNv(kEkCertNvRsa2048);
  ASSERT_TRUE(whole.ok()) << whole.status();
  auto small = OpenOrDie({.tcti = swtpm().tcti(), .nv_chunk_size = 100});
  ASSERT_NE(small, nullptr);
  absl::StatusOr<Bytes> chunked = small->ReadNv(kEkCertNvRsa2048);
  ASSERT_TRUE(chunked.ok()) << chunked.status();
  EXPECT_GT(chunked->size(), 1000u);  // more than ten chunks
  EXPECT_EQ(*chunked, *whole);
  EXPECT_EQ(small->ReadNv(0x01C0FFFF).status().code(), absl::StatusCode::kNotFound);
}

// Defines `index` (owner hierarchy, empty auth) with `attributes` and writes `data` into it in
// 512-byte pieces.
void DefineAndWriteNv(const std::string& tcti, uint32_t index, TPMA_NV attributes,
                      const Bytes& data) {
  absl::StatusOr<std::unique_ptr<EsysConnection>> c = EsysConnection::Open(tcti);
  ASSERT_TRUE(c.ok()) << c.status();
  ESYS_CONTEXT* ctx = (*c)->ctx();
  TPM2B_NV_PUBLIC pub{};
  pub.nvPublic.nvIndex = index;
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  pub.nvPublic.attributes = attributes | TPMA_NV_OWNERWRITE | TPMA_NV_NO_DA;
  pub.nvPublic.dataSize = static_cast<uint16_t>(data.size());
  TPM2B_AUTH auth{};
  ESYS_TR tr = ESYS_TR_NONE;
  ASSERT_EQ(Esys_NV_DefineSpace(ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                ESYS_TR_NONE, &auth, &pub, &tr),
            TSS2_RC_SUCCESS);
  TpmHandle handle(ctx, tr, TpmHandle::Kind::kClose);
  for (size_t off = 0; off < data.size(); off += 512) {
    TPM2B_MAX_NV_BUFFER piece{};
    piece.size = static_cast<uint16_t>(std::min<size_t>(512, data.size() - off));
    std::copy(data.begin() + off, data.begin() + off + piece.size, piece.buffer);
    ASSERT_EQ(Esys_NV_Write(ctx, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                            ESYS_TR_NONE, &piece, static_cast<uint16_t>(off)),
              TSS2_RC_SUCCESS);
  }
}

TEST_F(TpmCollectTest, AkCertificateFromAConfiguredNvIndexWithoutItsPadding) {
  TWI_START_SWTPM(24238);
  std::string tcti = swtpm().tcti();
  auto tpm = OpenOrDie({.tcti = tcti});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<Bytes> der = tpm->ReadNv(kEkCertNvRsa2048);  // any DER certificate will do
  ASSERT_TRUE(der.ok()) << der.status();
  // Vendors pad certificate indices (GCE: AK certificate at 0x01C10000); only the DER counts.
  Bytes padded = *der;
  padded.resize(der->size() + 100, 0xFF);
  ASSERT_NO_FATAL_FAILURE(DefineAndWriteNv(tcti, 0x01C10000, TPMA_NV_AUTHREAD, padded));
  // Readable only through the owner hierarchy: the reader falls back to it.
  ASSERT_NO_FATAL_FAILURE(DefineAndWriteNv(tcti, 0x01C10010, TPMA_NV_OWNERREAD, Bytes{1, 2, 3}));

  auto with_cert = OpenOrDie({.tcti = tcti, .ak_cert_nv_index = 0x01C10000});
  ASSERT_NE(with_cert, nullptr);
  absl::StatusOr<TpmKeyInfo> ak = with_cert->Ak();
  ASSERT_TRUE(ak.ok()) << ak.status();
  EXPECT_EQ(ak->certificate, *der);
  absl::StatusOr<Bytes> raw = with_cert->ReadNv(0x01C10000);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, padded);
  absl::StatusOr<Bytes> owner_only = with_cert->ReadNv(0x01C10010);
  ASSERT_TRUE(owner_only.ok()) << owner_only.status();
  EXPECT_EQ(*owner_only, (Bytes{1, 2, 3}));
  ExpectNoTransients(*with_cert);

  // Configured but absent: an error naming the index, not an AK without its certificate.
  auto missing = OpenOrDie({.tcti = tcti, .ak_cert_nv_index = 0x01C10002});
  ASSERT_NE(missing, nullptr);
  absl::StatusOr<TpmKeyInfo> none = missing->Ak();
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("0x01c10002"));
}

// ---- AK and quotes ----

TEST_F(TpmCollectTest, TransientRsaAkQuotesANonceThatVerifies) {
  TWI_START_SWTPM(24216);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti()});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<TpmKeyInfo> ak = tpm->Ak();
  ASSERT_TRUE(ak.ok()) << ak.status();
  TPMT_PUBLIC pub = MuPublic(ak->public_area);
  EXPECT_EQ(pub.type, TPM2_ALG_RSA);
  EXPECT_EQ(pub.objectAttributes, kAkAttributes);
  EXPECT_EQ(pub.parameters.rsaDetail.scheme.scheme, TPM2_ALG_RSASSA);
  EXPECT_EQ(ak->persistent_handle, 0u);
  ExpectNoTransients(*tpm);

  std::vector<PcrBankSelection> sel = {{TPM2_ALG_SHA256, {7, 0, 1, 2, 3, 4, 5, 6, 8, 9, 14}}};
  absl::StatusOr<TpmQuote> quote = tpm->Quote(sel, Nonce(0x5A));
  ASSERT_TRUE(quote.ok()) << quote.status();
  ExpectQuoteVerifies(*quote, *ak);
  TPMS_ATTEST attest = MuAttest(quote->attest);
  EXPECT_EQ(attest.magic, TPM2_GENERATED_VALUE);
  EXPECT_EQ(attest.type, TPM2_ST_ATTEST_QUOTE);
  EXPECT_EQ(Bytes(attest.extraData.buffer, attest.extraData.buffer + attest.extraData.size),
            Nonce(0x5A));
  // Values in ascending index order; their SHA-256 is the quoted pcrDigest.
  ASSERT_EQ(quote->pcrs.size(), 11u);
  Bytes concat;
  for (size_t i = 0; i < quote->pcrs.size(); ++i) {
    EXPECT_EQ(quote->pcrs[i].hash_alg, TPM2_ALG_SHA256);
    EXPECT_EQ(quote->pcrs[i].index, i < 10 ? i : 14u);
    EXPECT_EQ(quote->pcrs[i].digest.size(), 32u);
    concat.insert(concat.end(), quote->pcrs[i].digest.begin(), quote->pcrs[i].digest.end());
  }
  const TPM2B_DIGEST& d = attest.attested.quote.pcrDigest;
  EXPECT_EQ(Bytes(d.buffer, d.buffer + d.size), Sha256(concat));
  ExpectNoTransients(*tpm);

  // Same AK for the collector's lifetime.
  absl::StatusOr<TpmQuote> again = tpm->Quote(sel, Nonce(0x5B));
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectQuoteVerifies(*again, *ak);
  ExpectNoTransients(*tpm);
}

TEST_F(TpmCollectTest, EccAkUnderEccEkQuotesWithEcdsa) {
  TWI_START_SWTPM(24218);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti(), .ek_alg = KeyAlg::kEccP256,
                        .ak_alg = KeyAlg::kEccP256});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<TpmKeyInfo> ak = tpm->Ak();
  ASSERT_TRUE(ak.ok()) << ak.status();
  EXPECT_EQ(MuPublic(ak->public_area).parameters.eccDetail.scheme.scheme, TPM2_ALG_ECDSA);
  absl::StatusOr<TpmQuote> quote = tpm->Quote({{TPM2_ALG_SHA256, {0, 1, 2, 3, 4, 5, 6, 7}}},
                                              Nonce(1));
  ASSERT_TRUE(quote.ok()) << quote.status();
  ExpectQuoteVerifies(*quote, *ak);
  ExpectNoTransients(*tpm);
}

TEST_F(TpmCollectTest, QuoteCoversTwoBanksReadInBatchesOfEight) {
  TWI_START_SWTPM(24220, .pcr_banks = "sha1,sha256");
  auto tpm = OpenOrDie({.tcti = swtpm().tcti()});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<std::string> manufacturer = tpm->Manufacturer();
  ASSERT_TRUE(manufacturer.ok()) << manufacturer.status();
  EXPECT_EQ(*manufacturer, "IBM");  // libtpms
  absl::StatusOr<std::vector<uint16_t>> banks = tpm->ActiveBanks();
  ASSERT_TRUE(banks.ok()) << banks.status();
  EXPECT_THAT(*banks, ::testing::ElementsAre(TPM2_ALG_SHA1, TPM2_ALG_SHA256));
  std::vector<uint32_t> all;
  for (uint32_t i = 0; i < 24; ++i) all.push_back(i);
  std::vector<PcrBankSelection> sel = {{TPM2_ALG_SHA256, all}, {TPM2_ALG_SHA1, all}};
  absl::StatusOr<TpmKeyInfo> ak = tpm->Ak();
  ASSERT_TRUE(ak.ok()) << ak.status();
  absl::StatusOr<TpmQuote> quote = tpm->Quote(sel, Nonce(2));
  ASSERT_TRUE(quote.ok()) << quote.status();
  ASSERT_EQ(quote->pcrs.size(), 48u);  // six PCR_Read calls
  EXPECT_EQ(quote->pcrs[0].hash_alg, TPM2_ALG_SHA256);
  EXPECT_EQ(quote->pcrs[24].hash_alg, TPM2_ALG_SHA1);
  EXPECT_EQ(quote->pcrs[24].digest.size(), 20u);
  ExpectQuoteVerifies(*quote, *ak);
  TPMS_ATTEST attest = MuAttest(quote->attest);
  ASSERT_EQ(attest.attested.quote.pcrSelect.count, 2u);
  EXPECT_EQ(attest.attested.quote.pcrSelect.pcrSelections[0].hash, TPM2_ALG_SHA256);

  // A bank the TPM does not have is named, with the ones it has.
  absl::StatusOr<TpmQuote> bad = tpm->Quote({{TPM2_ALG_SHA384, {0}}}, Nonce(3));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("sha384 [0]"));
  EXPECT_THAT(bad.status().message(), HasSubstr("active banks: sha1,sha256"));
  ExpectNoTransients(*tpm);
}

TEST_F(TpmCollectTest, PersistedAkIsReusedOnTheNextStart) {
  TWI_START_SWTPM(24222);
  constexpr uint32_t kAkHandle = 0x81000100;
  Bytes first_public;
  {
    auto tpm = OpenOrDie({.tcti = swtpm().tcti(), .ak_handle = kAkHandle});
    ASSERT_NE(tpm, nullptr);
    absl::StatusOr<TpmKeyInfo> ak = tpm->Ak();
    ASSERT_TRUE(ak.ok()) << ak.status();
    EXPECT_EQ(ak->persistent_handle, kAkHandle);
    first_public = ak->public_area;
    absl::StatusOr<std::vector<uint32_t>> persistent = tpm->PersistentHandles();
    ASSERT_TRUE(persistent.ok()) << persistent.status();
    EXPECT_THAT(*persistent, ::testing::Contains(kAkHandle));
    ExpectNoTransients(*tpm);
  }
  auto tpm = OpenOrDie({.tcti = swtpm().tcti(), .ak_handle = kAkHandle});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<TpmKeyInfo> ak = tpm->Ak();
  ASSERT_TRUE(ak.ok()) << ak.status();
  EXPECT_EQ(ak->public_area, first_public);
  absl::StatusOr<TpmQuote> quote = tpm->Quote({{TPM2_ALG_SHA256, {0}}}, Nonce(4));
  ASSERT_TRUE(quote.ok()) << quote.status();
  ExpectQuoteVerifies(*quote, *ak);
  ExpectNoTransients(*tpm);

  // A transient AK per start is a different key each time.
  auto fresh = OpenOrDie({.tcti = swtpm().tcti()});
  ASSERT_NE(fresh, nullptr);
  absl::StatusOr<TpmKeyInfo> other = fresh->Ak();
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->public_area, first_public);
}

TEST_F(TpmCollectTest, AkHandleHoldingAnotherKindOfKeyIsNotTouched) {
  TWI_START_SWTPM(24224);
  // 0x81010001 is swtpm_setup's persisted EK: a decryption key, not an attestation key.
  auto tpm = OpenOrDie({.tcti = swtpm().tcti(), .ak_handle = 0x81010001});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<TpmKeyInfo> ak = tpm->Ak();
  EXPECT_EQ(ak.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ak.status().message(), HasSubstr("0x81010001 holds a key"));
  absl::StatusOr<std::vector<uint32_t>> persistent = tpm->PersistentHandles();
  ASSERT_TRUE(persistent.ok());
  EXPECT_THAT(*persistent, ::testing::Contains(0x81010001u));
}

// ---- credential activation ----

void ActivationRoundTrip(TpmCollector& tpm) {
  absl::StatusOr<TpmKeyInfo> ek = tpm.Ek();
  ASSERT_TRUE(ek.ok()) << ek.status();
  absl::StatusOr<TpmKeyInfo> ak = tpm.Ak();
  ASSERT_TRUE(ak.ok()) << ak.status();
  Bytes secret = {0xC0, 0xFF, 0xEE, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  absl::StatusOr<TpmCollector::Credential> cred =
      tpm.MakeCredential(ek->public_area, ak->name, secret);
  ASSERT_TRUE(cred.ok()) << cred.status();
  ExpectNoTransients(tpm);
  absl::StatusOr<Bytes> got = tpm.ActivateCredential(cred->credential_blob, cred->encrypted_secret);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, secret);
  ExpectNoTransients(tpm);

  // Made for another key's Name: the TPM refuses to release it.
  Bytes other_name = ak->name;
  other_name.back() ^= 1;
  absl::StatusOr<TpmCollector::Credential> wrong =
      tpm.MakeCredential(ek->public_area, other_name, secret);
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  absl::StatusOr<Bytes> refused =
      tpm.ActivateCredential(wrong->credential_blob, wrong->encrypted_secret);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  ExpectNoTransients(tpm);

  // Tampered blob (the HMAC covers it).
  Bytes tampered = cred->credential_blob;
  tampered[tampered.size() - 1] ^= 0x80;
  refused = tpm.ActivateCredential(tampered, cred->encrypted_secret);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  ExpectNoTransients(tpm);
}

TEST_F(TpmCollectTest, ActivateCredentialRoundTripRsa) {
  TWI_START_SWTPM(24226);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti()});
  ASSERT_NE(tpm, nullptr);
  ActivationRoundTrip(*tpm);
}

TEST_F(TpmCollectTest, ActivateCredentialRoundTripEcc) {
  TWI_START_SWTPM(24228);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti(), .ek_alg = KeyAlg::kEccP256,
                        .ak_alg = KeyAlg::kEccP256});
  ASSERT_NE(tpm, nullptr);
  ActivationRoundTrip(*tpm);
}

TEST_F(TpmCollectTest, ActivateCredentialWithPersistentEkAndAk) {
  TWI_START_SWTPM(24230);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti(), .ek_handle = 0x81010001, .ak_handle = 0x81000101});
  ASSERT_NE(tpm, nullptr);
  ActivationRoundTrip(*tpm);
}

TEST_F(TpmCollectTest, MalformedActivationInputsAreRejectedBeforeTheTpm) {
  TWI_START_SWTPM(24232);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti()});
  ASSERT_NE(tpm, nullptr);
  absl::StatusOr<Bytes> r = tpm->ActivateCredential(Bytes{0x00}, Bytes{0x00, 0x00});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("credential blob (TPM2B_ID_OBJECT)"));
  r = tpm->ActivateCredential(Bytes{0x00, 0x01, 0xAA}, Bytes{0x00, 0x00, 0xFF});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("1 trailing bytes"));
}

// ---- inputs and errors ----

TEST_F(TpmCollectTest, BadSelectionsAndQualifyingData) {
  TWI_START_SWTPM(24234);
  auto tpm = OpenOrDie({.tcti = swtpm().tcti()});
  ASSERT_NE(tpm, nullptr);
  auto code = [&](std::vector<PcrBankSelection> sel, Bytes qd) {
    return tpm->Quote(sel, qd).status().code();
  };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code({{TPM2_ALG_SHA256, {0}}}, Bytes(65, 1)), kInvalid);
  EXPECT_EQ(code({}, Nonce(0)), kInvalid);
  EXPECT_EQ(code({{TPM2_ALG_SHA256, {}}}, Nonce(0)), kInvalid);
  EXPECT_EQ(code({{TPM2_ALG_SHA256, {32}}}, Nonce(0)), kInvalid);
  EXPECT_EQ(code({{TPM2_ALG_SHA256, {1, 1}}}, Nonce(0)), kInvalid);
  EXPECT_EQ(code({{TPM2_ALG_SHA256, {1}}, {TPM2_ALG_SHA256, {2}}}, Nonce(0)), kInvalid);
  EXPECT_EQ(code({{0x0012, {1}}}, Nonce(0)), kInvalid);  // SM3
  // 64 bytes: the largest digest of this TPM (SHA-512), accepted.
  absl::StatusOr<TpmQuote> q = tpm->Quote({{TPM2_ALG_SHA256, {0}}}, Bytes(64, 7));
  EXPECT_TRUE(q.ok()) << q.status();
  ExpectNoTransients(*tpm);
}

TEST_F(TpmCollectTest, FullObjectSlotsAreUnavailableUntilFreed) {
  TWI_START_SWTPM(24236);
  ASSERT_NO_FATAL_FAILURE(OpenWithKeys());
  TpmCollector* tpm = tpm_.get();
  const TpmKeyInfo* ek = &ek_;
  const TpmKeyInfo* ak = &ak_;

  // Another client fills every object slot of this TPM (no resource manager in between).
  absl::StatusOr<std::unique_ptr<EsysConnection>> other = EsysConnection::Open(swtpm().tcti());
  ASSERT_TRUE(other.ok()) << other.status();
  std::vector<TpmHandle> held;
  TPM2B_PUBLIC pub{};
  pub.publicArea = MuPublic(ek->public_area);
  for (int i = 0; i < 8; ++i) {
    ESYS_TR tr = ESYS_TR_NONE;
    if (Esys_LoadExternal((*other)->ctx(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, nullptr,
                          &pub, ESYS_TR_RH_NULL, &tr) != TSS2_RC_SUCCESS) {
      break;
    }
    held.emplace_back((*other)->ctx(), tr, TpmHandle::Kind::kFlush);
  }
  ASSERT_GE(held.size(), 3u);
  std::vector<PcrBankSelection> sel = {{TPM2_ALG_SHA256, {0}}};
  absl::StatusOr<TpmQuote> busy = tpm->Quote(sel, Nonce(9));
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kUnavailable) << busy.status();
  EXPECT_THAT(busy.status().message(), HasSubstr("out of memory for object contexts"));
  EXPECT_THAT(busy.status().message(), HasSubstr(swtpm().tcti()));

  held.clear();  // the other client flushes its objects
  absl::StatusOr<TpmQuote> quote = tpm->Quote(sel, Nonce(9));
  ASSERT_TRUE(quote.ok()) << quote.status();
  ExpectQuoteVerifies(*quote, *ak);
  ExpectNoTransients(*tpm);
}

TEST_F(TpmCollectTest, KeysComeBackAfterATpmReset) {
  TWI_START_SWTPM(24244);
  ASSERT_NO_FATAL_FAILURE(OpenWithKeys());
  TpmCollector* tpm = tpm_.get();
  const TpmKeyInfo* ek = &ek_;
  const TpmKeyInfo* ak = &ak_;
  std::vector<PcrBankSelection> sel = {{TPM2_ALG_SHA256, {0}}};
  ASSERT_TRUE(tpm->Quote(sel, Nonce(1)).ok());

  // The saved EK and AK contexts die with the reset; the EK is derived again from the same
  // seed and the AK blob loads under it, so the collector carries on with the same keys.
  ASSERT_EQ(swtpm().PowerCycle(), "");
  absl::StatusOr<TpmQuote> quote = tpm->Quote(sel, Nonce(2));
  ASSERT_TRUE(quote.ok()) << quote.status();
  ExpectQuoteVerifies(*quote, *ak);
  absl::StatusOr<TpmCollector::Credential> cred =
      tpm->MakeCredential(ek->public_area, ak->name, Bytes(16, 0x42));
  ASSERT_TRUE(cred.ok()) << cred.status();
  ASSERT_EQ(swtpm().PowerCycle(), "");
  absl::StatusOr<Bytes> secret = tpm->ActivateCredential(cred->credential_blob, cred->encrypted_secret);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, Bytes(16, 0x42));
  ExpectNoTransients(*tpm);
}

TEST(TpmCollectNoServerTest, TssCodesMapToStatusCodes) {
  auto code = [](uint32_t rc) { return TssStatus(rc, "op").code(); };
  EXPECT_EQ(code(TPM2_RC_RETRY), absl::StatusCode::kUnavailable);
  EXPECT_EQ(code(TPM2_RC_OBJECT_MEMORY), absl::StatusCode::kUnavailable);
  EXPECT_EQ(code(TPM2_RC_TESTING), absl::StatusCode::kUnavailable);
  EXPECT_EQ(code(TSS2_TCTI_RC_IO_ERROR), absl::StatusCode::kUnavailable);
  EXPECT_EQ(code(TSS2_RESMGR_RC_LAYER | TSS2_BASE_RC_NO_CONNECTION), absl::StatusCode::kUnavailable);
  EXPECT_EQ(code(TPM2_RC_HANDLE | TPM2_RC_1), absl::StatusCode::kNotFound);
  EXPECT_EQ(code(TPM2_RC_BAD_AUTH | TPM2_RC_S | TPM2_RC_1), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(code(TPM2_RC_LOCKOUT), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(code(TPM2_RC_INTEGRITY | TPM2_RC_P | TPM2_RC_2), absl::StatusCode::kInternal);
  EXPECT_EQ(TssStatus(TPM2_RC_INTEGRITY | TPM2_RC_P | TPM2_RC_2, "op",
                      absl::StatusCode::kInvalidArgument).code(),
            absl::StatusCode::kInvalidArgument);
  // The TSS's own text and the code, for searching.
  EXPECT_THAT(TssStatus(TPM2_RC_RETRY, "Quote").message(), HasSubstr("Quote: tpm:"));
  EXPECT_THAT(TssStatus(TPM2_RC_RETRY, "Quote").message(), HasSubstr("(0x922)"));
}

TEST(TpmCollectNoServerTest, AbsentTpmIsUnavailableAndNamesTheTcti) {
  // Nothing listens on 24298 (reserved for this test).
  absl::StatusOr<std::unique_ptr<TpmCollector>> tpm =
      TpmCollector::Open({.tcti = "swtpm:port=24298"});
  ASSERT_FALSE(tpm.ok());
  EXPECT_EQ(tpm.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(tpm.status().message(), HasSubstr("swtpm:port=24298"));
  EXPECT_THAT(tpm.status().message(), HasSubstr("tcti:"));  // the TSS's own text

  tpm = TpmCollector::Open({.tcti = "device:/nonexistent/tpmrm0"});
  EXPECT_EQ(tpm.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(tpm.status().message(), HasSubstr("device:/nonexistent/tpmrm0"));
  EXPECT_THAT(tpm.status().message(), HasSubstr("/nonexistent/tpmrm0: No such file or directory"));

  tpm = TpmCollector::Open({.tcti = "nosuchtcti"});
  EXPECT_EQ(tpm.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(tpm.status().message(), HasSubstr("nosuchtcti"));

  EXPECT_EQ(TpmCollector::Open({.tcti = ""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TpmCollector::Open({.tcti = "swtpm:port=24298", .ak_handle = 0x80000001})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TpmCollectNoServerTest, PcrBankNames) {
  EXPECT_EQ(*PcrBankFromName("sha1"), TPM2_ALG_SHA1);
  EXPECT_EQ(*PcrBankFromName("sha256"), TPM2_ALG_SHA256);
  EXPECT_EQ(*PcrBankFromName("sha384"), TPM2_ALG_SHA384);
  EXPECT_EQ(*PcrBankFromName("sha512"), TPM2_ALG_SHA512);
  EXPECT_EQ(PcrBankFromName("SHA256").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PcrBankFromName("sm3_256").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TpmCollectNoServerTest, EventLogIsOptional) {
  absl::StatusOr<Bytes> none = ReadEventLog("/nonexistent/binary_bios_measurements");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());

  std::string path = ::testing::TempDir() + "/twi_tpm_event_log_test.bin";
  std::ofstream(path, std::ios::binary) << std::string("\x00\x01\x02log", 6);
  absl::StatusOr<Bytes> log = ReadEventLog(path);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->size(), 6u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace twi::tpm
