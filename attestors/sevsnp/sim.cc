#include "attestors/sevsnp/sim.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <array>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "attestors/core/status.h"
#include "attestors/core/x509_mint.h"

namespace twi::sevsnp {
namespace {

constexpr size_t kReportSize = 0x4A0;
constexpr size_t kSignedSize = 0x2A0;
constexpr char kSimOrg[] = "twi-attestor simulated AMD";
constexpr char kAmdOid[] = "1.3.6.1.4.1.3704.1.";

using std::chrono::hours;
constexpr auto kDay = hours(24);
constexpr auto kYear = hours(24 * 365);

struct EcdsaSigDeleter { void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); } };
struct BnDeleter { void operator()(BIGNUM* p) const { BN_free(p); } };

// AMD's subject layout, with the organisation replaced so the names say "simulated".
X509NamePtr SimName(std::string_view cn) {
  return MakeX509Name({{"OU", "Engineering"}, {"C", "US"}, {"L", "Santa Clara"}, {"ST", "CA"},
                       {"O", kSimOrg}, {"CN", cn}});
}

absl::Status SetValidity(X509* x, TimePoint not_before, TimePoint not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(x), ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x), ToTimeT(not_after)) == nullptr) {
    return OpenSslError("setting certificate validity failed");
  }
  return absl::OkStatus();
}

// A certificate skeleton: version 3, serial, names, validity, subject key.
absl::StatusOr<X509Ptr> NewCert(long serial, std::string_view subject_cn, X509* issuer,
                                EVP_PKEY* subject_key, TimePoint not_before, TimePoint not_after) {
  X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial) != 1) {
    return OpenSslError("creating a certificate failed");
  }
  auto subject = SimName(subject_cn);
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : subject.get();
  if (X509_set_subject_name(x.get(), subject.get()) != 1 ||
      X509_set_issuer_name(x.get(), issuer_name) != 1 ||
      X509_set_pubkey(x.get(), subject_key) != 1) {
    return OpenSslError("setting certificate names failed");
  }
  TWI_RETURN_IF_ERROR(SetValidity(x.get(), not_before, not_after));
  return x;
}

// An extension whose extnValue OCTET STRING holds `value` verbatim: AMD stores DER INTEGERs
// and IA5Strings there, and the hwID as raw bytes with no tag at all.
absl::Status AddRawExt(X509* x, const char* oid_suffix, ByteView value) {
  return AddOpaqueExt(x, absl::StrCat(kAmdOid, oid_suffix), value);
}

// DER INTEGER for 0..255: 02 01 xx, or 02 02 00 xx when the high bit is set.
Bytes DerSmallInt(uint8_t v) {
  if (v < 0x80) return {0x02, 0x01, v};
  return {0x02, 0x02, 0x00, v};
}

Bytes DerIa5(std::string_view s) {
  Bytes out(2 + s.size());
  out[0] = 0x16;
  out[1] = static_cast<uint8_t>(s.size());  // short form: names and CSP ids stay < 128 bytes
  std::memcpy(out.data() + 2, s.data(), s.size());
  return out;
}

// RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48: AMD's parameters, written explicitly into the
// AlgorithmIdentifier by OpenSSL.
absl::StatusOr<EvpMdCtxPtr> PssContext(EVP_PKEY* key) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha384(), nullptr, key) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) != 1) {
    return OpenSslError("setting up RSA-PSS signing failed");
  }
  return ctx;
}

absl::Status SignCertPss(X509* x, EVP_PKEY* key) {
  TWI_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, PssContext(key));
  if (X509_sign_ctx(x, ctx.get()) <= 0) return OpenSslError("signing a certificate failed");
  return absl::OkStatus();
}

TimePoint SystemNow(const Clock* clock) {
  return clock ? clock->Now() : std::chrono::system_clock::now();
}

}  // namespace

const char* SimProductName(SimProduct product) {
  switch (product) {
    case SimProduct::kMilan: return "Milan";
    case SimProduct::kGenoa: return "Genoa";
    case SimProduct::kTurin: return "Turin";
  }
  return "unknown";
}

uint64_t EncodeSimTcb(SimProduct product, const SimTcb& tcb) {
  uint8_t b[8] = {};
  if (product == SimProduct::kTurin) {
    b[0] = tcb.fmc; b[1] = tcb.bl; b[2] = tcb.tee; b[3] = tcb.snp; b[7] = tcb.ucode;
  } else {
    b[0] = tcb.bl; b[1] = tcb.tee; b[6] = tcb.snp; b[7] = tcb.ucode;
  }
  return LoadLe64(b);
}

const std::array<uint8_t, 16> kSimGuidVcek = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                              0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
const std::array<uint8_t, 16> kSimGuidVlek = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                              0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
const std::array<uint8_t, 16> kSimGuidAsk = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                             0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
const std::array<uint8_t, 16> kSimGuidArk = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                             0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

Bytes BuildCertTable(const std::vector<SimCertTableEntry>& entries) {
  constexpr size_t kEntry = 24;
  size_t offset = (entries.size() + 1) * kEntry;
  Bytes out(offset, 0);
  for (size_t i = 0; i < entries.size(); ++i) {
    uint8_t* e = out.data() + i * kEntry;
    std::memcpy(e, entries[i].guid.data(), 16);
    StoreLe32(e + 16, static_cast<uint32_t>(offset));
    StoreLe32(e + 20, static_cast<uint32_t>(entries[i].der.size()));
    offset += entries[i].der.size();
  }
  for (const auto& entry : entries) out.insert(out.end(), entry.der.begin(), entry.der.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// SimHierarchy

Bytes SimHierarchy::ark_der() const { return X509Der(ark_.get()); }
Bytes SimHierarchy::ask_der() const { return X509Der(ask_.get()); }
Bytes SimHierarchy::asvk_der() const { return X509Der(asvk_.get()); }
std::string SimHierarchy::ark_pem() const { return X509Pem(ark_.get()); }
std::string SimHierarchy::ask_pem() const { return X509Pem(ask_.get()); }
std::string SimHierarchy::asvk_pem() const { return X509Pem(asvk_.get()); }
std::string SimHierarchy::VcekCertChainPem() const { return ask_pem() + ark_pem(); }
std::string SimHierarchy::VlekCertChainPem() const { return asvk_pem() + ark_pem(); }

absl::StatusOr<Bytes> SimHierarchy::MakeCrl(const SimCrlOptions& options) const {
  X509CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ark_.get())) != 1) {
    return OpenSslError("creating a crl failed");
  }
  ASN1_TIME* this_update = ASN1_TIME_set(nullptr, ToTimeT(options.this_update));
  ASN1_TIME* next_update = ASN1_TIME_set(nullptr, ToTimeT(options.next_update));
  bool ok = this_update && next_update && X509_CRL_set1_lastUpdate(crl.get(), this_update) == 1 &&
            X509_CRL_set1_nextUpdate(crl.get(), next_update) == 1;
  for (const Bytes& serial : options.revoked_serials) {
    if (!ok) break;
    X509_REVOKED* rev = X509_REVOKED_new();
    std::unique_ptr<BIGNUM, BnDeleter> bn(
        BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
    ASN1_INTEGER* asn = bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr;
    ok = rev && asn && X509_REVOKED_set_serialNumber(rev, asn) == 1 &&
         X509_REVOKED_set_revocationDate(rev, this_update) == 1 &&
         X509_CRL_add0_revoked(crl.get(), rev) == 1;
    ASN1_INTEGER_free(asn);
    if (!ok) X509_REVOKED_free(rev);
  }
  ASN1_TIME_free(this_update);
  ASN1_TIME_free(next_update);
  if (!ok || X509_CRL_sort(crl.get()) != 1) return OpenSslError("filling a crl failed");
  TWI_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, PssContext(ark_key_.get()));
  if (X509_CRL_sign_ctx(crl.get(), ctx.get()) <= 0) return OpenSslError("signing a crl failed");
  unsigned char* der = nullptr;
  int len = i2d_X509_CRL(crl.get(), &der);
  if (len <= 0) return OpenSslError("encoding a crl failed");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// Generation, loading and saving, kept out of the class's public surface.
class SimHierarchyBuilder {
 public:
  static absl::StatusOr<std::shared_ptr<SimHierarchy>> Generate(SimProduct product, int bits,
                                                                TimePoint not_before) {
    auto h = std::shared_ptr<SimHierarchy>(new SimHierarchy());
    h->product_ = product;
    std::string name(SimProductName(product));
    TimePoint not_after = not_before + 25 * kYear;
    for (EvpPkeyPtr* key : {&h->ark_key_, &h->ask_key_, &h->asvk_key_}) {
      key->reset(EVP_RSA_gen(static_cast<unsigned>(bits)));
      if (!*key) return OpenSslError("generating an rsa key failed");
    }
    // ARK: self-signed root, like AMD's (no CRL distribution point: nothing serves a
    // simulated CRL at AMD's URL).
    TWI_ASSIGN_OR_RETURN(h->ark_, NewCert(0x10000, "ARK-" + name, nullptr, h->ark_key_.get(),
                                          not_before, not_after));
    X509* ark = h->ark_.get();
    TWI_RETURN_IF_ERROR(AddConfExt(ark, nullptr, NID_key_usage, "critical,keyCertSign,cRLSign"));
    TWI_RETURN_IF_ERROR(AddConfExt(ark, nullptr, NID_subject_key_identifier, "hash"));
    TWI_RETURN_IF_ERROR(AddConfExt(ark, nullptr, NID_basic_constraints, "critical,CA:TRUE"));
    TWI_RETURN_IF_ERROR(SignCertPss(ark, h->ark_key_.get()));
    // ASK issues VCEKs, ASVK issues VLEKs; both are intermediates under the ARK.
    struct Sub { X509Ptr* cert; EVP_PKEY* key; long serial; std::string cn; };
    for (const Sub& sub : {Sub{&h->ask_, h->ask_key_.get(), 0x10001, "SEV-" + name},
                           Sub{&h->asvk_, h->asvk_key_.get(), 0x10101, "SEV-VLEK-" + name}}) {
      TWI_ASSIGN_OR_RETURN(*sub.cert, NewCert(sub.serial, sub.cn, ark, sub.key, not_before,
                                              not_after));
      X509* x = sub.cert->get();
      TWI_RETURN_IF_ERROR(AddConfExt(x, ark, NID_subject_key_identifier, "hash"));
      TWI_RETURN_IF_ERROR(AddConfExt(x, ark, NID_authority_key_identifier, "keyid:always"));
      TWI_RETURN_IF_ERROR(AddConfExt(x, ark, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
      TWI_RETURN_IF_ERROR(AddConfExt(x, ark, NID_key_usage, "critical,keyCertSign"));
      TWI_RETURN_IF_ERROR(SignCertPss(x, h->ark_key_.get()));
    }
    return h;
  }

  static absl::StatusOr<std::shared_ptr<SimHierarchy>> Load(const std::filesystem::path& dir,
                                                            SimProduct product, int bits) {
    auto h = std::shared_ptr<SimHierarchy>(new SimHierarchy());
    h->product_ = product;
    TWI_RETURN_IF_ERROR(LoadMinted(dir, Items(*h)));
    char cn[64] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(h->ark_.get()), NID_commonName, cn, sizeof(cn));
    std::string want_cn = absl::StrCat("ARK-", SimProductName(product));
    int got_bits = EVP_PKEY_get_bits(h->ark_key_.get());
    if (want_cn != cn || got_bits != bits) {
      return absl::FailedPreconditionError(absl::StrCat(
          "simulated hierarchy in ", dir.string(), " does not match the options: got ", cn, " rsa-",
          got_bits, ", want ", want_cn, " rsa-", bits));
    }
    return h;
  }

  // Saves atomically; when another process won the race, its hierarchy is loaded instead.
  static absl::StatusOr<std::shared_ptr<SimHierarchy>> Save(
      std::shared_ptr<SimHierarchy> h, const std::filesystem::path& dir, int bits) {
    absl::Status s = SaveMinted(dir, Items(*h));
    if (absl::IsAlreadyExists(s)) return Load(dir, h->product(), bits);
    if (!s.ok()) return s;
    return h;
  }

 private:
  static std::array<MintedItem, 3> Items(SimHierarchy& h) {
    return {MintedItem{"ark", &h.ark_, &h.ark_key_}, MintedItem{"ask", &h.ask_, &h.ask_key_},
            MintedItem{"asvk", &h.asvk_, &h.asvk_key_}};
  }
};

absl::StatusOr<std::shared_ptr<const SimHierarchy>> SimHierarchy::Create(
    const SimHierarchyOptions& options, const Clock* clock) {
  if (options.rsa_bits < 2048) {
    return absl::InvalidArgumentError(
        absl::StrCat("rsa_bits: got ", options.rsa_bits, ", want >= 2048"));
  }
  std::filesystem::path dir(options.dir);
  if (!options.dir.empty() && std::filesystem::exists(dir / "ark.pem")) {
    TWI_ASSIGN_OR_RETURN(auto loaded, SimHierarchyBuilder::Load(dir, options.product, options.rsa_bits));
    return std::shared_ptr<const SimHierarchy>(std::move(loaded));
  }
  TimePoint not_before = options.not_before.value_or(SystemNow(clock) - kDay);
  TWI_ASSIGN_OR_RETURN(auto h, SimHierarchyBuilder::Generate(options.product, options.rsa_bits,
                                                             not_before));
  if (options.dir.empty()) return std::shared_ptr<const SimHierarchy>(std::move(h));
  TWI_ASSIGN_OR_RETURN(h, SimHierarchyBuilder::Save(std::move(h), dir, options.rsa_bits));
  return std::shared_ptr<const SimHierarchy>(std::move(h));
}

absl::StatusOr<std::shared_ptr<const SimHierarchy>> SimHierarchy::SharedForTests(
    SimProduct product) {
  static std::mutex mu;
  static auto* cache = new std::map<SimProduct, std::shared_ptr<const SimHierarchy>>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(product);
  if (it != cache->end()) return it->second;
  // A fixed start keeps tests that pin their clock in the past (2024-01-01 and later) inside
  // the validity window; 25 years reach 2045.
  SimHierarchyOptions options;
  options.product = product;
  options.rsa_bits = 2048;
  options.not_before = std::chrono::system_clock::from_time_t(1577836800);  // 2020-01-01
  TWI_ASSIGN_OR_RETURN(auto h, Create(options));
  (*cache)[product] = h;
  return h;
}

// ---------------------------------------------------------------------------------------------
// SnpSimulator

namespace {

absl::Status CheckSize(const std::optional<Bytes>& v, size_t want, const char* field) {
  if (v && v->size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": got ", v->size(), " bytes, want ", want));
  }
  return absl::OkStatus();
}

void Put(Bytes& r, size_t offset, const std::optional<Bytes>& v, const Bytes& fallback) {
  const Bytes& src = v ? *v : fallback;
  std::memcpy(r.data() + offset, src.data(), src.size());
}

// CPUID_FAM_ID / CPUID_MOD_ID / CPUID_STEP as the samples show them (spec 1.1, 1.6).
std::array<uint8_t, 3> CpuidOf(SimProduct product) {
  switch (product) {
    case SimProduct::kMilan: return {0x19, 0x01, 0x01};
    case SimProduct::kGenoa: return {0x19, 0x11, 0x01};
    case SimProduct::kTurin: return {0x1A, 0x02, 0x00};
  }
  return {0, 0, 0};
}

// The productName extension: AMD's VCEKs carry a stepping suffix on Milan.
std::string ProductNameExt(SimProduct product, bool vlek) {
  if (product == SimProduct::kMilan && !vlek) return "Milan-B0";
  return std::string(SimProductName(product));
}

// ECDSA P-384 / SHA-384 over report bytes 0x000..0x29F, stored as little-endian R (0x2A0)
// and S (0x2E8), each zero-padded to 72 bytes (spec 1.2).
absl::Status SignReport(Bytes& report, EVP_PKEY* key) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, report.data(), kSignedSize) != 1) {
    return OpenSslError("signing the report failed");
  }
  Bytes der(len);
  if (EVP_DigestSign(ctx.get(), der.data(), &len, report.data(), kSignedSize) != 1) {
    return OpenSslError("signing the report failed");
  }
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  if (!sig || BN_bn2lebinpad(ECDSA_SIG_get0_r(sig.get()), report.data() + 0x2A0, 72) != 72 ||
      BN_bn2lebinpad(ECDSA_SIG_get0_s(sig.get()), report.data() + 0x2E8, 72) != 72) {
    return OpenSslError("encoding the report signature failed");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SnpSimulator>> SnpSimulator::Create(SimOptions options) {
  auto sim = std::unique_ptr<SnpSimulator>(new SnpSimulator());
  sim->options_ = std::move(options);
  TWI_RETURN_IF_ERROR(sim->Init());
  return sim;
}

absl::Status SnpSimulator::Init() {
  const SimOptions& o = options_;
  TWI_RETURN_IF_ERROR(CheckSize(o.measurement, 48, "measurement"));
  TWI_RETURN_IF_ERROR(CheckSize(o.host_data, 32, "host_data"));
  TWI_RETURN_IF_ERROR(CheckSize(o.id_key_digest, 48, "id_key_digest"));
  TWI_RETURN_IF_ERROR(CheckSize(o.author_key_digest, 48, "author_key_digest"));
  TWI_RETURN_IF_ERROR(CheckSize(o.report_id, 32, "report_id"));
  TWI_RETURN_IF_ERROR(CheckSize(o.report_id_ma, 32, "report_id_ma"));
  if (o.hierarchy) {
    hierarchy_ = o.hierarchy;
  } else if (o.fast_for_tests) {
    TWI_ASSIGN_OR_RETURN(hierarchy_, SimHierarchy::SharedForTests(o.product));
  } else {
    SimHierarchyOptions h;
    h.product = o.product;
    TWI_ASSIGN_OR_RETURN(hierarchy_, SimHierarchy::Create(h, o.clock));
  }
  // The HWID is 64 bytes on Milan/Genoa; Turin uses an 8-byte id zero-extended in CHIP_ID.
  size_t hwid_len = product() == SimProduct::kTurin ? 8 : 64;
  if (o.chip_id) {
    bool ok = o.chip_id->size() == hwid_len ||
              (o.chip_id->size() == 64 && IsAllZero(ByteView(*o.chip_id).subspan(hwid_len)));
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "chip_id: got ", o.chip_id->size(), " bytes ", ShortHex(*o.chip_id), ", want ",
          hwid_len, " for ", SimProductName(product())));
    }
    chip_id_.assign(o.chip_id->begin(), o.chip_id->begin() + hwid_len);
  } else {
    chip_id_ = Sha512(AsBytes("twi-sim chip id"));
    chip_id_.resize(hwid_len);
  }
  chip_id_.resize(64, 0);
  // VCEK and VLEK keys are P-384 and cheap, so each simulator gets its own pair.
  vcek_key_.reset(EVP_EC_gen("P-384"));
  vlek_key_.reset(EVP_EC_gen("P-384"));
  if (!vcek_key_ || !vlek_key_) return OpenSslError("generating a P-384 key failed");
  TWI_ASSIGN_OR_RETURN(vcek_, MintEndorsementKeyCert(vcek_key_.get(), /*vlek=*/false));
  TWI_ASSIGN_OR_RETURN(vlek_, MintEndorsementKeyCert(vlek_key_.get(), /*vlek=*/true));
  return absl::OkStatus();
}

absl::StatusOr<X509Ptr> SnpSimulator::MintEndorsementKeyCert(EVP_PKEY* key, bool vlek) const {
  const SimOptions& o = options_;
  auto has = [&](SimDefect d) { return o.defects.count(d) > 0; };
  const SimHierarchy& h = *hierarchy_;
  X509* issuer = vlek ? h.asvk() : h.ask();
  EVP_PKEY* signer = vlek ? h.asvk_key() : h.ask_key();
  if (has(SimDefect::kVcekWrongSigner)) signer = h.ark_key();
  // VCEKs are valid for 7 years, VLEKs for 1 (spec 1.8).
  auto validity = vlek ? kYear : 7 * kYear;
  TimePoint now = SystemNow(o.clock);
  TimePoint not_before = now - kDay;
  if (has(SimDefect::kVcekExpired)) not_before = now - validity - kYear;
  // Serial number 0, as AMD issues them.
  TWI_ASSIGN_OR_RETURN(X509Ptr x, NewCert(0, vlek ? "SEV-VLEK" : "SEV-VCEK", issuer, key,
                                          not_before, not_before + validity));
  X509* c = x.get();
  bool turin = product() == SimProduct::kTurin;
  SimTcb tcb = o.reported_tcb;
  if (has(SimDefect::kVcekTcbMismatch)) tcb.snp = static_cast<uint8_t>(tcb.snp + 1);
  std::string product_name = ProductNameExt(product(), vlek);
  if (has(SimDefect::kVcekProductMismatch)) {
    product_name = product() == SimProduct::kMilan ? "Genoa" : "Milan-B0";
  }
  TWI_RETURN_IF_ERROR(AddRawExt(c, "1", DerSmallInt(turin ? 1 : 0)));  // structVersion
  TWI_RETURN_IF_ERROR(AddRawExt(c, "2", DerIa5(product_name)));
  // Extension order follows AMD's certificates: Turin lists fmcSPL first and omits spl_4.
  if (turin) TWI_RETURN_IF_ERROR(AddRawExt(c, "3.9", DerSmallInt(tcb.fmc)));
  TWI_RETURN_IF_ERROR(AddRawExt(c, "3.1", DerSmallInt(tcb.bl)));
  TWI_RETURN_IF_ERROR(AddRawExt(c, "3.2", DerSmallInt(tcb.tee)));
  if (turin) TWI_RETURN_IF_ERROR(AddRawExt(c, "3.3", DerSmallInt(tcb.snp)));
  for (const char* spl : {"3.4", "3.5", "3.6", "3.7"}) {
    if (turin && std::string_view(spl) == "3.4") continue;
    TWI_RETURN_IF_ERROR(AddRawExt(c, spl, DerSmallInt(0)));
  }
  if (!turin) TWI_RETURN_IF_ERROR(AddRawExt(c, "3.3", DerSmallInt(tcb.snp)));
  TWI_RETURN_IF_ERROR(AddRawExt(c, "3.8", DerSmallInt(tcb.ucode)));
  if (vlek) {
    TWI_RETURN_IF_ERROR(AddRawExt(c, "5", DerIa5(o.csp_id)));
  } else {
    Bytes hwid(chip_id_.begin(), chip_id_.begin() + (turin ? 8 : 64));
    if (has(SimDefect::kVcekHwidMismatch)) hwid[0] ^= 0xFF;
    TWI_RETURN_IF_ERROR(AddRawExt(c, "4", hwid));  // raw bytes, no DER tag, like AMD
  }
  TWI_RETURN_IF_ERROR(SignCertPss(c, signer));
  return x;
}

uint64_t SnpSimulator::reported_tcb() const {
  return EncodeSimTcb(product(), options_.reported_tcb);
}

Bytes SnpSimulator::vcek_der() const { return X509Der(vcek_.get()); }
Bytes SnpSimulator::vlek_der() const { return X509Der(vlek_.get()); }
std::string SnpSimulator::vcek_pem() const { return X509Pem(vcek_.get()); }
std::string SnpSimulator::vlek_pem() const { return X509Pem(vlek_.get()); }

Bytes SnpSimulator::BuildReportBody(ByteView report_data, uint32_t vmpl) const {
  const SimOptions& o = options_;
  SimProduct p = product();
  uint32_t version = o.version != 0 ? o.version : (p == SimProduct::kTurin ? 5 : 3);
  auto tcb = [&](const std::optional<SimTcb>& t) { return EncodeSimTcb(p, t.value_or(o.reported_tcb)); };
  bool no_signature = o.defects.count(SimDefect::kNoSignature) > 0;
  uint32_t signing_key = no_signature ? 7 : (o.signing_key == SimSigningKey::kVlek ? 1 : 0);

  Bytes r(kReportSize, 0);
  StoreLe32(&r[0x000], version);                              // VERSION
  StoreLe32(&r[0x004], o.guest_svn);                          // GUEST_SVN
  StoreLe64(&r[0x008], o.policy);                             // POLICY
  std::memcpy(&r[0x010], o.family_id.data(), 16);             // FAMILY_ID
  std::memcpy(&r[0x020], o.image_id.data(), 16);              // IMAGE_ID
  StoreLe32(&r[0x030], vmpl);                                 // VMPL
  StoreLe32(&r[0x034], 1);                                    // SIGNATURE_ALGO: ECDSA P-384
  StoreLe64(&r[0x038], tcb(o.current_tcb));                   // CURRENT_TCB
  StoreLe64(&r[0x040], o.platform_info);                      // PLATFORM_INFO
  StoreLe32(&r[0x048], (o.author_key_en ? 1u : 0u) | (no_signature ? 2u : 0u) |
                           signing_key << 2);                 // AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY
  if (!report_data.empty()) {                                 // (memcpy of an empty span: UB)
    std::memcpy(&r[0x050], report_data.data(), report_data.size());  // REPORT_DATA (zero-padded)
  }
  Put(r, 0x090, o.measurement, Sha384(AsBytes("twi-sim measurement")));  // MEASUREMENT
  Put(r, 0x0C0, o.host_data, Bytes(32, 0));                   // HOST_DATA
  Put(r, 0x0E0, o.id_key_digest, Bytes(48, 0));               // ID_KEY_DIGEST
  Put(r, 0x110, o.author_key_digest, Bytes(48, 0));           // AUTHOR_KEY_DIGEST
  Put(r, 0x140, o.report_id, Sha256(AsBytes("twi-sim report id")));  // REPORT_ID
  Put(r, 0x160, o.report_id_ma, Bytes(32, 0xFF));             // REPORT_ID_MA
  StoreLe64(&r[0x180], tcb(o.reported_tcb));                  // REPORTED_TCB
  if (version >= 3) {
    auto cpuid = CpuidOf(p);
    std::memcpy(&r[0x188], cpuid.data(), 3);                  // CPUID_FAM_ID, _MOD_ID, _STEP
  }
  if (!o.mask_chip_id) std::memcpy(&r[0x1A0], chip_id_.data(), 64);  // CHIP_ID
  StoreLe64(&r[0x1E0], tcb(o.committed_tcb));                 // COMMITTED_TCB
  std::memcpy(&r[0x1E8], o.current_fw.data(), 3);            // CURRENT_BUILD/MINOR/MAJOR
  std::memcpy(&r[0x1EC], o.committed_fw.data(), 3);          // COMMITTED_BUILD/MINOR/MAJOR
  StoreLe64(&r[0x1F0], tcb(o.launch_tcb));                    // LAUNCH_TCB
  if (version >= 5) {
    StoreLe64(&r[0x1F8], o.launch_mit_vector);                // LAUNCH_MIT_VECTOR
    StoreLe64(&r[0x200], o.current_mit_vector);               // CURRENT_MIT_VECTOR
  }
  return r;
}

absl::StatusOr<SimEvidence> SnpSimulator::GetReport(ByteView report_data) const {
  return GetReport(report_data, options_.vmpl);
}

absl::StatusOr<SimEvidence> SnpSimulator::GetReport(ByteView report_data, uint32_t vmpl) const {
  if (report_data.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("report_data: got ", report_data.size(), " bytes, want at most 64"));
  }
  const SimOptions& o = options_;
  auto has = [&](SimDefect d) { return o.defects.count(d) > 0; };
  bool vlek = o.signing_key == SimSigningKey::kVlek;
  SimEvidence ev;
  ev.report = BuildReportBody(report_data, vmpl);
  if (!has(SimDefect::kNoSignature)) {
    EVP_PKEY* key = vlek ? vlek_key_.get() : vcek_key_.get();
    EvpPkeyPtr other;
    if (has(SimDefect::kSignedByOtherKey)) {
      other.reset(EVP_EC_gen("P-384"));
      if (!other) return OpenSslError("generating a P-384 key failed");
      key = other.get();
    }
    TWI_RETURN_IF_ERROR(SignReport(ev.report, key));
  }
  if (has(SimDefect::kReportByteFlipped)) ev.report[0x090] ^= 0x01;
  if (has(SimDefect::kSignatureByteFlipped)) ev.report[0x2A0] ^= 0x01;

  std::vector<SimCertTableEntry> entries;
  if (!has(SimDefect::kCertTableWithoutVcek)) {
    entries.push_back(vlek ? SimCertTableEntry{kSimGuidVlek, vlek_der()}
                           : SimCertTableEntry{kSimGuidVcek, vcek_der()});
  }
  // The ASVK travels under the ASK GUID (spec 1.10).
  entries.push_back({kSimGuidAsk, vlek ? hierarchy_->asvk_der() : hierarchy_->ask_der()});
  entries.push_back({kSimGuidArk, hierarchy_->ark_der()});
  ev.cert_table = BuildCertTable(entries);
  return ev;
}

}  // namespace twi::sevsnp
