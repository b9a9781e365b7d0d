// TCB level selection and status convergence (spec 2.8), following the semantics of Intel's
// Quote Verification Library: SGX match on the PCK components and PCESVN, TDX match on
// TEE_TCB_SVN (from index 2 when a module identity judges the module), module and QE statuses
// folded in, TD relaunch advice for TDX 1.5.
#include <algorithm>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attestors/core/status.h"
#include "attestors/tdx/verify.h"

namespace twi::tdx {
namespace {

using collateral::IdentityTcbLevel;
using collateral::TcbInfo;
using collateral::TcbLevel;
using collateral::TdxModuleIdentity;

absl::Status NotSupported(std::string why) {
  return absl::InvalidArgumentError(StrCat("tcb not supported: ", why));
}

std::string Svns(const std::array<uint8_t, 16>& a) {
  return absl::StrJoin(a.begin(), a.end(), ",", [](std::string* out, uint8_t v) {
    absl::StrAppend(out, v);
  });
}

bool SgxMatch(const PckExtensions& pck, const TcbLevel& l) {
  for (size_t i = 0; i < 16; ++i) {
    if (pck.sgx_tcb[i] < l.sgx[i]) return false;
  }
  return pck.pce_svn >= l.pcesvn;
}

bool TdxMatch(const std::array<uint8_t, 16>& tee_tcb_svn, const TcbLevel& l) {
  // With a module identity (TEE_TCB_SVN[1] > 0) the module SVN and version are judged there.
  for (size_t i = tee_tcb_svn[1] > 0 ? 2 : 0; i < 16; ++i) {
    if (tee_tcb_svn[i] < l.tdx[i]) return false;
  }
  return true;
}

bool ConfigurationNeeded(const std::string& s) {
  return s == "ConfigurationNeeded" || s == "OutOfDateConfigurationNeeded" ||
         s == "ConfigurationAndSWHardeningNeeded" || s == "TDRelaunchAdvisedConfigurationNeeded";
}

// An OutOfDate component drags UpToDate/SWHardeningNeeded to OutOfDate and the Configuration*
// statuses to OutOfDateConfigurationNeeded; a Revoked component revokes.
std::string Converge(const std::string& level, const std::string& component) {
  if (component == "OutOfDate") {
    if (level == "UpToDate" || level == "SWHardeningNeeded") return "OutOfDate";
    if (level == "ConfigurationNeeded" || level == "ConfigurationAndSWHardeningNeeded") {
      return "OutOfDateConfigurationNeeded";
    }
  }
  if (component == "Revoked") return "Revoked";
  return level;
}

std::string ModuleId(uint8_t version) { return absl::StrFormat("TDX_%02X", version); }

const TdxModuleIdentity* FindModule(const TcbInfo& t, uint8_t version) {
  std::string want = ModuleId(version);
  for (const TdxModuleIdentity& m : t.tdx_module_identities) {
    std::string id = m.id;
    std::transform(id.begin(), id.end(), id.begin(), ::toupper);
    if (id == want) return &m;
  }
  return nullptr;
}

const IdentityTcbLevel* FirstAtOrBelow(const std::vector<IdentityTcbLevel>& levels, uint16_t svn) {
  for (const IdentityTcbLevel& l : levels) {
    if (svn >= l.isvsvn) return &l;
  }
  return nullptr;
}

// TDX 1.5: an OutOfDate module on an otherwise current platform, where TEE_TCB_SVN2 (the
// module the platform runs now) reaches the newest level, means "relaunch the TD".
std::string Relaunch(const TdReport& td, const TcbInfo& t, const std::string& sgx_status,
                     const std::string& tdx_status, const std::string& module_status,
                     const std::string& qe_status) {
  if (qe_status == "OutOfDate" || qe_status == "Revoked") return tdx_status;
  if (sgx_status != "UpToDate" && sgx_status != "SWHardeningNeeded" &&
      sgx_status != "ConfigurationNeeded" && sgx_status != "ConfigurationAndSWHardeningNeeded") {
    return tdx_status;
  }
  if (tdx_status != "OutOfDate" && tdx_status != "OutOfDateConfigurationNeeded") return tdx_status;
  if (module_status != "OutOfDate") return tdx_status;
  const TcbLevel& latest = t.levels.front();
  const auto& svn2 = td.tee_tcb_svn2;
  uint8_t want_module = latest.tdx[0];
  if (svn2[1] != 0) {
    const TdxModuleIdentity* m2 = FindModule(t, svn2[1]);
    if (m2 == nullptr || m2->levels.empty()) return tdx_status;
    want_module = static_cast<uint8_t>(std::min<uint16_t>(m2->levels.front().isvsvn, 255));
    if (m2->levels.front().isvsvn > 255) return tdx_status;
  }
  if (svn2[0] >= want_module && svn2[2] >= latest.tdx[2]) {
    return ConfigurationNeeded(sgx_status) || ConfigurationNeeded(tdx_status)
               ? "TDRelaunchAdvisedConfigurationNeeded"
               : "TDRelaunchAdvised";
  }
  return tdx_status;
}

}  // namespace

absl::StatusOr<TcbEvaluation> EvaluateTcb(const Quote& quote, const PckExtensions& pck,
                                          const TcbInfo& t, const IdentityTcbLevel& qe_level) {
  TcbEvaluation ev;
  ev.qe_status = qe_level.status;
  ev.tcb_evaluation_data_number = t.tcb_evaluation_data_number;
  std::set<std::string> advisories(qe_level.advisory_ids.begin(), qe_level.advisory_ids.end());
  const TcbLevel* sgx_level = nullptr;
  const TcbLevel* tdx_level = nullptr;
  for (const TcbLevel& l : t.levels) {
    if (!SgxMatch(pck, l)) continue;
    if (sgx_level == nullptr) sgx_level = &l;
    if (!quote.is_tdx()) break;
    if (TdxMatch(quote.td->tee_tcb_svn, l)) {
      tdx_level = &l;
      break;
    }
  }
  if (sgx_level == nullptr) {
    return NotSupported(StrCat("pck sgx components [", Svns(pck.sgx_tcb), "] pcesvn ",
                               pck.pce_svn, " are below every tcb level of fmspc ",
                               HexEncode(t.fmspc)));
  }
  if (!quote.is_tdx()) {
    ev.platform_status = sgx_level->status;
    ev.tcb_date = sgx_level->tcb_date;
    advisories.insert(sgx_level->advisory_ids.begin(), sgx_level->advisory_ids.end());
    ev.status = Converge(sgx_level->status, qe_level.status);
    ev.advisory_ids.assign(advisories.begin(), advisories.end());
    return ev;
  }
  const TdReport& td = *quote.td;
  if (tdx_level == nullptr) {
    return NotSupported(StrCat("TEE_TCB_SVN [", Svns(td.tee_tcb_svn),
                               "] is below every tcb level that the pck components reach"));
  }
  ev.platform_status = tdx_level->status;
  ev.tcb_date = tdx_level->tcb_date;
  advisories.insert(tdx_level->advisory_ids.begin(), tdx_level->advisory_ids.end());

  const uint8_t module_version = td.tee_tcb_svn[1];
  ev.module_status = "UpToDate";  // version 0: the TDX level judged the module SVN
  if (module_version > 0) {
    const TdxModuleIdentity* m = FindModule(t, module_version);
    if (m == nullptr) {
      return absl::InvalidArgumentError(StrCat("tdx module mismatch: no tdxModuleIdentities entry ",
                                               ModuleId(module_version), " for TEE_TCB_SVN[1] ",
                                               module_version));
    }
    const IdentityTcbLevel* ml = FirstAtOrBelow(m->levels, td.tee_tcb_svn[0]);
    if (ml == nullptr) {
      return NotSupported(StrCat("tdx module ", m->id, " svn ", td.tee_tcb_svn[0],
                                 " is below every module tcb level"));
    }
    ev.module_status = ml->status;
    advisories.insert(ml->advisory_ids.begin(), ml->advisory_ids.end());
  }
  std::string status = Converge(tdx_level->status, ev.module_status);
  if (status != "Revoked" && td.tdx15) {
    status = Relaunch(td, t, sgx_level->status, status, ev.module_status, qe_level.status);
  }
  if (status != "Revoked") status = Converge(status, qe_level.status);
  ev.status = status;
  ev.advisory_ids.assign(advisories.begin(), advisories.end());
  return ev;
}

}  // namespace twi::tdx
