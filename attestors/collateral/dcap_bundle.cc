#include "attestors/collateral/dcap_bundle.h"

#include <set>

#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "nlohmann/json.hpp"

namespace twi::collateral {
namespace {

using Json = nlohmann::json;


// An empty string is an empty chain (the verifier names what it misses).
absl::StatusOr<std::vector<Certificate>> Chain(const std::string& pem, std::string_view key) {
  if (pem.empty()) return std::vector<Certificate>();
  auto certs = ParsePemBundle(pem);
  if (!certs.ok()) return Annotate(certs.status(), key);
  return certs;
}

// Hex DER or PEM; an empty string means "not supplied".
absl::StatusOr<std::optional<Crl>> OptionalCrl(const std::string& text, std::string_view key) {
  if (text.empty()) return std::optional<Crl>();
  Bytes der;
  if (text.find("-----BEGIN") != std::string::npos) {
    der = ToBytes(text);
  } else {
    auto b = HexDecode(text);
    if (!b.ok()) return Annotate(b.status(), StrCat(key, ": not hex der or pem"));
    der = *std::move(b);
  }
  auto crl = Crl::Parse(der);
  if (!crl.ok()) return Annotate(crl.status(), key);
  return std::optional<Crl>(*std::move(crl));
}

absl::StatusOr<Bytes> Signature(const std::string& hex, std::string_view key) {
  auto b = HexDecode(hex);
  if (!b.ok()) return Annotate(b.status(), key);
  if (b->size() != 64) return Invalid(StrCat(key, ": ", b->size(), " bytes, want 64 (r||s)"));
  return *std::move(b);
}

void Put(Bytes& acc, ByteView item) {
  Bytes len(8);
  StoreLe64(len.data(), item.size());
  acc.insert(acc.end(), len.begin(), len.end());
  acc.insert(acc.end(), item.begin(), item.end());
}

}  // namespace

void SealDcapCollateral(DcapCollateral& c) {
  // Length-prefixed items so no two different bundles hash alike.
  Bytes acc;
  for (const auto* chain : {&c.pck_crl_issuer_chain, &c.tcb_info_issuer_chain,
                            &c.qe_identity_issuer_chain}) {
    Bytes fps;
    for (const Certificate& cert : *chain) fps.insert(fps.end(), cert.sha256().begin(), cert.sha256().end());
    Put(acc, fps);
  }
  Put(acc, c.root_ca_crl ? ByteView(c.root_ca_crl->sha256()) : ByteView());
  Put(acc, c.pck_crl ? ByteView(c.pck_crl->sha256()) : ByteView());
  Put(acc, AsBytes(c.tcb_info));
  Put(acc, c.tcb_info_signature);
  Put(acc, AsBytes(c.qe_identity));
  Put(acc, c.qe_identity_signature);
  c.digest = Sha256(acc);
}

absl::StatusOr<DcapCollateral> ParseDcapBundle(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Invalid("collateral bundle: not a json object");
  static const std::set<std::string> kKeys = {
      "pck_crl_issuer_chain",     "root_ca_crl", "pck_crl",
      "tcb_info_issuer_chain",    "tcb_info",    "tcb_info_signature",
      "qe_identity_issuer_chain", "qe_identity", "qe_identity_signature"};
  std::map<std::string, std::string> v;
  for (const auto& [k, val] : j.items()) {
    if (!kKeys.contains(k)) {
      return Invalid(StrCat("collateral bundle: unknown key \"", k.substr(0, 40), "\""));
    }
    if (!val.is_string()) return Invalid(StrCat("collateral bundle: ", k, " is not a string"));
    v[k] = val.get<std::string>();
  }
  for (const std::string& k : kKeys) {
    if (!v.contains(k)) return Invalid(StrCat("collateral bundle: missing ", k));
  }
  DcapCollateral c;
  TWI_ASSIGN_OR_RETURN(c.pck_crl_issuer_chain, Chain(v["pck_crl_issuer_chain"], "pck_crl_issuer_chain"));
  TWI_ASSIGN_OR_RETURN(c.root_ca_crl, OptionalCrl(v["root_ca_crl"], "root_ca_crl"));
  TWI_ASSIGN_OR_RETURN(c.pck_crl, OptionalCrl(v["pck_crl"], "pck_crl"));
  TWI_ASSIGN_OR_RETURN(c.tcb_info_issuer_chain,
                       Chain(v["tcb_info_issuer_chain"], "tcb_info_issuer_chain"));
  c.tcb_info = v["tcb_info"];
  TWI_ASSIGN_OR_RETURN(c.tcb_info_signature, Signature(v["tcb_info_signature"], "tcb_info_signature"));
  TWI_ASSIGN_OR_RETURN(c.qe_identity_issuer_chain,
                       Chain(v["qe_identity_issuer_chain"], "qe_identity_issuer_chain"));
  c.qe_identity = v["qe_identity"];
  TWI_ASSIGN_OR_RETURN(c.qe_identity_signature,
                       Signature(v["qe_identity_signature"], "qe_identity_signature"));
  SealDcapCollateral(c);
  return c;
}

}  // namespace twi::collateral
