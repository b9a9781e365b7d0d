// twi collect: capture evidence on a confidential VM, in exactly the files `twi verify` takes.
//
// Each evidence kind plugs in as one EvidenceKind entry (kinds.cc): its collector writes the
// evidence into the output directory and returns the `twi verify` arguments that check it;
// the generic part (collect.cc) parses options and writes DIR/verify.sh around those
// arguments. Kinds without a collector yet are listed so the CLI can say so (exit 2).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/collateral/dcap_source.h"
#include "attestors/sevsnp/collect.h"
#include "attestors/tsm/configfs_tsm.h"
#include "attestors/tpm/collect.h"

namespace twi::cli {

struct CollectRequest {
  std::string kind;       // "sev-snp", ...
  bool simulate = false;  // use the kind's software simulator instead of the device
  Bytes nonce;            // bound into the evidence (SEV-SNP: REPORT_DATA, zero-padded)
  std::filesystem::path out;
  std::string twi_path;   // the twi that verify.sh runs (overridable there with $TWI)
  // SEV-SNP devices; tests point them at a fake configfs-tsm dir or ioctl.
  sevsnp::SnpDeviceOptions snp_devices;
  // TDX: configfs-tsm (tests point it at a fake dir), and where the quote's collateral comes
  // from (Intel PCS by default, as the server plugin).
  tsm::ConfigfsTsmOptions tdx_configfs;
  collateral::DcapSourceOptions dcap = [] {
    collateral::DcapSourceOptions o;
    o.base_url = "https://api.trustedservices.intel.com";
    return o;
  }();
  // Simulation: where the simulated AMD hierarchy is kept ("" = a fresh one) and its RSA size.
  std::string sim_dir;
  int sim_rsa_bits = 4096;
  // TPM: the TCTI and keys (tpm.tcti: --tcti), the PCRs quoted (--pcr-banks, --pcrs) and where
  // the event log is read from.
  tpm::TpmCollectOptions tpm;
  std::vector<tpm::PcrBankSelection> tpm_pcrs = {{0x000B, {0, 1, 2, 3, 4, 5, 6, 7}}};
  std::string tpm_event_log = tpm::kDefaultEventLogPath;
  // GCP: the GCE vTPM CA bundle (PEM) copied beside the evidence for verify.sh (--ca); "" =
  // none (pass --ca to verify.sh). The vTPM is tpm.tcti (--tpm or --tcti).
  std::string gcp_ca_file;
  // Azure: the instance metadata service THIM (SEV-SNP) and the TD quoting service (TDX)
  // answer at (--imds-url).
  std::string imds_url = "http://169.254.169.254";
  // Simulation only (--tee): the hardware beside the simulated vTPM, "sev-snp" or "tdx"; ""
  // is the kind's default (azure: sev-snp; gcp: none, the vTPM alone). On a VM the device
  // decides (azure: the HCL report's type; gcp: the TEE the guest has).
  std::string sim_tee;
};

// What a collector produced: the files it wrote (names inside `out`), the `twi verify`
// arguments relative to `out`, the device it used (for the summary line), and what the
// collector decided from the evidence itself (printed, and kept as a comment in verify.sh).
struct Collected {
  std::vector<std::string> files;
  std::vector<std::string> verify_args;
  std::string device;
  std::string note;  // e.g. "the HCL report's type is 4 (tdx): azure-tdx evidence"
};

struct EvidenceKind {
  const char* name;  // the --kind / --type spelling
  // nullptr: recognised but not collectable yet.
  absl::StatusOr<Collected> (*collect)(const CollectRequest& request);
};
// Every kind the CLI knows, supported or not.
const std::vector<EvidenceKind>& EvidenceKinds();

// Writes one evidence file (binary, truncating); UNAVAILABLE naming it on failure.
absl::Status WriteEvidenceFile(const std::filesystem::path& path, std::string_view data);

absl::StatusOr<Collected> CollectSevSnp(const CollectRequest& request);
absl::StatusOr<Collected> CollectTdx(const CollectRequest& request);
absl::StatusOr<Collected> CollectTpm(const CollectRequest& request);
absl::StatusOr<Collected> CollectAzure(const CollectRequest& request);
absl::StatusOr<Collected> CollectGcp(const CollectRequest& request);

// Simulated SEV-SNP evidence only: the simulated ARK (ark.pem) and policy.hcl trusting it for
// VCEKs (extra_roots), added to `c` as `--policy policy.hcl`.
absl::Status WriteSimSnpTrust(const CollectRequest& request, const std::string& ark_pem,
                              Collected* c);
// Simulated TDX evidence only: the simulator's root (root.pem) and policy.hcl trusting it
// (insecure_simulation_roots, extra_roots), added to `c` as `--policy policy.hcl`.
absl::Status WriteSimTdxTrust(const CollectRequest& request, const std::string& root_pem,
                              Collected* c);

// The DCAP collateral bundle (JSON, as `twi verify --type tdx --collateral` takes it) for a TD
// quote's FMSPC, from request.dcap.
absl::StatusOr<std::string> FetchTdxCollateral(const CollectRequest& request, ByteView quote);

// Collects into request.out and writes verify.sh. Exit code: 0 written, 1 the device or the
// simulator failed, 2 an unknown or unsupported kind.
int RunCollect(const CollectRequest& request);
// The command line: twi collect [--kind K] [--simulate K] [--nonce HEX] --out DIR
// [--tcti T] [--pcr-banks sha256,sha1] [--pcrs 0-7,14] ...
int Collect(const std::vector<std::string>& args);

}  // namespace twi::cli
