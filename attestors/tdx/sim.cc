#include "attestors/tdx/sim.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "attestors/core/status.h"
#include "attestors/core/x509_mint.h"
#include "nlohmann/json.hpp"

namespace twi::tdx {
namespace {

constexpr char kSimOrg[] = "twi-attestor simulated Intel";
constexpr uint32_t kSimEvaluationDataNumber = 17;
constexpr uint16_t kTdQeProdId = 2;

using std::chrono::hours;
constexpr auto kDay = hours(24);
constexpr auto kYear = hours(24 * 365);

enum Serial : long { kRootSerial = 1, kPckCaSerial = 2, kTcbSerial = 3, kPckSerial = 4 };

// Intel's subject layout, with the organisation replaced so every name says "simulated".
X509NamePtr SimName(std::string_view cn) {
  return MakeX509Name(
      {{"CN", cn}, {"O", kSimOrg}, {"L", "Santa Clara"}, {"ST", "CA"}, {"C", "US"}});
}

absl::StatusOr<X509Ptr> NewCert(long serial, std::string_view cn, X509* issuer, EVP_PKEY* key,
                                TimePoint not_before, TimePoint not_after) {
  X509Ptr x(X509_new());
  auto subject = SimName(cn);
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : subject.get();
  if (!x || X509_set_version(x.get(), 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial) != 1 ||
      X509_set_subject_name(x.get(), subject.get()) != 1 ||
      X509_set_issuer_name(x.get(), issuer_name) != 1 || X509_set_pubkey(x.get(), key) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(x.get()), ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x.get()), ToTimeT(not_after)) == nullptr) {
    return OpenSslError("creating a simulated certificate failed");
  }
  return x;
}

absl::Status SignCert(X509* x, EVP_PKEY* key) {
  if (X509_sign(x, key, EVP_sha256()) <= 0) return OpenSslError("signing a certificate failed");
  return absl::OkStatus();
}

// ---- DER for the SGX extension (Intel's encoding: SEQUENCE of { OID, value } pairs) ----

Bytes Tlv(uint8_t tag, ByteView content) {
  Bytes out{tag};
  size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<uint8_t>(n));
  } else if (n < 0x100) {
    out.insert(out.end(), {0x81, static_cast<uint8_t>(n)});
  } else {
    out.insert(out.end(), {0x82, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

// 1.2.840.113741.1.13.1 followed by `suffix` (each arc < 128).
Bytes SgxOid(std::initializer_list<uint8_t> suffix) {
  Bytes body = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};
  body.insert(body.end(), suffix);
  return Tlv(0x06, body);
}

Bytes DerUint(uint32_t v, uint8_t tag = 0x02) {
  Bytes body;
  do {
    body.insert(body.begin(), static_cast<uint8_t>(v & 0xFF));
    v >>= 8;
  } while (v != 0);
  if (body[0] & 0x80) body.insert(body.begin(), 0x00);  // stays positive
  return Tlv(tag, body);
}

Bytes Pair(Bytes oid, ByteView value) {
  oid.insert(oid.end(), value.begin(), value.end());
  return Tlv(0x30, oid);
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes SgxExtensionDer(const SimOptions& o, ByteView ppid, ByteView cpu_svn) {
  Bytes tcb;
  for (uint8_t i = 0; i < 16; ++i) {
    Bytes p = Pair(SgxOid({2, static_cast<uint8_t>(i + 1)}), DerUint(o.sgx_tcb[i]));
    tcb.insert(tcb.end(), p.begin(), p.end());
  }
  tcb = Cat({tcb, Pair(SgxOid({2, 17}), DerUint(o.pce_svn)),
             Pair(SgxOid({2, 18}), Tlv(0x04, cpu_svn))});
  const Bytes pce_id = {0x00, 0x00};
  return Tlv(0x30, Cat({Pair(SgxOid({1}), Tlv(0x04, ppid)), Pair(SgxOid({2}), Tlv(0x30, tcb)),
                        Pair(SgxOid({3}), Tlv(0x04, pce_id)), Pair(SgxOid({4}), Tlv(0x04, o.fmspc)),
                        Pair(SgxOid({5}), DerUint(0, 0x0A))}));
}

// ECDSA P-256 over SHA-256(message) as the quote carries it: r||s, 32 bytes each, big-endian.
absl::StatusOr<std::array<uint8_t, 64>> SignRaw(EVP_PKEY* key, ByteView message) {
  TWI_ASSIGN_OR_RETURN(Bytes der, SignSha256(key, message));
  TWI_ASSIGN_OR_RETURN(Bytes raw, EcdsaDerToRaw(der, 32));
  std::array<uint8_t, 64> out{};
  std::copy(raw.begin(), raw.end(), out.begin());
  return out;
}

absl::StatusOr<Bytes> MakeCrl(X509* issuer, EVP_PKEY* key, TimePoint this_update,
                              TimePoint next_update, std::optional<long> revoked) {
  std::unique_ptr<X509_CRL, X509CrlDeleter> crl(X509_CRL_new());
  ASN1_TIME* last = ASN1_TIME_set(nullptr, ToTimeT(this_update));
  ASN1_TIME* next = ASN1_TIME_set(nullptr, ToTimeT(next_update));
  bool ok = crl && last && next && X509_CRL_set_version(crl.get(), 1) == 1 &&
            X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) == 1 &&
            X509_CRL_set1_lastUpdate(crl.get(), last) == 1 &&
            X509_CRL_set1_nextUpdate(crl.get(), next) == 1;
  if (ok && revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* serial = ASN1_INTEGER_new();
    ok = r != nullptr && serial != nullptr && ASN1_INTEGER_set(serial, *revoked) == 1 &&
         X509_REVOKED_set_serialNumber(r, serial) == 1 &&
         X509_REVOKED_set_revocationDate(r, last) == 1 && X509_CRL_add0_revoked(crl.get(), r) == 1;
    ASN1_INTEGER_free(serial);
    if (!ok) X509_REVOKED_free(r);
  }
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  if (!ok || X509_CRL_sort(crl.get()) != 1 || X509_CRL_sign(crl.get(), key, EVP_sha256()) <= 0) {
    return OpenSslError("creating a simulated crl failed");
  }
  unsigned char* der = nullptr;
  int len = i2d_X509_CRL(crl.get(), &der);
  if (len <= 0) return OpenSslError("encoding a simulated crl failed");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Mr Hash384(std::string_view label) {
  Mr out{};
  Bytes h = Sha384(AsBytes(label));
  std::copy(h.begin(), h.end(), out.begin());
  return out;
}

// The simulated QE's MRSIGNER: a label hash, never Intel's.
Bytes QeMrSigner() { return Sha256(AsBytes("twi-sim td quoting enclave signer")); }

template <typename T>
void Put(Bytes& b, size_t at, const T& src) {
  std::copy(src.begin(), src.end(), b.begin() + static_cast<std::ptrdiff_t>(at));
}

void PutLe16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}

void AppendLe16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

void AppendLe32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

nlohmann::ordered_json Components(const std::array<uint8_t, 16>& svns) {
  auto arr = nlohmann::ordered_json::array();
  for (uint8_t s : svns) arr.push_back({{"svn", s}});
  return arr;
}

}  // namespace

bool IsSimulationRoot(const Certificate& cert) {
  return cert.IsSelfIssued() && cert.subject().find(kSimOrg) != std::string::npos;
}

absl::StatusOr<std::unique_ptr<TdxSimulator>> TdxSimulator::Create(SimOptions options) {
  if (options.version != 4 && options.version != 5) {
    return absl::InvalidArgumentError(StrCat("quote version ", options.version, ", want 4 or 5"));
  }
  if (options.fmspc.size() != 6) {
    return absl::InvalidArgumentError(StrCat("fmspc is ", options.fmspc.size(), " bytes, want 6"));
  }
  std::unique_ptr<TdxSimulator> sim(new TdxSimulator());
  sim->options_ = std::move(options);
  TWI_RETURN_IF_ERROR(sim->Init());
  TWI_RETURN_IF_ERROR(sim->MintCollateral());
  return sim;
}

absl::Status TdxSimulator::MintAuthorities(TimePoint nb) {
  for (EvpPkeyPtr* k : {&root_key_, &pck_ca_key_, &tcb_key_}) {
    TWI_ASSIGN_OR_RETURN(*k, GenerateP256Key());
  }
  TWI_ASSIGN_OR_RETURN(root_x_, NewCert(kRootSerial, "twi-attestor Simulated SGX Root CA", nullptr,
                                        root_key_.get(), nb, nb + 25 * kYear));
  TWI_RETURN_IF_ERROR(AddConfExt(root_x_.get(), nullptr, NID_basic_constraints, "critical,CA:TRUE,pathlen:1"));
  TWI_RETURN_IF_ERROR(AddConfExt(root_x_.get(), nullptr, NID_key_usage, "critical,keyCertSign,cRLSign"));
  TWI_RETURN_IF_ERROR(AddConfExt(root_x_.get(), nullptr, NID_subject_key_identifier, "hash"));
  TWI_RETURN_IF_ERROR(SignCert(root_x_.get(), root_key_.get()));

  TWI_ASSIGN_OR_RETURN(pck_ca_x_, NewCert(kPckCaSerial, "twi-attestor Simulated SGX PCK Platform CA",
                                          root_x_.get(), pck_ca_key_.get(), nb, nb + 25 * kYear));
  TWI_RETURN_IF_ERROR(AddConfExt(pck_ca_x_.get(), root_x_.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  TWI_RETURN_IF_ERROR(AddConfExt(pck_ca_x_.get(), root_x_.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  TWI_RETURN_IF_ERROR(SignCert(pck_ca_x_.get(), root_key_.get()));

  TWI_ASSIGN_OR_RETURN(tcb_x_, NewCert(kTcbSerial, "twi-attestor Simulated SGX TCB Signing",
                                       root_x_.get(), tcb_key_.get(), nb, nb + 7 * kYear));
  TWI_RETURN_IF_ERROR(AddConfExt(tcb_x_.get(), root_x_.get(), NID_basic_constraints, "critical,CA:FALSE"));
  TWI_RETURN_IF_ERROR(AddConfExt(tcb_x_.get(), root_x_.get(), NID_key_usage, "critical,digitalSignature,nonRepudiation"));
  TWI_RETURN_IF_ERROR(SignCert(tcb_x_.get(), root_key_.get()));
  return absl::OkStatus();
}

absl::Status TdxSimulator::Init() {
  const SimOptions& o = options_;
  const bool wrong_signer = o.defects.contains(SimDefect::kPckWrongSigner);
  const TimePoint now = o.clock ? o.clock->Now() : std::chrono::system_clock::now();
  const TimePoint nb = now - kDay;
  for (EvpPkeyPtr* k : {&pck_key_, &att_key_}) {
    TWI_ASSIGN_OR_RETURN(*k, GenerateP256Key());
  }
  const std::filesystem::path dir(o.dir);
  const std::array<MintedItem, 3> items = {MintedItem{"root", &root_x_, &root_key_},
                                           MintedItem{"pck-ca", &pck_ca_x_, &pck_ca_key_},
                                           MintedItem{"tcb-signing", &tcb_x_, &tcb_key_}};
  if (!o.dir.empty() && std::filesystem::exists(dir / "root.pem")) {
    TWI_RETURN_IF_ERROR(LoadMinted(dir, items));
  } else {
    TWI_RETURN_IF_ERROR(MintAuthorities(nb));
    if (!o.dir.empty()) {
      absl::Status saved = SaveMinted(dir, items);
      // Another process saved its hierarchy first: use that one, as every other process will.
      if (absl::IsAlreadyExists(saved)) saved = LoadMinted(dir, items);
      TWI_RETURN_IF_ERROR(saved);
    }
  }

  TWI_ASSIGN_OR_RETURN(pck_x_, NewCert(kPckSerial, "twi-attestor Simulated SGX PCK Certificate",
                                       pck_ca_x_.get(), pck_key_.get(), nb, nb + 7 * kYear));
  TWI_RETURN_IF_ERROR(AddConfExt(pck_x_.get(), pck_ca_x_.get(), NID_basic_constraints, "critical,CA:FALSE"));
  TWI_RETURN_IF_ERROR(AddConfExt(pck_x_.get(), pck_ca_x_.get(), NID_key_usage, "critical,digitalSignature,nonRepudiation"));
  Bytes ppid = Sha256(AsBytes("twi-sim ppid"));
  ppid.resize(16);
  std::array<uint8_t, 16> cpu_svn = o.sgx_tcb;  // CPUSVN mirrors the components, as on Intel parts
  TWI_RETURN_IF_ERROR(AddOpaqueExt(pck_x_.get(), kSgxExtensionOid, SgxExtensionDer(o, ppid, cpu_svn)));
  TWI_RETURN_IF_ERROR(SignCert(pck_x_.get(), wrong_signer ? root_key_.get() : pck_ca_key_.get()));

  root_ = Certificate::FromX509(root_x_.get());
  pck_chain_pem_ = StrCat(X509Pem(pck_x_.get()), X509Pem(pck_ca_x_.get()), root_pem());
  return absl::OkStatus();
}

std::string TdxSimulator::root_pem() const { return X509Pem(root_x_.get()); }

absl::Status TdxSimulator::MintCollateral() {
  const SimOptions& o = options_;
  auto has = [&](SimDefect d) { return o.defects.contains(d); };
  const TimePoint now = o.clock ? o.clock->Now() : std::chrono::system_clock::now();
  const TimePoint issue = has(SimDefect::kTcbInfoExpired) ? now - 31 * kDay : now - kDay;
  const TimePoint next = has(SimDefect::kTcbInfoExpired) ? now - kDay : now + 30 * kDay;
  const std::string issue_s = FormatRfc3339(now - kDay), next_s = FormatRfc3339(now + 30 * kDay);
  const std::string tcb_date = FormatRfc3339(now - 30 * kDay);

  // TCB Info v3: one UpToDate level exactly at this platform's components.
  std::array<uint8_t, 16> tdx_level = o.tee_tcb_svn;
  if (has(SimDefect::kTcbBelowLevels)) tdx_level[2] = static_cast<uint8_t>(tdx_level[2] + 1);
  Bytes fmspc = o.fmspc;
  if (has(SimDefect::kTcbInfoFmspcMismatch)) fmspc[5] ^= 0x01;
  const std::string module_mrsigner(96, '0');  // Intel's TDX module MRSIGNER is all zeros too
  nlohmann::ordered_json module = {{"mrsigner", module_mrsigner},
                                   {"attributes", "0000000000000000"},
                                   {"attributesMask", "FFFFFFFFFFFFFFFF"}};
  nlohmann::ordered_json module_id = {{"id", "TDX_01"}};
  module_id.update(module);
  module_id["tcbLevels"] = {{{"tcb", {{"isvsvn", o.tee_tcb_svn[0]}}},
                             {"tcbDate", tcb_date},
                             {"tcbStatus", "UpToDate"}}};
  nlohmann::ordered_json tcb = {
      {"id", "TDX"},
      {"version", 3},
      {"issueDate", FormatRfc3339(issue)},
      {"nextUpdate", FormatRfc3339(next)},
      {"fmspc", HexEncode(fmspc)},
      {"pceId", "0000"},
      {"tcbType", 0},
      {"tcbEvaluationDataNumber", kSimEvaluationDataNumber},
      {"tdxModule", module},
      {"tdxModuleIdentities", nlohmann::ordered_json::array({module_id})},
      {"tcbLevels",
       {{{"tcb",
          {{"sgxtcbcomponents", Components(o.sgx_tcb)},
           {"pcesvn", o.pce_svn},
           {"tdxtcbcomponents", Components(tdx_level)}}},
         {"tcbDate", tcb_date},
         {"tcbStatus", "UpToDate"}}}}};
  const std::string tcb_text = tcb.dump();

  Bytes qe_signer = QeMrSigner();
  if (has(SimDefect::kQeIdentityMismatch)) qe_signer[0] ^= 0xFF;
  nlohmann::ordered_json qe = {
      {"id", "TD_QE"},
      {"version", 2},
      {"issueDate", issue_s},
      {"nextUpdate", next_s},
      {"tcbEvaluationDataNumber", kSimEvaluationDataNumber},
      {"miscselect", "00000000"},
      {"miscselectMask", "FFFFFFFF"},
      {"attributes", "11000000000000000000000000000000"},
      {"attributesMask", "FBFFFFFFFFFFFFFF0000000000000000"},
      {"mrsigner", HexEncode(qe_signer)},
      {"isvprodid", kTdQeProdId},
      {"tcbLevels",
       {{{"tcb", {{"isvsvn", o.qe_svn}}}, {"tcbDate", tcb_date}, {"tcbStatus", "UpToDate"}}}}};
  const std::string qe_text = qe.dump();

  TWI_ASSIGN_OR_RETURN(auto tcb_sig, SignRaw(tcb_key_.get(), AsBytes(tcb_text)));
  if (has(SimDefect::kTcbInfoSignatureFlipped)) tcb_sig[0] ^= 0x01;
  TWI_ASSIGN_OR_RETURN(auto qe_sig, SignRaw(tcb_key_.get(), AsBytes(qe_text)));
  TWI_ASSIGN_OR_RETURN(Bytes root_crl, MakeCrl(root_x_.get(), root_key_.get(), now - kDay,
                                               now + 30 * kDay, std::nullopt));
  std::optional<long> revoked;
  if (has(SimDefect::kPckRevoked)) revoked = kPckSerial;
  TWI_ASSIGN_OR_RETURN(Bytes pck_crl, MakeCrl(pck_ca_x_.get(), pck_ca_key_.get(), now - kDay,
                                              now + 30 * kDay, revoked));
  const std::string signing_chain = StrCat(X509Pem(tcb_x_.get()), root_pem());
  nlohmann::ordered_json bundle = {
      {"pck_crl_issuer_chain", StrCat(X509Pem(pck_ca_x_.get()), root_pem())},
      {"root_ca_crl", HexEncode(root_crl)},
      {"pck_crl", HexEncode(pck_crl)},
      {"tcb_info_issuer_chain", signing_chain},
      {"tcb_info", tcb_text},
      {"tcb_info_signature", HexEncode(tcb_sig)},
      {"qe_identity_issuer_chain", signing_chain},
      {"qe_identity", qe_text},
      {"qe_identity_signature", HexEncode(qe_sig)}};
  collateral_json_ = bundle.dump(2);
  return absl::OkStatus();
}

absl::StatusOr<collateral::DcapCollateral> TdxSimulator::Collateral() const {
  return collateral::ParseDcapBundle(collateral_json_);
}

absl::StatusOr<TdReport> TdxSimulator::Body(ByteView report_data) const {
  if (report_data.size() > 64) {
    return absl::InvalidArgumentError(
        StrCat("report data is ", report_data.size(), " bytes, want at most 64"));
  }
  const SimOptions& o = options_;
  TdReport b;
  b.tee_tcb_svn = o.tee_tcb_svn;
  b.mr_seam = Hash384("twi-sim mrseam");
  // MRSIGNERSEAM and SEAMATTRIBUTES stay zero: the TCB Info's tdxModule says so.
  b.td_attributes = o.td_attributes;
  b.xfam = o.xfam;
  b.mr_td = o.mr_td.value_or(Hash384("twi-sim mrtd"));
  b.mr_config_id = o.mr_config_id.value_or(Mr{});
  b.mr_owner = o.mr_owner.value_or(Mr{});
  b.mr_owner_config = o.mr_owner_config.value_or(Mr{});
  for (size_t i = 0; i < 4; ++i) b.rtmr[i] = o.rtmr[i].value_or(Hash384(StrCat("twi-sim rtmr", i)));
  std::copy(report_data.begin(), report_data.end(), b.report_data.begin());
  b.tdx15 = o.version == 5;
  if (b.tdx15) b.tee_tcb_svn2 = o.tee_tcb_svn;  // TEE_TCB_SVN2: the module running now
  return b;
}

absl::StatusOr<Bytes> TdxSimulator::GetQuote(ByteView report_data) const {
  TWI_ASSIGN_OR_RETURN(TdReport body, Body(report_data));
  return GetQuoteForBody(body);
}

absl::StatusOr<Bytes> TdxSimulator::GetQuoteForBody(const TdReport& b) const {
  const SimOptions& o = options_;
  auto has = [&](SimDefect d) { return o.defects.contains(d); };
  const bool v5 = o.version == 5;

  Bytes q(kHeaderSize, 0);
  PutLe16(q, 0x00, static_cast<uint16_t>(o.version));
  PutLe16(q, 0x02, kAttKeyEcdsaP256);
  StoreLe32(&q[0x04], kTeeTypeTdx);
  Put(q, 0x0C, kIntelQeVendorId);  // the QE vendor field says "Intel QE"; the root says otherwise
  if (v5) {
    AppendLe16(q, static_cast<uint16_t>(BodyType::kTd15));
    AppendLe32(q, static_cast<uint32_t>(kTd15BodySize));
  }
  const size_t body_at = q.size();
  q.resize(body_at + (v5 ? kTd15BodySize : kTd10BodySize), 0);
  auto put_body = [&](size_t off, const auto& v) { Put(q, body_at + off, v); };
  put_body(0, b.tee_tcb_svn);
  put_body(16, b.mr_seam);
  put_body(64, b.mr_signer_seam);
  put_body(112, b.seam_attributes);
  StoreLe64(&q[body_at + 120], b.td_attributes);
  StoreLe64(&q[body_at + 128], b.xfam);
  put_body(136, b.mr_td);
  put_body(184, b.mr_config_id);
  put_body(232, b.mr_owner);
  put_body(280, b.mr_owner_config);
  for (size_t i = 0; i < 4; ++i) put_body(328 + 48 * i, b.rtmr[i]);
  put_body(520, b.report_data);
  if (v5) {
    put_body(584, b.tee_tcb_svn2);
    put_body(600, b.mr_service_td);
  }

  TWI_ASSIGN_OR_RETURN(auto quote_sig, SignRaw(att_key_.get(), q));
  if (has(SimDefect::kSignatureByteFlipped)) quote_sig[0] ^= 0x01;
  if (has(SimDefect::kBodyByteFlipped)) q[body_at + 136] ^= 0x01;
  TWI_ASSIGN_OR_RETURN(Bytes spki, PublicKeyToSpki(att_key_.get()));
  Bytes att_xy(spki.end() - 64, spki.end());  // uncompressed point 04||X||Y ends the SPKI

  // QE report: REPORTDATA = SHA-256(attestation key || QE auth data) || 32 zero bytes.
  Bytes auth(32);
  for (size_t i = 0; i < auth.size(); ++i) auth[i] = static_cast<uint8_t>(i);
  Bytes qe(kEnclaveReportSize, 0);
  Put(qe, 0, o.sgx_tcb);  // CPUSVN
  qe[48] = 0x11;          // ATTRIBUTES: INIT | MODE64BIT
  Put(qe, 64, Sha256(AsBytes("twi-sim td quoting enclave")));
  Put(qe, 128, QeMrSigner());
  PutLe16(qe, 256, kTdQeProdId);
  PutLe16(qe, 258, o.qe_svn);
  Bytes bound = att_xy;
  if (has(SimDefect::kQeBindingMismatch)) bound[0] ^= 0x01;
  bound.insert(bound.end(), auth.begin(), auth.end());
  Put(qe, 320, Sha256(bound));
  TWI_ASSIGN_OR_RETURN(auto qe_sig, SignRaw(pck_key_.get(), qe));
  if (has(SimDefect::kQeReportByteFlipped)) qe[258] ^= 0x01;

  // Certification data type 6: QE report, its signature, auth data, then type 5 (PEM chain).
  Bytes cert6 = qe;
  cert6.insert(cert6.end(), qe_sig.begin(), qe_sig.end());
  AppendLe16(cert6, static_cast<uint16_t>(auth.size()));
  cert6.insert(cert6.end(), auth.begin(), auth.end());
  AppendLe16(cert6, kCertDataPckChain);
  AppendLe32(cert6, static_cast<uint32_t>(pck_chain_pem_.size()));
  cert6.insert(cert6.end(), pck_chain_pem_.begin(), pck_chain_pem_.end());

  Bytes sig_data(quote_sig.begin(), quote_sig.end());
  sig_data.insert(sig_data.end(), att_xy.begin(), att_xy.end());
  AppendLe16(sig_data, kCertDataQeReport);
  AppendLe32(sig_data, static_cast<uint32_t>(cert6.size()));
  sig_data.insert(sig_data.end(), cert6.begin(), cert6.end());
  AppendLe32(q, static_cast<uint32_t>(sig_data.size()));
  q.insert(q.end(), sig_data.begin(), sig_data.end());
  return q;
}

}  // namespace twi::tdx
