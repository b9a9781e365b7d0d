// `twi inspect` decoders for the Azure CVM files `twi collect --kind azure` writes beside the
// vTPM quote: the HCL report (its hardware report, SEV-SNP or a TDX TDREPORT, decoded by that
// hardware's decoder, then the runtime claims) and a bare TDREPORT. Claims carry the names
// `twi verify --type azure-sev-snp|azure-tdx --json` uses; report_data_binding only when the
// hardware report's REPORT_DATA is the runtime claims' digest, as verify would find. Nothing
// is verified: a TDREPORT's MAC cannot be checked off the CPU, and no signature is checked.
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attestors/azure/abi.h"
#include "attestors/azure/tdreport.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tdx/policy.h"
#include "cli/inspect.h"

namespace twi::cli {
namespace {

using Json = nlohmann::ordered_json;

void AddLine(Inspection& out, Json& j, const std::string& key, Json value) {
  out.lines.push_back({key, value.is_string() ? value.get<std::string>() : value.dump()});
  j[key] = std::move(value);
}

// The runtime claims' fields (vm-configuration, keys, user-data) and the binding.
void AddRuntimeClaims(const azure::HclReport& h, Inspection& out, Json& claims, Json& decoded) {
  AddLine(out, decoded, "hcl_version", h.version);
  AddLine(out, decoded, "request_type", h.request_type);
  AddLine(out, decoded, "runtime_claims_bytes", h.runtime_claims.size());
  auto digest = azure::HashRuntimeClaims(h.hash_type, h.runtime_claims);
  if (digest.ok()) {
    ByteView rd = h.report_data();
    bool binds = rd.size() >= digest->size() && ConstantTimeEqual(*digest, rd.subspan(0, digest->size())) &&
                 IsAllZero(rd.subspan(digest->size()));
    AddLine(out, decoded, "runtime_claims_digest", HexEncode(*digest));
    AddLine(out, decoded, "report_data_binds_claims", binds);
    if (binds) claims["report_data_binding"] = HexEncode(*digest);
  } else {
    AddLine(out, decoded, "runtime_claims_digest_error", Shown(std::string(digest.status().message())));
  }
  auto rc = azure::ParseRuntimeClaims(h.runtime_claims);
  if (!rc.ok()) {
    AddLine(out, decoded, "runtime_claims_error", Shown(std::string(rc.status().message())));
    return;
  }
  claims["platform"] = "azure";
  claims["vm_id"] = rc->vm_unique_id ? Shown(*rc->vm_unique_id) : "";
  out.lines.push_back({"vm_id", claims["vm_id"].get<std::string>()});
  if (const azure::Jwk* ak = rc->FindKey("HCLAkPub")) {
    claims["ak_pub_sha256"] = HexEncode(Sha256(ak->spki));
    out.lines.push_back({"ak_pub_sha256", claims["ak_pub_sha256"].get<std::string>()});
  }
  if (claims.contains("report_data_binding")) {
    out.lines.push_back({"report_data_binding", claims["report_data_binding"].get<std::string>()});
  }
  std::vector<std::string> kids;
  for (const auto& k : rc->keys) kids.push_back(Shown(k.kid));
  AddLine(out, decoded, "keys", kids.empty() ? std::string("(none)") : absl::StrJoin(kids, ","));
  auto flag = [&](const char* name, const std::optional<bool>& v) {
    if (v) AddLine(out, decoded, name, *v);
  };
  flag("secure_boot", rc->secure_boot);
  flag("tpm_enabled", rc->tpm_enabled);
  flag("tpm_persisted", rc->tpm_persisted);
  flag("console_enabled", rc->console_enabled);
  if (rc->user_data) AddLine(out, decoded, "user_data", Shown(*rc->user_data));
}

}  // namespace

absl::StatusOr<Inspection> InspectTdReport(const InspectInput& in) {
  if (in.bytes.size() != azure::kTdReportStructSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("it is %d bytes, want %d", in.bytes.size(), azure::kTdReportStructSize));
  }
  TWI_ASSIGN_OR_RETURN(azure::TdReportStruct r, azure::ParseTdReport(in.bytes));
  Inspection out;
  out.title = absl::StrFormat("TDX TDREPORT (%d bytes, version %d, MAC checkable only by the CPU, not verified)",
                              in.bytes.size(), r.version);
  out.json["format"] = "tdx-tdreport";
  out.json["evidence_type"] = "tdx";
  out.json["verified"] = false;
  // tdx::Claims of a quote holding this body, less what only a quote has.
  tdx::VerifiedQuote v;
  v.has_quote = true;
  v.quote.td = r.body;
  auto claims = tdx::Claims(v);
  for (const char* quote_only : {"quote_version", "body_type", "qe_svn"}) claims.erase(quote_only);
  AddTdxClaims(claims, out, out.json["claims"] = Json::object());
  Json decoded;
  AddTdDecoded(r.body, out, decoded);
  AddLine(out, decoded, "cpu_svn", HexEncode(r.cpu_svn));
  AddLine(out, decoded, "tee_tcb_info_hash", HexEncode(r.tee_tcb_info_hash));
  AddLine(out, decoded, "tee_info_hash", HexEncode(r.tee_info_hash));
  AddLine(out, decoded, "mac", HexEncode(r.mac));
  out.json["decoded"] = decoded;
  return out;
}

absl::StatusOr<Inspection> InspectHclReport(const InspectInput& in) {
  if (in.bytes.size() < 4 || LoadLe32(in.bytes.data()) != azure::kHclSignature) {
    return absl::InvalidArgumentError("it does not start with \"HCLA\"");
  }
  TWI_ASSIGN_OR_RETURN(azure::HclReport h, azure::ParseHclReport(in.bytes));
  const bool snp = h.is_snp();  // else TDX: the parser takes report types 2 and 4 only
  Inspection out;
  out.title = absl::StrFormat("Azure HCL report (%d bytes, version %d, %s hardware report, not verified)",
                              in.bytes.size(), h.version, snp ? "SEV-SNP" : "TDX TDREPORT");
  out.json["format"] = "azure-hcl-report";
  out.json["evidence_type"] = snp ? "azure-sev-snp" : "azure-tdx";
  out.json["verified"] = false;
  Json claims = Json::object(), decoded;
  AddLine(out, decoded, "report_type", snp ? "2 (sev-snp)" : "4 (tdx)");
  InspectInput hw;
  hw.bytes = snp ? h.hw_report : Bytes(h.td_report().begin(), h.td_report().end());
  auto got = snp ? InspectSnpReport(hw) : InspectTdReport(hw);
  if (got.ok()) {
    for (const auto& [k, v] : got->json["claims"].items()) claims[k] = v;
    out.lines.insert(out.lines.end(), got->lines.begin(), got->lines.end());
    decoded["hardware_report"] = got->json["decoded"];
  } else {
    AddLine(out, decoded, "hardware_report_error", Shown(std::string(got.status().message())));
  }
  AddRuntimeClaims(h, out, claims, decoded);
  out.json["claims"] = claims;
  out.json["decoded"] = decoded;
  return out;
}

}  // namespace twi::cli
