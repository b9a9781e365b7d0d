#include "attestors/keybinding/binding.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "attestors/core/str.h"

namespace twi::keybinding {
namespace {

void Append(Bytes* out, ByteView b) { out->insert(out->end(), b.begin(), b.end()); }

void AppendDomain(Bytes* out, std::string_view domain) {
  out->insert(out->end(), domain.begin(), domain.end());
  out->push_back(0);
}

// The EC group's short name ("prime256v1", "secp384r1"), or "" for other keys.
std::string EcGroup(EVP_PKEY* key) {
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &len) != 1) {
    OpenSslErrors();
    return "";
  }
  return std::string(group, len);
}

// SHA-256 for P-256, SHA-384 for P-384 (the curve's own strength); null for anything else.
const EVP_MD* PopDigest(EVP_PKEY* key) {
  std::string group = EcGroup(key);
  if (group == "prime256v1") return EVP_sha256();
  if (group == "secp384r1") return EVP_sha384();
  return nullptr;
}

std::string KeyTypeName(EVP_PKEY* key) {
  std::string group = EcGroup(key);
  if (!group.empty()) return "EC " + group;
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "unknown";
}

}  // namespace

Bytes KeyBoundInput(ByteView nonce, ByteView instance_key_spki, ByteView svid_key_spki) {
  Bytes in;
  AppendDomain(&in, kKeyBoundDomain);
  Append(&in, nonce);
  Append(&in, Sha256(instance_key_spki));
  Append(&in, Sha256(svid_key_spki));
  return in;
}

Bytes KeyBoundReportData(ByteView nonce, ByteView instance_key_spki, ByteView svid_key_spki) {
  return Sha512(KeyBoundInput(nonce, instance_key_spki, svid_key_spki));
}

Bytes KeyBoundQualifyingData(ByteView nonce, ByteView instance_key_spki,
                             ByteView svid_key_spki) {
  return Sha256(KeyBoundInput(nonce, instance_key_spki, svid_key_spki));
}

absl::StatusOr<Bytes> PopTranscript(ByteView nonce, ByteView payload_digest,
                                    ByteView svid_key_spki, uint64_t generation) {
  if (nonce.size() != kNonceSize) {
    return absl::InvalidArgumentError(
        StrCat("pop transcript: nonce is ", nonce.size(), " bytes, want ", kNonceSize));
  }
  if (payload_digest.size() != kDigestSize) {
    return absl::InvalidArgumentError(StrCat("pop transcript: payload digest is ",
                                             payload_digest.size(), " bytes, want ", kDigestSize));
  }
  Bytes out;
  AppendDomain(&out, kPopDomain);
  Append(&out, nonce);
  Append(&out, payload_digest);
  Append(&out, Sha256(svid_key_spki));
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(generation >> shift));
  }
  return out;
}

absl::StatusOr<EvpPkeyPtr> ParseSvidKey(ByteView spki) {
  if (spki.empty() || spki.size() > kMaxSpkiBytes) {
    return absl::InvalidArgumentError(
        StrCat("svid key: spki is ", spki.size(), " bytes, want 1..", kMaxSpkiBytes));
  }
  auto key = PublicKeyFromSpki(spki);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        StrCat("svid key: spki does not parse (", ShortHex(spki), ")"));
  }
  if (PopDigest(key->get()) == nullptr) {
    return absl::InvalidArgumentError(
        StrCat("svid key must be EC P-256 or P-384, got ", KeyTypeName(key->get())));
  }
  return key;
}

absl::StatusOr<Bytes> SignPop(EVP_PKEY* svid_key, ByteView transcript) {
  const EVP_MD* md = PopDigest(svid_key);
  if (md == nullptr) {
    return absl::FailedPreconditionError(
        StrCat("svid key proof of possession needs an EC P-256 or P-384 key, got ",
               KeyTypeName(svid_key)));
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, svid_key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, transcript.data(), transcript.size()) != 1) {
    return OpenSslError("svid key proof of possession: signing failed");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, transcript.data(), transcript.size()) != 1) {
    return OpenSslError("svid key proof of possession: signing failed");
  }
  sig.resize(len);
  return sig;
}

absl::Status VerifyPop(const twi::v1::SvidKey& svid_key, ByteView nonce, ByteView payload,
                       ByteView signature) {
  const ByteView spki = AsBytes(svid_key.spki());
  auto key = ParseSvidKey(spki);
  if (!key.ok()) return key.status();
  if (signature.empty()) {
    return absl::InvalidArgumentError(
        "svid key proof of possession: the response carries no svid_key_signature");
  }
  auto transcript = PopTranscript(nonce, Sha256(payload), spki, svid_key.generation());
  if (!transcript.ok()) return transcript.status();
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, PopDigest(key->get()), nullptr,
                                   key->get()) != 1) {
    return OpenSslError("svid key proof of possession: verification setup failed");
  }
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), transcript->data(),
                            transcript->size());
  OpenSslErrors();  // a bad signature leaves decode errors on the queue
  if (rc != 1) {
    return absl::InvalidArgumentError(StrCat(
        "svid key proof of possession: signature by svid key ", ShortHex(Sha256(spki)),
        " (generation ", svid_key.generation(), ") does not verify over this stream's transcript"));
  }
  return absl::OkStatus();
}

std::string SvidKeyHash(ByteView svid_key_spki) { return HexEncode(Sha256(svid_key_spki)); }

}  // namespace twi::keybinding
