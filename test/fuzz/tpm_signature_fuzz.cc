// Fuzzes TPMT_SIGNATURE parsing and signature verification with every AK shape: an RSA AK with
// its TPMT_PUBLIC (scheme bound: RSASSA-SHA1, P1's AK), the same key as a bare SPKI (any RSA
// scheme) and an ECC P-256 SPKI (ECDSA).
#include <cstddef>
#include <cstdint>

#include "attestors/tpm/verify.h"

namespace {
// P1's AK TPMT_PUBLIC (GCE Windows Shielded VM, see test/testdata/tpm/PROVENANCE.md).
constexpr char kP1Ak[] =
    "0001000b0005047200209dffcbf36c383ae699fb9868dc6dcb89d7153884be2803922c124158bfad22ae0010001400040800000000000100c6a7c9158974636ed412840a35525b1656c9cb2576029e7b206dd09137a2830493cbb6fe7ebc2a804bd624d88f6df7652c3d8d4226854e017f39fd6acdbfa3e71357de43417dfd5132c581c5036440b8a9168cd060186398b2428a23fd8bf91f80d6ce663419a4a63cb1e960e6db11b205b4103f6f2855da4170b6e8862868c18bd4c069cb87b834b11379d52d4a0eb875acfe2c7ca1c5127f6bd1a1a586bb0e11b100c10b41e977cb9b52012d02d5722452e7f1e33371221f7768a99cb6169704e86ee718ac40c24d87f0c9c42fb74eb1d8570411f5a1b2d2501ec360a9cc845689b9fdae001d203c28c5b7e125a2efa0ecc94ca09dfc44f206ec7135b90d9b";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  struct Keys {
    twi::tpm::AkKey area, rsa_spki, ecc_spki;
  };
  static const Keys* keys = [] {
    auto pub = *twi::tpm::ParsePublic(*twi::HexDecode(kP1Ak));
    auto area = *twi::tpm::AkKey::FromPublic(pub);
    auto rsa = *twi::tpm::AkKey::FromSpki(area.spki);
    auto ec = twi::GenerateP256Key();
    auto ecc = *twi::tpm::AkKey::FromSpki(*twi::PublicKeyToSpki(ec->get()));
    return new Keys{area, rsa, ecc};
  }();
  auto sig = twi::tpm::ParseSignature(twi::ByteView(data, size));
  if (!sig.ok()) return 0;
  const uint8_t message[] = "tpms_attest";
  for (const twi::tpm::AkKey* k : {&keys->area, &keys->rsa_spki, &keys->ecc_spki}) {
    (void)twi::tpm::VerifyTpmSignature(*k, message, *sig);
  }
  return 0;
}
