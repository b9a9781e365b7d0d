#include "plugin/keymanager/key_store.h"

#include <openssl/rsa.h>

#include "attestors/core/str.h"
#include "attestors/keybinding/binding.h"

namespace twi::keymanager {
namespace {

std::string EchoId(const std::string& id) {
  // Key IDs come from SPIRE; still bounded and printable in errors.
  std::string out;
  for (char c : id.substr(0, 64)) out += (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
  return StrCat("\"", out, id.size() > 64 ? "...\"" : "\"");
}

absl::StatusOr<EvpPkeyPtr> Generate(pb::KeyType type) {
  EVP_PKEY* k = nullptr;
  switch (type) {
    case pb::EC_P256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case pb::EC_P384: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); break;
    case pb::RSA_2048: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}); break;
    case pb::RSA_4096: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096}); break;
    default:
      return absl::InvalidArgumentError(
          StrCat("unsupported key type ", static_cast<int>(type),
                 " (want EC_P256, EC_P384, RSA_2048 or RSA_4096)"));
  }
  if (k == nullptr) return OpenSslError("key generation failed");
  return EvpPkeyPtr(k);
}

// Go's crypto.Hash numbers, as HashAlgorithm carries them.
const EVP_MD* Digest(pb::HashAlgorithm h) {
  switch (h) {
    case pb::SHA224: return EVP_sha224();
    case pb::SHA256: return EVP_sha256();
    case pb::SHA384: return EVP_sha384();
    case pb::SHA512: return EVP_sha512();
    case pb::SHA3_224: return EVP_sha3_224();
    case pb::SHA3_256: return EVP_sha3_256();
    case pb::SHA3_384: return EVP_sha3_384();
    case pb::SHA3_512: return EVP_sha3_512();
    case pb::SHA512_224: return EVP_sha512_224();
    case pb::SHA512_256: return EVP_sha512_256();
    default: return nullptr;
  }
}

}  // namespace

absl::StatusOr<pb::PublicKey> KeyStore::GenerateKey(const std::string& key_id, pb::KeyType type) {
  if (key_id.empty() || key_id.size() > kMaxKeyIdBytes) {
    return absl::InvalidArgumentError(
        StrCat("key id must be 1..", kMaxKeyIdBytes, " bytes, got ", key_id.size()));
  }
  auto key = Generate(type);
  if (!key.ok()) return key.status();
  auto spki = PublicKeyToSpki(key->get());
  if (!spki.ok()) return spki.status();
  auto e = std::make_shared<Entry>();
  e->key = *std::move(key);
  e->pub.set_id(key_id);
  e->pub.set_type(type);
  e->pub.set_pkix_data(std::string(AsString(*spki)));
  // As SPIRE's built-in KeyManagers: a new key has a new SPKI, so a new fingerprint.
  e->pub.set_fingerprint(HexEncode(Sha256(*spki)));
  std::lock_guard<std::mutex> l(mu_);
  if (keys_.size() >= kMaxKeys && keys_.count(key_id) == 0) {
    return absl::ResourceExhaustedError(StrCat("already ", kMaxKeys, " keys; refusing ",
                                               EchoId(key_id)));
  }
  keys_[key_id] = e;
  pending_ = e;
  ++generation_;
  return e->pub;
}

absl::StatusOr<pb::PublicKey> KeyStore::GetPublicKey(const std::string& key_id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return absl::NotFoundError(StrCat("no key ", EchoId(key_id)));
  return it->second->pub;
}

std::vector<pb::PublicKey> KeyStore::GetPublicKeys() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<pb::PublicKey> out;
  for (const auto& [id, e] : keys_) out.push_back(e->pub);
  return out;
}

absl::StatusOr<pb::SignDataResponse> KeyStore::SignData(const pb::SignDataRequest& req) const {
  std::shared_ptr<const Entry> e;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = keys_.find(req.key_id());
    if (it == keys_.end()) return absl::NotFoundError(StrCat("no key ", EchoId(req.key_id())));
    e = it->second;
  }
  pb::HashAlgorithm hash;
  const bool pss = req.signer_opts_case() == pb::SignDataRequest::kPssOptions;
  if (req.signer_opts_case() == pb::SignDataRequest::kHashAlgorithm) {
    hash = req.hash_algorithm();
  } else if (pss) {
    hash = req.pss_options().hash_algorithm();
  } else {
    return absl::InvalidArgumentError("signer opts are required (hash_algorithm or pss_options)");
  }
  const EVP_MD* md = Digest(hash);
  if (md == nullptr) {
    return absl::InvalidArgumentError(
        StrCat("unsupported hash algorithm ", static_cast<int>(hash)));
  }
  const size_t want = static_cast<size_t>(EVP_MD_get_size(md));
  if (req.data().size() != want) {
    return absl::InvalidArgumentError(StrCat("data is ", req.data().size(), " bytes, want the ",
                                             want, "-byte ", EVP_MD_get0_name(md), " digest"));
  }
  const bool rsa = EVP_PKEY_get_base_id(e->key.get()) == EVP_PKEY_RSA;
  if (pss && !rsa) {
    return absl::InvalidArgumentError("pss_options given for a non-RSA key");
  }
  int salt = 0;
  if (pss) {
    // Go: 0 = as large as possible when signing, -1 = the hash length, >0 = exactly that.
    int32_t s = req.pss_options().salt_length();
    if (s < -1) return absl::InvalidArgumentError(StrCat("invalid pss salt length ", s));
    salt = s == 0 ? RSA_PSS_SALTLEN_MAX : s == -1 ? RSA_PSS_SALTLEN_DIGEST : s;
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, e->key.get(), nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) {
    return OpenSslError("sign setup failed");
  }
  if (pss && (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1 ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), salt) != 1)) {
    return OpenSslError("pss setup failed", absl::StatusCode::kInvalidArgument);
  }
  const auto* data = reinterpret_cast<const unsigned char*>(req.data().data());
  size_t len = 0;
  if (EVP_PKEY_sign(ctx.get(), nullptr, &len, data, want) != 1) return OpenSslError("signing failed");
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, want) !=
      1) {
    return OpenSslError("signing failed", absl::StatusCode::kInvalidArgument);
  }
  sig.resize(len);
  pb::SignDataResponse out;
  out.set_signature(std::move(sig));
  out.set_key_fingerprint(e->pub.fingerprint());
  return out;
}

absl::StatusOr<keybinding::PendingKey> KeyStore::GetPendingKey() const {
  std::lock_guard<std::mutex> l(mu_);
  if (!pending_) {
    return absl::FailedPreconditionError(
        "no pending key: SPIRE has not called GenerateKey on this KeyManager yet");
  }
  return keybinding::PendingKey{pending_->pub.id(), ToBytes(pending_->pub.pkix_data()),
                                generation_, pending_->pub.fingerprint()};
}

absl::StatusOr<Bytes> KeyStore::SignBindingTranscript(ByteView nonce, ByteView payload_digest,
                                                      uint64_t generation) const {
  std::shared_ptr<const Entry> e;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!pending_) {
      return absl::FailedPreconditionError(
          "no pending key: SPIRE has not called GenerateKey on this KeyManager yet");
    }
    if (generation != generation_) {
      return absl::FailedPreconditionError(
          StrCat("pending key changed: generation got ", generation, ", want ", generation_,
                 " (SPIRE generated a new key since this attestation read it)"));
    }
    e = pending_;
  }
  auto transcript = keybinding::PopTranscript(nonce, payload_digest,
                                              AsBytes(e->pub.pkix_data()), generation);
  if (!transcript.ok()) return transcript.status();
  return keybinding::SignPop(e->key.get(), *transcript);
}

}  // namespace twi::keymanager
