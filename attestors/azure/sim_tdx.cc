#include "attestors/azure/sim_tdx.h"

#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include <cstring>

#include "attestors/azure/collect.h"
#include "attestors/azure/sim.h"
#include "attestors/azure/tdreport.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/collect.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"

namespace twi::azure {
namespace {

const EVP_MD* BankMd(uint16_t alg) {
  switch (alg) {
    case TPM2_ALG_SHA1: return EVP_sha1();
    case TPM2_ALG_SHA256: return EVP_sha256();
    case TPM2_ALG_SHA384: return EVP_sha384();
    case TPM2_ALG_SHA512: return EVP_sha512();
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AzureTdxSimulator>> AzureTdxSimulator::Create(
    AzureTdxSimOptions options) {
  std::unique_ptr<AzureTdxSimulator> sim(new AzureTdxSimulator());
  TWI_ASSIGN_OR_RETURN(sim->tdx_, tdx::TdxSimulator::Create(options.tdx));
  sim->options_ = std::move(options);
  return sim;
}

absl::StatusOr<AzureTdxSimulator::Hcl> AzureTdxSimulator::HclReport(const JwkSpec& ak) const {
  RuntimeClaimsSpec spec;
  spec.keys.push_back(ak);
  spec.vm_unique_id = options_.vm_id;
  Hcl out;
  out.runtime_claims = BuildRuntimeClaims(spec);
  TWI_ASSIGN_OR_RETURN(Bytes report_data, HclReportData(AsBytes(out.runtime_claims)));
  TWI_ASSIGN_OR_RETURN(tdx::TdReport body, tdx_->Body(report_data));
  Bytes mac = Sha256(AsBytes("twi-sim tdreport mac"));
  std::array<uint8_t, 32> mac_arr{};
  std::copy(mac.begin(), mac.end(), mac_arr.begin());
  out.td_report = EncodeTdReport(body, options_.tdx.sgx_tcb, mac_arr);
  HclReportSpec hs;
  hs.type = ReportType::kTdx;
  hs.hw_report = out.td_report;
  hs.runtime_claims = AsBytes(out.runtime_claims);
  TWI_ASSIGN_OR_RETURN(out.hcl_report, BuildHclReport(hs));
  return out;
}

absl::StatusOr<Bytes> AzureTdxSimulator::QuoteTdReport(ByteView td_report) const {
  TWI_ASSIGN_OR_RETURN(TdReportStruct r, ParseTdReport(td_report));
  return tdx_->GetQuoteForBody(r.body);
}

absl::StatusOr<AzureTdxSimulator::Hcl> ProvisionSimAzureTdxVm(const std::string& tcti,
                                                             const AzureTdxSimulator& sim) {
  Bytes ak_public;
  {
    tpm::TpmCollectOptions o;
    o.tcti = tcti;
    o.ak_handle = kAkHandle;
    TWI_ASSIGN_OR_RETURN(std::unique_ptr<tpm::TpmCollector> c, tpm::TpmCollector::Open(o));
    TWI_ASSIGN_OR_RETURN(tpm::TpmKeyInfo ak, c->Ak());
    ak_public = std::move(ak.public_area);
  }  // the TPM connection is closed before the NV write opens its own
  TWI_ASSIGN_OR_RETURN(tpm::Public pub, tpm::ParsePublic(ak_public));
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr key, tpm::PublicKey(pub));
  TWI_ASSIGN_OR_RETURN(JwkSpec jwk, RsaJwkSpec("HCLAkPub", {"sign"}, key.get()));
  TWI_ASSIGN_OR_RETURN(AzureTdxSimulator::Hcl hcl, sim.HclReport(jwk));
  TWI_RETURN_IF_ERROR(WriteOwnerNv(tcti, kHclReportNvIndex, hcl.hcl_report));
  return hcl;
}

absl::StatusOr<SoftwareAk> SoftwareAk::Create() {
  EVP_PKEY* k = EVP_RSA_gen(2048);
  if (k == nullptr) return OpenSslError("generating an rsa-2048 ak");
  SoftwareAk ak;
  ak.key_.reset(k, EVP_PKEY_free);
  return ak;
}

absl::StatusOr<JwkSpec> SoftwareAk::Jwk() const {
  return RsaJwkSpec("HCLAkPub", {"sign"}, key_.get());
}

absl::StatusOr<std::pair<Bytes, Bytes>> SoftwareAk::Quote(const tpm::PcrBanks& pcrs,
                                                          ByteView nonce) const {
  TPMS_ATTEST a{};
  a.magic = TPM2_GENERATED_VALUE;
  a.type = TPM2_ST_ATTEST_QUOTE;
  if (nonce.size() > sizeof(a.extraData.buffer)) {
    return absl::InvalidArgumentError(StrCat("nonce got ", nonce.size(), " bytes, want at most 64"));
  }
  a.extraData.size = static_cast<uint16_t>(nonce.size());
  std::memcpy(a.extraData.buffer, nonce.data(), nonce.size());
  a.clockInfo.safe = 1;
  TPMS_QUOTE_INFO& qi = a.attested.quote;
  // pcrDigest: the quote's hash (SHA-256, the signing scheme's) over every selected value, in
  // selection order (banks as listed, indices ascending).
  Bytes concat;
  for (const auto& [alg, values] : pcrs) {
    if (BankMd(alg) == nullptr || qi.pcrSelect.count >= TPM2_NUM_PCR_BANKS) {
      return absl::InvalidArgumentError(StrCat("pcr bank ", alg, " unsupported"));
    }
    TPMS_PCR_SELECTION& s = qi.pcrSelect.pcrSelections[qi.pcrSelect.count++];
    s.hash = alg;
    s.sizeofSelect = 3;
    for (const auto& [index, value] : values) {
      if (index >= 24) return absl::InvalidArgumentError(StrCat("pcr ", index, " out of range"));
      s.pcrSelect[index / 8] |= static_cast<uint8_t>(1u << (index % 8));
      concat.insert(concat.end(), value.begin(), value.end());
    }
  }
  Bytes digest = Sha256(concat);
  qi.pcrDigest.size = static_cast<uint16_t>(digest.size());
  std::memcpy(qi.pcrDigest.buffer, digest.data(), digest.size());
  Bytes attest(sizeof(TPMS_ATTEST));
  size_t off = 0;
  if (Tss2_MU_TPMS_ATTEST_Marshal(&a, attest.data(), attest.size(), &off) != TSS2_RC_SUCCESS) {
    return absl::InternalError("marshalling TPMS_ATTEST failed");
  }
  attest.resize(off);
  TWI_ASSIGN_OR_RETURN(Bytes raw, SignSha256(key_.get(), attest));
  TPMT_SIGNATURE sig{};
  sig.sigAlg = TPM2_ALG_RSASSA;
  sig.signature.rsassa.hash = TPM2_ALG_SHA256;
  sig.signature.rsassa.sig.size = static_cast<uint16_t>(raw.size());
  std::memcpy(sig.signature.rsassa.sig.buffer, raw.data(), raw.size());
  Bytes sig_bytes(sizeof(TPMT_SIGNATURE));
  off = 0;
  if (Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, sig_bytes.data(), sig_bytes.size(), &off) !=
      TSS2_RC_SUCCESS) {
    return absl::InternalError("marshalling TPMT_SIGNATURE failed");
  }
  sig_bytes.resize(off);
  return std::make_pair(std::move(attest), std::move(sig_bytes));
}

}  // namespace twi::azure
