#include "attestors/tpm/collect.h"

#include <tss2/tss2_mu.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "attestors/core/file.h"
#include "attestors/core/status.h"
#include "attestors/tpm/esys.h"

namespace twi::tpm {
namespace {

// Firmware logs are tens of KiB; the cap keeps a broken securityfs file out of the protocol.
constexpr size_t kMaxEventLogBytes = 1 << 20;

// A loaded key's public area and Name, as the TPM reports them.
struct PublicInfo {
  TPMT_PUBLIC pub{};
  Bytes public_area;
  Bytes name;
};

absl::StatusOr<PublicInfo> ReadPublic(EsysConnection& c, ESYS_TR tr, std::string_view what) {
  TPM2B_PUBLIC* pub_raw = nullptr;
  TPM2B_NAME* name_raw = nullptr;
  TPM2B_NAME* qualified_raw = nullptr;
  TSS2_RC rc = Esys_ReadPublic(c.ctx(), tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub_raw,
                               &name_raw, &qualified_raw);
  EsysPtr<TPM2B_PUBLIC> pub(pub_raw);
  EsysPtr<TPM2B_NAME> name(name_raw);
  EsysPtr<TPM2B_NAME> qualified(qualified_raw);
  if (rc != TSS2_RC_SUCCESS) return c.Error(rc, twi::StrCat("ReadPublic(", what, ")"));
  PublicInfo out;
  out.pub = pub->publicArea;
  TWI_ASSIGN_OR_RETURN(out.public_area, Marshal(pub->publicArea, Tss2_MU_TPMT_PUBLIC_Marshal, "TPMT_PUBLIC"));
  out.name.assign(name->name, name->name + name->size);
  return out;
}

// A transient object's saved context, or nothing (saving is an optimization only).
std::optional<TPMS_CONTEXT> SaveContext(EsysConnection& c, ESYS_TR tr) {
  TPMS_CONTEXT* raw = nullptr;
  TSS2_RC rc = Esys_ContextSave(c.ctx(), tr, &raw);
  EsysPtr<TPMS_CONTEXT> saved(raw);
  if (rc != TSS2_RC_SUCCESS) return std::nullopt;
  return *saved;
}

absl::StatusOr<TpmHandle> LoadContext(EsysConnection& c, const TPMS_CONTEXT& saved) {
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_ContextLoad(c.ctx(), &saved, &tr);
  if (rc != TSS2_RC_SUCCESS) return c.Error(rc, "ContextLoad");
  return TpmHandle(c.ctx(), tr, TpmHandle::Kind::kFlush);
}

// The first DER element of `b`: vendors pad NV certificates (0xFF, zeros) to the index size.
// Bytes that do not start with a DER SEQUENCE are returned unchanged for the verifier to judge.
Bytes TrimDer(Bytes b) {
  if (b.size() < 2 || b[0] != 0x30) return b;
  size_t len = b[1], header = 2;
  if (len & 0x80) {
    size_t n = len & 0x7F;
    if (n == 0 || n > 4 || b.size() < 2 + n) return b;
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | b[2 + i];
    header += n;
  }
  if (header + len < b.size()) b.resize(header + len);
  return b;
}

KeyAlg AlgOf(const TPMT_PUBLIC& pub) {
  return pub.type == TPM2_ALG_ECC ? KeyAlg::kEccP256 : KeyAlg::kRsa2048;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

// What the collector keeps between calls: the EK and AK as reported, and the key blob of a
// transient AK (loaded under the EK for each use, flushed after).
// Saved contexts of the EK and a transient AK make later loads cheap: an RSA EK is derived
// again from the seed by prime generation (0.1 s on swtpm, seconds on some hardware TPMs),
// while a ContextLoad is a decryption. A TPM restart invalidates them; they are then dropped
// and the keys made again.
struct TpmCollector::Keys {
  std::optional<TpmKeyInfo> ek;
  std::optional<TpmKeyInfo> ak;
  bool ak_transient = false;
  TPM2B_PRIVATE ak_private{};
  TPM2B_PUBLIC ak_public{};
  std::optional<TPMS_CONTEXT> ek_context;
  std::optional<TPMS_CONTEXT> ak_context;
  TPMT_PUBLIC ek_public{};
  // ESYS_TRs of a persistent EK / AK, opened once: they take no TPM slot, and reopening costs
  // two commands per use.
  TpmHandle ek_persistent;
  TpmHandle ak_persistent;
  // An AK made from a template in NV (GCE): a primary key, made again from the template when
  // its saved context is lost.
  bool ak_primary = false;
  TPM2B_PUBLIC ak_template{};
};

TpmCollector::TpmCollector(TpmCollectOptions options, std::unique_ptr<EsysConnection> conn)
    : options_(std::move(options)), conn_(std::move(conn)), keys_(std::make_unique<Keys>()) {}

TpmCollector::~TpmCollector() = default;

absl::StatusOr<std::unique_ptr<TpmCollector>> TpmCollector::Open(TpmCollectOptions options) {
  if (options.ak_handle != 0 && options.ak_template_nv_index != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tpm: ak_handle ", HandleHex(options.ak_handle), " and ak_template_nv_index ",
        HandleHex(options.ak_template_nv_index), " name two AKs; set one"));
  }
  if (options.ak_handle != 0 &&
      (options.ak_handle < TPM2_PERSISTENT_FIRST || options.ak_handle > TPM2_PERSISTENT_LAST)) {
    return absl::InvalidArgumentError(absl::StrCat("tpm: ak_handle ", HandleHex(options.ak_handle),
                                                   ", want a persistent handle 0x81xxxxxx"));
  }
  TWI_ASSIGN_OR_RETURN(std::unique_ptr<EsysConnection> conn, EsysConnection::Open(options.tcti));
  conn->set_endorsement_auth(options.endorsement_auth);
  return std::unique_ptr<TpmCollector>(new TpmCollector(std::move(options), std::move(conn)));
}

namespace {

// A primary key in `hierarchy` (whose authValue is set) from `tmpl`: the same key every time
// for the same template and seed.
absl::StatusOr<TpmHandle> CreatePrimary(EsysConnection& c, ESYS_TR hierarchy,
                                        const TPM2B_PUBLIC& tmpl, std::string_view what) {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  ESYS_TR tr = ESYS_TR_NONE;
  TPM2B_PUBLIC* out_public = nullptr;
  TPM2B_CREATION_DATA* creation_data = nullptr;
  TPM2B_DIGEST* creation_hash = nullptr;
  TPMT_TK_CREATION* creation_ticket = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(c.ctx(), hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &sensitive, &tmpl, &outside, &creation_pcr, &tr,
                                  &out_public, &creation_data, &creation_hash, &creation_ticket);
  Esys_Free(out_public);
  Esys_Free(creation_data);
  Esys_Free(creation_hash);
  Esys_Free(creation_ticket);
  if (rc != TSS2_RC_SUCCESS) return c.Error(rc, twi::StrCat("CreatePrimary(", what, ")"));
  return TpmHandle(c.ctx(), tr, TpmHandle::Kind::kFlush);
}

// The EK, loaded: the persistent one, or created again from its template (a primary key is
// derived from the endorsement seed, so this is the same key every time).
absl::StatusOr<TpmHandle> CreateOrOpenEk(EsysConnection& c, const TpmCollectOptions& o) {
  if (o.ek_handle != 0) {
    absl::StatusOr<TpmHandle> h = c.FromTpmPublic(o.ek_handle);
    if (!h.ok()) return Annotate(h.status(), "persistent EK");
    return h;
  }
  TWI_RETURN_IF_ERROR(SetAuth(c.ctx(), ESYS_TR_RH_ENDORSEMENT, o.endorsement_auth, "endorsement"));
  return CreatePrimary(c, ESYS_TR_RH_ENDORSEMENT, EkTemplate(o.ek_alg),
                       twi::StrCat(KeyAlgName(o.ek_alg), " EK"));
}

}  // namespace

absl::StatusOr<TpmHandle> TpmCollector::LoadEk() {
  if (options_.ek_handle != 0) {
    if (!keys_->ek_persistent) {
      TWI_ASSIGN_OR_RETURN(keys_->ek_persistent, CreateOrOpenEk(*conn_, options_));
    }
    return keys_->ek_persistent.Borrow();
  }
  if (keys_->ek_context) {
    absl::StatusOr<TpmHandle> h = LoadContext(*conn_, *keys_->ek_context);
    // Busy (no free slot) says nothing about the context; anything else means a TPM reset.
    if (h.ok() || absl::IsUnavailable(h.status())) return h;
    keys_->ek_context.reset();
  }
  TWI_ASSIGN_OR_RETURN(TpmHandle ek, CreateOrOpenEk(*conn_, options_));
  keys_->ek_context = SaveContext(*conn_, ek.get());
  return ek;
}

absl::StatusOr<TpmKeyInfo> TpmCollector::Ek() {
  if (keys_->ek) return *keys_->ek;
  TpmKeyInfo info;
  uint32_t cert_index = 0;
  {
    TWI_ASSIGN_OR_RETURN(TpmHandle ek, LoadEk());
    TWI_ASSIGN_OR_RETURN(PublicInfo pub, ReadPublic(*conn_, ek.get(), "EK"));
    info.alg = AlgOf(pub.pub);
    info.public_area = std::move(pub.public_area);
    info.name = std::move(pub.name);
    info.persistent_handle = options_.ek_handle;
    cert_index = options_.ek_cert_nv_index.value_or(EkCertNvIndexFor(pub.pub));
    keys_->ek_public = pub.pub;
  }
  if (cert_index != 0) {
    absl::StatusOr<Bytes> cert = ReadNv(cert_index);
    if (cert.ok()) {
      info.certificate = TrimDer(*std::move(cert));
    } else if (!absl::IsNotFound(cert.status()) || options_.ek_cert_nv_index.has_value()) {
      return Annotate(cert.status(), "EK certificate");
    }
  }
  keys_->ek = info;
  return info;
}

namespace {

// The AK loaded: the persistent one, or the transient key blob loaded under `ek`.
absl::StatusOr<TpmHandle> LoadAkUnder(EsysConnection& c, const TPM2B_PRIVATE& priv,
                                      const TPM2B_PUBLIC& pub, ESYS_TR ek) {
  TWI_ASSIGN_OR_RETURN(TpmHandle session, c.EndorsementPolicySession());
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_Load(c.ctx(), ek, session.get(), ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &tr);
  if (rc != TSS2_RC_SUCCESS) return c.Error(rc, "Load(AK)");
  return TpmHandle(c.ctx(), tr, TpmHandle::Kind::kFlush);
}

// The agent satisfies the low-range templates' EK policy only: PolicySecret(TPM_RH_ENDORSEMENT)
// in a SHA-256 session. A persistent EK from a high-range template (PolicyOR over SHA-384
// branches, as swtpm_setup's P-384 EK) still gives its public area and certificate, but cannot
// be the AK's parent or activate a credential; say so instead of "policy check failed".
// The AK of a GCE-style vTPM: a primary key in the endorsement hierarchy from the template the
// TPM keeps in NV.
absl::StatusOr<TpmHandle> CreateTemplateAk(EsysConnection& c, const TpmCollectOptions& o,
                                           const TPM2B_PUBLIC& tmpl) {
  TWI_RETURN_IF_ERROR(SetAuth(c.ctx(), ESYS_TR_RH_ENDORSEMENT, o.endorsement_auth, "endorsement"));
  return CreatePrimary(c, ESYS_TR_RH_ENDORSEMENT, tmpl,
                       absl::StrCat("AK from the template in ", HandleHex(o.ak_template_nv_index)));
}

absl::Status CheckEkPolicy(const TPMT_PUBLIC& ek, uint32_t handle) {
  ByteView policy(ek.authPolicy.buffer, ek.authPolicy.size);
  if (ek.nameAlg == TPM2_ALG_SHA256 && ConstantTimeEqual(policy, kEkAuthPolicy)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "tpm: the EK at ", HandleHex(handle), " has authPolicy ", ShortHex(policy), " (name alg 0x",
      absl::Hex(ek.nameAlg), "), want PolicySecret(endorsement) ", ShortHex(kEkAuthPolicy),
      " of the low-range templates; configure an RSA-2048 or P-256 EK (ek_handle 0 creates one)"));
}

// `where` names the key's source ("persistent handle 0x81000003"), `fix` what to do about it.
absl::Status CheckAttestationKey(const TPMT_PUBLIC& pub, std::string_view where,
                                 std::string_view fix) {
  const bool alg_ok = pub.type == TPM2_ALG_RSA || pub.type == TPM2_ALG_ECC;
  if (!alg_ok || (pub.objectAttributes & kAkAttributes) != kAkAttributes ||
      (pub.objectAttributes & TPMA_OBJECT_DECRYPT) != 0) {
    return absl::FailedPreconditionError(twi::StrCat(
        "tpm: ", where, " holds a key of type 0x", absl::Hex(pub.type), " with attributes ",
        HandleHex(pub.objectAttributes), ", want an attestation key (attributes ",
        HandleHex(kAkAttributes), "); ", fix));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TpmHandle> TpmCollector::LoadAk(uint32_t ek) {
  if (keys_->ak_primary) {
    if (keys_->ak_context) {
      absl::StatusOr<TpmHandle> h = LoadContext(*conn_, *keys_->ak_context);
      if (h.ok() || absl::IsUnavailable(h.status())) return h;
      keys_->ak_context.reset();
    }
    TWI_ASSIGN_OR_RETURN(TpmHandle ak, CreateTemplateAk(*conn_, options_, keys_->ak_template));
    keys_->ak_context = SaveContext(*conn_, ak.get());
    return ak;
  }
  if (!keys_->ak_transient) {
    if (!keys_->ak_persistent) {
      TWI_ASSIGN_OR_RETURN(keys_->ak_persistent, conn_->FromTpmPublic(options_.ak_handle));
    }
    return keys_->ak_persistent.Borrow();
  }
  if (keys_->ak_context) {
    absl::StatusOr<TpmHandle> h = LoadContext(*conn_, *keys_->ak_context);
    if (h.ok() || absl::IsUnavailable(h.status())) return h;
    keys_->ak_context.reset();
  }
  TpmHandle own_ek;
  if (ek == ESYS_TR_NONE) {
    TWI_ASSIGN_OR_RETURN(own_ek, LoadEk());
    ek = own_ek.get();
  }
  TWI_ASSIGN_OR_RETURN(TpmHandle ak,
                       LoadAkUnder(*conn_, keys_->ak_private, keys_->ak_public, ek));
  keys_->ak_context = SaveContext(*conn_, ak.get());
  return ak;
}

absl::StatusOr<TpmKeyInfo> TpmCollector::Ak() {
  if (keys_->ak) return *keys_->ak;
  TpmKeyInfo info;
  bool have = false;
  if (options_.ak_template_nv_index != 0) {
    const std::string where = absl::StrCat("the AK template in nv index ",
                                           HandleHex(options_.ak_template_nv_index));
    TWI_ASSIGN_OR_RETURN(Bytes raw, ReadNv(options_.ak_template_nv_index));
    TPMT_PUBLIC tmpl{};
    size_t offset = 0;
    // The index may be larger than the template it holds: only the TPMT_PUBLIC counts.
    TSS2_RC rc = Tss2_MU_TPMT_PUBLIC_Unmarshal(raw.data(), raw.size(), &offset, &tmpl);
    if (rc != TSS2_RC_SUCCESS) {
      return TssStatus(rc, twi::StrCat("tpm: ", where, " (", raw.size(), " bytes) is not a TPMT_PUBLIC"),
                       absl::StatusCode::kFailedPrecondition);
    }
    TWI_RETURN_IF_ERROR(CheckAttestationKey(tmpl, where, "this is not a GCE-style AK template"));
    keys_->ak_template.publicArea = tmpl;
    TWI_ASSIGN_OR_RETURN(TpmHandle ak, CreateTemplateAk(*conn_, options_, keys_->ak_template));
    TWI_ASSIGN_OR_RETURN(PublicInfo pub, ReadPublic(*conn_, ak.get(), "AK"));
    info.alg = AlgOf(pub.pub);
    info.public_area = std::move(pub.public_area);
    info.name = std::move(pub.name);
    keys_->ak_primary = true;
    keys_->ak_context = SaveContext(*conn_, ak.get());
    have = true;
  }
  if (!have && options_.ak_handle != 0) {
    absl::StatusOr<TpmHandle> h = conn_->FromTpmPublic(options_.ak_handle);
    if (h.ok()) {
      TWI_ASSIGN_OR_RETURN(PublicInfo pub, ReadPublic(*conn_, h->get(), "AK"));
      TWI_RETURN_IF_ERROR(CheckAttestationKey(
          pub.pub, absl::StrCat("persistent handle ", HandleHex(options_.ak_handle)),
          "choose another ak_handle or evict it"));
      info.alg = AlgOf(pub.pub);
      info.public_area = std::move(pub.public_area);
      info.name = std::move(pub.name);
      info.persistent_handle = options_.ak_handle;
      keys_->ak_persistent = *std::move(h);
      have = true;
    } else if (!absl::IsNotFound(h.status())) {
      return Annotate(h.status(), "persistent AK");
    }
  }
  if (!have) {
    TWI_RETURN_IF_ERROR(Ek().status());
    TWI_RETURN_IF_ERROR(CheckEkPolicy(keys_->ek_public, options_.ek_handle));
    TWI_ASSIGN_OR_RETURN(TpmHandle ek, LoadEk());
    TPM2B_PRIVATE* priv_raw = nullptr;
    TPM2B_PUBLIC* pub_raw = nullptr;
    {
      TWI_ASSIGN_OR_RETURN(TpmHandle session, conn_->EndorsementPolicySession());
      TPM2B_SENSITIVE_CREATE sensitive{};
      TPM2B_PUBLIC tmpl = AkTemplate(options_.ak_alg);
      TPM2B_DATA outside{};
      TPML_PCR_SELECTION creation_pcr{};
      TPM2B_CREATION_DATA* creation_data = nullptr;
      TPM2B_DIGEST* creation_hash = nullptr;
      TPMT_TK_CREATION* creation_ticket = nullptr;
      TSS2_RC rc = Esys_Create(conn_->ctx(), ek.get(), session.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                               &sensitive, &tmpl, &outside, &creation_pcr, &priv_raw, &pub_raw,
                               &creation_data, &creation_hash, &creation_ticket);
      Esys_Free(creation_data);
      Esys_Free(creation_hash);
      Esys_Free(creation_ticket);
      if (rc != TSS2_RC_SUCCESS) {
        Esys_Free(priv_raw);
        Esys_Free(pub_raw);
        return conn_->Error(rc, twi::StrCat("Create(", KeyAlgName(options_.ak_alg), " AK)"));
      }
    }
    EsysPtr<TPM2B_PRIVATE> priv(priv_raw);
    EsysPtr<TPM2B_PUBLIC> pub(pub_raw);
    TWI_ASSIGN_OR_RETURN(TpmHandle ak, LoadAkUnder(*conn_, *priv, *pub, ek.get()));
    ek.Reset();  // one slot is enough from here on
    TWI_ASSIGN_OR_RETURN(PublicInfo loaded, ReadPublic(*conn_, ak.get(), "AK"));
    info.alg = options_.ak_alg;
    info.public_area = std::move(loaded.public_area);
    info.name = std::move(loaded.name);
    if (options_.ak_handle != 0) {
      TWI_RETURN_IF_ERROR(SetAuth(conn_->ctx(), ESYS_TR_RH_OWNER, options_.owner_auth, "owner"));
      ESYS_TR persisted = ESYS_TR_NONE;
      TSS2_RC rc = Esys_EvictControl(conn_->ctx(), ESYS_TR_RH_OWNER, ak.get(), ESYS_TR_PASSWORD,
                                     ESYS_TR_NONE, ESYS_TR_NONE, options_.ak_handle, &persisted);
      if (rc != TSS2_RC_SUCCESS) {
        return conn_->Error(rc, twi::StrCat("EvictControl(AK -> ", HandleHex(options_.ak_handle), ")"));
      }
      keys_->ak_persistent = TpmHandle(conn_->ctx(), persisted, TpmHandle::Kind::kClose);
      info.persistent_handle = options_.ak_handle;
    } else {
      keys_->ak_transient = true;
      keys_->ak_private = *priv;
      keys_->ak_public = *pub;
      keys_->ak_context = SaveContext(*conn_, ak.get());
    }
  }
  if (options_.ak_cert_nv_index != 0) {
    TWI_ASSIGN_OR_RETURN(Bytes cert, ReadNv(options_.ak_cert_nv_index));
    info.certificate = TrimDer(std::move(cert));
  }
  keys_->ak = info;
  return info;
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<Bytes> TpmCollector::ActivateCredential(ByteView credential_blob,
                                                       ByteView encrypted_secret) {
  TWI_ASSIGN_OR_RETURN(TPM2B_ID_OBJECT blob,
                       UnmarshalExact<TPM2B_ID_OBJECT>(credential_blob,
                                                       Tss2_MU_TPM2B_ID_OBJECT_Unmarshal,
                                                       "credential blob (TPM2B_ID_OBJECT)"));
  TWI_ASSIGN_OR_RETURN(TPM2B_ENCRYPTED_SECRET secret,
                       UnmarshalExact<TPM2B_ENCRYPTED_SECRET>(
                           encrypted_secret, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal,
                           "encrypted secret (TPM2B_ENCRYPTED_SECRET)"));
  TWI_RETURN_IF_ERROR(Ak().status());
  TWI_RETURN_IF_ERROR(Ek().status());
  TWI_RETURN_IF_ERROR(CheckEkPolicy(keys_->ek_public, options_.ek_handle));
  TWI_ASSIGN_OR_RETURN(TpmHandle ek, LoadEk());
  TWI_ASSIGN_OR_RETURN(TpmHandle ak, LoadAk(ek.get()));
  TWI_ASSIGN_OR_RETURN(TpmHandle session, conn_->EndorsementPolicySession());
  TPM2B_DIGEST* cert_info_raw = nullptr;
  // The AK is authorized by its (empty) authValue in the ADMIN role, the EK by the policy.
  TSS2_RC rc = Esys_ActivateCredential(conn_->ctx(), ak.get(), ek.get(), ESYS_TR_PASSWORD,
                                       session.get(), ESYS_TR_NONE, &blob, &secret,
                                       &cert_info_raw);
  EsysPtr<TPM2B_DIGEST> cert_info(cert_info_raw);
  if (rc != TSS2_RC_SUCCESS) {
    // Integrity / value / size failures mean the blob was not made for this EK and AK Name.
    return conn_->Error(rc, "ActivateCredential", absl::StatusCode::kInvalidArgument);
  }
  return Bytes(cert_info->buffer, cert_info->buffer + cert_info->size);
}

absl::StatusOr<TpmCollector::Credential> TpmCollector::MakeCredential(ByteView ek_public,
                                                                      ByteView object_name,
                                                                      ByteView secret) {
  TPM2B_PUBLIC pub{};
  TWI_ASSIGN_OR_RETURN(pub.publicArea,
                       UnmarshalExact<TPMT_PUBLIC>(ek_public, Tss2_MU_TPMT_PUBLIC_Unmarshal,
                                                   "EK public (TPMT_PUBLIC)"));
  TPM2B_DIGEST credential{};
  TPM2B_NAME name{};
  if (secret.size() > sizeof(credential.buffer) || object_name.size() > sizeof(name.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "make credential: secret ", secret.size(), " bytes (want at most ",
        sizeof(credential.buffer), "), name ", object_name.size(), " bytes (want at most ",
        sizeof(name.name), ")"));
  }
  credential.size = static_cast<uint16_t>(secret.size());
  std::memcpy(credential.buffer, secret.data(), secret.size());
  name.size = static_cast<uint16_t>(object_name.size());
  std::memcpy(name.name, object_name.data(), object_name.size());

  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_LoadExternal(conn_->ctx(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, nullptr,
                                 &pub, ESYS_TR_RH_NULL, &tr);
  if (rc != TSS2_RC_SUCCESS) {
    return conn_->Error(rc, "LoadExternal(EK public)", absl::StatusCode::kInvalidArgument);
  }
  TpmHandle ek(conn_->ctx(), tr, TpmHandle::Kind::kFlush);
  TPM2B_ID_OBJECT* blob_raw = nullptr;
  TPM2B_ENCRYPTED_SECRET* secret_raw = nullptr;
  rc = Esys_MakeCredential(conn_->ctx(), ek.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                           &credential, &name, &blob_raw, &secret_raw);
  EsysPtr<TPM2B_ID_OBJECT> blob(blob_raw);
  EsysPtr<TPM2B_ENCRYPTED_SECRET> enc(secret_raw);
  if (rc != TSS2_RC_SUCCESS) return conn_->Error(rc, "MakeCredential");
  Credential out;
  TWI_ASSIGN_OR_RETURN(out.credential_blob,
                       Marshal(*blob, Tss2_MU_TPM2B_ID_OBJECT_Marshal, "TPM2B_ID_OBJECT"));
  TWI_ASSIGN_OR_RETURN(out.encrypted_secret,
                       Marshal(*enc, Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal,
                                    "TPM2B_ENCRYPTED_SECRET"));
  return out;
}

// ---------------------------------------------------------------------------------------------

absl::StatusOr<Bytes> TpmCollector::ReadNv(uint32_t nv_index) {
  absl::StatusOr<TpmHandle> index = conn_->FromTpmPublic(nv_index);
  if (!index.ok()) {
    if (absl::IsNotFound(index.status())) {
      return absl::NotFoundError(absl::StrCat("tpm (", options_.tcti, "): nv index ",
                                              HandleHex(nv_index), " is not defined"));
    }
    return index.status();
  }
  TPM2B_NV_PUBLIC* nv_pub_raw = nullptr;
  TPM2B_NAME* nv_name_raw = nullptr;
  TSS2_RC rc = Esys_NV_ReadPublic(conn_->ctx(), index->get(), ESYS_TR_NONE, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &nv_pub_raw, &nv_name_raw);
  EsysPtr<TPM2B_NV_PUBLIC> nv_pub(nv_pub_raw);
  EsysPtr<TPM2B_NAME> nv_name(nv_name_raw);
  if (rc != TSS2_RC_SUCCESS) return conn_->Error(rc, absl::StrCat("NV_ReadPublic(", HandleHex(nv_index), ")"));
  const TPMA_NV attrs = nv_pub->nvPublic.attributes;
  const uint16_t size = nv_pub->nvPublic.dataSize;
  if (!(attrs & TPMA_NV_WRITTEN)) {
    return absl::NotFoundError(absl::StrCat("tpm (", options_.tcti, "): nv index ",
                                            HandleHex(nv_index), " is defined but was never written"));
  }
  // EK and AK certificate indices are readable with their own (empty) authValue; fall back to
  // the owner hierarchy for indices that allow only that.
  ESYS_TR auth = index->get();
  if (!(attrs & TPMA_NV_AUTHREAD)) {
    if (!(attrs & TPMA_NV_OWNERREAD)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "tpm: nv index ", HandleHex(nv_index), " is readable neither with its auth nor by the owner",
          " (attributes ", HandleHex(attrs), ")"));
    }
    auth = ESYS_TR_RH_OWNER;
    TWI_RETURN_IF_ERROR(SetAuth(conn_->ctx(), auth, options_.owner_auth, "owner"));
  }
  uint32_t chunk = options_.nv_chunk_size;
  if (chunk == 0) {
    TWI_ASSIGN_OR_RETURN(chunk, conn_->Property(TPM2_PT_NV_BUFFER_MAX, 512));
  }
  chunk = std::clamp<uint32_t>(chunk, 1, TPM2_MAX_NV_BUFFER_SIZE);
  Bytes out;
  out.reserve(size);
  while (out.size() < size) {
    const uint16_t offset = static_cast<uint16_t>(out.size());
    const uint16_t want = static_cast<uint16_t>(std::min<uint32_t>(chunk, size - offset));
    TPM2B_MAX_NV_BUFFER* data_raw = nullptr;
    rc = Esys_NV_Read(conn_->ctx(), auth, index->get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                      ESYS_TR_NONE, want, offset, &data_raw);
    EsysPtr<TPM2B_MAX_NV_BUFFER> data(data_raw);
    if (rc != TSS2_RC_SUCCESS) {
      return conn_->Error(rc, absl::StrCat("NV_Read(", HandleHex(nv_index), ", offset ", offset, ")"));
    }
    if (data->size != want) {
      return absl::InternalError(absl::StrCat("tpm: NV_Read(", HandleHex(nv_index), ") returned ",
                                              data->size, " bytes, want ", want));
    }
    out.insert(out.end(), data->buffer, data->buffer + data->size);
  }
  return out;
}

absl::StatusOr<std::vector<uint32_t>> TpmCollector::TransientHandles() {
  return conn_->Handles(TPM2_TRANSIENT_FIRST, TPM2_TRANSIENT_LAST - TPM2_TRANSIENT_FIRST + 1);
}

absl::StatusOr<std::vector<uint32_t>> TpmCollector::PersistentHandles() {
  return conn_->Handles(TPM2_PERSISTENT_FIRST, TPM2_PERSISTENT_LAST - TPM2_PERSISTENT_FIRST + 1);
}

absl::StatusOr<std::vector<uint16_t>> TpmCollector::ActiveBanks() { return conn_->ActiveBanks(); }

absl::StatusOr<std::string> TpmCollector::Manufacturer() {
  TWI_ASSIGN_OR_RETURN(uint32_t v, conn_->Property(TPM2_PT_MANUFACTURER, 0));
  // Four ASCII characters, NUL- or space-padded ("IBM\0", "MSFT", "INTC").
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) {
    char ch = static_cast<char>((v >> shift) & 0xFF);
    if (ch == '\0') break;
    out.push_back(ch >= 0x20 && ch < 0x7F ? ch : '?');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

absl::StatusOr<Bytes> ReadEventLog(const std::string& path) {
  absl::StatusOr<Bytes> log = ReadFileBytes(path);
  if (absl::IsNotFound(log.status())) return Bytes{};
  if (!log.ok()) return Annotate(log.status(), "tpm event log");
  if (log->size() > kMaxEventLogBytes) {
    return absl::FailedPreconditionError(absl::StrCat("tpm event log \"", path, "\" has ",
                                                      log->size(), " bytes, want at most ",
                                                      kMaxEventLogBytes));
  }
  return log;
}

}  // namespace twi::tpm
