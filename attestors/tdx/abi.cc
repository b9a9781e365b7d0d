#include "attestors/tdx/abi.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_format.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"

namespace twi::tdx {

const std::array<uint8_t, 16> kIntelQeVendorId = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                                  0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};

namespace {


template <size_t N>
void Copy(std::array<uint8_t, N>& dst, ByteView raw, size_t offset) {
  std::copy_n(raw.begin() + offset, N, dst.begin());
}

size_t BodySize(BodyType t) {
  switch (t) {
    case BodyType::kSgxEnclave: return kEnclaveReportSize;
    case BodyType::kTd10: return kTd10BodySize;
    case BodyType::kTd15: return kTd15BodySize;
  }
  return 0;
}

TdReport ParseTdReport(ByteView b, bool tdx15) {
  TdReport r;
  Copy(r.tee_tcb_svn, b, 0);
  Copy(r.mr_seam, b, 16);
  Copy(r.mr_signer_seam, b, 64);
  Copy(r.seam_attributes, b, 112);
  r.td_attributes = LoadLe64(&b[120]);
  r.xfam = LoadLe64(&b[128]);
  Copy(r.mr_td, b, 136);
  Copy(r.mr_config_id, b, 184);
  Copy(r.mr_owner, b, 232);
  Copy(r.mr_owner_config, b, 280);
  for (size_t i = 0; i < 4; ++i) Copy(r.rtmr[i], b, 328 + 48 * i);
  Copy(r.report_data, b, 520);
  r.tdx15 = tdx15;
  if (tdx15) {
    Copy(r.tee_tcb_svn2, b, 584);
    Copy(r.mr_service_td, b, 600);
  }
  return r;
}

// The PEM chain of certification data type 5; a trailing NUL (C string) is tolerated.
Bytes PckChainBytes(ByteView data) {
  size_t n = data.size();
  while (n > 0 && data[n - 1] == 0) --n;
  return Bytes(data.begin(), data.begin() + n);
}

// Certification data type 6 (spec 2.3) in [cur.offset(), end).
absl::Status ParseQeCertData(ByteCursor& cur, size_t end, QeCertification& out) {
  TWI_ASSIGN_OR_RETURN(ByteView qe, cur.Take(kEnclaveReportSize, "qe report"));
  TWI_ASSIGN_OR_RETURN(out.qe_report, ParseEnclaveReport(qe));
  TWI_ASSIGN_OR_RETURN(ByteView qe_sig, cur.Take(64, "qe report signature"));
  Copy(out.qe_report_signature, qe_sig, 0);
  TWI_ASSIGN_OR_RETURN(uint16_t auth_size, cur.U16Le("qe auth data size"));
  TWI_ASSIGN_OR_RETURN(ByteView auth, cur.Take(auth_size, "qe auth data"));
  out.qe_auth_data.assign(auth.begin(), auth.end());
  size_t at = cur.offset();
  TWI_ASSIGN_OR_RETURN(out.inner_type, cur.U16Le("inner certification data type"));
  if (out.inner_type != kCertDataPckChain) {
    return Invalid(absl::StrFormat(
        "inner certification data type %d at offset 0x%x, want 5 (pck certificate chain)",
        out.inner_type, at));
  }
  TWI_ASSIGN_OR_RETURN(uint32_t inner_size, cur.U32Le("inner certification data size"));
  TWI_ASSIGN_OR_RETURN(ByteView chain, cur.Take(inner_size, "pck certificate chain"));
  if (cur.offset() != end) {
    return Invalid(absl::StrFormat(
        "certification data ends at offset 0x%x but its declared size ends at 0x%x",
        cur.offset(), end));
  }
  out.pck_chain = PckChainBytes(chain);
  if (out.pck_chain.empty()) return Invalid("pck certificate chain is empty");
  return absl::OkStatus();
}

absl::Status ParseHeader(ByteView data, QuoteHeader& h) {
  if (data.size() < kHeaderSize) {
    return Invalid(absl::StrFormat("quote is %d bytes, shorter than its 48-byte header",
                                   data.size()));
  }
  h.version = LoadLe16(&data[0x00]);
  h.att_key_type = LoadLe16(&data[0x02]);
  h.tee_type = LoadLe32(&data[0x04]);
  Copy(h.qe_vendor_id, data, 0x0C);
  Copy(h.user_data, data, 0x1C);
  if (h.version < 3 || h.version > 5) {
    return Invalid(absl::StrFormat("quote version %d at offset 0x00, want 3, 4 or 5", h.version));
  }
  if (h.att_key_type != kAttKeyEcdsaP256) {
    return Invalid(absl::StrFormat(
        "attestation key type %d at offset 0x02, want 2 (ecdsa-256 with p-256)", h.att_key_type));
  }
  if (h.tee_type != kTeeTypeSgx && h.tee_type != kTeeTypeTdx) {
    return Invalid(absl::StrFormat("tee type 0x%08x at offset 0x04, want 0x00 (sgx) or 0x81 (tdx)",
                                   h.tee_type));
  }
  if (h.version == 3 && h.tee_type != kTeeTypeSgx) {
    return Invalid(absl::StrFormat("v3 quote with tee type 0x%08x, want 0x00 (sgx)", h.tee_type));
  }
  return absl::OkStatus();
}

}  // namespace

const char* BodyTypeName(BodyType t) {
  switch (t) {
    case BodyType::kSgxEnclave: return "sgx";
    case BodyType::kTd10: return "td10";
    case BodyType::kTd15: return "td15";
  }
  return "unknown";
}

absl::StatusOr<EnclaveReport> ParseEnclaveReport(ByteView b) {
  if (b.size() != kEnclaveReportSize) {
    return Invalid(absl::StrFormat("enclave report is %d bytes, want 384", b.size()));
  }
  EnclaveReport r;
  Copy(r.cpu_svn, b, 0);
  r.misc_select = LoadLe32(&b[16]);
  Copy(r.isv_ext_prod_id, b, 32);
  Copy(r.attributes, b, 48);
  Copy(r.mr_enclave, b, 64);
  Copy(r.mr_signer, b, 128);
  Copy(r.config_id, b, 192);
  r.isv_prod_id = LoadLe16(&b[256]);
  r.isv_svn = LoadLe16(&b[258]);
  r.config_svn = LoadLe16(&b[260]);
  Copy(r.isv_family_id, b, 304);
  Copy(r.report_data, b, 320);
  Copy(r.raw, b, 0);
  return r;
}

absl::StatusOr<Quote> ParseQuote(ByteView data) {
  Quote q;
  TWI_RETURN_IF_ERROR(ParseHeader(data, q.header));
  ByteCursor cur(data);
  (void)cur.Take(kHeaderSize, "header");
  // Body: v3 SGX report at 0x30; v4 TD 1.0 (or SGX for tee type 0) at 0x30; v5 typed at 0x36.
  if (q.header.version == 5) {
    TWI_ASSIGN_OR_RETURN(uint16_t type, cur.U16Le("body type"));
    TWI_ASSIGN_OR_RETURN(uint32_t size, cur.U32Le("body size"));
    if (type < 1 || type > 3) {
      return Invalid(absl::StrFormat("v5 body type %d at offset 0x30, want 1, 2 or 3", type));
    }
    q.body_type = static_cast<BodyType>(type);
    if (size != BodySize(q.body_type)) {
      return Invalid(absl::StrFormat("v5 body type %d declares size %d at offset 0x32, want %d",
                                     type, size, BodySize(q.body_type)));
    }
    bool sgx_body = q.body_type == BodyType::kSgxEnclave;
    if (sgx_body != (q.header.tee_type == kTeeTypeSgx)) {
      return Invalid(absl::StrFormat("v5 body type %d does not fit tee type 0x%08x", type,
                                     q.header.tee_type));
    }
  } else {
    q.body_type = q.header.tee_type == kTeeTypeTdx ? BodyType::kTd10 : BodyType::kSgxEnclave;
  }
  TWI_ASSIGN_OR_RETURN(ByteView body, cur.Take(BodySize(q.body_type), "quote body"));
  if (q.body_type == BodyType::kSgxEnclave) {
    TWI_ASSIGN_OR_RETURN(q.enclave, ParseEnclaveReport(body));
  } else {
    q.td = ParseTdReport(body, q.body_type == BodyType::kTd15);
  }
  q.signed_region.assign(data.begin(), data.begin() + cur.offset());

  size_t len_at = cur.offset();
  TWI_ASSIGN_OR_RETURN(uint32_t sig_len, cur.U32Le("signature data length"));
  if (sig_len > cur.remaining()) {
    return Invalid(absl::StrFormat(
        "signature data length %d at offset 0x%x exceeds the %d bytes left", sig_len, len_at,
        cur.remaining()));
  }
  const size_t end = cur.offset() + sig_len;
  ByteCursor sig(data.first(end));  // absolute offsets in messages, never reads past `end`
  (void)sig.Take(cur.offset(), "signed region");
  TWI_ASSIGN_OR_RETURN(ByteView s, sig.Take(64, "quote signature"));
  Copy(q.signature, s, 0);
  TWI_ASSIGN_OR_RETURN(ByteView k, sig.Take(64, "attestation key"));
  Copy(q.attestation_key, k, 0);
  if (q.header.version == 3) {
    // v3: QE report, its signature and the auth data sit flat before the certification data.
    TWI_ASSIGN_OR_RETURN(ByteView qe, sig.Take(kEnclaveReportSize, "qe report"));
    TWI_ASSIGN_OR_RETURN(q.qe.qe_report, ParseEnclaveReport(qe));
    TWI_ASSIGN_OR_RETURN(ByteView qe_sig, sig.Take(64, "qe report signature"));
    Copy(q.qe.qe_report_signature, qe_sig, 0);
    TWI_ASSIGN_OR_RETURN(uint16_t auth_size, sig.U16Le("qe auth data size"));
    TWI_ASSIGN_OR_RETURN(ByteView auth, sig.Take(auth_size, "qe auth data"));
    q.qe.qe_auth_data.assign(auth.begin(), auth.end());
  }
  size_t type_at = sig.offset();
  TWI_ASSIGN_OR_RETURN(q.cert_data_type, sig.U16Le("certification data type"));
  TWI_ASSIGN_OR_RETURN(uint32_t cert_size, sig.U32Le("certification data size"));
  if (cert_size != sig.remaining()) {
    return Invalid(absl::StrFormat(
        "certification data size %d at offset 0x%x, but the signature data leaves %d bytes",
        cert_size, sig.offset() - 4, sig.remaining()));
  }
  const uint16_t want_type = q.header.version == 3 ? kCertDataPckChain : kCertDataQeReport;
  if (q.cert_data_type != want_type) {
    return Invalid(absl::StrFormat(
        "certification data type %d at offset 0x%x, want %d (%s)", q.cert_data_type, type_at,
        want_type, want_type == kCertDataQeReport ? "qe report wrapping a pck chain"
                                                  : "pck certificate chain"));
  }
  if (q.header.version == 3) {
    TWI_ASSIGN_OR_RETURN(ByteView chain, sig.Take(cert_size, "pck certificate chain"));
    q.qe.inner_type = kCertDataPckChain;
    q.qe.pck_chain = PckChainBytes(chain);
    if (q.qe.pck_chain.empty()) return Invalid("pck certificate chain is empty");
  } else {
    TWI_RETURN_IF_ERROR(ParseQeCertData(sig, end, q.qe));
  }
  q.declared_size = end;
  q.trailing_bytes = data.size() - end;
  return q;
}

absl::StatusOr<Bytes> RawSignatureToDer(ByteView rs) {
  if (rs.size() != 64) {
    return Invalid(absl::StrFormat("ecdsa signature is %d bytes, want 64 (r||s)", rs.size()));
  }
  return EcdsaRawToDer(rs);
}

absl::StatusOr<EvpPkeyPtr> P256KeyFromXy(ByteView xy) {
  if (xy.size() != 64) {
    return Invalid(absl::StrFormat("p-256 public key is %d bytes, want 64 (x||y)", xy.size()));
  }
  uint8_t point[65];
  point[0] = 0x04;
  std::copy(xy.begin(), xy.end(), point + 1);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                       const_cast<char*>("prime256v1"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
      OSSL_PARAM_construct_end()};
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return OpenSslError("p-256 public key is not a point on the curve",
                        absl::StatusCode::kInvalidArgument);
  }
  return EvpPkeyPtr(key);
}

// ---- PCK extensions ----

namespace {

struct AsnSeqDeleter {
  void operator()(ASN1_SEQUENCE_ANY* p) const { sk_ASN1_TYPE_pop_free(p, ASN1_TYPE_free); }
};
using AsnSeqPtr = std::unique_ptr<ASN1_SEQUENCE_ANY, AsnSeqDeleter>;

// A DER SEQUENCE decoded into its elements; the whole input must be consumed.
absl::StatusOr<AsnSeqPtr> DecodeSequence(ByteView der, std::string_view what) {
  const unsigned char* p = der.data();
  AsnSeqPtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(der.size())));
  if (!seq || p != der.data() + der.size()) {
    OpenSslErrors();
    return Invalid(StrCat(what, " is not a der sequence"));
  }
  return seq;
}

ByteView SequenceBytes(const ASN1_TYPE* t) {
  return ByteView(t->value.sequence->data, static_cast<size_t>(t->value.sequence->length));
}

std::string ObjText(const ASN1_OBJECT* o) {
  char buf[80];
  int n = OBJ_obj2txt(buf, sizeof(buf), o, 1);
  if (n <= 0 || n >= static_cast<int>(sizeof(buf))) return "";
  return std::string(buf, static_cast<size_t>(n));
}

// Each element of `seq` as (OID text, value) with the OID under `prefix.`; errors otherwise.
absl::StatusOr<std::vector<std::pair<std::string, const ASN1_TYPE*>>> Pairs(
    const ASN1_SEQUENCE_ANY* seq, std::string_view what,
    std::vector<AsnSeqPtr>& keep) {
  std::vector<std::pair<std::string, const ASN1_TYPE*>> out;
  for (int i = 0; i < sk_ASN1_TYPE_num(seq); ++i) {
    const ASN1_TYPE* t = sk_ASN1_TYPE_value(seq, i);
    if (t->type != V_ASN1_SEQUENCE) {
      return Invalid(StrCat(what, " element ", i, " is not a sequence"));
    }
    TWI_ASSIGN_OR_RETURN(AsnSeqPtr pair, DecodeSequence(SequenceBytes(t), what));
    if (sk_ASN1_TYPE_num(pair.get()) != 2 ||
        sk_ASN1_TYPE_value(pair.get(), 0)->type != V_ASN1_OBJECT) {
      return Invalid(StrCat(what, " element ", i, " is not { oid, value }"));
    }
    std::string oid = ObjText(sk_ASN1_TYPE_value(pair.get(), 0)->value.object);
    out.push_back({oid, sk_ASN1_TYPE_value(pair.get(), 1)});
    keep.push_back(std::move(pair));
  }
  return out;
}

absl::StatusOr<ByteView> OctetString(const ASN1_TYPE* v, size_t want, std::string_view name) {
  if (v->type != V_ASN1_OCTET_STRING) return Invalid(StrCat(name, " is not an octet string"));
  ByteView b(v->value.octet_string->data, static_cast<size_t>(v->value.octet_string->length));
  if (b.size() != want) {
    return Invalid(StrCat(name, " is ", b.size(), " bytes, want ", want));
  }
  return b;
}

absl::StatusOr<int64_t> Integer(const ASN1_TYPE* v, int64_t max, std::string_view name) {
  int64_t x = 0;
  int ok = 0;
  if (v->type == V_ASN1_INTEGER) ok = ASN1_INTEGER_get_int64(&x, v->value.integer);
  if (v->type == V_ASN1_ENUMERATED) ok = ASN1_ENUMERATED_get_int64(&x, v->value.enumerated);
  if (ok != 1) {
    OpenSslErrors();
    return Invalid(StrCat(name, " is not an integer"));
  }
  if (x < 0 || x > max) return Invalid(StrCat(name, " ", x, " is outside 0..", max));
  return x;
}

absl::Status DecodeTcb(const ASN1_TYPE* v, PckExtensions& out) {
  if (v->type != V_ASN1_SEQUENCE) return Invalid("pck tcb (.2) is not a sequence");
  TWI_ASSIGN_OR_RETURN(AsnSeqPtr seq, DecodeSequence(SequenceBytes(v), "pck tcb"));
  std::vector<AsnSeqPtr> keep;
  TWI_ASSIGN_OR_RETURN(auto pairs, Pairs(seq.get(), "pck tcb", keep));
  const std::string prefix = StrCat(kSgxExtensionOid, ".2.");
  std::map<int, int> seen;
  for (const auto& [oid, val] : pairs) {
    if (oid.rfind(prefix, 0) != 0) continue;
    std::string suffix = oid.substr(prefix.size());
    int n = 0;
    for (char c : suffix) n = (c >= '0' && c <= '9' && n < 1000) ? n * 10 + (c - '0') : 10000;
    if (n < 1 || n > 18) continue;
    if (++seen[n] > 1) return Invalid(StrCat("pck tcb component .2.", n, " appears twice"));
    if (n <= 16) {
      TWI_ASSIGN_OR_RETURN(int64_t svn, Integer(val, 255, StrCat("sgx tcb component ", n)));
      out.sgx_tcb[n - 1] = static_cast<uint8_t>(svn);
    } else if (n == 17) {
      TWI_ASSIGN_OR_RETURN(int64_t svn, Integer(val, 65535, "pcesvn"));
      out.pce_svn = static_cast<uint16_t>(svn);
    } else {
      TWI_ASSIGN_OR_RETURN(ByteView cpusvn, OctetString(val, 16, "cpusvn"));
      std::copy(cpusvn.begin(), cpusvn.end(), out.cpu_svn.begin());
    }
  }
  for (int n = 1; n <= 18; ++n) {
    if (!seen.contains(n)) return Invalid(StrCat("pck tcb lacks component .2.", n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PckExtensions> DecodeSgxExtension(ByteView value) {
  TWI_ASSIGN_OR_RETURN(AsnSeqPtr seq, DecodeSequence(value, "sgx extension"));
  std::vector<AsnSeqPtr> keep;
  TWI_ASSIGN_OR_RETURN(auto pairs, Pairs(seq.get(), "sgx extension", keep));
  PckExtensions out;
  std::map<std::string, int> seen;
  const std::string prefix = StrCat(kSgxExtensionOid, ".");
  for (const auto& [oid, val] : pairs) {
    if (oid.rfind(prefix, 0) != 0) continue;
    std::string suffix = oid.substr(prefix.size());
    if (++seen[suffix] > 1) return Invalid(StrCat("sgx extension .", suffix, " appears twice"));
    if (suffix == "1") {
      TWI_ASSIGN_OR_RETURN(ByteView b, OctetString(val, 16, "ppid"));
      out.ppid.assign(b.begin(), b.end());
    } else if (suffix == "2") {
      TWI_RETURN_IF_ERROR(DecodeTcb(val, out));
    } else if (suffix == "3") {
      TWI_ASSIGN_OR_RETURN(ByteView b, OctetString(val, 2, "pceid"));
      out.pce_id.assign(b.begin(), b.end());
    } else if (suffix == "4") {
      TWI_ASSIGN_OR_RETURN(ByteView b, OctetString(val, 6, "fmspc"));
      out.fmspc.assign(b.begin(), b.end());
    } else if (suffix == "5") {
      TWI_ASSIGN_OR_RETURN(out.sgx_type, Integer(val, 255, "sgx type"));
    }
  }
  for (const char* need : {"1", "2", "3", "4"}) {
    if (!seen.contains(need)) {
      static const std::map<std::string, const char*> kNames = {
          {"1", "ppid"}, {"2", "tcb"}, {"3", "pceid"}, {"4", "fmspc"}};
      return Invalid(StrCat("sgx extension lacks .", need, " (", kNames.at(need), ")"));
    }
  }
  return out;
}

absl::StatusOr<PckExtensions> ParsePckExtensions(const Certificate& pck) {
  std::optional<PckExtensions> out;
  for (const X509Extension& e : pck.Extensions()) {
    if (e.oid != kSgxExtensionOid) continue;
    if (out) return Invalid("pck certificate carries the sgx extension twice");
    auto ext = DecodeSgxExtension(e.value);
    if (!ext.ok()) return Annotate(ext.status(), "pck certificate");
    out = std::move(*ext);
  }
  if (!out) {
    return Invalid(StrCat("pck certificate ", pck.label(), " lacks the sgx extension ",
                          kSgxExtensionOid));
  }
  return *std::move(out);
}

}  // namespace twi::tdx
