// `twi inspect` decoders for the Intel DCAP files: TDX quotes (v4, v5) and SGX v3 quotes, and
// the nine-key collateral bundle `twi verify --type tdx --collateral` reads. Claims carry the
// names `twi verify --json` uses (tdx::Claims); "decoded" spells out what the raw fields mean
// (TD attribute and XFAM bits, TEE_TCB_SVN bytes, the QE report, the PCK chain and its SGX
// extensions). Nothing is verified.
#include <openssl/x509.h>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attestors/collateral/dcap_bundle.h"
#include "attestors/collateral/dcap_json.h"
#include "attestors/core/clock.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/core/x509.h"
#include "attestors/tdx/abi.h"
#include "attestors/tdx/policy.h"
#include "cli/inspect.h"

namespace twi::cli {
namespace {

using Json = nlohmann::ordered_json;

// The order claims are printed in: what operators put in policies first.
constexpr const char* kQuoteOrder[] = {
    "mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner", "mrownerconfig",
    "mrenclave", "mrsigner", "report_data", "debug", "td_attributes", "xfam", "quote_version",
    "tee_type", "body_type", "tee_tcb_svn", "tee_tcb_svn2", "mrseam", "mrsignerseam", "qe_svn",
    "fmspc", "pceid", "pcesvn", "pck_ca"};

// TDATTRIBUTES bits (spec 2.4; TDX module ABI).
std::string TdAttributeFlags(uint64_t a) {
  constexpr uint64_t kNamed = 1ull | (1ull << 28) | (1ull << 29) | (1ull << 30) | (1ull << 31) | (1ull << 63);
  std::string f = Flags({{"debug", (a & 1) != 0},
                         {"sept_ve_disable", (a >> 28 & 1) != 0},
                         {"migratable", (a >> 29 & 1) != 0},
                         {"pks", (a >> 30 & 1) != 0},
                         {"kl", (a >> 31 & 1) != 0},
                         {"perfmon", (a >> 63 & 1) != 0}});
  if ((a & ~kNamed) != 0) f += absl::StrFormat("%sother=0x%x", f == "-" ? "" : ",", a & ~kNamed);
  return f == "-" ? "none" : f;
}

// XFAM: the XSAVE state components (Intel SDM vol. 1, 13.1) the TD may use.
std::string XfamFlags(uint64_t x) {
  static constexpr const char* kNames[] = {
      "x87", "sse", "avx", "mpx_bndregs", "mpx_bndcsr", "avx512_opmask", "avx512_zmm_hi256",
      "avx512_hi16_zmm", "pt", "pkru", "pasid", "cet_u", "cet_s", "hdc", "uintr", "lbr", "hwp",
      "amx_tilecfg", "amx_tiledata"};
  std::vector<std::string> on;
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if ((x >> i) & 1) on.push_back(kNames[i]);
  }
  uint64_t other = x >> std::size(kNames);
  if (other != 0) on.push_back(absl::StrFormat("other=0x%x", other << std::size(kNames)));
  return on.empty() ? "none" : absl::StrJoin(on, ",");
}

std::string Decimals(const std::array<uint8_t, 16>& v) {
  std::vector<int> d(v.begin(), v.end());
  return absl::StrJoin(d, ",");
}

// "Intel SGX PCK Platform CA" -> "platform"; "" when the chain does not say.
std::string PckCa(const std::vector<Certificate>& chain) {
  if (chain.size() < 2) return "";
  std::string cn = chain[1].subject_cn();
  if (cn.find("PCK Platform CA") != std::string::npos) return "platform";
  if (cn.find("PCK Processor CA") != std::string::npos) return "processor";
  return "";
}

void Add(Inspection& out, Json& j, const std::string& key, Json value, const std::string& label = "") {
  out.lines.push_back({label.empty() ? key : label, value.is_string() ? value.get<std::string>() : value.dump()});
  j[key] = std::move(value);
}

Json QeReport(const tdx::EnclaveReport& r, Inspection& out) {
  static const std::string kIntelQeSigner =
      "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5";
  Json j;
  out.lines.push_back({"qe_report", "(signed by the PCK key)"});
  Add(out, j, "mrenclave", HexEncode(r.mr_enclave), "  mrenclave");
  std::string signer = HexEncode(r.mr_signer);
  Add(out, j, "mrsigner", signer, "  mrsigner");
  if (signer == kIntelQeSigner) out.lines.back().second += " (Intel QE)";
  Add(out, j, "isv_prod_id", r.isv_prod_id, "  isv_prod_id");
  Add(out, j, "isv_svn", r.isv_svn, "  isv_svn");
  Add(out, j, "attributes", HexEncode(r.attributes), "  attributes");
  Add(out, j, "misc_select", absl::StrFormat("%08x", r.misc_select), "  misc_select");
  Add(out, j, "cpu_svn", HexEncode(r.cpu_svn), "  cpu_svn");
  Add(out, j, "report_data", HexEncode(r.report_data), "  report_data");
  return j;
}

// The PCK chain from certification data type 5 and the leaf's SGX extensions.
Json PckChain(const tdx::Quote& q, Inspection& out, tdx::VerifiedQuote& v) {
  Json j;
  auto chain = ParsePemBundle(AsString(q.qe.pck_chain));
  if (!chain.ok()) {
    Add(out, j, "error", std::string(chain.status().message()), "pck_chain_error");
    return j;
  }
  j["certificates"] = Json::array();
  for (size_t i = 0; i < chain->size(); ++i) {
    const Certificate& c = (*chain)[i];
    Json cj;
    std::string p = absl::StrFormat("pck_chain[%d] ", i);
    Add(out, cj, "subject_cn", Shown(c.subject_cn()), p + "subject_cn");
    Add(out, cj, "serial", c.serial_hex(), p + "  serial");
    Add(out, cj, "not_before", FormatRfc3339(c.not_before()), p + "  not_before");
    Add(out, cj, "not_after", FormatRfc3339(c.not_after()), p + "  not_after");
    Add(out, cj, "sha256", c.fingerprint_hex(), p + "  sha256");
    j["certificates"].push_back(cj);
  }
  auto ext = tdx::ParsePckExtensions(chain->front());
  if (!ext.ok()) {
    Add(out, j, "extensions_error", std::string(ext.status().message()), "pck_extensions_error");
    return j;
  }
  v.pck = *ext;
  v.has_pck = true;
  v.pck_ca = PckCa(*chain);
  Json e;
  out.lines.push_back({"pck_extensions", "(SGX extension 1.2.840.113741.1.13.1 of the PCK leaf)"});
  Add(out, e, "fmspc", HexEncode(ext->fmspc), "  fmspc");
  Add(out, e, "pceid", HexEncode(ext->pce_id), "  pceid");
  Add(out, e, "pcesvn", ext->pce_svn, "  pcesvn");
  Add(out, e, "cpusvn", HexEncode(ext->cpu_svn), "  cpusvn");
  Add(out, e, "sgx_tcb_components", Decimals(ext->sgx_tcb), "  sgx_tcb_components");
  if (ext->sgx_type) {
    static constexpr const char* kTypes[] = {"standard", "scalable", "scalable_with_integrity"};
    int64_t t = *ext->sgx_type;
    Add(out, e, "sgx_type", t >= 0 && t < 3 ? std::string(kTypes[t]) : absl::StrCat(t), "  sgx_type");
  }
  Add(out, e, "ppid", HexEncode(ext->ppid), "  ppid");
  j["extensions"] = e;
  return j;
}

void AddDates(Inspection& out, Json& j, TimePoint issue, TimePoint next, uint32_t eval) {
  Add(out, j, "issue_date", FormatRfc3339(issue), "  issue_date");
  Add(out, j, "next_update", FormatRfc3339(next), "  next_update");
  Add(out, j, "tcb_evaluation_data_number", eval, "  tcb_evaluation_data_number");
}

// TCB Info / QE Identity signed text (not verified): the fields that say which platform and
// which period it is for.
void AddTcbInfo(std::string_view text, Inspection& out, Json& parent) {
  auto t = collateral::ParseTcbInfo(text);
  if (!t.ok()) {
    Add(out, parent, "tcb_info_error", Shown(std::string(t.status().message())));
    return;
  }
  Json j;
  out.lines.push_back({"tcb_info", "(signature not checked)"});
  Add(out, j, "id", Shown(t->id), "  id");
  Add(out, j, "fmspc", HexEncode(t->fmspc), "  fmspc");
  Add(out, j, "pceid", HexEncode(t->pce_id), "  pceid");
  AddDates(out, j, t->issue_date, t->next_update, t->tcb_evaluation_data_number);
  std::vector<std::string> levels;
  for (const auto& l : t->levels) {
    levels.push_back(absl::StrCat(l.status, "@", FormatRfc3339(l.tcb_date).substr(0, 10)));
  }
  Add(out, j, "tcb_levels", absl::StrJoin(levels, ","), "  tcb_levels");
  parent["tcb_info"] = j;
}

void AddQeIdentity(std::string_view text, Inspection& out, Json& parent) {
  auto e = collateral::ParseEnclaveIdentity(text);
  if (!e.ok()) {
    Add(out, parent, "qe_identity_error", Shown(std::string(e.status().message())));
    return;
  }
  Json j;
  out.lines.push_back({"qe_identity", "(signature not checked)"});
  Add(out, j, "id", Shown(e->id), "  id");
  Add(out, j, "mrsigner", HexEncode(e->mrsigner), "  mrsigner");
  Add(out, j, "isvprodid", e->isvprodid, "  isvprodid");
  AddDates(out, j, e->issue_date, e->next_update, e->tcb_evaluation_data_number);
  parent["qe_identity"] = j;
}

void AddCrl(const char* key, const std::optional<Crl>& c, Inspection& out, Json& parent) {
  if (!c) {
    Add(out, parent, key, "(none)");
    return;
  }
  Json j;
  out.lines.push_back({key, "(signature not checked)"});
  Add(out, j, "issuer", Shown(c->issuer()), "  issuer");
  Add(out, j, "this_update", FormatRfc3339(c->this_update()), "  this_update");
  if (c->next_update()) Add(out, j, "next_update", FormatRfc3339(*c->next_update()), "  next_update");
  Add(out, j, "revoked", sk_X509_REVOKED_num(X509_CRL_get_REVOKED(c->get())), "  revoked");
  parent[key] = j;
}

// The bytes of a DCAP quote file: raw as read (quotes carry PEM, which the input reader's PEM
// armour decoding would mangle), else hex-decoded. Only files announcing a DCAP header go on
// to the full parser, so its reasons are shown for quotes and other formats get a short one.
absl::StatusOr<Bytes> QuoteBytes(const InspectInput& in) {
  auto announced = [](ByteView b) {
    return b.size() >= tdx::kHeaderSize && LoadLe16(b.data()) >= 3 && LoadLe16(b.data()) <= 5 &&
           LoadLe16(b.data() + 2) == tdx::kAttKeyEcdsaP256;
  };
  if (announced(AsBytes(in.text))) return ToBytes(in.text);
  if (announced(in.bytes)) return in.bytes;
  if (in.bytes.size() < tdx::kHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("it is %d bytes, want at least %d", in.bytes.size(), tdx::kHeaderSize));
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "header version %d / attestation key type %d is not 3-5 / 2 (ECDSA-256)",
      LoadLe16(in.bytes.data()), LoadLe16(in.bytes.data() + 2)));
}

}  // namespace

void AddTdxClaims(const std::map<std::string, std::string>& claims, Inspection& out, Json& cj) {
  for (const char* k : kQuoteOrder) {
    auto it = claims.find(k);
    if (it == claims.end()) continue;
    cj[k] = it->second;
    out.lines.push_back({k, it->second});
  }
  for (const auto& [k, val] : claims) {  // claims added later still show up
    if (!cj.contains(k)) {
      cj[k] = val;
      out.lines.push_back({k, val});
    }
  }
}

void AddTdDecoded(const tdx::TdReport& td, Inspection& out, Json& decoded) {
  Add(out, decoded, "td_attributes_flags", TdAttributeFlags(td.td_attributes));
  Add(out, decoded, "xfam_components", XfamFlags(td.xfam));
  Add(out, decoded, "tee_tcb_svn_fields",
      absl::StrFormat("module_svn=%d,module_major=%d,late_ucode_svn=%d", td.tee_tcb_svn[0],
                      td.tee_tcb_svn[1], td.tee_tcb_svn[2]));
  Add(out, decoded, "seam_attributes", HexEncode(td.seam_attributes));
  if (td.tdx15) Add(out, decoded, "mrservicetd", HexEncode(td.mr_service_td));
}

absl::StatusOr<Inspection> InspectDcapQuote(const InspectInput& in) {
  TWI_ASSIGN_OR_RETURN(Bytes bytes, QuoteBytes(in));
  auto parsed = tdx::ParseQuote(bytes);
  if (!parsed.ok()) return parsed.status();
  tdx::VerifiedQuote v;
  v.quote = *std::move(parsed);
  v.has_quote = true;
  const tdx::Quote& q = v.quote;

  Inspection out;
  Json decoded;
  std::vector<std::pair<std::string, std::string>> claim_lines;
  Json pck = PckChain(q, out, v);  // fills v.pck for the claims; its lines go last
  std::vector<std::pair<std::string, std::string>> pck_lines = std::move(out.lines);
  out.lines.clear();

  out.title = absl::StrFormat("%s quote (%d bytes, version %d, %s body, not verified)",
                              q.is_tdx() ? "TDX" : "SGX", bytes.size(), q.header.version,
                              tdx::BodyTypeName(q.body_type));
  out.json["format"] = q.is_tdx() ? "tdx-quote" : "sgx-quote";
  out.json["evidence_type"] = q.is_tdx() ? "tdx" : "sgx";
  out.json["verified"] = false;
  AddTdxClaims(tdx::Claims(v), out, out.json["claims"] = Json::object());
  if (q.td) AddTdDecoded(*q.td, out, decoded);
  Add(out, decoded, "qe_vendor_id", HexEncode(q.header.qe_vendor_id));
  if (HexEncode(q.header.qe_vendor_id) == "939a7233f79c4ca9940a0db3957f0607") out.lines.back().second += " (Intel QE)";
  Add(out, decoded, "attestation_key", HexEncode(q.attestation_key));
  Add(out, decoded, "certification_data_type", q.cert_data_type);
  Add(out, decoded, "qe_auth_data", HexEncode(q.qe.qe_auth_data));
  Add(out, decoded, "trailing_bytes", q.trailing_bytes);
  decoded["qe_report"] = QeReport(q.qe.qe_report, out);
  decoded["pck"] = pck;
  out.lines.insert(out.lines.end(), pck_lines.begin(), pck_lines.end());
  out.json["decoded"] = decoded;
  return out;
}

absl::StatusOr<Inspection> InspectDcapBundle(const InspectInput& in) {
  if (in.text.find("\"tcb_info\"") == std::string::npos) {
    return absl::InvalidArgumentError("it has no \"tcb_info\" key");
  }
  auto b = collateral::ParseDcapBundle(in.text);
  if (!b.ok()) return b.status();
  Inspection out;
  out.title = "DCAP collateral bundle (nine items, not verified)";
  out.json["format"] = "dcap-collateral";
  Json j;
  auto chain = [&](const char* key, const std::vector<Certificate>& certs) {
    std::vector<std::string> cns;
    for (const Certificate& c : certs) cns.push_back(Shown(c.subject_cn()));
    Add(out, j, key, cns.empty() ? std::string("(none)") : absl::StrJoin(cns, " <- "));
  };
  chain("tcb_info_issuer_chain", b->tcb_info_issuer_chain);
  AddTcbInfo(b->tcb_info, out, j);
  chain("qe_identity_issuer_chain", b->qe_identity_issuer_chain);
  AddQeIdentity(b->qe_identity, out, j);
  chain("pck_crl_issuer_chain", b->pck_crl_issuer_chain);
  AddCrl("pck_crl", b->pck_crl, out, j);
  AddCrl("root_ca_crl", b->root_ca_crl, out, j);
  Add(out, j, "digest", HexEncode(b->digest));
  out.json["collateral"] = j;
  return out;
}

absl::StatusOr<Inspection> InspectDcapDocument(const InspectInput& in) {
  bool tcb = in.text.find("\"tcbInfo\"") != std::string::npos;
  if (!tcb && in.text.find("\"enclaveIdentity\"") == std::string::npos) {
    return absl::InvalidArgumentError("it has no \"tcbInfo\" or \"enclaveIdentity\" key");
  }
  auto doc = collateral::ExtractSignedJson(in.text, tcb ? "tcbInfo" : "enclaveIdentity");
  if (!doc.ok()) return doc.status();
  Inspection out;
  out.title = absl::StrCat(tcb ? "TCB Info" : "QE Identity", " (PCS response, not verified)");
  out.json["format"] = tcb ? "dcap-tcb-info" : "dcap-qe-identity";
  Json j;
  if (tcb) {
    AddTcbInfo(doc->body, out, j);
  } else {
    AddQeIdentity(doc->body, out, j);
  }
  Add(out, j, "signature", Shown(doc->signature));
  out.json["collateral"] = j;
  return out;
}

absl::StatusOr<Inspection> InspectCrl(const InspectInput& in) {
  bool pem = in.text.find("-----BEGIN X509 CRL") != std::string::npos;
  auto crl = Crl::Parse(pem ? AsBytes(in.text) : ByteView(in.bytes));
  if (!crl.ok()) return crl.status();
  Inspection out;
  out.title = absl::StrCat("certificate revocation list (", pem ? "PEM" : "DER", ", not verified)");
  out.json["format"] = "crl";
  Json j;
  AddCrl("crl", *crl, out, j);
  out.json["crl"] = j["crl"];
  return out;
}

}  // namespace twi::cli
