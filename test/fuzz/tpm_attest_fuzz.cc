// Fuzzes TPMS_ATTEST parsing (raw and TPM2B_ATTEST) and the quote checks after it: the input is
// the attestation, verified against a fixed AK with an empty signature and with PCR values for
// whatever the input selects.
#include <cstddef>
#include <cstdint>

#include "attestors/tpm/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::ByteView in(data, size);
  auto attest = twi::tpm::ParseAttestAny(in);
  if (!attest.ok()) return 0;
  twi::tpm::PcrBanks pcrs;
  if (attest->attest.type == TPM2_ST_ATTEST_QUOTE) {
    const TPML_PCR_SELECTION& sel = attest->attest.attested.quote.pcrSelect;
    for (uint32_t b = 0; b < sel.count && b < TPM2_NUM_PCR_BANKS; ++b) {
      size_t n = twi::tpm::DigestSize(sel.pcrSelections[b].hash);
      for (uint32_t i : twi::tpm::SelectedPcrs(sel.pcrSelections[b])) {
        pcrs[sel.pcrSelections[b].hash][i] = twi::Bytes(n, 0);
      }
    }
    (void)twi::tpm::PcrDigest(TPM2_ALG_SHA256, sel, pcrs);
  }
  static const twi::tpm::AkKey* ak = [] {
    auto key = twi::GenerateP256Key();
    return new twi::tpm::AkKey(*twi::tpm::AkKey::FromSpki(*twi::PublicKeyToSpki(key->get())));
  }();
  twi::tpm::VerifyOptions options;
  options.allow_ak_without_attributes = true;
  options.allow_empty_nonce = true;
  options.nonce.assign(attest->attest.extraData.buffer,
                       attest->attest.extraData.buffer + attest->attest.extraData.size);
  twi::CheckList checks;
  twi::tpm::VerifiedQuote out;
  const uint8_t sig[] = {0x00, 0x18, 0x00, 0x0B, 0x00, 0x01, 0x01, 0x00, 0x01, 0x01};
  (void)twi::tpm::VerifyQuote(*ak, in, sig, pcrs, options, checks, &out);
  return 0;
}
