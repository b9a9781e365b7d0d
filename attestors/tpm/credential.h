// TPM2_MakeCredential in software (TPM 2.0 Part 1 section 24, Part 3 MakeCredential; spec
// 3.5): the verifier's half of credential activation. The TPM holding the EK releases `secret`
// (TPM2_ActivateCredential) only when an object with exactly `ak_name` is loaded beside the EK,
// which binds the AK to that EK's TPM.
//
//   seed     RSA EK: random, nameAlg digest size, RSA-OAEP(nameAlg, label "IDENTITY\0").
//            ECC EK: ephemeral ECDH on the EK's curve, KDFe(nameAlg, Z, "IDENTITY",
//            ephemeral.x, EK.x); the ephemeral point is the encrypted secret.
//   symKey   KDFa(nameAlg, seed, "STORAGE", ak_name, empty, EK symmetric keyBits)
//   encIdentity = AES-CFB(symKey, IV 0) over the marshalled TPM2B_DIGEST secret
//   hmacKey  KDFa(nameAlg, seed, "INTEGRITY", empty, empty, nameAlg digest bits)
//   outerHMAC = HMAC_nameAlg(hmacKey, encIdentity || ak_name)
//
// What this does not do: decide whether the EK is trusted (policy.h) or check the AK's
// attributes (verify.h CheckAkAttributes on the AK's TPMT_PUBLIC, whose Name is `ak_name`).
#pragma once

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/tpm/abi.h"

namespace twi::tpm {

struct Credential {
  Bytes id_object;         // marshalled TPM2B_ID_OBJECT (credentialBlob)
  Bytes encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET (secret)
};

// `ek` must be a restricted decryption key (RSA or ECC on P-256/P-384/P-521) with an AES-CFB
// symmetric definition; `secret` at most the nameAlg digest size (1..). INVALID_ARGUMENT
// naming what is wrong otherwise.
absl::StatusOr<Credential> MakeCredential(const Public& ek, ByteView ak_name, ByteView secret);

// SP 800-108 counter-mode KDF with HMAC as the TPM defines it (KDFa, Part 1 11.4.10.2):
// HMAC(key, counter || label || 0x00 || context_u || context_v || bits), counters from 1.
absl::StatusOr<Bytes> KdfA(uint16_t hash_alg, ByteView key, std::string_view label,
                           ByteView context_u, ByteView context_v, size_t bits);
// The SP 800-56A concatenation KDF (KDFe, Part 1 11.4.10.3):
// H(counter || Z || label || 0x00 || party_u || party_v), counters from 1.
absl::StatusOr<Bytes> KdfE(uint16_t hash_alg, ByteView z, std::string_view label,
                           ByteView party_u, ByteView party_v, size_t bits);

}  // namespace twi::tpm
