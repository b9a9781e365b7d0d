// AMD's public SEV-SNP certificate authorities, embedded: ARK (root), ASK (issues VCEKs) and
// ASVK (issues VLEKs) for Milan, Genoa and Turin, as served by AMD KDS /vcek|vlek/v1/{product}/
// cert_chain. Each embedded PEM is checked at load time against its pinned SHA-256 fingerprint
// (shared/vectors/INDEX.md section 1); a certificate that does not match is left out, so an
// accidental edit fails closed (and the roots test fails).
//
// This file only supplies anchors; verify.h decides how they are used.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "attestors/core/x509.h"
#include "attestors/sevsnp/abi.h"

namespace twi::sevsnp {

enum class AmdCertRole { kArk, kAsk, kAsvk };
const char* AmdCertRoleName(AmdCertRole role);  // "ark", "ask", "asvk"

struct BuiltinAmdCert {
  Product product;
  AmdCertRole role;
  std::string_view pem;
  std::string_view sha256_hex;  // pinned fingerprint of the DER encoding
};

// The nine embedded certificates (3 products x ARK/ASK/ASVK), unparsed.
std::span<const BuiltinAmdCert> BuiltinAmdCerts();

struct AmdAuthority {
  Product product;
  AmdCertRole role;
  Certificate cert;
};

// The embedded certificates, parsed once per process (thread-safe), only those whose
// fingerprint matches the pin.
const std::vector<AmdAuthority>& BuiltinAmdAuthorities();
// The built-in certificate for (product, role), or nullptr.
const AmdAuthority* FindBuiltin(Product product, AmdCertRole role);
// The built-in ARK with exactly this DER (by SHA-256), or nullptr.
const AmdAuthority* FindPinnedArk(const Certificate& cert);

}  // namespace twi::sevsnp
