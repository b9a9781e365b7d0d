// The TDX/SGX collateral bundle: the nine-key JSON object several public verifiers use and
// `twi verify --type tdx --collateral FILE` reads (issue contract):
//
//   pck_crl_issuer_chain, root_ca_crl, pck_crl,          CRLs as hex DER or PEM, chain PEM
//   tcb_info_issuer_chain, tcb_info, tcb_info_signature,  exact signed JSON text, hex r||s
//   qe_identity_issuer_chain, qe_identity, qe_identity_signature
//
// pck_crl_issuer_chain is kept for completeness but not trusted: the verifier checks the PCK
// CRL against the PCK CA of the quote's own chain, which it has already anchored in the root.
// Parsing here is structural: certificates and CRLs decode, signatures are 64 bytes of hex.
// The signed texts are kept byte-exact and deliberately not interpreted: the verifier checks
// their signatures before reading them (tdx/verify.h). A bundle may omit the CRLs (empty
// strings) only for deployments that disable revocation explicitly; the verifier refuses that
// unless told so.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/x509.h"

namespace twi::collateral {

struct DcapCollateral {
  std::vector<Certificate> pck_crl_issuer_chain;
  std::optional<Crl> root_ca_crl;
  std::optional<Crl> pck_crl;
  std::vector<Certificate> tcb_info_issuer_chain;
  std::string tcb_info;  // exact signed bytes
  Bytes tcb_info_signature;  // r||s, 64
  std::vector<Certificate> qe_identity_issuer_chain;
  std::string qe_identity;  // exact signed bytes
  Bytes qe_identity_signature;
  // SHA-256 over every item, computed once: the verification cache keys on it.
  Bytes digest;
};

// The nine-key JSON bundle. Unknown keys are errors (a typo must not silently drop an item).
absl::StatusOr<DcapCollateral> ParseDcapBundle(std::string_view json);
// Computes `digest` from the items (call after building a bundle by hand).
void SealDcapCollateral(DcapCollateral& c);

}  // namespace twi::collateral
