#include "attestors/gcp/sim.h"

#include <openssl/x509v3.h>

#include <array>
#include <filesystem>
#include <mutex>

#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/core/x509_mint.h"
#include "attestors/gcp/verify.h"

namespace twi::gcp {
namespace {

using std::chrono::hours;
constexpr auto kYear = hours(24 * 365);

absl::StatusOr<X509Ptr> NewCert(long serial, std::string_view cn, X509* issuer, EVP_PKEY* pub,
                                TimePoint not_before, TimePoint not_after) {
  X509Ptr x(X509_new());
  X509NamePtr subject = MakeX509Name({{"CN", cn}, {"O", kSimulatedCaOrganization}, {"C", "US"}});
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : subject.get();
  if (!x || !subject || X509_set_version(x.get(), 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial) != 1 ||
      X509_set_subject_name(x.get(), subject.get()) != 1 ||
      X509_set_issuer_name(x.get(), issuer_name) != 1 || X509_set_pubkey(x.get(), pub) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(x.get()), ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), ToTimeT(not_after)) == nullptr) {
    return OpenSslError("creating a simulated gce certificate failed");
  }
  return x;
}

absl::Status AddCaExts(X509* x, X509* issuer) {
  TWI_RETURN_IF_ERROR(AddConfExt(x, issuer, NID_basic_constraints, "critical,CA:TRUE"));
  TWI_RETURN_IF_ERROR(AddConfExt(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  TWI_RETURN_IF_ERROR(AddConfExt(x, issuer, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) {
    TWI_RETURN_IF_ERROR(AddConfExt(x, issuer, NID_authority_key_identifier, "keyid:always"));
  }
  return absl::OkStatus();
}

absl::Status Sign(X509* x, EVP_PKEY* key) {
  if (X509_sign(x, key, EVP_sha256()) <= 0) return OpenSslError("signing a certificate failed");
  return absl::OkStatus();
}

}  // namespace

InstanceInfo SimInstanceInfo() {
  InstanceInfo i;
  i.zone = "us-central1-a";
  i.project_number = 123456789012;
  i.project_id = "twi-sim-project";
  i.instance_id = 4242424242424242424;
  i.instance_name = "twi-sim-vm";
  i.has_security_properties = true;
  i.security_version = 0;
  i.is_production = true;
  return i;
}

class SimCaBuilder {
 public:
  static absl::StatusOr<std::shared_ptr<SimCa>> Generate(int bits, TimePoint not_before) {
    auto ca = std::shared_ptr<SimCa>(new SimCa());
    for (EvpPkeyPtr* key : {&ca->root_key_, &ca->intermediate_key_}) {
      key->reset(EVP_RSA_gen(static_cast<unsigned>(bits)));
      if (!*key) return OpenSslError("generating an rsa key failed");
    }
    const TimePoint not_after = not_before + 100 * kYear;
    TWI_ASSIGN_OR_RETURN(ca->root_, NewCert(1, "EK/AK CA Root (simulated)", nullptr,
                                            ca->root_key_.get(), not_before, not_after));
    TWI_RETURN_IF_ERROR(AddCaExts(ca->root_.get(), nullptr));
    TWI_RETURN_IF_ERROR(Sign(ca->root_.get(), ca->root_key_.get()));
    TWI_ASSIGN_OR_RETURN(ca->intermediate_,
                         NewCert(2, "EK/AK CA Intermediate (simulated)", ca->root_.get(),
                                 ca->intermediate_key_.get(), not_before, not_after));
    TWI_RETURN_IF_ERROR(AddCaExts(ca->intermediate_.get(), ca->root_.get()));
    TWI_RETURN_IF_ERROR(Sign(ca->intermediate_.get(), ca->root_key_.get()));
    return ca;
  }

  static std::array<MintedItem, 2> Items(SimCa& ca) {
    return {MintedItem{"root", &ca.root_, &ca.root_key_},
            MintedItem{"intermediate", &ca.intermediate_, &ca.intermediate_key_}};
  }

  static absl::StatusOr<std::shared_ptr<SimCa>> Load(const std::filesystem::path& dir) {
    auto ca = std::shared_ptr<SimCa>(new SimCa());
    TWI_RETURN_IF_ERROR(LoadMinted(dir, Items(*ca)));
    return ca;
  }
};

absl::StatusOr<std::shared_ptr<const SimCa>> SimCa::Create(const SimCaOptions& options) {
  if (options.rsa_bits < 2048) {
    return absl::InvalidArgumentError(StrCat("rsa_bits: got ", options.rsa_bits, ", want >= 2048"));
  }
  const std::filesystem::path dir(options.dir);
  if (!options.dir.empty() && std::filesystem::exists(dir / "root.pem")) {
    TWI_ASSIGN_OR_RETURN(auto loaded, SimCaBuilder::Load(dir));
    return std::shared_ptr<const SimCa>(std::move(loaded));
  }
  const TimePoint not_before =
      options.not_before.value_or(std::chrono::system_clock::now() - hours(24));
  TWI_ASSIGN_OR_RETURN(auto ca, SimCaBuilder::Generate(options.rsa_bits, not_before));
  if (options.dir.empty()) return std::shared_ptr<const SimCa>(std::move(ca));
  absl::Status s = SaveMinted(dir, SimCaBuilder::Items(*ca));
  if (absl::IsAlreadyExists(s)) {  // another process won the race: use theirs
    TWI_ASSIGN_OR_RETURN(ca, SimCaBuilder::Load(dir));
  } else if (!s.ok()) {
    return s;
  }
  return std::shared_ptr<const SimCa>(std::move(ca));
}

absl::StatusOr<std::shared_ptr<const SimCa>> SimCa::SharedForTests() {
  static std::mutex mu;
  static std::shared_ptr<const SimCa>* shared = new std::shared_ptr<const SimCa>();
  std::lock_guard<std::mutex> lock(mu);
  if (*shared == nullptr) {
    // Fixed start so certificates minted in different tests agree on validity.
    SimCaOptions options;
    options.not_before = std::chrono::system_clock::from_time_t(1577836800);  // 2020-01-01
    TWI_ASSIGN_OR_RETURN(*shared, Create(options));
  }
  return *shared;
}

std::string SimCa::root_pem() const { return X509Pem(root_.get()); }
std::string SimCa::intermediate_pem() const { return X509Pem(intermediate_.get()); }
std::string SimCa::BundlePem() const { return root_pem() + intermediate_pem(); }

absl::StatusOr<Bytes> SimCa::IssueAkCert(ByteView ak_spki, const SimAkCertOptions& options) const {
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr ak, PublicKeyFromSpki(ak_spki));
  const InstanceInfo& info = options.instance.zone.empty() ? SimInstanceInfo() : options.instance;
  const TimePoint not_before =
      options.not_before.value_or(std::chrono::system_clock::now() - hours(1));
  const TimePoint not_after = options.not_after.value_or(not_before + 30 * kYear);
  X509* issuer = options.signed_by_root ? root_.get() : intermediate_.get();
  EVP_PKEY* issuer_key = options.signed_by_root ? root_key_.get() : intermediate_key_.get();
  // A per-certificate serial from the key, so two AKs never share issuer + serial.
  const Bytes h = Sha256(ak_spki);
  const long serial = static_cast<long>(((h[0] & 0x3fu) << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) + 16;
  TWI_ASSIGN_OR_RETURN(X509Ptr x, NewCert(serial, info.instance_name.empty() ? "ak" : info.instance_name,
                                          issuer, ak.get(), not_before, not_after));
  if (options.as_ca) {
    TWI_RETURN_IF_ERROR(AddCaExts(x.get(), issuer));
  } else {
    TWI_RETURN_IF_ERROR(AddConfExt(x.get(), issuer, NID_basic_constraints, "critical,CA:FALSE"));
    TWI_RETURN_IF_ERROR(AddConfExt(x.get(), issuer, NID_key_usage, "critical,digitalSignature"));
    TWI_RETURN_IF_ERROR(AddConfExt(x.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  }
  if (options.include_instance_info) {
    TWI_ASSIGN_OR_RETURN(Bytes ext, EncodeInstanceInfo(info));
    for (int i = 0; i < (options.duplicate_instance_info ? 2 : 1); ++i) {
      TWI_RETURN_IF_ERROR(AddOpaqueExt(x.get(), kInstanceInfoOid, ext));
    }
  }
  TWI_RETURN_IF_ERROR(Sign(x.get(), issuer_key));
  Bytes der = X509Der(x.get());
  if (der.empty()) return OpenSslError("encoding the ak certificate failed");
  return der;
}

}  // namespace twi::gcp
