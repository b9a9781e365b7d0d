#include "attestors/appraisal/selectors.h"

#include <array>

namespace twi::appraisal {
namespace {

constexpr std::array kNode = {
    SelectorDoc{"instance:<hex>", "SHA-256 of the agent's instance key (SPKI DER); stable for one agent state_dir."},
    SelectorDoc{"tee:sev-snp", "the agent presented a verified AMD SEV-SNP report"},
    SelectorDoc{"sev-snp:measurement:<hex>", "launch MEASUREMENT (96 hex digits)"},
    SelectorDoc{"sev-snp:product:<name>", "milan, genoa or turin"},
    SelectorDoc{"sev-snp:policy-debug:<bool>", "guest POLICY debug bit (false unless sev_snp.allow_debug)"},
    SelectorDoc{"sev-snp:host-data:<hex>", "HOST_DATA set by the host at launch (64 hex digits)"},
    SelectorDoc{"sev-snp:tcb:<tcb>", "REPORTED_TCB, e.g. bl=2,tee=0,snp=5,ucode=68 (,fmc=N on Turin)"},
    SelectorDoc{"sev-snp:signing-key:<key>", "vcek or vlek: which AMD key signed the report"},
    SelectorDoc{"sev-snp:vmpl:<n>", "VMPL that requested the report"},
    SelectorDoc{"sev-snp:id-key-digest:<hex>", "ID_KEY_DIGEST, when the guest was launched with an ID block"},
    SelectorDoc{"sev-snp:guest-svn:<n>", "GUEST_SVN from the ID block (0 without one)"},
    SelectorDoc{"sev-snp:root:<kind>", "amd when a built-in AMD root verified the report, extra for a configured extra root (the simulator's pinned ark.pem included)"},
    SelectorDoc{"sev-snp:simulated:true", "the report came from the software simulator (only with insecure_simulation_roots)"},
    SelectorDoc{"tee:tdx", "the agent presented a verified Intel TDX quote"},
    SelectorDoc{"tdx:mrtd:<hex>", "MRTD: the TD's initial image (96 hex digits)"},
    SelectorDoc{"tdx:rtmr0:<hex>", "RTMR0: firmware configuration (replayed from the CCEL when sent)"},
    SelectorDoc{"tdx:rtmr1:<hex>", "RTMR1: OS loader and kernel"},
    SelectorDoc{"tdx:rtmr2:<hex>", "RTMR2: kernel command line and initrd"},
    SelectorDoc{"tdx:rtmr3:<hex>", "RTMR3: runtime extensions"},
    SelectorDoc{"tdx:mrconfigid:<hex>", "MRCONFIGID set by the host at launch"},
    SelectorDoc{"tdx:tcb-status:<status>", "TCB status from Intel collateral (UpToDate unless tdx.allowed_tcb_statuses widens it)"},
    SelectorDoc{"tdx:fmspc:<hex>", "FMSPC of the platform (from the PCK certificate, 12 hex digits)"},
    SelectorDoc{"tdx:debug:<bool>", "TDATTRIBUTES.DEBUG (false unless tdx.allow_debug)"},
    SelectorDoc{"tdx:secure-boot:<bool>", "UEFI SecureBoot as measured in the TD's CCEL, when the agent sent one and it replayed to the quote's RTMRs"},
    SelectorDoc{"tdx:root:<kind>", "intel when the built-in Intel SGX Root CA verified the quote, extra for a configured extra root (the simulator's pinned root.pem)"},
    SelectorDoc{"tdx:simulated:true", "the quote came from the software simulator (only with insecure_simulation_roots)"},
    SelectorDoc{"tee:tpm", "the agent's TPM activated this attestation's credential and quoted its PCRs (server tpm block)"},
    SelectorDoc{"tpm:ek-hash:<hex>", "SHA-256 of the trusted EK's SubjectPublicKeyInfo (EK certificate or ek_hashes route)"},
    SelectorDoc{"tpm:manufacturer:<id>", "TPM manufacturer from the EK certificate, e.g. id:49424D00"},
    SelectorDoc{"tpm:trust-route:<route>", "ek_certificate, ek_hash or ak_certificate: what vouched for the TPM"},
    SelectorDoc{"tpm:pcr:<bank>:<index>:<hex>", "a quoted PCR value, for PCRs named in tpm.pcrs or tpm.selector_pcrs"},
    SelectorDoc{"tpm:secure-boot:<bool>", "SecureBoot as measured into PCR 7, from an event log that replayed to the quote"},
    SelectorDoc{"platform:azure", "the evidence came from an Azure confidential VM (HCL report + vTPM quote, server azure block)"},
    SelectorDoc{"azure:vm-id:<id>", "the Azure VM's vmUniqueId (lowercase) from the runtime claims its hardware report binds (the SNP report, or on TDX the TDREPORT the TD quote vouches for)"},
    SelectorDoc{"platform:gcp", "a Google Cloud VM: its vTPM's AK certificate chains to gcp.ca_bundle and signed this attestation's quotes"},
    SelectorDoc{"gcp:project-id:<id>", "project ID from the AK certificate's instance information"},
    SelectorDoc{"gcp:project-number:<n>", "project number from the instance information"},
    SelectorDoc{"gcp:zone:<zone>", "zone of the VM, e.g. us-central1-a"},
    SelectorDoc{"gcp:instance-id:<id>", "the VM's numeric instance ID (unique per VM)"},
    SelectorDoc{"gcp:instance-name:<name>", "the VM's instance name (reusable after deletion: pair it with the project)"},
    SelectorDoc{"gcp:simulated:true", "the GCP evidence came from a simulated vTPM and CA (only with insecure_simulation_roots)"},
    SelectorDoc{"claim:<name>", "emitted by a claims_mapper rule (see Claims below); never a digest or a version"},
};

constexpr std::array kWorkload = {
    SelectorDoc{"uid:<n>", "the process's uid, only when real, effective, saved and filesystem uids agree"},
    SelectorDoc{"user:<name>", "name of that uid (from /etc/passwd); omitted when unknown"},
    SelectorDoc{"real-uid:<n>", "real uid, only when the uids differ (then no uid: selector)"},
    SelectorDoc{"effective-uid:<n>", "effective uid, only when the uids differ"},
    SelectorDoc{"saved-uid:<n>", "saved set-user-id, only when the uids differ"},
    SelectorDoc{"gid:<n>", "the gid, only when real, effective, saved and filesystem gids agree"},
    SelectorDoc{"group:<name>", "name of that gid (from /etc/group); omitted when unknown"},
    SelectorDoc{"real-gid:<n>", "real gid, only when the gids differ (then no gid: selector)"},
    SelectorDoc{"effective-gid:<n>", "effective gid, only when the gids differ"},
    SelectorDoc{"saved-gid:<n>", "saved set-group-id, only when the gids differ"},
    SelectorDoc{"supplementary-gid:<n>", "one per supplementary group"},
    SelectorDoc{"supplementary-group:<name>", "name of each supplementary group, when known"},
    SelectorDoc{"path:<path>", "the executable (/proc/<pid>/exe) when the process shares the agent's mount namespace; "
                               "omitted when the file was deleted or the path is not valid UTF-8"},
    SelectorDoc{"mnt-ns-path:<inode>:<path>", "the executable's path as resolved in another mount namespace (its nsfs "
                                              "inode): a container's or unshare's own files, never the host's"},
    SelectorDoc{"exe-deleted:true", "the running executable has been deleted or replaced (no path selector then)"},
    SelectorDoc{"sha256:<hex>", "SHA-256 of the executable, read through /proc/<pid>/exe and cached"},
    SelectorDoc{"sha256-omitted:<fs>", "the executable is on fuse, nfs, cifs, 9p, ceph or similar: content not pinned, no sha256"},
    SelectorDoc{"exe-integrity:<strength>", "strong when the host forbids unprivileged user namespaces, else weak: "
                                            "then path/sha256/ima name a file the process may have chosen (prctl PR_SET_MM)"},
    SelectorDoc{"cgroup:<path>", "the process's cgroup (v2 unified, or the v1 name=systemd hierarchy)"},
    SelectorDoc{"container-id:<hex>", "container id under a runtime-owned cgroup prefix (kubepods, /docker, "
                                      "system.slice and machine.slice runtime scopes); outermost container"},
    SelectorDoc{"pod-uid:<uid>", "Kubernetes pod UID from a kubepods cgroup path, at or above the container"},
    SelectorDoc{"rootless-container-id:<uid>:<hex>", "rootless Docker/Podman container below user@<uid>.service "
                                                     "(chosen by that user: pair it with uid)"},
    SelectorDoc{"systemd-unit:<name>", "the system service owning the process (never a .scope)"},
    SelectorDoc{"systemd-user-unit:<name>", "the service of a user manager (user@<uid>.service); pair it with uid"},
    SelectorDoc{"ima:measured:<bool>", "whether the kernel's IMA list has the executable's digest; omitted when IMA is off"},
    SelectorDoc{"ima:pcr:<n>", "PCR (RTMR-mapped on TDX) of each matching IMA entry"},
    SelectorDoc{"tee:sev-snp", "the agent runs in an SEV-SNP guest (the agent's local view, not verified per process: "
                               "never identifies a workload alone)"},
    SelectorDoc{"sev-snp:measurement:<hex>", "the guest's launch MEASUREMENT"},
    SelectorDoc{"sev-snp:host-data:<hex>", "the guest's HOST_DATA"},
    SelectorDoc{"sev-snp:policy-debug:<bool>", "the guest POLICY debug bit"},
    SelectorDoc{"sev-snp:vmpl:<n>", "VMPL of the agent's reports"},
    SelectorDoc{"tee:simulated-sev-snp", "simulate = \"sev-snp\": the TEE values come from the software simulator"},
    SelectorDoc{"simulated-sev-snp:<field>:<value>", "each sev-snp: value above, from the simulator"},
    SelectorDoc{"tee:tdx", "the agent runs in an Intel TDX guest (the agent's local view, as tee:sev-snp)"},
    SelectorDoc{"tdx:mrtd:<hex>", "the TD's MRTD, from a fresh local quote"},
    SelectorDoc{"tdx:rtmr<n>:<hex>", "the TD's RTMR0-3 at the time of the last refresh"},
    SelectorDoc{"tdx:mrconfigid:<hex>", "the TD's MRCONFIGID"},
    SelectorDoc{"tdx:debug:<bool>", "TDATTRIBUTES.DEBUG"},
    SelectorDoc{"tee:simulated-tdx", "simulate = \"tdx\": the TEE values come from the software simulator"},
    SelectorDoc{"simulated-tdx:<field>:<value>", "each tdx: value above, from the simulator"},
};

// Matches `value` against `pattern` where each <...> stands for a non-empty run of characters.
bool Match(std::string_view pattern, std::string_view value) {
  if (pattern.empty()) return value.empty();
  if (pattern[0] == '<') {
    size_t close = pattern.find('>');
    if (close == std::string_view::npos) return false;
    std::string_view rest = pattern.substr(close + 1);
    for (size_t n = 1; n <= value.size(); ++n) {
      if (Match(rest, value.substr(n))) return true;
    }
    return false;
  }
  size_t lit = pattern.find('<');
  std::string_view literal = pattern.substr(0, lit);
  if (value.substr(0, literal.size()) != literal) return false;
  return Match(pattern.substr(literal.size()), value.substr(literal.size()));
}

}  // namespace

std::span<const SelectorDoc> NodeSelectors() { return kNode; }
std::span<const SelectorDoc> WorkloadSelectors() { return kWorkload; }

bool MatchesDocumented(std::span<const SelectorDoc> docs, std::string_view value) {
  for (const auto& d : docs) {
    if (Match(d.pattern, value)) return true;
  }
  return false;
}

}  // namespace twi::appraisal
