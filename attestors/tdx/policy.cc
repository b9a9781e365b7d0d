#include "attestors/tdx/policy.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attestors/collateral/dcap_json.h"
#include "attestors/core/status.h"

namespace twi::tdx {
namespace {

std::string Hex64(uint64_t v) { return absl::StrFormat("0x%016x", v); }

using Outcome = FirstFailure;

// `what` (48 bytes) against an allow-list of exact values.
void CheckMeasurement(Outcome& out, const std::string& name, const std::string& field,
                      ByteView got, const std::vector<Bytes>& allowed) {
  if (allowed.empty()) {
    out.Pass(name, StrCat("any ", field, " (no allow-list); got ", HexEncode(got)));
    return;
  }
  for (const Bytes& a : allowed) {
    if (ConstantTimeEqual(a, got)) {
      out.Pass(name, StrCat(field, " ", HexEncode(got), " is allowed"));
      return;
    }
  }
  out.Fail(name, StrCat("got ", field, " ", HexEncode(got), "; want one of ", allowed.size(),
                        " allowed value(s), first ", ShortHex(allowed[0])));
}

bool Contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string SvnList(ByteView svn) {
  return absl::StrJoin(svn.begin(), svn.end(), ",",
                       [](std::string* out, uint8_t v) { absl::StrAppend(out, v); });
}

}  // namespace

bool TdxPolicy::pins_nothing() const {
  if (!mrtds.empty()) return false;
  for (const auto& r : rtmrs) {
    if (!r.empty()) return false;
  }
  return true;
}

absl::Status ValidatePolicy(const TdxPolicy& p) {
  std::vector<std::string> problems;
  if (p.allowed_tcb_statuses.empty()) problems.push_back("allowed_tcb_statuses is empty");
  for (const std::string& s : p.allowed_tcb_statuses) {
    if (!collateral::IsKnownTcbStatus(s) && s != "TDRelaunchAdvised" &&
        s != "TDRelaunchAdvisedConfigurationNeeded") {
      problems.push_back(StrCat("allowed_tcb_statuses: unknown status \"", s, "\""));
    } else if (s == "Revoked") {
      problems.push_back("allowed_tcb_statuses: Revoked can never be accepted");
    }
  }
  auto lengths = [&](const std::vector<Bytes>& list, const std::string& field) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].size() != 48) {
        problems.push_back(StrCat(field, "[", i, "] is ", list[i].size(), " bytes, want 48"));
      }
    }
  };
  lengths(p.mrtds, "mrtd");
  for (size_t i = 0; i < 4; ++i) lengths(p.rtmrs[i], StrCat("rtmr", i));
  lengths(p.mrconfigids, "mrconfigid");
  lengths(p.mrowners, "mrowner");
  lengths(p.mrownerconfigs, "mrownerconfig");
  if ((p.td_attributes_value & ~p.td_attributes_mask) != 0) {
    problems.push_back(StrCat("td_attributes value ", Hex64(p.td_attributes_value),
                              " has bits outside the mask ", Hex64(p.td_attributes_mask)));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("tdx policy: ", absl::StrJoin(problems, "; ")));
}

absl::Status Appraise(const VerifiedQuote& v, const TdxPolicy& p, CheckList& checks) {
  Outcome out(checks);
  if (!v.has_tcb || !v.quote.is_tdx()) {
    out.Fail("policy.evidence", v.quote.is_tdx() ? "quote was not verified"
                                                 : "got an sgx enclave quote; want a tdx td quote");
    return out.status();
  }
  const TdReport& td = *v.quote.td;
  const TcbEvaluation& tcb = v.tcb;

  if (Contains(p.allowed_tcb_statuses, tcb.status)) {
    out.Pass("policy.tcb_status", StrCat("tcb status ", tcb.status, " is allowed"));
  } else {
    out.Fail("policy.tcb_status", StrCat("got tcb status ", tcb.status, "; want one of [",
                                         absl::StrJoin(p.allowed_tcb_statuses, ","), "]"));
  }
  std::vector<std::string> unlisted;
  for (const std::string& a : tcb.advisory_ids) {
    if (!Contains(p.allowed_advisory_ids, a)) unlisted.push_back(a);
  }
  if (unlisted.empty()) {
    out.Pass("policy.advisories", tcb.advisory_ids.empty()
                                      ? std::string("no advisories")
                                      : StrCat("advisories [", absl::StrJoin(tcb.advisory_ids, ","),
                                               "] are allowed"));
  } else {
    out.Fail("policy.advisories",
             StrCat("got advisories [", absl::StrJoin(unlisted, ","),
                    "] not in allowed_advisory_ids; want every advisory allow-listed"));
  }

  if (td.debug() && !p.allow_debug) {
    out.Fail("policy.debug", StrCat("got a debug td (TDATTRIBUTES ", Hex64(td.td_attributes),
                                    ", bit 0 set); want bit 0 clear, or allow_debug = true"));
  } else {
    out.Pass("policy.debug", StrCat("TDATTRIBUTES.DEBUG ", td.debug() ? "set, allowed" : "clear"));
  }

  CheckMeasurement(out, "policy.mrtd", "MRTD", td.mr_td, p.mrtds);
  for (size_t i = 0; i < 4; ++i) {
    CheckMeasurement(out, StrCat("policy.rtmr", i), StrCat("RTMR", i), td.rtmr[i], p.rtmrs[i]);
  }
  CheckMeasurement(out, "policy.mrconfigid", "MRCONFIGID", td.mr_config_id, p.mrconfigids);
  CheckMeasurement(out, "policy.mrowner", "MROWNER", td.mr_owner, p.mrowners);
  CheckMeasurement(out, "policy.mrownerconfig", "MROWNERCONFIG", td.mr_owner_config,
                   p.mrownerconfigs);

  if (p.xfams.empty() || std::find(p.xfams.begin(), p.xfams.end(), td.xfam) != p.xfams.end()) {
    out.Pass("policy.xfam", StrCat("XFAM ", Hex64(td.xfam),
                                   p.xfams.empty() ? " (no allow-list)" : " is allowed"));
  } else {
    std::vector<std::string> want;
    for (uint64_t x : p.xfams) want.push_back(Hex64(x));
    out.Fail("policy.xfam", StrCat("got XFAM ", Hex64(td.xfam), "; want one of [",
                                   absl::StrJoin(want, ","), "]"));
  }

  const bool sept = (td.td_attributes & kTdAttrSeptVeDisable) != 0;
  if (p.require_sept_ve_disable && !sept) {
    out.Fail("policy.td_attributes",
             StrCat("got TDATTRIBUTES ", Hex64(td.td_attributes),
                    " without SEPT_VE_DISABLE (bit 28); want it set, or "
                    "require_sept_ve_disable = false"));
  } else if ((td.td_attributes & p.td_attributes_mask) != p.td_attributes_value) {
    out.Fail("policy.td_attributes",
             StrCat("got TDATTRIBUTES ", Hex64(td.td_attributes), " (masked ",
                    Hex64(td.td_attributes & p.td_attributes_mask), "); want ",
                    Hex64(p.td_attributes_value), " under mask ", Hex64(p.td_attributes_mask)));
  } else {
    out.Pass("policy.td_attributes", StrCat("TDATTRIBUTES ", Hex64(td.td_attributes),
                                            sept ? ", SEPT_VE_DISABLE set" : ""));
  }

  if (p.min_tee_tcb_svn) {
    size_t below = 16;
    for (size_t i = 0; i < 16 && below == 16; ++i) {
      if (td.tee_tcb_svn[i] < (*p.min_tee_tcb_svn)[i]) below = i;
    }
    if (below < 16) {
      out.Fail("policy.tee_tcb_svn",
               StrCat("got TEE_TCB_SVN [", SvnList(td.tee_tcb_svn), "] (component ", below, " = ",
                      td.tee_tcb_svn[below], "); want at least [", SvnList(*p.min_tee_tcb_svn),
                      "]"));
    } else {
      out.Pass("policy.tee_tcb_svn", StrCat("TEE_TCB_SVN [", SvnList(td.tee_tcb_svn),
                                            "] meets the minimum"));
    }
  } else {
    out.Pass("policy.tee_tcb_svn", "no minimum configured");
  }
  const uint16_t qe_svn = v.quote.qe.qe_report.isv_svn;
  if (p.min_qe_svn && qe_svn < *p.min_qe_svn) {
    out.Fail("policy.qe_svn", StrCat("got qe ISVSVN ", qe_svn, "; want at least ", *p.min_qe_svn));
  } else {
    out.Pass("policy.qe_svn", p.min_qe_svn ? StrCat("qe ISVSVN ", qe_svn, " meets the minimum ",
                                                    *p.min_qe_svn)
                                           : std::string("no minimum configured"));
  }
  return out.status();
}

std::vector<std::string> Selectors(const VerifiedQuote& v) {
  std::vector<std::string> s;
  if (!v.quote.is_tdx()) return s;
  const TdReport& td = *v.quote.td;
  s.push_back("tee:tdx");
  s.push_back(StrCat("tdx:mrtd:", HexEncode(td.mr_td)));
  for (size_t i = 0; i < 4; ++i) s.push_back(StrCat("tdx:rtmr", i, ":", HexEncode(td.rtmr[i])));
  s.push_back(StrCat("tdx:mrconfigid:", HexEncode(td.mr_config_id)));
  if (v.has_tcb) s.push_back(StrCat("tdx:tcb-status:", v.tcb.status));
  if (v.has_pck) s.push_back(StrCat("tdx:fmspc:", HexEncode(v.pck.fmspc)));
  s.push_back(StrCat("tdx:debug:", td.debug() ? "true" : "false"));
  return s;
}

std::map<std::string, std::string> Claims(const VerifiedQuote& v) {
  std::map<std::string, std::string> c;
  if (!v.has_quote) return c;
  const Quote& q = v.quote;
  c["quote_version"] = StrCat(q.header.version);
  c["tee_type"] = q.is_tdx() ? "tdx" : "sgx";
  c["body_type"] = BodyTypeName(q.body_type);
  c["qe_svn"] = StrCat(q.qe.qe_report.isv_svn);
  if (q.is_tdx()) {
    const TdReport& td = *q.td;
    c["mrtd"] = HexEncode(td.mr_td);
    for (size_t i = 0; i < 4; ++i) c[StrCat("rtmr", i)] = HexEncode(td.rtmr[i]);
    c["mrconfigid"] = HexEncode(td.mr_config_id);
    c["mrowner"] = HexEncode(td.mr_owner);
    c["mrownerconfig"] = HexEncode(td.mr_owner_config);
    c["mrseam"] = HexEncode(td.mr_seam);
    c["mrsignerseam"] = HexEncode(td.mr_signer_seam);
    c["td_attributes"] = absl::StrFormat("%016x", td.td_attributes);
    c["xfam"] = absl::StrFormat("%016x", td.xfam);
    c["debug"] = td.debug() ? "true" : "false";
    c["tee_tcb_svn"] = HexEncode(td.tee_tcb_svn);
    if (td.tdx15) c["tee_tcb_svn2"] = HexEncode(td.tee_tcb_svn2);
    c["report_data"] = HexEncode(td.report_data);
  } else if (q.enclave) {
    c["mrenclave"] = HexEncode(q.enclave->mr_enclave);
    c["mrsigner"] = HexEncode(q.enclave->mr_signer);
    c["debug"] = q.enclave->debug() ? "true" : "false";
    c["report_data"] = HexEncode(q.enclave->report_data);
  }
  if (v.has_pck) {
    c["fmspc"] = HexEncode(v.pck.fmspc);
    c["pceid"] = HexEncode(v.pck.pce_id);
    c["pcesvn"] = StrCat(v.pck.pce_svn);
    c["pck_ca"] = v.pck_ca;
  }
  if (v.has_tcb) {
    c["tcb_status"] = v.tcb.status;
    c["advisory_ids"] = absl::StrJoin(v.tcb.advisory_ids, ",");
    c["tcb_date"] = FormatRfc3339(v.tcb.tcb_date);
    c["platform_tcb_status"] = v.tcb.platform_status;
    c["qe_tcb_status"] = v.tcb.qe_status;
    if (q.is_tdx()) c["module_tcb_status"] = v.tcb.module_status;
  }
  return c;
}

}  // namespace twi::tdx
