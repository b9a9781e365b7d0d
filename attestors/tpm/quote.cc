// TpmCollector's PCR reads and quotes (the rest of the class is in collect.cc).
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attestors/core/status.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/collect.h"
#include "attestors/tpm/esys.h"

namespace twi::tpm {
namespace {

constexpr int kQuoteAttempts = 3;

// Validated selection as the TPM takes it; banks in request order.
absl::StatusOr<TPML_PCR_SELECTION> ToTpmSelection(const std::vector<PcrBankSelection>& selection) {
  if (selection.empty()) return absl::InvalidArgumentError("pcr selection: no banks");
  if (selection.size() > TPM2_NUM_PCR_BANKS) {
    return absl::InvalidArgumentError(absl::StrCat("pcr selection: ", selection.size(),
                                                   " banks, want at most ", TPM2_NUM_PCR_BANKS));
  }
  TPML_PCR_SELECTION out{};
  out.count = static_cast<uint32_t>(selection.size());
  for (size_t i = 0; i < selection.size(); ++i) {
    const PcrBankSelection& bank = selection[i];
    const std::string name = AlgName(bank.hash_alg);
    if (HashMd(bank.hash_alg) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("pcr selection: unsupported bank ", name));
    }
    for (size_t j = 0; j < i; ++j) {
      if (selection[j].hash_alg == bank.hash_alg) {
        return absl::InvalidArgumentError(absl::StrCat("pcr selection: bank ", name, " twice"));
      }
    }
    if (bank.pcrs.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("pcr selection: bank ", name, " has no pcrs"));
    }
    TPMS_PCR_SELECTION& s = out.pcrSelections[i];
    s.hash = bank.hash_alg;
    s.sizeofSelect = 3;  // PC Client TPMs have 24 PCRs and expect at least 3 bytes
    for (uint32_t pcr : bank.pcrs) {
      if (pcr >= TPM2_MAX_PCRS) {
        return absl::InvalidArgumentError(absl::StrCat("pcr selection: ", name, " pcr ", pcr,
                                                       ", want 0-", TPM2_MAX_PCRS - 1));
      }
      uint8_t& byte = s.pcrSelect[pcr / 8];
      const uint8_t bit = static_cast<uint8_t>(1u << (pcr % 8));
      if (byte & bit) {
        return absl::InvalidArgumentError(absl::StrCat("pcr selection: ", name, " pcr ", pcr, " twice"));
      }
      byte |= bit;
      s.sizeofSelect = std::max<uint8_t>(s.sizeofSelect, static_cast<uint8_t>(pcr / 8 + 1));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<uint16_t> PcrBankFromName(std::string_view name) {
  uint16_t alg = HashAlgFromName(name);
  if (alg != 0) return alg;
  return absl::InvalidArgumentError(twi::StrCat(
      "pcr bank \"", name.substr(0, 16), "\": want sha1, sha256, sha384 or sha512"));
}

absl::StatusOr<std::vector<PcrValue>> TpmCollector::ReadPcrs(
    const std::vector<PcrBankSelection>& selection) {
  TWI_ASSIGN_OR_RETURN(TPML_PCR_SELECTION remaining, ToTpmSelection(selection));
  std::map<std::pair<uint16_t, uint32_t>, Bytes> values;
  // The TPM answers at most 8 digests per call and says which ones in pcrSelectionOut.
  for (;;) {
    bool pending = false;
    for (uint32_t i = 0; i < remaining.count; ++i) {
      for (uint8_t byte : remaining.pcrSelections[i].pcrSelect) pending |= byte != 0;
    }
    if (!pending) break;
    TPML_PCR_SELECTION* sel_raw = nullptr;
    TPML_DIGEST* digests_raw = nullptr;
    UINT32 update_counter = 0;
    TSS2_RC rc = Esys_PCR_Read(conn_->ctx(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &remaining,
                               &update_counter, &sel_raw, &digests_raw);
    EsysPtr<TPML_PCR_SELECTION> sel(sel_raw);
    EsysPtr<TPML_DIGEST> digests(digests_raw);
    if (rc != TSS2_RC_SUCCESS) return conn_->Error(rc, "PCR_Read");
    uint32_t k = 0;
    for (uint32_t i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; ++i) {
      const TPMS_PCR_SELECTION& got = sel->pcrSelections[i];
      TPMS_PCR_SELECTION* want = nullptr;
      for (uint32_t j = 0; j < remaining.count; ++j) {
        if (remaining.pcrSelections[j].hash == got.hash) want = &remaining.pcrSelections[j];
      }
      for (uint32_t pcr : SelectedPcrs(got)) {
        const uint8_t bit = static_cast<uint8_t>(1u << (pcr % 8));
        if (want == nullptr || !(want->pcrSelect[pcr / 8] & bit) || k >= digests->count) {
          return absl::InternalError(absl::StrCat("tpm (", options_.tcti, "): PCR_Read answered ",
                                                  AlgName(got.hash), " pcr ", pcr,
                                                  " unasked or without a digest"));
        }
        const TPM2B_DIGEST& d = digests->digests[k++];
        values[{got.hash, pcr}] = Bytes(d.buffer, d.buffer + d.size);
        want->pcrSelect[pcr / 8] &= static_cast<uint8_t>(~bit);
      }
    }
    if (k == 0) {
      // Nothing read: what is left is an inactive bank or a PCR the TPM does not have.
      std::vector<std::string> left;
      for (uint32_t i = 0; i < remaining.count; ++i) {
        std::vector<uint32_t> pcrs = SelectedPcrs(remaining.pcrSelections[i]);
        if (!pcrs.empty()) {
          left.push_back(absl::StrCat(AlgName(remaining.pcrSelections[i].hash), " [",
                                      absl::StrJoin(pcrs, ","), "]"));
        }
      }
      std::vector<std::string> active;
      absl::StatusOr<std::vector<uint16_t>> banks = conn_->ActiveBanks();
      if (banks.ok()) for (uint16_t b : *banks) active.push_back(AlgName(b));
      return absl::InvalidArgumentError(absl::StrCat(
          "tpm (", options_.tcti, "): cannot read pcrs ", absl::StrJoin(left, " "),
          " (active banks: ", banks.ok() ? absl::StrJoin(active, ",") : "unknown", ")"));
    }
  }
  std::vector<PcrValue> out;
  for (const PcrBankSelection& bank : selection) {
    std::vector<uint32_t> pcrs = bank.pcrs;
    std::sort(pcrs.begin(), pcrs.end());
    for (uint32_t pcr : pcrs) out.push_back({bank.hash_alg, pcr, values[{bank.hash_alg, pcr}]});
  }
  return out;
}

absl::StatusOr<TpmQuote> TpmCollector::Quote(const std::vector<PcrBankSelection>& selection,
                                             ByteView qualifying_data) {
  TPM2B_DATA qualifying{};
  if (qualifying_data.size() > sizeof(qualifying.buffer)) {
    return absl::InvalidArgumentError(absl::StrCat("quote: qualifying data has ",
                                                   qualifying_data.size(),
                                                   " bytes, want at most ",
                                                   sizeof(qualifying.buffer)));
  }
  qualifying.size = static_cast<uint16_t>(qualifying_data.size());
  std::memcpy(qualifying.buffer, qualifying_data.data(), qualifying_data.size());
  TWI_ASSIGN_OR_RETURN(TPML_PCR_SELECTION tpm_selection, ToTpmSelection(selection));
  TWI_RETURN_IF_ERROR(Ak().status());

  TWI_ASSIGN_OR_RETURN(TpmHandle ak, LoadAk(ESYS_TR_NONE));
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;  // a restricted key signs with its own scheme
  for (int attempt = 0; attempt < kQuoteAttempts; ++attempt) {
    TWI_ASSIGN_OR_RETURN(std::vector<PcrValue> pcrs, ReadPcrs(selection));
    TPM2B_ATTEST* quoted_raw = nullptr;
    TPMT_SIGNATURE* sig_raw = nullptr;
    TSS2_RC rc = Esys_Quote(conn_->ctx(), ak.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                            &qualifying, &scheme, &tpm_selection, &quoted_raw, &sig_raw);
    EsysPtr<TPM2B_ATTEST> quoted(quoted_raw);
    EsysPtr<TPMT_SIGNATURE> sig(sig_raw);
    if (rc != TSS2_RC_SUCCESS) return conn_->Error(rc, "Quote");

    // A PCR extended between the read and the quote makes the values disagree with the
    // quote's pcrDigest; the verifier would refuse them, so read and quote again.
    ByteView attest(quoted->attestationData, quoted->size);
    TWI_ASSIGN_OR_RETURN(TPMS_ATTEST parsed,
                         UnmarshalExact<TPMS_ATTEST>(attest, Tss2_MU_TPMS_ATTEST_Unmarshal,
                                                     "quote (TPMS_ATTEST)"));
    const EVP_MD* md = HashMd(sig->signature.any.hashAlg);
    if (md == nullptr) {
      return absl::InternalError(absl::StrCat("quote: signature hash 0x",
                                              absl::Hex(sig->signature.any.hashAlg),
                                              " is not one this agent can check"));
    }
    Bytes concat;
    for (const PcrValue& v : pcrs) concat.insert(concat.end(), v.digest.begin(), v.digest.end());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (!EVP_Digest(concat.data(), concat.size(), digest, &digest_len, md, nullptr)) {
      return absl::InternalError("quote: hashing the pcr values failed");
    }
    const TPM2B_DIGEST& quoted_digest = parsed.attested.quote.pcrDigest;
    if (quoted_digest.size != digest_len ||
        std::memcmp(quoted_digest.buffer, digest, digest_len) != 0) {
      continue;
    }
    TpmQuote out;
    out.attest.assign(attest.begin(), attest.end());
    TWI_ASSIGN_OR_RETURN(out.signature, Marshal(*sig, Tss2_MU_TPMT_SIGNATURE_Marshal, "TPMT_SIGNATURE"));
    out.pcrs = std::move(pcrs);
    return out;
  }
  return absl::AbortedError(absl::StrCat("quote: pcr values changed between reading and quoting "
                                         "them on all ", kQuoteAttempts, " attempts"));
}
}  // namespace twi::tpm
