// A software TDX quoting stack for tests, demos and CI.
//
// TdxSimulator mints a hierarchy shaped like Intel's DCAP one, every key ECDSA P-256 signed with
// SHA-256: a self-signed root, a PCK Platform CA and a TCB Signing certificate under it, and a
// PCK leaf carrying the SGX extensions in Intel's encoding (1.2.840.113741.1.13.1: PPID, the 16
// TCB components, PCESVN, CPUSVN, PCE-ID, FMSPC, SGX type). Every name carries
// O=twi-attestor simulated Intel and "Simulated" in its CN, so the root can never be mistaken
// for the Intel SGX Root CA; the verifier accepts it only as an extra root with
// allow_simulation_roots (insecure_simulation_roots in configuration and the CLI).
//
// A quote is built like the real stack builds it: the TD body (REPORTDATA, MRTD, RTMRs,
// attributes from the options) is signed by a fresh attestation key; a QE report whose
// REPORTDATA is SHA-256(attestation key || QE auth data) is signed by the PCK key; the PCK chain
// travels as certification data type 5 inside type 6. Collateral matches: Root CA CRL and PCK
// CRL, TCB Info v3 (id TDX, one UpToDate level at the PCK's components) and QE Identity v2 (id
// TD_QE), each signed over its exact JSON text by the TCB Signing key.
//
// What this does not do: emulate the TDX module, MRTD/RTMR extension or key derivation. Fields
// the options leave alone get fixed defaults, so quotes are reproducible apart from signatures.
//
// Negative tests: SimDefect lists targeted faults, each producing evidence that a correct
// verifier rejects for exactly one reason (the check named beside it).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/collateral/dcap_bundle.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"
#include "attestors/core/crypto.h"
#include "attestors/core/x509.h"
#include "attestors/tdx/abi.h"

namespace twi::tdx {

enum class SimDefect {
  kBodyByteFlipped,          // MRTD[0] flipped after signing            -> quote.signature
  kSignatureByteFlipped,     // first byte of the quote signature flipped -> quote.signature
  kQeReportByteFlipped,      // QE report byte flipped after signing     -> qe_report.signature
  kQeBindingMismatch,        // QE REPORTDATA binds another key (signed)  -> qe_report.binding
  kTcbInfoSignatureFlipped,  // TCB Info signature byte flipped          -> tcb_info.signature
  kQeIdentityMismatch,       // QE Identity names another MRSIGNER       -> qe_identity.match
  kTcbInfoFmspcMismatch,     // TCB Info for another FMSPC               -> tcb_info.match
  kPckRevoked,               // PCK serial listed in the PCK CRL         -> crl.pck
  kTcbInfoExpired,           // TCB Info nextUpdate a day ago            -> tcb_info.validity
  kPckWrongSigner,           // PCK names the PCK CA but the root signed -> pck.chain
  kTcbBelowLevels,           // TEE_TCB_SVN below the only TCB level     -> tcb.level
};

struct SimOptions {
  const Clock* clock = nullptr;  // certificate and collateral windows; null = system clock
  int version = 4;               // 4 (TDX 1.0 body) or 5 (TDX 1.5 body, type 3)
  std::optional<Mr> mr_td;                 // default SHA-384("twi-sim mrtd")
  std::array<std::optional<Mr>, 4> rtmr;   // default SHA-384("twi-sim rtmrN")
  std::optional<Mr> mr_config_id, mr_owner, mr_owner_config;  // default zeros
  uint64_t td_attributes = kTdAttrSeptVeDisable;  // debug off
  uint64_t xfam = 0x61ae7;
  // TEE_TCB_SVN: module SVN 3, module version 0 (judged by tdxModule), TDX components 2.
  std::array<uint8_t, 16> tee_tcb_svn{3, 0, 2};
  Bytes fmspc{0x00, 0x80, 0x6f, 0x05, 0x00, 0x00};  // 6 bytes
  std::array<uint8_t, 16> sgx_tcb{3, 3, 2, 2, 4, 1, 0, 3};
  uint16_t pce_svn = 13;
  uint16_t qe_svn = 4;
  std::set<SimDefect> defects;
  // When set, the root, PCK Platform CA and TCB Signing certificates and keys are loaded from
  // this directory if it holds them (root.pem/.key, pck-ca.pem/.key, tcb-signing.pem/.key),
  // otherwise generated and saved there atomically, so an agent (simulation_dir), `twi sim tdx`
  // and a server pinning DIR/root.pem share one root. The PCK leaf and the collateral are
  // minted fresh by every simulator either way.
  std::string dir;
};

class TdxSimulator {
 public:
  static absl::StatusOr<std::unique_ptr<TdxSimulator>> Create(SimOptions options);

  // A signed quote. `report_data` may be shorter than 64 bytes and is zero-padded; longer is
  // INVALID_ARGUMENT. Thread-safe.
  absl::StatusOr<Bytes> GetQuote(ByteView report_data) const;

  // The TD body GetQuote signs for `report_data`: the fields the options give (and the fixed
  // defaults), as the TDX module would put them in the TD's TDREPORT.
  absl::StatusOr<TdReport> Body(ByteView report_data) const;
  // A signed quote over exactly `body`, as the quoting enclave quotes the TDREPORT it is handed
  // (Azure's host quoting service). body.tdx15 is ignored: the options' version decides the
  // body type; a v5 quote carries body.tee_tcb_svn2 and body.mr_service_td. Defects apply.
  absl::StatusOr<Bytes> GetQuoteForBody(const TdReport& body) const;

  // The nine-key collateral bundle (collateral/dcap_bundle.h) matching the quotes.
  const std::string& collateral_json() const { return collateral_json_; }
  absl::StatusOr<collateral::DcapCollateral> Collateral() const;

  const Certificate& root() const { return *root_; }
  std::string root_pem() const;
  const SimOptions& options() const { return options_; }

 private:
  TdxSimulator() = default;
  absl::Status Init();
  absl::Status MintAuthorities(TimePoint not_before);  // root, PCK CA, TCB Signing
  absl::Status MintCollateral();

  SimOptions options_;
  EvpPkeyPtr root_key_, pck_ca_key_, tcb_key_, pck_key_, att_key_;
  X509Ptr root_x_, pck_ca_x_, tcb_x_, pck_x_;
  std::optional<Certificate> root_;
  std::string pck_chain_pem_;  // leaf, PCK CA, root
  std::string collateral_json_;
};

// Marks certificates minted here (O=twi-attestor simulated Intel).
bool IsSimulationRoot(const Certificate& cert);

}  // namespace twi::tdx
