#include "attestors/collateral/dcap_json.h"

#include <set>

#include "attestors/core/status.h"
#include "nlohmann/json.hpp"

namespace twi::collateral {
namespace {

using Json = nlohmann::json;


// Typed accessors: `path` names the field in errors ("tcbInfo.tcbLevels[2].tcbStatus").
absl::StatusOr<const Json*> Member(const Json& obj, std::string_view key, const std::string& path) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return Invalid(StrCat(path, ": missing"));
  return &*it;
}

absl::StatusOr<std::string> String(const Json& obj, std::string_view key, const std::string& path) {
  TWI_ASSIGN_OR_RETURN(const Json* v, Member(obj, key, path));
  if (!v->is_string()) return Invalid(StrCat(path, ": not a string"));
  return v->get<std::string>();
}

absl::StatusOr<int64_t> Int(const Json& obj, std::string_view key, int64_t max,
                            const std::string& path) {
  TWI_ASSIGN_OR_RETURN(const Json* v, Member(obj, key, path));
  if (!v->is_number_integer()) return Invalid(StrCat(path, ": not an integer"));
  int64_t x = v->get<int64_t>();
  if (x < 0 || x > max) return Invalid(StrCat(path, ": ", x, " outside 0..", max));
  return x;
}

absl::StatusOr<Bytes> Hex(const Json& obj, std::string_view key, size_t len,
                          const std::string& path) {
  TWI_ASSIGN_OR_RETURN(std::string s, String(obj, key, path));
  auto b = HexDecode(s);
  if (!b.ok()) return Invalid(StrCat(path, ": ", b.status().message()));
  if (b->size() != len) return Invalid(StrCat(path, ": ", b->size(), " bytes, want ", len));
  return *std::move(b);
}

absl::StatusOr<uint32_t> HexU32(const Json& obj, std::string_view key, const std::string& path) {
  TWI_ASSIGN_OR_RETURN(Bytes b, Hex(obj, key, 4, path));
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

absl::StatusOr<TimePoint> Time(const Json& obj, std::string_view key, const std::string& path) {
  TWI_ASSIGN_OR_RETURN(std::string s, String(obj, key, path));
  auto t = ParseRfc3339(s);
  if (!t.ok()) return Invalid(StrCat(path, ": ", t.status().message()));
  return *t;
}

absl::StatusOr<const Json*> Array(const Json& obj, std::string_view key, const std::string& path) {
  TWI_ASSIGN_OR_RETURN(const Json* v, Member(obj, key, path));
  if (!v->is_array()) return Invalid(StrCat(path, ": not an array"));
  return v;
}

absl::StatusOr<Json> ParseObject(std::string_view text, std::string_view what) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid(StrCat(what, ": not valid json"));
  if (!j.is_object()) return Invalid(StrCat(what, ": not a json object"));
  return j;
}

absl::Status Status(const Json& obj, const std::string& path, std::string& out) {
  TWI_ASSIGN_OR_RETURN(out, String(obj, "tcbStatus", path + ".tcbStatus"));
  if (!IsKnownTcbStatus(out)) return Invalid(StrCat(path, ".tcbStatus: unknown \"", out, "\""));
  return absl::OkStatus();
}

absl::Status Advisories(const Json& obj, const std::string& path, std::vector<std::string>& out) {
  auto it = obj.find("advisoryIDs");
  if (it == obj.end()) return absl::OkStatus();
  if (!it->is_array()) return Invalid(StrCat(path, ".advisoryIDs: not an array"));
  for (const Json& a : *it) {
    if (!a.is_string()) return Invalid(StrCat(path, ".advisoryIDs: not a string"));
    out.push_back(a.get<std::string>());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<IdentityTcbLevel>> IdentityLevels(const Json& obj,
                                                             const std::string& path) {
  TWI_ASSIGN_OR_RETURN(const Json* arr, Array(obj, "tcbLevels", path + ".tcbLevels"));
  std::vector<IdentityTcbLevel> out;
  for (size_t i = 0; i < arr->size(); ++i) {
    const Json& l = (*arr)[i];
    std::string p = StrCat(path, ".tcbLevels[", i, "]");
    if (!l.is_object()) return Invalid(StrCat(p, ": not an object"));
    IdentityTcbLevel level;
    TWI_ASSIGN_OR_RETURN(const Json* tcb, Member(l, "tcb", p + ".tcb"));
    if (!tcb->is_object()) return Invalid(StrCat(p, ".tcb: not an object"));
    TWI_ASSIGN_OR_RETURN(int64_t svn, Int(*tcb, "isvsvn", 65535, p + ".tcb.isvsvn"));
    level.isvsvn = static_cast<uint16_t>(svn);
    TWI_ASSIGN_OR_RETURN(level.tcb_date, Time(l, "tcbDate", p + ".tcbDate"));
    TWI_RETURN_IF_ERROR(Status(l, p, level.status));
    TWI_RETURN_IF_ERROR(Advisories(l, p, level.advisory_ids));
    out.push_back(std::move(level));
  }
  return out;
}

absl::StatusOr<TdxModule> Module(const Json& obj, const std::string& path) {
  TdxModule m;
  TWI_ASSIGN_OR_RETURN(m.mrsigner, Hex(obj, "mrsigner", 48, path + ".mrsigner"));
  TWI_ASSIGN_OR_RETURN(m.attributes, Hex(obj, "attributes", 8, path + ".attributes"));
  TWI_ASSIGN_OR_RETURN(m.attributes_mask, Hex(obj, "attributesMask", 8, path + ".attributesMask"));
  return m;
}

absl::Status Components(const Json& tcb, std::string_view key, const std::string& path,
                        std::array<uint8_t, 16>& out) {
  TWI_ASSIGN_OR_RETURN(const Json* arr, Array(tcb, key, path));
  if (arr->size() != 16) return Invalid(StrCat(path, ": ", arr->size(), " components, want 16"));
  for (size_t i = 0; i < 16; ++i) {
    std::string p = StrCat(path, "[", i, "]");
    if (!(*arr)[i].is_object()) return Invalid(StrCat(p, ": not an object"));
    TWI_ASSIGN_OR_RETURN(int64_t svn, Int((*arr)[i], "svn", 255, p + ".svn"));
    out[i] = static_cast<uint8_t>(svn);
  }
  return absl::OkStatus();
}

// Skips one JSON value starting at s[i] (the document was validated already).
size_t SkipValue(std::string_view s, size_t i) {
  int depth = 0;
  bool in_string = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') {
        in_string = false;
        if (depth == 0) return i + 1;
      }
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    } else if (depth == 0 && (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r')) {
      return i;
    }
  }
  return i;
}

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  return i;
}

}  // namespace

bool IsKnownTcbStatus(std::string_view s) {
  static const std::set<std::string_view> kKnown = {
      "UpToDate",    "SWHardeningNeeded",           "ConfigurationNeeded",
      "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded",
      "Revoked"};
  return kKnown.contains(s);
}

absl::StatusOr<TcbInfo> ParseTcbInfo(std::string_view text) {
  TWI_ASSIGN_OR_RETURN(Json j, ParseObject(text, "tcbInfo"));
  TcbInfo t;
  TWI_ASSIGN_OR_RETURN(t.id, String(j, "id", "tcbInfo.id"));
  if (t.id != "TDX" && t.id != "SGX") {
    return Invalid(StrCat("tcbInfo.id: \"", t.id, "\", want TDX or SGX"));
  }
  TWI_ASSIGN_OR_RETURN(int64_t version, Int(j, "version", 1000, "tcbInfo.version"));
  t.version = static_cast<int>(version);
  if (t.version != 3) return Invalid(StrCat("tcbInfo.version: ", t.version, ", want 3"));
  TWI_ASSIGN_OR_RETURN(t.issue_date, Time(j, "issueDate", "tcbInfo.issueDate"));
  TWI_ASSIGN_OR_RETURN(t.next_update, Time(j, "nextUpdate", "tcbInfo.nextUpdate"));
  TWI_ASSIGN_OR_RETURN(t.fmspc, Hex(j, "fmspc", 6, "tcbInfo.fmspc"));
  TWI_ASSIGN_OR_RETURN(t.pce_id, Hex(j, "pceId", 2, "tcbInfo.pceId"));
  TWI_ASSIGN_OR_RETURN(int64_t tcb_type, Int(j, "tcbType", 1000, "tcbInfo.tcbType"));
  t.tcb_type = static_cast<int>(tcb_type);
  if (t.tcb_type != 0) return Invalid(StrCat("tcbInfo.tcbType: ", t.tcb_type, ", want 0"));
  TWI_ASSIGN_OR_RETURN(int64_t eval, Int(j, "tcbEvaluationDataNumber", UINT32_MAX,
                                         "tcbInfo.tcbEvaluationDataNumber"));
  t.tcb_evaluation_data_number = static_cast<uint32_t>(eval);
  const bool tdx = t.id == "TDX";
  if (auto it = j.find("tdxModule"); it != j.end()) {
    if (!it->is_object()) return Invalid("tcbInfo.tdxModule: not an object");
    TWI_ASSIGN_OR_RETURN(t.tdx_module, Module(*it, "tcbInfo.tdxModule"));
  } else if (tdx) {
    return Invalid("tcbInfo.tdxModule: missing");
  }
  if (auto it = j.find("tdxModuleIdentities"); it != j.end()) {
    if (!it->is_array()) return Invalid("tcbInfo.tdxModuleIdentities: not an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& m = (*it)[i];
      std::string p = StrCat("tcbInfo.tdxModuleIdentities[", i, "]");
      if (!m.is_object()) return Invalid(StrCat(p, ": not an object"));
      TdxModuleIdentity id;
      TWI_ASSIGN_OR_RETURN(id.id, String(m, "id", p + ".id"));
      TWI_ASSIGN_OR_RETURN(id.module, Module(m, p));
      TWI_ASSIGN_OR_RETURN(id.levels, IdentityLevels(m, p));
      t.tdx_module_identities.push_back(std::move(id));
    }
  }
  TWI_ASSIGN_OR_RETURN(const Json* levels, Array(j, "tcbLevels", "tcbInfo.tcbLevels"));
  for (size_t i = 0; i < levels->size(); ++i) {
    const Json& l = (*levels)[i];
    std::string p = StrCat("tcbInfo.tcbLevels[", i, "]");
    if (!l.is_object()) return Invalid(StrCat(p, ": not an object"));
    TcbLevel level;
    TWI_ASSIGN_OR_RETURN(const Json* tcb, Member(l, "tcb", p + ".tcb"));
    if (!tcb->is_object()) return Invalid(StrCat(p, ".tcb: not an object"));
    TWI_RETURN_IF_ERROR(Components(*tcb, "sgxtcbcomponents", p + ".tcb.sgxtcbcomponents",
                                   level.sgx));
    TWI_ASSIGN_OR_RETURN(int64_t pcesvn, Int(*tcb, "pcesvn", 65535, p + ".tcb.pcesvn"));
    level.pcesvn = static_cast<uint16_t>(pcesvn);
    if (tdx) {
      TWI_RETURN_IF_ERROR(Components(*tcb, "tdxtcbcomponents", p + ".tcb.tdxtcbcomponents",
                                     level.tdx));
      level.has_tdx = true;
    }
    TWI_ASSIGN_OR_RETURN(level.tcb_date, Time(l, "tcbDate", p + ".tcbDate"));
    TWI_RETURN_IF_ERROR(Status(l, p, level.status));
    TWI_RETURN_IF_ERROR(Advisories(l, p, level.advisory_ids));
    t.levels.push_back(std::move(level));
  }
  if (t.levels.empty()) return Invalid("tcbInfo.tcbLevels: empty");
  return t;
}

absl::StatusOr<EnclaveIdentity> ParseEnclaveIdentity(std::string_view text) {
  TWI_ASSIGN_OR_RETURN(Json j, ParseObject(text, "enclaveIdentity"));
  EnclaveIdentity e;
  TWI_ASSIGN_OR_RETURN(e.id, String(j, "id", "enclaveIdentity.id"));
  TWI_ASSIGN_OR_RETURN(int64_t version, Int(j, "version", 1000, "enclaveIdentity.version"));
  e.version = static_cast<int>(version);
  if (e.version != 2) return Invalid(StrCat("enclaveIdentity.version: ", e.version, ", want 2"));
  TWI_ASSIGN_OR_RETURN(e.issue_date, Time(j, "issueDate", "enclaveIdentity.issueDate"));
  TWI_ASSIGN_OR_RETURN(e.next_update, Time(j, "nextUpdate", "enclaveIdentity.nextUpdate"));
  TWI_ASSIGN_OR_RETURN(int64_t eval, Int(j, "tcbEvaluationDataNumber", UINT32_MAX,
                                         "enclaveIdentity.tcbEvaluationDataNumber"));
  e.tcb_evaluation_data_number = static_cast<uint32_t>(eval);
  TWI_ASSIGN_OR_RETURN(e.miscselect, HexU32(j, "miscselect", "enclaveIdentity.miscselect"));
  TWI_ASSIGN_OR_RETURN(e.miscselect_mask,
                       HexU32(j, "miscselectMask", "enclaveIdentity.miscselectMask"));
  TWI_ASSIGN_OR_RETURN(e.attributes, Hex(j, "attributes", 16, "enclaveIdentity.attributes"));
  TWI_ASSIGN_OR_RETURN(e.attributes_mask,
                       Hex(j, "attributesMask", 16, "enclaveIdentity.attributesMask"));
  TWI_ASSIGN_OR_RETURN(e.mrsigner, Hex(j, "mrsigner", 32, "enclaveIdentity.mrsigner"));
  TWI_ASSIGN_OR_RETURN(int64_t prodid, Int(j, "isvprodid", 65535, "enclaveIdentity.isvprodid"));
  e.isvprodid = static_cast<uint16_t>(prodid);
  TWI_ASSIGN_OR_RETURN(e.levels, IdentityLevels(j, "enclaveIdentity"));
  if (e.levels.empty()) return Invalid("enclaveIdentity.tcbLevels: empty");
  return e;
}

absl::StatusOr<SignedJson> ExtractSignedJson(std::string_view response, std::string_view key) {
  TWI_ASSIGN_OR_RETURN(Json j, ParseObject(response, "collateral response"));
  SignedJson out;
  TWI_ASSIGN_OR_RETURN(out.signature, String(j, "signature", "signature"));
  // Locate the member's value bytes at depth 1 (the validated text is well formed).
  size_t i = SkipSpace(response, 0) + 1;
  while (i < response.size()) {
    i = SkipSpace(response, i);
    if (i >= response.size() || response[i] != '"') break;
    size_t key_end = SkipValue(response, i);
    std::string_view k = response.substr(i + 1, key_end - i - 2);
    i = SkipSpace(response, key_end);
    if (i >= response.size() || response[i] != ':') break;
    i = SkipSpace(response, i + 1);
    size_t value_end = SkipValue(response, i);
    if (k == key) {
      if (response[i] != '{') return Invalid(StrCat(key, ": not an object"));
      out.body = std::string(response.substr(i, value_end - i));
      return out;
    }
    i = SkipSpace(response, value_end);
    if (i < response.size() && response[i] == ',') ++i;
  }
  return Invalid(StrCat(key, ": missing"));
}

}  // namespace twi::collateral
