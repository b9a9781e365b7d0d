#include "attestors/appraisal/claims_vocabulary.h"

#include <array>
#include <cctype>

#include "attestors/core/str.h"

namespace twi::appraisal {
namespace {

constexpr std::string_view kSnp = "SEV-SNP evidence";
constexpr std::string_view kTdx = "TDX evidence";
constexpr std::string_view kTpm = "TPM evidence";
constexpr std::string_view kAzure = "Azure evidence";
constexpr std::string_view kGcp = "GCP evidence";
constexpr std::string_view kTee = "every TEE evidence kind";

constexpr std::array kVocabulary = {
    ClaimDoc{"tee", ClaimType::kString, 0, kTee, "which TEE produced the evidence: sev-snp or tdx; tpm when a TPM quote is the only evidence"},
    ClaimDoc{"platform", ClaimType::kString, 0, kTee, "CPU product line: milan, genoa, turin (SEV-SNP)"},
    ClaimDoc{"debug", ClaimType::kBool, 0, kTee, "the guest allows debugging (the host can read its memory)"},
    ClaimDoc{"simulated", ClaimType::kBool, 0, kTee, "the evidence came from the software simulator"},
    ClaimDoc{"sev_snp_measurement", ClaimType::kHex, 48, kSnp, "launch MEASUREMENT: the guest image"},
    ClaimDoc{"sev_snp_host_data", ClaimType::kHex, 32, kSnp, "HOST_DATA set by the host at launch"},
    ClaimDoc{"sev_snp_id_key_digest", ClaimType::kHex, 48, kSnp, "ID_KEY_DIGEST (only with an ID block)"},
    ClaimDoc{"sev_snp_author_key_digest", ClaimType::kHex, 48, kSnp, "AUTHOR_KEY_DIGEST (only when AUTHOR_KEY_EN)"},
    ClaimDoc{"sev_snp_family_id", ClaimType::kHex, 16, kSnp, "FAMILY_ID from the ID block"},
    ClaimDoc{"sev_snp_image_id", ClaimType::kHex, 16, kSnp, "IMAGE_ID from the ID block"},
    ClaimDoc{"sev_snp_guest_svn", ClaimType::kNumber, 0, kSnp, "GUEST_SVN from the ID block"},
    ClaimDoc{"sev_snp_report_id", ClaimType::kHex, 32, kSnp, "REPORT_ID: per-guest, changes at every launch"},
    ClaimDoc{"sev_snp_chip_id", ClaimType::kHex, 64, kSnp, "CHIP_ID (absent when the host masks it)"},
    ClaimDoc{"sev_snp_vmpl", ClaimType::kNumber, 0, kSnp, "VMPL that requested the report"},
    ClaimDoc{"sev_snp_signing_key", ClaimType::kString, 0, kSnp, "vcek or vlek"},
    ClaimDoc{"sev_snp_tcb_bootloader", ClaimType::kNumber, 0, kSnp, "boot loader SPL of REPORTED_TCB"},
    ClaimDoc{"sev_snp_tcb_tee", ClaimType::kNumber, 0, kSnp, "TEE SPL of REPORTED_TCB"},
    ClaimDoc{"sev_snp_tcb_snp", ClaimType::kNumber, 0, kSnp, "SNP firmware SPL of REPORTED_TCB"},
    ClaimDoc{"sev_snp_tcb_microcode", ClaimType::kNumber, 0, kSnp, "microcode SPL of REPORTED_TCB"},
    ClaimDoc{"sev_snp_tcb_fmc", ClaimType::kNumber, 0, kSnp, "FMC SPL of REPORTED_TCB (Turin only)"},
    ClaimDoc{"tdx_mrtd", ClaimType::kHex, 48, kTdx, "MRTD: the TD's initial image"},
    ClaimDoc{"tdx_rtmr0", ClaimType::kHex, 48, kTdx, "RTMR0: firmware configuration"},
    ClaimDoc{"tdx_rtmr1", ClaimType::kHex, 48, kTdx, "RTMR1: OS loader and kernel"},
    ClaimDoc{"tdx_rtmr2", ClaimType::kHex, 48, kTdx, "RTMR2: kernel command line and initrd"},
    ClaimDoc{"tdx_rtmr3", ClaimType::kHex, 48, kTdx, "RTMR3: runtime extensions"},
    ClaimDoc{"tdx_mrconfigid", ClaimType::kHex, 48, kTdx, "MRCONFIGID set by the host at launch"},
    ClaimDoc{"tdx_mrowner", ClaimType::kHex, 48, kTdx, "MROWNER: the TD owner's identity"},
    ClaimDoc{"tdx_mrownerconfig", ClaimType::kHex, 48, kTdx, "MROWNERCONFIG: owner-defined configuration"},
    ClaimDoc{"tdx_tcb_status", ClaimType::kString, 0, kTdx, "TCB status from Intel collateral, e.g. UpToDate"},
    ClaimDoc{"tdx_fmspc", ClaimType::kHex, 6, kTdx, "FMSPC: the platform type (from the PCK certificate)"},
    ClaimDoc{"tdx_tee_tcb_svn", ClaimType::kHex, 16, kTdx, "TEE_TCB_SVN: TDX module and component SVNs"},
    ClaimDoc{"tdx_xfam", ClaimType::kHex, 8, kTdx, "XFAM: extended CPU features the TD may use (big-endian)"},
    ClaimDoc{"tdx_secure_boot", ClaimType::kBool, 0, kTdx, "UEFI SecureBoot as measured in the CCEL (only when the log was sent and replayed to RTMR0-2)"},
    ClaimDoc{"tdx_boot_loader", ClaimType::kHex, 48, kTdx, "SHA-384 of the first EFI boot application in the CCEL (same condition)"},
    ClaimDoc{"tdx_td_attributes", ClaimType::kHex, 8, kTdx, "TDATTRIBUTES (big-endian; bit 0 DEBUG, bit 28 SEPT_VE_DISABLE)"},
    ClaimDoc{"tpm_pcr_sha256_<n>", ClaimType::kHex, 32, kTpm, "SHA-256 PCR n (0-23) from a verified quote"},
    ClaimDoc{"tpm_pcr_sha1_<n>", ClaimType::kHex, 20, kTpm, "SHA-1 PCR n (0-23) from a verified quote"},
    ClaimDoc{"tpm_pcr_sha384_<n>", ClaimType::kHex, 48, kTpm, "SHA-384 PCR n (0-23) from a verified quote"},
    ClaimDoc{"tpm_pcr_sha512_<n>", ClaimType::kHex, 64, kTpm, "SHA-512 PCR n (0-23) from a verified quote"},
    ClaimDoc{"tpm_ek_hash", ClaimType::kHex, 32, kTpm, "SHA-256 of the trusted EK's SubjectPublicKeyInfo (EK routes)"},
    ClaimDoc{"tpm_manufacturer", ClaimType::kString, 0, kTpm, "TPM manufacturer from the EK certificate, e.g. id:49424D00"},
    ClaimDoc{"tpm_trust_route", ClaimType::kString, 0, kTpm, "ek_certificate, ek_hash or ak_certificate; azure_hcl when an Azure HCL report vouches for the AK"},
    ClaimDoc{"tpm_ak_pub_sha256", ClaimType::kHex, 32, kTpm, "SHA-256 of the attestation key's SubjectPublicKeyInfo"},
    ClaimDoc{"tpm_secure_boot", ClaimType::kBool, 0, kTpm, "SecureBoot as measured into PCR 7 (replayed event log)"},
    ClaimDoc{"azure_vm_id", ClaimType::kString, 0, kAzure, "Azure vmUniqueId (lowercase) from the runtime claims the SNP report binds"},
    ClaimDoc{"gcp_project_id", ClaimType::kString, 0, kGcp, "GCP project ID"},
    ClaimDoc{"gcp_project_number", ClaimType::kString, 0, kGcp, "GCP project number (decimal)"},
    ClaimDoc{"gcp_zone", ClaimType::kString, 0, kGcp, "GCP zone, e.g. europe-west4-a"},
    ClaimDoc{"gcp_instance_id", ClaimType::kString, 0, kGcp, "the VM's numeric instance ID (decimal, up to 20 digits)"},
    ClaimDoc{"gcp_instance_name", ClaimType::kString, 0, kGcp, "the VM's instance name"},
};

constexpr std::array<std::string_view, 4> kPcrBanks = {"sha1", "sha256", "sha384", "sha512"};

}  // namespace

std::string_view ClaimTypeName(ClaimType t) {
  switch (t) {
    case ClaimType::kHex: return "hex";
    case ClaimType::kString: return "string";
    case ClaimType::kBool: return "bool";
    case ClaimType::kNumber: return "number";
  }
  return "?";
}

std::span<const ClaimDoc> Vocabulary() { return kVocabulary; }

std::string_view TeeOf(std::string_view name) {
  if (name.substr(0, 8) == "sev_snp_") return "sev-snp";
  // tpm_* claims have no TEE of their own: a TPM quote may accompany SEV-SNP or TDX evidence,
  // and its fields apply whichever TEE the attestation names.
  if (name.substr(0, 4) == "tdx_") return "tdx";
  return "";
}

const ClaimDoc* FindClaim(std::string_view name) {
  std::string pattern;  // tpm_pcr_<bank>_<n> is looked up as its pattern
  for (std::string_view bank : kPcrBanks) {
    const std::string prefix = twi::StrCat("tpm_pcr_", bank, "_");
    if (name.substr(0, prefix.size()) != prefix) continue;
    std::string_view n = name.substr(prefix.size());
    bool ok = !n.empty() && n.size() <= 2 && std::isdigit(static_cast<unsigned char>(n[0])) &&
              (n.size() == 1 || (n[0] != '0' && std::isdigit(static_cast<unsigned char>(n[1]))));
    if (!ok || std::stoi(std::string(n)) > 23) return nullptr;
    pattern = prefix + "<n>";
    name = pattern;
    break;
  }
  for (const auto& d : kVocabulary) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

absl::Status CheckValue(const ClaimDoc& doc, std::string_view v) {
  switch (doc.type) {
    case ClaimType::kHex:
      if (v.size() != static_cast<size_t>(doc.hex_bytes) * 2) {
        return absl::InvalidArgumentError(twi::StrCat("must be ", doc.hex_bytes * 2, " hex digits, got ", v.size()));
      }
      for (char c : v) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
          return absl::InvalidArgumentError("must be lowercase hex");
        }
      }
      return absl::OkStatus();
    case ClaimType::kBool:
      if (v == "true" || v == "false") return absl::OkStatus();
      return absl::InvalidArgumentError("must be true or false");
    case ClaimType::kNumber:
      if (v.empty() || v.size() > 18 || (v.size() > 1 && v[0] == '0')) {
        return absl::InvalidArgumentError("must be a decimal number");
      }
      for (char c : v) {
        if (c < '0' || c > '9') return absl::InvalidArgumentError("must be a decimal number");
      }
      return absl::OkStatus();
    case ClaimType::kString:
      if (v.empty() || v.size() > 256) return absl::InvalidArgumentError("must be 1 to 256 characters");
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status CheckClaims(const Claims& claims) {
  for (const auto& [name, value] : claims) {
    const ClaimDoc* d = FindClaim(name);
    if (d == nullptr) return absl::InvalidArgumentError(twi::StrCat("\"", name, "\" is not a claim"));
    absl::Status s = CheckValue(*d, value);
    if (!s.ok()) return absl::InvalidArgumentError(twi::StrCat("claim ", name, ": ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace twi::appraisal
