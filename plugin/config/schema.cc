#include "attestors/core/str.h"
#include "plugin/config/schema.h"

#include <array>

namespace twi::config {
namespace {

constexpr KeyDoc kLogLevel{"log_level", "string", "\"info\"", "\"debug\"",
                           "Log level of the plugin's stderr log: trace, debug, info, warn or error."};

// Keys the agent and workload plugins share (both read the local TEE device).
constexpr KeyDoc kSnpConfigfs{"sev_snp.configfs_path", "string", "\"/sys/kernel/config/tsm/report\"",
                              "\"/sys/kernel/config/tsm/report\"",
                              "configfs-tsm report directory (tried first)."};
constexpr KeyDoc kSnpDevice{"sev_snp.device_path", "string", "\"/dev/sev-guest\"", "\"/dev/sev-guest\"",
                            "sev-guest device for the extended-report ioctl (fallback)."};
constexpr KeyDoc kTdxConfigfs{"tdx.configfs_path", "string", "\"/sys/kernel/config/tsm/report\"",
                              "\"/sys/kernel/config/tsm/report\"",
                              "configfs-tsm report directory for TDX quotes (provider tdx_guest)."};

constexpr std::array kAgent = {
    kLogLevel,
    KeyDoc{"state_dir", "string", "\"/var/lib/twi-attestor/agent\"", "\"/var/lib/spire/agent/twi\"",
           "Directory for the agent's instance key (created 0700; the key file is 0600 and reused "
           "across restarts)."},
    KeyDoc{"simulate", "string", "\"\"", "\"sev-snp\"",
           "Use a software TEE instead of the device: \"sev-snp\" or \"tdx\". For demos and tests; "
           "the server refuses simulated evidence unless insecure_simulation_roots = true and its "
           "sev_snp.extra_roots pins this agent's simulation_dir/ark.pem (tdx.extra_roots its "
           "simulation_dir/root.pem). Without simulate, TDX is offered when configfs-tsm's provider "
           "is tdx_guest, else SEV-SNP when its device is present."},
    KeyDoc{"simulate_measurement", "string", "", "\"" "000000000000000000000000000000000000000000000000"
           "000000000000000000000000000000000000000000000000" "\"",
           "With simulate = \"sev-snp\": the launch MEASUREMENT (96 hex digits) the simulated guest "
           "reports, to demonstrate an image update."},
    KeyDoc{"simulate_mrtd", "string", "", "\"" "000000000000000000000000000000000000000000000000"
           "000000000000000000000000000000000000000000000000" "\"",
           "With simulate = \"tdx\": the MRTD (96 hex digits) the simulated TD reports."},
    KeyDoc{"simulate_debug_td", "bool", "false", "false",
           "With simulate = \"tdx\": the simulated TD is a debug TD (TDATTRIBUTES.DEBUG), to see "
           "the server refuse it."},
    KeyDoc{"simulation_dir", "string", "", "\"/etc/twi/sim-amd\"",
           "With simulate: directory of the simulated AMD hierarchy (ark.pem, keys; default "
           "state_dir/sim-amd) or Intel hierarchy (root.pem, keys, and collateral.json rewritten at "
           "each start; default state_dir/sim-intel), generated there if absent. The server pins "
           "ark.pem in sev_snp.extra_roots, or root.pem in tdx.extra_roots with "
           "tdx.collateral_offline_path = DIR/collateral.json (`twi sim sev-snp|tdx --out DIR` makes "
           "DIR/sim-amd or DIR/sim-intel)."},
    kSnpConfigfs,
    kSnpDevice,
    KeyDoc{"sev_snp.vmpl", "integer", "0", "0", "VMPL requested for the report (0-3)."},
    kTdxConfigfs,
    KeyDoc{"tdx.ccel_table_path", "string", "\"/sys/firmware/acpi/tables/CCEL\"",
           "\"/sys/firmware/acpi/tables/CCEL\"",
           "ACPI CCEL table; when it exists, it and the log area are sent with the quote."},
    KeyDoc{"tdx.ccel_data_path", "string", "\"/sys/firmware/acpi/tables/data/CCEL\"",
           "\"/sys/firmware/acpi/tables/data/CCEL\"",
           "CCEL log area (the TD's boot event log, replayed by the server into RTMR0-2)."},
    KeyDoc{"azure.tcti", "string", "\"device:/dev/tpmrm0\"", "\"device:/dev/tpmrm0\"",
           "Azure confidential VMs: the vTPM (tpm2-tss TCTI). With an azure block, Azure SEV-SNP "
           "or TDX evidence (as the HCL report says) is offered when this TPM holds the HCL report "
           "(NV 0x01400001) and the paravisor's AK (0x81000003)."},
    KeyDoc{"azure.pcr_banks", "list of strings", "[\"sha256\"]", "[\"sha256\"]",
           "PCR banks to quote with the AK, one quote each."},
    KeyDoc{"azure.pcrs", "list of integers", "[0, 1, 2, 3, 4, 5, 6, 7]", "[0, 1, 2, 3, 4, 5, 6, 7]",
           "PCR indices to quote in each bank."},
    KeyDoc{"azure.event_log_path", "string", "\"/sys/kernel/security/tpm0/binary_bios_measurements\"",
           "\"/sys/kernel/security/tpm0/binary_bios_measurements\"",
           "TCG event log sent with the quotes when the file exists; \"\" never sends one."},
    KeyDoc{"azure.vcek_source", "string", "\"imds\"", "\"imds\"",
           "Where the VCEK sent with the report comes from: \"imds\" (Azure's THIM cache at "
           "imds_url/metadata/THIM/amd/certification; when it does not answer, none is sent) or "
           "\"none\" (the server fetches it from AMD KDS)."},
    KeyDoc{"azure.imds_url", "string", "\"http://169.254.169.254\"", "\"http://169.254.169.254\"",
           "Base URL of the instance metadata service (THIM; on TDX CVMs the TD quote, POST "
           "/acc/tdquote)."},
    KeyDoc{"azure.simulate", "bool", "false", "true",
           "The vTPM is a simulated Azure CVM (a swtpm provisioned by `twi sim azure`, or here on "
           "first start with the simulation_dir AMD hierarchy): the VCEK comes from the simulated "
           "host and the evidence is marked simulated (refused unless insecure_simulation_roots)."},
    KeyDoc{"tpm.tcti", "string", "\"device:/dev/tpmrm0\"", "\"device:/dev/tpmrm0\"",
           "TPM 2.0 access (tpm2-tss TCTI): device:/dev/tpmrm0 (kernel resource manager), "
           "device:/dev/tpm0, swtpm:port=P (tests). TPM evidence is offered, beside SEV-SNP or TDX, when it "
           "answers; \"\" never offers it."},
    KeyDoc{"tpm.pcr_banks", "list of strings", "[\"sha256\"]", "[\"sha1\", \"sha256\"]",
           "PCR banks to quote, one quote each: sha1, sha256, sha384, sha512."},
    KeyDoc{"tpm.pcrs", "list of integers", "[0, 1, 2, 3, 4, 5, 6, 7]", "[0, 2, 4, 7]",
           "PCR indices (0-23) quoted in every bank."},
    KeyDoc{"tpm.ek_alg", "string", "\"rsa\"", "\"ecc\"",
           "Endorsement key of the TCG EK profile: rsa (RSA-2048) or ecc (NIST P-256)."},
    KeyDoc{"tpm.ek_handle", "integer", "0", "2164326401",
           "A persistent EK (0x81000000-0x81FFFFFF, e.g. 0x81010001 = 2164326401); 0 derives the "
           "profile EK from the endorsement seed."},
    KeyDoc{"tpm.ak_handle", "integer", "0", "2164260865",
           "Persist the attestation key at this handle (0x81000000-0x817FFFFF) and reuse it; 0 "
           "creates a fresh AK under the EK at each start."},
    KeyDoc{"tpm.ak_cert_nv_index", "integer", "0", "29425664",
           "NV index of an AK certificate to send (GCE: 0x01C10000 = 29425664); 0 = none."},
    KeyDoc{"tpm.event_log_path", "string", "\"/sys/kernel/security/tpm0/binary_bios_measurements\"",
           "\"/sys/kernel/security/tpm0/binary_bios_measurements\"",
           "TCG boot event log sent with the quotes when the file exists; \"\" never sends one."},
    KeyDoc{"key_binding.keymanager_socket", "string", "", "\"/run/spire/twi-keys/keys.sock\"",
           "Bind the agent's SVID key: the twi KeyManager's socket_path. Each attestation reads "
           "the pending key there, binds SHA-256 of it into the evidence beside the instance key "
           "and adds the KeyManager's proof-of-possession signature; if the KeyManager does not "
           "answer, the attestation fails (never falls back to an unbound one)."},
    KeyDoc{"gcp.tcti", "string", "\"\"", "\"device:/dev/tpmrm0\"",
           "Google Cloud: the VM's vTPM (tpm2-tss TCTI). When set, GCP evidence is offered: the "
           "AK GCE provisioned (made from its NV template), its Google-issued certificate, one "
           "quote per bank and the SEV-SNP or TDX evidence of gcp.tee, which then rides in the GCP "
           "evidence instead of being offered on its own; a tpm block on the same TCTI is not "
           "used. Configure fails when the vTPM has no AK certificate."},
    KeyDoc{"gcp.ak", "string", "\"rsa\"", "\"ecc\"",
           "Which GCE AK: rsa (template NV 0x01C10001, certificate 0x01C10000) or ecc "
           "(0x01C10003, 0x01C10002)."},
    KeyDoc{"gcp.pcr_banks", "list of strings", "[\"sha256\"]", "[\"sha1\", \"sha256\"]",
           "PCR banks of the vTPM to quote, one quote each."},
    KeyDoc{"gcp.pcrs", "list of integers", "[0, 1, 2, 3, 4, 5, 6, 7]", "[0, 4, 7]",
           "PCR indices (0-23) quoted in every bank."},
    KeyDoc{"gcp.tee", "string", "\"auto\"", "\"sev-snp\"",
           "Hardware evidence sent with the vTPM's: \"sev-snp\" or \"tdx\" (Configure fails "
           "without that device; with simulate, its simulator), \"none\", or \"auto\" (whichever "
           "the VM has, none on a Shielded VM)."},
    KeyDoc{"gcp.event_log_path", "string", "\"/sys/kernel/security/tpm0/binary_bios_measurements\"",
           "\"/sys/kernel/security/tpm0/binary_bios_measurements\"",
           "TCG boot event log sent with the quotes when the file exists; \"\" never sends one."},
};

constexpr std::array kServer = {
    kLogLevel,
    KeyDoc{"agent_path_template", "string", "\"{instance_key_hash}\"",
           "\"{instance_key_hash}\"",
           "Suffix of the agent ID after spiffe://<trust domain>/spire/agent/twi/. Placeholders: "
           "{instance_key_hash}, {sev_snp.chip_id}, {sev_snp.measurement}, {sev_snp.host_data}, "
           "{sev_snp.report_id}, {tdx.mrtd}, {tdx.mrconfigid}, {tdx.fmspc}, {tdx.tcb_status}, "
           "{tpm.ek_hash}, {azure.vm_id}, {gcp.project_id}, {gcp.project_number}, {gcp.zone}, "
           "{gcp.instance_id}, {gcp.instance_name}. Must contain {instance_key_hash}, "
           "{sev_snp.report_id}, {tpm.ek_hash} (one TPM, one machine: a stable per-machine ID), "
           "{azure.vm_id} or {gcp.instance_id} (Google's ID of one VM, from its AK certificate): "
           "the others are shared between VMs or chosen by the host (TDX has no per-TD value). "
           "E.g. \"gcp/{gcp.project_id}/{gcp.zone}/{gcp.instance_id}\"."},
    KeyDoc{"insecure_allow_no_tee", "bool", "false", "false",
           "Accept agents that present no TEE evidence (instance key only). Proves nothing about "
           "the machine: for development only."},
    KeyDoc{"insecure_simulation_roots", "bool", "false", "false",
           "Accept evidence from `simulate` agents when it chains to a root in "
           "sev_snp.extra_roots (the agent's simulation_dir/ark.pem) or tdx.extra_roots (its "
           "simulation_dir/root.pem); Configure refuses it without one. Never in production."},
    KeyDoc{"sev_snp.allow_debug", "bool", "false", "false",
           "Accept guests whose POLICY allows debugging (bit 19: the host can read guest memory)."},
    KeyDoc{"sev_snp.allow_smt", "bool", "true", "true",
           "Accept guests whose POLICY allows SMT (bit 16); false requires SMT-disabled guests."},
    KeyDoc{"sev_snp.allow_migration_agent", "bool", "false", "false",
           "Accept guests whose POLICY allows a migration agent (bit 18)."},
    KeyDoc{"sev_snp.allowed_vmpls", "list of integers", "[0]", "[0]",
           "VMPLs a report may come from."},
    KeyDoc{"sev_snp.signing_key", "string", "\"both\"", "\"vcek\"",
           "Which AMD key may sign reports: \"vcek\", \"vlek\" or \"both\"."},
    KeyDoc{"sev_snp.min_tcb.bootloader", "integer", "", "2",
           "Minimum boot loader SPL in REPORTED, COMMITTED and CURRENT TCB."},
    KeyDoc{"sev_snp.min_tcb.tee", "integer", "", "0", "Minimum TEE SPL (as above)."},
    KeyDoc{"sev_snp.min_tcb.snp", "integer", "", "5", "Minimum SNP firmware SPL (as above)."},
    KeyDoc{"sev_snp.min_tcb.microcode", "integer", "", "68", "Minimum microcode SPL (as above)."},
    KeyDoc{"sev_snp.min_tcb.fmc", "integer", "", "1", "Minimum FMC SPL (Turin only)."},
    KeyDoc{"sev_snp.min_firmware", "string", "", "\"1.55\"",
           "Minimum firmware version, major.minor[.build], of current and committed firmware."},
    KeyDoc{"sev_snp.measurements", "list of strings", "", "[\"" "000000000000000000000000000000000000000000000000"
           "000000000000000000000000000000000000000000000000" "\"]",
           "Allowed launch MEASUREMENTs (96 hex digits); empty or unset accepts any."},
    KeyDoc{"sev_snp.host_data", "list of strings", "", "[\"" "0000000000000000000000000000000000000000000000000000000000000000" "\"]",
           "Allowed HOST_DATA values (64 hex digits); empty or unset accepts any."},
    KeyDoc{"sev_snp.id_key_digests", "list of strings", "", "[]",
           "Allowed ID_KEY_DIGESTs (96 hex digits); empty or unset accepts any."},
    KeyDoc{"sev_snp.author_key_digests", "list of strings", "", "[]",
           "Allowed AUTHOR_KEY_DIGESTs (96 hex digits); set ones also require AUTHOR_KEY_EN."},
    KeyDoc{"sev_snp.product", "string", "", "\"milan\"",
           "Product of version-2 reports (which do not name it): milan, genoa or turin."},
    KeyDoc{"sev_snp.extra_roots", "list of strings", "", "[\"vcek:/etc/twi/sim-amd/ark.pem\"]",
           "ARKs to trust beside AMD's built-in Milan, Genoa and Turin roots, as \"vcek:FILE\" or "
           "\"vlek:FILE\" (PEM). Each must be a self-issued ARK whose CN names its product "
           "(ARK-Milan, ARK-Genoa, ARK-Turin) and is trusted for that product and key type only "
           "(vcek: chains through an ASK, vlek: through an ASVK); AMD's CRL is not applied to it; "
           "evidence it verifies gets sev-snp:root:extra. Configure warns for each. The only way "
           "to trust the simulator (with insecure_simulation_roots)."},
    KeyDoc{"sev_snp.crl", "string", "\"if-available\"", "\"require\"",
           "AMD CRL checking: \"if-available\" (check when KDS or the cache has one), \"require\" "
           "(UNAVAILABLE while none can be had), or \"off\". The CRL is the one of the verified "
           "chain's root and key type."},
    KeyDoc{"sev_snp.kds_base_url", "string", "\"https://kdsintf.amd.com\"", "\"https://kdsintf.amd.com\"",
           "AMD KDS (or a proxy) for VCEKs missing from the evidence, chains and CRLs; \"\" never "
           "fetches."},
    KeyDoc{"sev_snp.kds_cache_dir", "string", "\"\"", "\"/var/cache/twi-attestor/kds\"",
           "Disk cache of fetched VCEKs, chains and CRLs (memory only when unset)."},
    KeyDoc{"sev_snp.kds_offline_dir", "string", "\"\"", "\"/etc/twi-attestor/kds\"",
           "Air-gapped mode: read collateral only from this directory (the cache layout), never "
           "the network."},
    KeyDoc{"tdx.allowed_tcb_statuses", "list of strings", "[\"UpToDate\"]", "[\"UpToDate\", \"SWHardeningNeeded\"]",
           "TCB statuses (Intel collateral) a quote may have; Revoked is never accepted."},
    KeyDoc{"tdx.allowed_advisory_ids", "list of strings", "[]", "[\"INTEL-SA-00837\"]",
           "Every advisory ID of the quote's TCB level must be listed here."},
    KeyDoc{"tdx.allow_debug", "bool", "false", "false",
           "Accept debug TDs (TDATTRIBUTES.DEBUG: the host can read TD memory)."},
    KeyDoc{"tdx.require_sept_ve_disable", "bool", "true", "true",
           "Require TDATTRIBUTES.SEPT_VE_DISABLE (else the host can inject #VE on EPT violations)."},
    KeyDoc{"tdx.mrtd", "list of strings", "", "[\"" "000000000000000000000000000000000000000000000000"
           "000000000000000000000000000000000000000000000000" "\"]",
           "Allowed MRTDs (96 hex digits): the TD's initial image; empty or unset accepts any "
           "(Configure warns unless this or an rtmr list is set)."},
    KeyDoc{"tdx.rtmr0", "list of strings", "", "[]", "Allowed RTMR0 values (firmware configuration)."},
    KeyDoc{"tdx.rtmr1", "list of strings", "", "[]", "Allowed RTMR1 values (OS loader and kernel)."},
    KeyDoc{"tdx.rtmr2", "list of strings", "", "[]", "Allowed RTMR2 values (kernel command line, initrd)."},
    KeyDoc{"tdx.rtmr3", "list of strings", "", "[]", "Allowed RTMR3 values (runtime extensions)."},
    KeyDoc{"tdx.mrconfigid", "list of strings", "", "[]", "Allowed MRCONFIGIDs (96 hex digits)."},
    KeyDoc{"tdx.mrowner", "list of strings", "", "[]", "Allowed MROWNERs (96 hex digits)."},
    KeyDoc{"tdx.mrownerconfig", "list of strings", "", "[]", "Allowed MROWNERCONFIGs (96 hex digits)."},
    KeyDoc{"tdx.xfam", "list of strings", "", "[\"0x61ae7\"]", "Allowed XFAM values (hex); empty accepts any."},
    KeyDoc{"tdx.td_attributes_mask", "string", "", "\"0x10000000\"",
           "With td_attributes: TDATTRIBUTES & mask must equal td_attributes."},
    KeyDoc{"tdx.td_attributes", "string", "", "\"0x0\"",
           "Expected TDATTRIBUTES bits under td_attributes_mask (hex), e.g. \"0x10000000\" with that mask."},
    KeyDoc{"tdx.min_tee_tcb_svn", "string", "", "\"03000200000000000000000000000000\"",
           "Minimum TEE_TCB_SVN, 32 hex digits compared per component."},
    KeyDoc{"tdx.min_qe_svn", "integer", "", "4", "Minimum ISVSVN of the quoting enclave."},
    KeyDoc{"tdx.allow_missing_crls", "bool", "false", "false",
           "Accept collateral without the Root CA and PCK CRLs (revocation then unchecked)."},
    KeyDoc{"tdx.extra_roots", "list of strings", "", "[\"/etc/twi/sim-intel/root.pem\"]",
           "Self-issued roots (PEM files) trusted beside the built-in Intel SGX Root CA, only with "
           "insecure_simulation_roots (the simulator's simulation_dir/root.pem); evidence they "
           "verify gets tdx:root:extra. Configure warns for each."},
    KeyDoc{"tdx.collateral_base_url", "string", "\"https://api.trustedservices.intel.com\"",
           "\"https://pccs.example.internal:8081\"",
           "Intel PCS or a PCCS serving TCB Info, QE Identity and CRLs (PCS v4 API); \"\" with "
           "collateral_offline_path only reads files."},
    KeyDoc{"tdx.collateral_offline_path", "string", "\"\"", "\"/etc/twi-attestor/dcap\"",
           "Air-gapped mode: a nine-key collateral bundle file, or a directory of <FMSPC>.json "
           "bundles; never touches the network."},
    KeyDoc{"tdx.pccs_allow_self_signed_tls", "bool", "false", "false",
           "Accept a PCCS's self-signed TLS certificate (collateral is still verified against the "
           "Intel root)."},
    KeyDoc{"tdx.collateral_tls_ca_file", "string", "\"\"", "\"/etc/twi-attestor/pccs-ca.pem\"",
           "PEM certificate(s) to trust for the PCCS's TLS instead of the system store (an "
           "alternative to pccs_allow_self_signed_tls)."},
    KeyDoc{"tdx.collateral_cache_dir", "string", "\"\"", "\"/var/cache/twi-attestor/dcap\"",
           "Keeps fetched collateral items across restarts, each until its nextUpdate (\"\" = "
           "memory only)."},
    KeyDoc{"azure.accept_sev_snp", "bool", "true", "true",
           "With an azure block: accept Azure SEV-SNP confidential VMs (HCL report + vTPM quote). "
           "The SNP report is verified and appraised with the sev_snp settings (roots, policy, "
           "KDS) at VMPL 0."},
    KeyDoc{"azure.accept_tdx", "bool", "true", "true",
           "With an azure block: accept Azure TDX confidential VMs (HCL report + TD quote of its "
           "TDREPORT + vTPM quote). The TD quote is verified and appraised with the tdx settings "
           "(roots, policy, collateral) and must carry the TDREPORT's fields."},
    KeyDoc{"azure.pcrs", "object", "", "{ \"sha256:7\" = [" "\"" "00000000000000000000000000000000" "00000000000000000000000000000000" "\"" "] }",
           "Allowed values of vTPM PCRs, as tpm.pcrs."},
    KeyDoc{"azure.require_secure_boot", "bool", "false", "true",
           "Require an event log whose replay matches PCR 7 and measures SecureBoot enabled."},
    KeyDoc{"azure.boot_loader_digests", "list of strings", "", "[]",
           "Allowed digests of the first boot application in PCR 4 (from a replayed event log)."},
    KeyDoc{"azure.allow_sha1_signatures", "bool", "false", "false",
           "Accept vTPM quotes signed over SHA-1."},
    KeyDoc{"azure.selector_pcrs", "list of integers", "[]", "[7]",
           "vTPM PCRs reported as tpm:pcr selectors besides those azure.pcrs names."},
    KeyDoc{"tpm.ek_ca_files", "list of strings", "", "[\"/etc/twi/tpm-ek-ca.pem\"]",
           "PEM files of TPM manufacturer CAs: self-issued certificates are roots, the others "
           "intermediates; an EK certificate chaining to a root trusts the TPM. Setting any tpm key "
           "enables TPM verification; at least one of ek_ca_files, ek_hashes, ak_ca_files is required."},
    KeyDoc{"tpm.ek_hashes", "list of strings", "", "[" "\"" "00000000000000000000000000000000" "00000000000000000000000000000000" "\"" "]",
           "SHA-256 (64 hex digits) of trusted EKs' SubjectPublicKeyInfo (cloud vTPMs without EK "
           "certificates; `twi tpm info` prints it)."},
    KeyDoc{"tpm.ak_ca_files", "list of strings", "", "[\"/etc/twi/gce-ak-ca.pem\"]",
           "PEM files of CAs that certify attestation keys directly (e.g. GCE's AK CA)."},
    KeyDoc{"tpm.pcrs", "object", "", "{ \"sha256:7\" = [" "\"" "00000000000000000000000000000000" "00000000000000000000000000000000" "\"" "] }",
           "PCR allow-lists: \"<bank>:<index>\" = [hex values]; a listed PCR must be quoted and "
           "hold one of its values. Unset accepts any PCR values (Configure warns)."},
    KeyDoc{"tpm.require_secure_boot", "bool", "false", "true",
           "Require an event log whose replay matches PCR 7 and measures SecureBoot enabled."},
    KeyDoc{"tpm.boot_loader_digests", "list of strings", "", "[" "\"" "00000000000000000000000000000000" "00000000000000000000000000000000" "\"" "]",
           "Allowed digests of the first boot application in PCR 4 (from a replayed event log)."},
    KeyDoc{"tpm.allow_sha1_signatures", "bool", "false", "false",
           "Accept quotes signed over SHA-1 (older AKs)."},
    KeyDoc{"tpm.selector_pcrs", "list of integers", "[]", "[7]",
           "PCRs reported as tpm:pcr:<bank>:<index>:<hex> selectors besides those tpm.pcrs names."},
    KeyDoc{"key_binding.mode", "string", "\"records\"", "\"stateless\"",
           "With the block present, only agents whose evidence binds their SVID key (agent "
           "key_binding with twi-agent-keymanager) attest. \"records\": each such attestation leaves "
           "a binding record (agent ID, SHA-256 of the key's SPKI) for twi-server-credentialcomposer "
           "on records_socket. \"stateless\": the agent ID gets a last segment kb-<hex SHA-256 of "
           "the SPKI> instead (new agent ID at every rotation; README \"Key binding\")."},
    KeyDoc{"key_binding.records_socket", "string", "\"/run/spire/twi-keybinding/records.sock\"",
           "\"/run/spire/twi-keybinding/records.sock\"",
           "Unix socket the NodeAttestor serves binding records on (mode \"records\"); its directory "
           "is created 0700 (an existing one must be the server user's and closed to others) and "
           "only the server's uid may connect."},
    KeyDoc{"key_binding.record_ttl_seconds", "integer", "60", "60",
           "How long a binding record waits for the composer (SPIRE calls it within the same "
           "AttestAgent request)."},
    KeyDoc{"gcp.ca_bundle", "list of strings", "", "[\"/etc/twi/gce-vtpm-ca.pem\"]",
           "PEM files of the GCE vTPM CAs (examples/gcp/vtpm-ca-bundle.pem): self-issued "
           "certificates are roots, the others intermediates. Setting any gcp key enables GCP "
           "verification; ca_bundle and require_tee are then required. A simulated CA "
           "(`twi sim gcp`) is refused without insecure_simulation_roots."},
    KeyDoc{"gcp.require_tee", "string", "", "\"sev-snp\"",
           "Hardware evidence every GCP attestation must carry, bound to the same nonce as the "
           "vTPM quotes and verified with the sev_snp or tdx block (its policy and selectors "
           "apply): \"sev-snp\", \"tdx\", or \"none\" (Shielded VMs; Configure warns)."},
    KeyDoc{"gcp.allowed_project_ids", "list of strings", "", "[\"payments-prod\"]",
           "Projects whose VMs are accepted (from the AK certificate); unset accepts every "
           "project of every Google Cloud customer (Configure warns)."},
    KeyDoc{"gcp.allow_non_production", "bool", "false", "false",
           "Accept AK certificates whose instance information lacks isProduction."},
    KeyDoc{"gcp.pcrs", "object", "", "{ \"sha256:0\" = [" "\"" "00000000000000000000000000000000" "00000000000000000000000000000000" "\"" "] }",
           "PCR allow-lists for the vTPM quotes, as tpm.pcrs."},
    KeyDoc{"gcp.require_secure_boot", "bool", "false", "true",
           "Require an event log whose replay matches PCR 7 and measures SecureBoot enabled."},
    KeyDoc{"gcp.boot_loader_digests", "list of strings", "", "[]",
           "Allowed digests of the first boot application in PCR 4 (from a replayed event log)."},
    KeyDoc{"gcp.allow_sha1_signatures", "bool", "false", "false",
           "Accept vTPM quotes signed over SHA-1."},
    KeyDoc{"gcp.selector_pcrs", "list of integers", "[]", "[7]",
           "PCRs reported as tpm:pcr:<bank>:<index>:<hex> selectors besides those gcp.pcrs names."},
};

constexpr std::array kWorkload = {
    kLogLevel,
    KeyDoc{"proc_root", "string", "\"/proc\"", "\"/proc\"",
           "procfs mount to read processes from (the host's /proc when the agent runs in a "
           "container with hostPID)."},
    KeyDoc{"hash_executables", "bool", "true", "true",
           "Emit sha256:<hex> of each workload's executable (read through /proc/<pid>/exe, cached "
           "by device, inode, size, mtime and ctime)."},
    KeyDoc{"max_executable_bytes", "integer", "268435456", "268435456",
           "Executables larger than this get no sha256 selector."},
    KeyDoc{"ima_path", "string", "\"/sys/kernel/security/ima/binary_runtime_measurements\"",
           "\"/sys/kernel/security/ima/binary_runtime_measurements\"",
           "IMA measurement list for ima:measured selectors; \"\" disables them. The binary list "
           "is framed by lengths, so one file name with a newline cannot taint later entries as "
           "it does in ascii_runtime_measurements (still read when named so)."},
    KeyDoc{"proc_sys_root", "string", "\"/proc/sys\"", "\"/proc/sys\"",
           "sysctl tree read for exe-integrity:strong|weak (user.max_user_namespaces, "
           "kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns)."},
    KeyDoc{"max_concurrent_hashes", "integer", "2", "2",
           "Executables hashed at the same time; a call finding no free slot within "
           "hash_timeout_ms fails (RESOURCE_EXHAUSTED)."},
    KeyDoc{"hash_timeout_ms", "integer", "10000", "10000",
           "Deadline for one executable digest (waiting for a slot included); a stalled read "
           "(e.g. a hostile FUSE file system) fails the call with DEADLINE_EXCEEDED."},
    KeyDoc{"hash_budget_bytes_per_uid", "integer", "4294967296", "4294967296",
           "Bytes hashed per real uid per minute (cache misses only); above it that uid's calls "
           "fail (RESOURCE_EXHAUSTED) until the minute ends. 0 = unlimited."},
    KeyDoc{"tee_refresh_seconds", "integer", "300", "300",
           "How often the TEE context (tee: and measurement selectors) is re-read; 0 = only at "
           "Configure."},
    KeyDoc{"simulate", "string", "\"\"", "\"sev-snp\"",
           "Read the TEE context from the software simulator (\"sev-snp\" or \"tdx\") instead of "
           "the device."},
    kSnpConfigfs,
    kSnpDevice,
    kTdxConfigfs,
};

}  // namespace

std::span<const KeyDoc> AgentSchema() { return kAgent; }
std::span<const KeyDoc> ServerSchema() { return kServer; }
std::span<const KeyDoc> WorkloadSchema() { return kWorkload; }

}  // namespace twi::config
