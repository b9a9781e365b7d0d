// Fuzzes TPMT_PUBLIC / TPM2B_PUBLIC parsing and everything done with a parsed area: Name, key
// conversion (RSA, ECC), SPKI, AK attribute checks and software MakeCredential with the area as
// the EK.
#include <cstddef>
#include <cstdint>

#include "attestors/tpm/credential.h"
#include "attestors/tpm/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  twi::ByteView in(data, size);
  (void)twi::tpm::AkKey::Parse(in);
  auto pub = twi::tpm::ParsePublicAny(in);
  if (!pub.ok()) return 0;
  auto name = twi::tpm::ComputeName(*pub);
  (void)twi::tpm::PublicSpki(*pub);
  twi::CheckList checks;
  (void)twi::tpm::CheckAkAttributes(*pub, checks);
  if (name.ok()) {
    const uint8_t secret[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    (void)twi::tpm::MakeCredential(*pub, *name, secret);
  }
  return 0;
}
