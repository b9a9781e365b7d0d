#include "attestors/azure/verify_tdx.h"

#include <vector>

#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tdx/policy.h"

namespace twi::azure {
namespace {

absl::Status Fail(CheckList& checks, std::string name, std::string detail) {
  return checks.Fail(std::move(name), std::move(detail), absl::StatusCode::kInvalidArgument);
}

// One compared field: its name and both values as bytes.
struct Field {
  const char* name;
  ByteView report, quote;
};

// The TDX verifier's checks into `checks`, its quote.* renamed td_quote.* so they are not
// confused with the vTPM quote's; its failure re-stated under the new name.
absl::Status MergeTdChecks(const CheckList& td, const absl::Status& s, CheckList& checks) {
  std::string failed;
  for (const Check& c : td.checks()) {
    std::string name = c.name.rfind("quote.", 0) == 0 ? "td_" + c.name : c.name;
    if (c.passed) {
      checks.Pass(std::move(name), c.detail);
    } else {
      failed = name;
      (void)checks.Fail(std::move(name), c.detail, s.code());
    }
  }
  if (s.ok()) return s;
  std::string_view msg = ToStd(s.message());
  if (size_t colon = msg.find(": "); !failed.empty() && colon != std::string_view::npos) {
    msg.remove_prefix(colon + 2);
    return absl::Status(s.code(), StrCat(failed, ": ", msg));
  }
  return s;
}

}  // namespace

absl::Status MatchTdReport(const TdReportStruct& report, const tdx::TdReport& q,
                           CheckList& checks) {
  const tdx::TdReport& r = report.body;
  uint8_t r_attr[8], q_attr[8], r_xfam[8], q_xfam[8];
  StoreLe64(r_attr, r.td_attributes);
  StoreLe64(q_attr, q.td_attributes);
  StoreLe64(r_xfam, r.xfam);
  StoreLe64(q_xfam, q.xfam);
  std::vector<Field> fields = {
      {"REPORTDATA", r.report_data, q.report_data},
      {"MRTD", r.mr_td, q.mr_td},
      {"RTMR0", r.rtmr[0], q.rtmr[0]},
      {"RTMR1", r.rtmr[1], q.rtmr[1]},
      {"RTMR2", r.rtmr[2], q.rtmr[2]},
      {"RTMR3", r.rtmr[3], q.rtmr[3]},
      {"TDATTRIBUTES", ByteView(r_attr, 8), ByteView(q_attr, 8)},
      {"XFAM", ByteView(r_xfam, 8), ByteView(q_xfam, 8)},
      {"TEE_TCB_SVN", r.tee_tcb_svn, q.tee_tcb_svn},
      {"MRSEAM", r.mr_seam, q.mr_seam},
      {"MRSIGNERSEAM", r.mr_signer_seam, q.mr_signer_seam},
      {"SEAMATTRIBUTES", r.seam_attributes, q.seam_attributes},
      {"MRCONFIGID", r.mr_config_id, q.mr_config_id},
      {"MROWNER", r.mr_owner, q.mr_owner},
      {"MROWNERCONFIG", r.mr_owner_config, q.mr_owner_config},
  };
  if (q.tdx15) {
    fields.push_back({"TEE_TCB_SVN2", r.tee_tcb_svn2, q.tee_tcb_svn2});
    fields.push_back({"SERVTD_HASH", r.mr_service_td, q.mr_service_td});
  }
  for (const Field& f : fields) {
    if (!ConstantTimeEqual(f.report, f.quote)) {
      return Fail(checks, "tdreport.match",
                  StrCat(f.name, " got ", ShortHex(f.report), " in the tdreport, want the td "
                         "quote's ", ShortHex(f.quote)));
    }
  }
  checks.Pass("tdreport.match",
              StrCat("the td quote carries the tdreport's ", fields.size(),
                     " fields (REPORTDATA, MRTD, RTMR0-3, TDATTRIBUTES, XFAM, TEE_TCB_SVN, MRSEAM, "
                     "...); MRTD ", ShortHex(r.mr_td)));
  return absl::OkStatus();
}

absl::Status VerifyAzureTdx(const TdxEvidence& evidence, const TdxVerifyOptions& options,
                            CheckList& checks, VerifiedAzureTdx* out,
                            tdx::VerificationCache* cache) {
  TWI_RETURN_IF_ERROR(VerifyHclClaims(evidence.hcl_report, ReportType::kTdx,
                                      options.expected_user_data, checks, &out->hcl, &out->claims,
                                      &out->binding));
  auto report = ParseTdReport(out->hcl.td_report());
  if (!report.ok()) {
    std::string_view msg = ToStd(report.status().message());
    if (msg.substr(0, 10) == "tdreport: ") msg.remove_prefix(10);
    return Fail(checks, "tdreport.structure", std::string(msg));
  }
  out->td_report = *std::move(report);
  out->has_td_report = true;
  checks.Pass("tdreport.structure",
              StrCat("tdx report version ", out->td_report.version,
                     ", tee_tcb_info_hash and tee_info_hash match their structures"));

  if (evidence.td_quote.empty()) {
    return Fail(checks, "td_quote.structure",
                "no td quote: a tdreport's mac can only be checked on the platform; the td quote "
                "of it (the host's quoting service, imds /acc/tdquote) is what authenticates it");
  }
  auto quote = tdx::ParseQuote(evidence.td_quote);
  if (!quote.ok()) {
    return Fail(checks, "td_quote.structure", std::string(quote.status().message()));
  }
  if (!quote->is_tdx()) {
    return Fail(checks, "td_quote.structure", "an SGX enclave quote; want a TD quote");
  }
  const bool have_collateral = evidence.collateral != nullptr;
  CheckList td_checks;
  absl::Status s =
      have_collateral
          ? tdx::VerifyQuote(*quote, *evidence.collateral, options.tdx, td_checks, &out->td_quote,
                             cache)
          : tdx::VerifyQuoteSignatures(*quote, options.tdx, td_checks, &out->td_quote);
  TWI_RETURN_IF_ERROR(MergeTdChecks(td_checks, s, checks));
  TWI_RETURN_IF_ERROR(MatchTdReport(out->td_report, *out->td_quote.quote.td, checks));

  HclQuote q{evidence.quote, evidence.signature, &evidence.pcrs, &evidence.ak_public,
             options.nonce, options.allow_empty_nonce};
  TWI_RETURN_IF_ERROR(VerifyHclAkQuote(out->claims, q, checks, &out->quote, &out->ak_spki_sha256));
  if (!have_collateral) {
    std::string why = StrCat(
        "no dcap collateral (tcb info, qe identity, crls) for fmspc ",
        HexEncode(out->td_quote.pck.fmspc), ": the td quote's tcb status and revocation are unknown");
    if (!evidence.collateral_error.empty()) why += StrCat(" (", evidence.collateral_error, ")");
    return checks.Fail("collateral.missing", why, absl::StatusCode::kUnavailable);
  }
  return absl::OkStatus();
}

std::map<std::string, std::string> Claims(const VerifiedAzureTdx& v) {
  std::map<std::string, std::string> c;
  if (v.td_quote.has_quote) {
    c = tdx::Claims(v.td_quote);
  } else if (v.has_td_report) {
    c["mrtd"] = HexEncode(v.td_report.body.mr_td);  // from the tdreport: not yet authenticated
  }
  if (!v.td_quote.has_tcb) c["tcb_status"] = "unknown";
  c["platform"] = "azure";
  c["vm_id"] = v.claims.vm_unique_id.value_or("");
  if (!v.ak_spki_sha256.empty()) c["ak_pub_sha256"] = HexEncode(v.ak_spki_sha256);
  if (!v.binding.empty()) c["report_data_binding"] = HexEncode(v.binding);
  return c;
}

}  // namespace twi::azure
