#include "attestors/tpm/verify.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attestors/core/status.h"
#include "attestors/eventlog/tcg.h"

namespace twi::tpm {
namespace {

std::string Hex32(uint32_t v) { return absl::StrFormat("0x%08x", v); }

// Names of the TPMA_OBJECT bits an AK needs, for messages.
std::string MissingBits(uint32_t attrs) {
  std::vector<std::string> missing;
  for (auto [bit, name] : {std::pair{TPMA_OBJECT_RESTRICTED, "restricted"},
                           std::pair{TPMA_OBJECT_SIGN_ENCRYPT, "sign"},
                           std::pair{TPMA_OBJECT_FIXEDTPM, "fixedTPM"},
                           std::pair{TPMA_OBJECT_FIXEDPARENT, "fixedParent"},
                           std::pair{TPMA_OBJECT_SENSITIVEDATAORIGIN, "sensitiveDataOrigin"}}) {
    if ((attrs & bit) == 0) missing.push_back(name);
  }
  return absl::StrJoin(missing, ", ");
}

// The scheme a restricted signing key is bound to (TPM_ALG_NULL: the caller chose).
TPMT_SIG_SCHEME KeyScheme(const Public& pub) {
  TPMT_SIG_SCHEME s{};
  s.scheme = TPM2_ALG_NULL;
  if (pub.area.type == TPM2_ALG_RSA) {
    s.scheme = pub.area.parameters.rsaDetail.scheme.scheme;
    s.details.any.hashAlg = pub.area.parameters.rsaDetail.scheme.details.anySig.hashAlg;
  } else if (pub.area.type == TPM2_ALG_ECC) {
    s.scheme = pub.area.parameters.eccDetail.scheme.scheme;
    s.details.any.hashAlg = pub.area.parameters.eccDetail.scheme.details.anySig.hashAlg;
  }
  return s;
}

absl::Status DigestVerify(EVP_PKEY* key, const EVP_MD* md, int padding, ByteView message,
                          ByteView sig) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    return OpenSslError("signature: verify init", absl::StatusCode::kInvalidArgument);
  }
  if (padding != 0) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, padding) != 1 ||
        (padding == RSA_PKCS1_PSS_PADDING &&
         (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))) {
      return OpenSslError("signature: rsa padding", absl::StatusCode::kInvalidArgument);
    }
  }
  if (EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size()) != 1) {
    OpenSslErrors();
    return Invalid("does not verify");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AkKey> AkKey::FromPublic(const Public& pub) {
  AkKey ak;
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr key, PublicKey(pub));
  TWI_ASSIGN_OR_RETURN(ak.spki, PublicKeyToSpki(key.get()));
  ak.spki_sha256 = Sha256(ak.spki);
  ak.key.reset(key.release(), EVP_PKEY_free);
  ak.area = pub;
  return ak;
}

absl::StatusOr<AkKey> AkKey::FromSpki(ByteView der) {
  AkKey ak;
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr key, PublicKeyFromSpki(der));
  int id = EVP_PKEY_get_base_id(key.get());
  if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
    return Invalid("ak spki: key type is neither rsa nor ec");
  }
  ak.spki.assign(der.begin(), der.end());
  ak.spki_sha256 = Sha256(ak.spki);
  ak.key.reset(key.release(), EVP_PKEY_free);
  return ak;
}

absl::StatusOr<AkKey> AkKey::Parse(ByteView data) {
  std::string_view text = AsString(data);
  if (text.find("-----BEGIN PUBLIC KEY-----") != std::string_view::npos) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (key == nullptr) return OpenSslError("ak pem", absl::StatusCode::kInvalidArgument);
    EvpPkeyPtr owned(key);
    TWI_ASSIGN_OR_RETURN(Bytes der, PublicKeyToSpki(owned.get()));
    return FromSpki(der);
  }
  // DER SPKI starts with SEQUENCE (0x30); a TPMT_PUBLIC with a type 0x30xx does not exist.
  if (!data.empty() && data[0] == 0x30) return FromSpki(data);
  TWI_ASSIGN_OR_RETURN(Public pub, ParsePublicAny(data));
  return FromPublic(pub);
}

std::string PcrKey(uint16_t bank, uint32_t index) { return StrCat(AlgName(bank), ":", index); }

absl::Status CheckAkAttributes(const Public& ak, CheckList& checks) {
  uint32_t attrs = ak.area.objectAttributes;
  if ((attrs & kAkRequiredAttributes) != kAkRequiredAttributes) {
    return checks.Fail("ak.attributes",
                       StrCat("objectAttributes ", Hex32(attrs), " lacks ", MissingBits(attrs),
                              "; want ", Hex32(kAkRequiredAttributes), " set"),
                       absl::StatusCode::kInvalidArgument);
  }
  if (attrs & TPMA_OBJECT_DECRYPT) {
    return checks.Fail("ak.attributes",
                       StrCat("objectAttributes ", Hex32(attrs), " has decrypt; an ak signs only"),
                       absl::StatusCode::kInvalidArgument);
  }
  checks.Pass("ak.attributes", StrCat("objectAttributes ", Hex32(attrs),
                                      " (restricted, sign, fixedTPM, fixedParent, "
                                      "sensitiveDataOrigin)"));
  return absl::OkStatus();
}

absl::Status VerifyTpmSignature(const AkKey& ak, ByteView message, const TPMT_SIGNATURE& sig) {
  const uint16_t alg = sig.sigAlg;
  const uint16_t hash = sig.signature.any.hashAlg;
  const EVP_MD* md = HashMd(hash);
  if (md == nullptr) {
    return Invalid(StrCat("signature hash ", AlgName(hash), ", want sha1, sha256, sha384 or sha512"));
  }
  if (ak.area.has_value()) {
    TPMT_SIG_SCHEME want = KeyScheme(*ak.area);
    if (want.scheme != TPM2_ALG_NULL &&
        (want.scheme != alg || want.details.any.hashAlg != hash)) {
      return Invalid(StrCat("signature scheme ", AlgName(alg), "-", AlgName(hash),
                            ", the ak is bound to ", AlgName(want.scheme), "-",
                            AlgName(want.details.any.hashAlg)));
    }
  }
  const int key_type = EVP_PKEY_get_base_id(ak.key.get());
  switch (alg) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS: {
      if (key_type != EVP_PKEY_RSA) {
        return Invalid(StrCat("signature scheme ", AlgName(alg), " with a non-rsa ak"));
      }
      const TPM2B_PUBLIC_KEY_RSA& s = alg == TPM2_ALG_RSASSA ? sig.signature.rsassa.sig
                                                              : sig.signature.rsapss.sig;
      return DigestVerify(ak.key.get(), md,
                          alg == TPM2_ALG_RSASSA ? RSA_PKCS1_PADDING : RSA_PKCS1_PSS_PADDING,
                          message, ByteView(s.buffer, s.size));
    }
    case TPM2_ALG_ECDSA: {
      if (key_type != EVP_PKEY_EC) return Invalid("signature scheme ecdsa with a non-ec ak");
      const TPM2B_ECC_PARAMETER& r = sig.signature.ecdsa.signatureR;
      const TPM2B_ECC_PARAMETER& s = sig.signature.ecdsa.signatureS;
      if (r.size == 0 || s.size == 0) return Invalid("ecdsa signature with an empty r or s");
      // r || s, each left-padded to the longer one, for the shared DER encoder.
      size_t half = std::max(r.size, s.size);
      Bytes rs(2 * half, 0);
      std::copy(r.buffer, r.buffer + r.size, rs.begin() + (half - r.size));
      std::copy(s.buffer, s.buffer + s.size, rs.begin() + half + (half - s.size));
      TWI_ASSIGN_OR_RETURN(Bytes der, EcdsaRawToDer(rs));
      return DigestVerify(ak.key.get(), md, 0, message, der);
    }
    default:
      return Invalid(StrCat("signature scheme ", AlgName(alg), ", want rsassa, rsapss or ecdsa"));
  }
}

absl::StatusOr<Bytes> PcrDigest(uint16_t hash, const TPML_PCR_SELECTION& selection,
                                const PcrBanks& pcrs) {
  Bytes concat;
  uint32_t count = std::min<uint32_t>(selection.count, TPM2_NUM_PCR_BANKS);
  for (uint32_t b = 0; b < count; ++b) {
    const TPMS_PCR_SELECTION& sel = selection.pcrSelections[b];
    const size_t size = DigestSize(sel.hash);
    if (size == 0) return Invalid(StrCat("pcr bank ", AlgName(sel.hash), " is not supported"));
    auto bank = pcrs.find(sel.hash);
    for (uint32_t index : SelectedPcrs(sel)) {
      const Bytes* value = nullptr;
      if (bank != pcrs.end()) {
        auto it = bank->second.find(index);
        if (it != bank->second.end()) value = &it->second;
      }
      if (value == nullptr) return Invalid(StrCat("no value for ", PcrKey(sel.hash, index)));
      if (value->size() != size) {
        return Invalid(StrCat(PcrKey(sel.hash, index), " value is ", value->size(),
                              " bytes, want ", size));
      }
      concat.insert(concat.end(), value->begin(), value->end());
    }
  }
  return Hash(hash, concat);
}

absl::Status VerifyQuote(const AkKey& ak, ByteView attest, ByteView signature,
                         const PcrBanks& pcrs, const VerifyOptions& options, CheckList& checks,
                         VerifiedQuote* out) {
  auto fail = [&](std::string name, std::string detail) {
    return checks.Fail(std::move(name), std::move(detail), absl::StatusCode::kInvalidArgument);
  };
  *out = VerifiedQuote();
  out->ak_spki_sha256 = ak.spki_sha256;
  auto parsed = ParseAttestAny(attest);
  if (!parsed.ok()) return fail("quote.structure", std::string(parsed.status().message()));
  auto sig = ParseSignature(signature);
  if (!sig.ok()) return fail("quote.structure", std::string(sig.status().message()));
  out->attest = *std::move(parsed);
  out->has_attest = true;
  out->sig_alg = sig->sigAlg;
  out->sig_hash = sig->signature.any.hashAlg;
  checks.Pass("quote.structure", StrCat("tpms_attest of ", out->attest.raw.size(),
                                        " bytes, tpmt_signature ", AlgName(out->sig_alg), "-",
                                        AlgName(out->sig_hash)));

  if (ak.area.has_value()) {
    TWI_RETURN_IF_ERROR(CheckAkAttributes(*ak.area, checks));
    auto name = ComputeName(*ak.area);
    if (!name.ok()) return fail("ak.attributes", StrCat("ak name: ", name.status().message()));
    out->ak_name = *std::move(name);
  } else if (!options.allow_ak_without_attributes) {
    return fail("ak.attributes",
                "the ak is an spki without its tpmt_public; its attributes cannot be checked "
                "(allow_ak_without_attributes not set)");
  } else {
    checks.Pass("ak.attributes", "not checked: ak given as spki (allow_ak_without_attributes)");
  }

  const TPMS_ATTEST& a = out->attest.attest;
  if (a.magic != TPM2_GENERATED_VALUE) {
    return fail("quote.magic", StrCat("got ", Hex32(a.magic), ", want ",
                                      Hex32(TPM2_GENERATED_VALUE), " (TPM_GENERATED_VALUE)"));
  }
  checks.Pass("quote.magic", "TPM_GENERATED_VALUE");
  if (a.type != TPM2_ST_ATTEST_QUOTE) {
    return fail("quote.type", absl::StrFormat("got 0x%04x, want 0x%04x (TPM_ST_ATTEST_QUOTE)",
                                              a.type, TPM2_ST_ATTEST_QUOTE));
  }
  checks.Pass("quote.type", "TPM_ST_ATTEST_QUOTE");
  ByteView extra(a.extraData.buffer, a.extraData.size);
  if (options.nonce.empty() && !options.allow_empty_nonce) {
    return fail("quote.nonce", "the expected nonce is empty: the quote would prove no freshness "
                               "(allow_empty_nonce not set)");
  }
  if (!ConstantTimeEqual(extra, options.nonce)) {
    return fail("quote.nonce", StrCat("extraData ", ShortHex(extra), " (", extra.size(),
                                      " bytes), want ", ShortHex(options.nonce), " (",
                                      options.nonce.size(), " bytes)"));
  }
  checks.Pass("quote.nonce", StrCat("extraData equals the expected ", extra.size(), " bytes"));

  absl::Status s = VerifyTpmSignature(ak, out->attest.raw, *sig);
  if (!s.ok()) {
    return fail("quote.signature",
                StrCat(AlgName(out->sig_alg), "-", AlgName(out->sig_hash), " by ak (spki sha256 ",
                       ShortHex(out->ak_spki_sha256), "): ", s.message()));
  }
  checks.Pass("quote.signature", StrCat(AlgName(out->sig_alg), "-", AlgName(out->sig_hash),
                                        " by ak (spki sha256 ", ShortHex(out->ak_spki_sha256),
                                        ")"));

  const TPML_PCR_SELECTION& sel = a.attested.quote.pcrSelect;
  const TPM2B_DIGEST& quoted = a.attested.quote.pcrDigest;
  std::vector<std::string> selected;
  for (uint32_t b = 0; b < std::min<uint32_t>(sel.count, TPM2_NUM_PCR_BANKS); ++b) {
    std::vector<uint32_t> idx = SelectedPcrs(sel.pcrSelections[b]);
    selected.push_back(StrCat(AlgName(sel.pcrSelections[b].hash), "[", absl::StrJoin(idx, ","),
                              "]"));
    auto bank = pcrs.find(sel.pcrSelections[b].hash);
    if (bank == pcrs.end()) continue;
    for (uint32_t i : idx) {
      auto it = bank->second.find(i);
      if (it != bank->second.end()) out->pcrs[sel.pcrSelections[b].hash][i] = it->second;
    }
  }
  if (pcrs.empty()) {
    if (!options.allow_missing_pcr_values) {
      return fail("pcr.values", StrCat("no pcr values supplied for the quoted selection ",
                                       absl::StrJoin(selected, " ")));
    }
    checks.Pass("pcr.values", "not supplied (allow_missing_pcr_values); pcr digest unchecked");
    return absl::OkStatus();
  }
  auto digest = PcrDigest(out->sig_hash, sel, pcrs);
  if (!digest.ok()) {
    out->pcrs.clear();
    return fail("pcr.values", std::string(digest.status().message()));
  }
  checks.Pass("pcr.values", StrCat("values for ", absl::StrJoin(selected, " ")));
  ByteView want(quoted.buffer, quoted.size);
  if (!ConstantTimeEqual(*digest, want)) {
    out->pcrs.clear();
    return fail("pcr.digest", StrCat(AlgName(out->sig_hash), " over the supplied values is ",
                                     ShortHex(*digest), ", quoted pcrDigest ", ShortHex(want)));
  }
  out->pcr_digest_ok = true;
  checks.Pass("pcr.digest", StrCat(AlgName(out->sig_hash), " pcrDigest ", ShortHex(want),
                                   " matches ", absl::StrJoin(selected, " ")));
  return absl::OkStatus();
}

absl::Status VerifyEventLog(const VerifiedQuote& quote, ByteView log, CheckList& checks,
                            EventLogFacts* out, uint16_t bank) {
  auto fail = [&](std::string name, std::string detail) {
    return checks.Fail(std::move(name), std::move(detail), absl::StatusCode::kInvalidArgument);
  };
  *out = EventLogFacts();
  auto parsed = eventlog::Parse(log);
  if (!parsed.ok()) return fail("eventlog.structure", std::string(parsed.status().message()));
  out->events = parsed->events.size();
  auto has = [](const std::vector<uint16_t>& algs, uint16_t a) {
    return std::find(algs.begin(), algs.end(), a) != algs.end();
  };
  if (bank == 0) {
    if (quote.pcrs.count(TPM2_ALG_SHA256) && has(parsed->algorithms, TPM2_ALG_SHA256)) {
      bank = TPM2_ALG_SHA256;
    } else {
      for (const auto& [b, values] : quote.pcrs) {
        if (has(parsed->algorithms, b)) {
          bank = b;
          break;
        }
      }
    }
  }
  std::vector<std::string> log_algs;
  for (uint16_t a : parsed->algorithms) log_algs.push_back(AlgName(a));
  auto quoted = quote.pcrs.find(bank);
  if (!quote.pcr_digest_ok || bank == 0 || quoted == quote.pcrs.end()) {
    return fail("eventlog.replay",
                StrCat("no quoted and authenticated pcr bank the log also carries (log: ",
                       absl::StrJoin(log_algs, ","), ")"));
  }
  auto replay = eventlog::Replay(*parsed, bank);
  if (!replay.ok()) return fail("eventlog.replay", std::string(replay.status().message()));
  for (const auto& [index, value] : *replay) {
    auto it = quoted->second.find(index);
    if (it == quoted->second.end()) continue;  // not quoted: nothing to compare
    if (!ConstantTimeEqual(value, it->second)) {
      out->matched_pcrs.clear();
      return fail("eventlog.replay", StrCat(PcrKey(bank, index), " replays to ", ShortHex(value),
                                            ", quoted ", ShortHex(it->second)));
    }
    out->matched_pcrs.push_back(index);
  }
  out->bank = bank;
  eventlog::BootFacts facts = eventlog::ExtractFacts(*parsed, bank, 7, 4);
  out->secure_boot = facts.secure_boot;
  out->boot_applications = std::move(facts.boot_applications);
  checks.Pass("eventlog.replay", StrCat(out->events, " events replay in ", AlgName(bank),
                                        " to the quoted pcrs [", absl::StrJoin(out->matched_pcrs, ","),
                                        "]"));
  return absl::OkStatus();
}

}  // namespace twi::tpm
