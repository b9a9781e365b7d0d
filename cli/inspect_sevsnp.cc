// `twi inspect` decoders for the SEV-SNP files: attestation reports, AMD certificates (VCEK,
// VLEK, ASK, ASVK, ARK; PEM bundles or DER) and extended-report certificate tables.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "attestors/core/clock.h"
#include "attestors/core/str.h"
#include "attestors/core/x509.h"
#include "attestors/sevsnp/abi.h"
#include "attestors/sevsnp/policy.h"
#include "cli/inspect.h"

namespace twi::cli {
namespace {

// The order reports are printed in: what operators look for first.
constexpr const char* kReportOrder[] = {
    "measurement", "product", "report_version", "policy", "policy_debug", "vmpl", "guest_svn",
    "current_tcb", "reported_tcb", "committed_tcb", "launch_tcb", "current_firmware",
    "committed_firmware", "signing_key", "platform_info", "host_data", "report_data", "family_id",
    "image_id", "id_key_digest", "author_key_digest", "report_id", "chip_id"};

// Role of an AMD certificate from its extensions and names (not verified: a label only).
std::string Role(const Certificate& c, const sevsnp::AmdCertExtensions& ext) {
  if (ext.csp_id) return "vlek";
  if (ext.hwid) return "vcek";
  std::string cn = c.subject_cn();
  if (cn.rfind("ARK-", 0) == 0) return "ark";
  if (cn.rfind("SEV-VLEK-", 0) == 0) return "asvk";
  if (cn.rfind("SEV-", 0) == 0 && c.IsSelfIssued() == false) return "ask";
  return "certificate";
}

void AddCertificate(const Certificate& c, const std::string& prefix, Inspection& out,
                    nlohmann::ordered_json& j) {
  auto ext = sevsnp::ParseAmdExtensions(c);
  sevsnp::AmdCertExtensions e = ext.ok() ? *ext : sevsnp::AmdCertExtensions{};
  j["role"] = Role(c, e);
  j["subject"] = Shown(c.subject());
  j["issuer"] = Shown(c.issuer());
  j["serial"] = c.serial_hex();
  j["not_before"] = FormatRfc3339(c.not_before());
  j["not_after"] = FormatRfc3339(c.not_after());
  j["sha256"] = c.fingerprint_hex();
  if (e.product_name) j["product_name"] = Shown(*e.product_name);
  std::string tcb;
  auto spl = [&](const char* name, const std::optional<uint8_t>& v) {
    if (!v) return;
    j[twi::StrCat(name, "_spl")] = *v;
    tcb += twi::StrCat(tcb.empty() ? "" : ",", name, "=", static_cast<int>(*v));
  };
  spl("bl", e.bl_spl);
  spl("tee", e.tee_spl);
  spl("snp", e.snp_spl);
  spl("ucode", e.ucode_spl);
  spl("fmc", e.fmc_spl);
  if (e.hwid) j["hwid"] = HexEncode(*e.hwid);
  if (e.csp_id) j["csp_id"] = Shown(*e.csp_id);
  if (!ext.ok()) j["amd_extensions_error"] = std::string(ext.status().message());

  out.lines.push_back({prefix + "role", j["role"].get<std::string>()});
  for (const char* k : {"subject", "issuer", "serial", "not_before", "not_after", "sha256", "product_name"}) {
    if (j.contains(k)) out.lines.push_back({prefix + "  " + k, j[k].get<std::string>()});
  }
  if (!tcb.empty()) out.lines.push_back({prefix + "  tcb", tcb});
  for (const char* k : {"hwid", "csp_id", "amd_extensions_error"}) {
    if (j.contains(k)) out.lines.push_back({prefix + "  " + k, j[k].get<std::string>()});
  }
}

}  // namespace

absl::StatusOr<Inspection> InspectSnpReport(const InspectInput& in) {
  if (in.bytes.size() != sevsnp::kReportSize) {
    return absl::InvalidArgumentError(absl::StrFormat("it is %d bytes, want %d", in.bytes.size(), sevsnp::kReportSize));
  }
  auto parsed = sevsnp::ParseReport(in.bytes);
  if (!parsed.ok()) return parsed.status();
  const sevsnp::AttestationReport& r = *parsed;
  auto claims = sevsnp::Claims(r);
  Inspection out;
  out.title = twi::StrCat("SEV-SNP attestation report (", in.bytes.size(), " bytes, version ", r.version,
                          ", not verified)");
  out.json["format"] = "sev-snp-report";
  out.json["evidence_type"] = "sev-snp";
  out.json["verified"] = false;
  out.json["claims"] = nlohmann::ordered_json::object();
  for (const char* k : kReportOrder) {
    auto it = claims.find(k);
    if (it == claims.end()) continue;
    out.json["claims"][k] = it->second;
    out.lines.push_back({k, it->second});
  }
  for (const auto& [k, v] : claims) {  // claims added later still show up
    if (!out.json["claims"].contains(k)) {
      out.json["claims"][k] = v;
      out.lines.push_back({k, v});
    }
  }
  const auto& p = r.policy;
  nlohmann::ordered_json d;
  d["policy_abi"] = absl::StrFormat("%d.%d", p.abi_major, p.abi_minor);
  d["policy_flags"] = Flags({{"smt", p.smt},
                             {"migrate_ma", p.migrate_ma},
                             {"debug", p.debug},
                             {"single_socket", p.single_socket},
                             {"cxl_allow", p.cxl_allow},
                             {"mem_aes_256_xts", p.mem_aes_256_xts},
                             {"rapl_dis", p.rapl_dis},
                             {"ciphertext_hiding", p.ciphertext_hiding},
                             {"page_swap_disable", p.page_swap_disable}});
  const auto& pi = r.platform_info;
  d["platform_flags"] = Flags({{"smt_en", pi.smt_en},
                               {"tsme_en", pi.tsme_en},
                               {"ecc_en", pi.ecc_en},
                               {"rapl_dis", pi.rapl_dis},
                               {"ciphertext_hiding_en", pi.ciphertext_hiding_en},
                               {"alias_check_complete", pi.alias_check_complete},
                               {"sev_tio_en", pi.sev_tio_en}});
  d["mask_chip_key"] = r.signer_info.mask_chip_key;
  d["author_key_en"] = r.signer_info.author_key_en;
  if (r.version >= 3) {
    d["cpuid"] = absl::StrFormat("family=0x%02x,model=0x%02x,stepping=0x%02x", r.cpuid_fam_id, r.cpuid_mod_id,
                                 r.cpuid_step);
  }
  out.json["decoded"] = d;
  for (const auto& [k, v] : d.items()) {
    out.lines.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
  }
  return out;
}

absl::StatusOr<Inspection> InspectCertificates(const InspectInput& in) {
  // PEM bundles from the text, else one DER certificate from the bytes.
  bool pem = in.text.find("-----BEGIN") != std::string::npos;
  auto certs = pem ? ParsePemBundle(in.text) : ParseCertificates(in.bytes);
  if (!certs.ok()) return certs.status();
  Inspection out;
  out.title = twi::StrCat(certs->size() == 1 ? "1 certificate" : twi::StrCat(certs->size(), " certificates"),
                          pem ? " (PEM" : " (DER", ", not verified)");
  out.json["format"] = "certificates";
  out.json["certificates"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < certs->size(); ++i) {
    nlohmann::ordered_json j;
    AddCertificate((*certs)[i], certs->size() == 1 ? "" : twi::StrCat("[", i, "] "), out, j);
    out.json["certificates"].push_back(j);
  }
  return out;
}

absl::StatusOr<Inspection> InspectSnpCertTable(const InspectInput& in) {
  auto table = sevsnp::ParseCertTable(in.bytes);
  if (!table.ok()) return table.status();
  bool known = std::any_of(table->begin(), table->end(), [](const sevsnp::CertTableEntry& e) {
    return e.guid == sevsnp::kGuidVcek || e.guid == sevsnp::kGuidVlek || e.guid == sevsnp::kGuidAsk ||
           e.guid == sevsnp::kGuidArk;
  });
  if (!known) return absl::InvalidArgumentError("it has no VCEK, VLEK, ASK or ARK entry");
  Inspection out;
  out.title = twi::StrCat("SEV-SNP certificate table (", table->size(), " entries, not verified)");
  out.json["format"] = "sev-snp-cert-table";
  out.json["entries"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < table->size(); ++i) {
    const auto& e = (*table)[i];
    std::string prefix = twi::StrCat("[", i, "] ");
    nlohmann::ordered_json j;
    j["guid"] = sevsnp::GuidString(e.guid);
    j["offset"] = e.offset;
    j["length"] = e.length;
    out.lines.push_back({prefix + "guid", twi::StrCat(j["guid"].get<std::string>(), " (", e.length, " bytes at ",
                                                      e.offset, ")")});
    auto cert = Certificate::FromDer(e.data);
    if (cert.ok()) {
      nlohmann::ordered_json cj;
      AddCertificate(*cert, prefix, out, cj);
      j["certificate"] = cj;
    } else {
      j["certificate_error"] = std::string(cert.status().message());
      out.lines.push_back({prefix + "  certificate_error", j["certificate_error"].get<std::string>()});
    }
    out.json["entries"].push_back(j);
  }
  return out;
}

}  // namespace twi::cli
