#include "attestors/azure/node_tdx.h"

#include "attestors/azure/imds_tdquote.h"
#include "attestors/azure/verify_tdx.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tdx/policy.h"

namespace twi::azure {
absl::Status AzureTdxCollector::AddHardware(twi::v1::AzureEvidence* out) {
  auto hcl = ParseHclReport(AsBytes(out->hcl_report()));
  if (!hcl.ok()) return Annotate(hcl.status(), "azure tdx: the vTPM's HCL report");
  if (!hcl->is_tdx()) {
    return absl::FailedPreconditionError(
        StrCat("azure tdx: the HCL report's type is ", hcl->report_type, ", not 4 (tdx)"));
  }
  auto quote = FetchTdQuote(*http_, options_.imds_url, hcl->td_report());
  if (!quote.ok()) return Annotate(quote.status(), "azure tdx: the TD quote of the HCL report");
  out->set_td_quote(std::string(AsString(*quote)));
  return absl::OkStatus();
}

absl::StatusOr<appraisal::EvidenceResult> AzureTdxAppraiser::AppraiseResponse(
    const twi::v1::Evidence& evidence, ByteView, const std::any& stream_state,
    CheckList* checks) const {
  TWI_ASSIGN_OR_RETURN(
      Response resp,
      CheckResponse(evidence, stream_state, tdx_.options().allow_simulation,
                    "the TD quote comes from the software simulator, not Intel hardware; set "
                    "insecure_simulation_roots = true and pin the simulator's root.pem in "
                    "tdx.extra_roots to accept it (development only)",
                    checks));
  const twi::v1::AzureEvidence& az = *resp.az;
  const twi::v1::TpmQuote& q0 = *resp.q0;

  // The collateral for the TD quote's platform; when it cannot be had, every other check still
  // runs and the verifier refuses with collateral.missing (UNAVAILABLE: the agent retries).
  std::shared_ptr<const collateral::DcapCollateral> bundle;
  std::string collateral_error;
  auto parsed = tdx::ParseQuote(AsBytes(az.td_quote()));
  if (parsed.ok() && parsed->is_tdx()) {
    auto b = tdx_.FetchCollateral(*parsed, checks);
    if (b.ok()) {
      bundle = *std::move(b);
    } else {
      collateral_error = std::string(b.status().message());
    }
  }
  TdxEvidence e;
  e.hcl_report = AsBytes(az.hcl_report());
  e.td_quote = AsBytes(az.td_quote());
  e.collateral = bundle.get();
  e.collateral_error = collateral_error;
  e.quote = AsBytes(q0.attest());
  e.signature = AsBytes(q0.signature());
  for (const auto& [index, digest] : q0.pcrs()) e.pcrs[resp.bank0][index] = ToBytes(digest);
  e.ak_public = resp.ak_public;
  TdxVerifyOptions vo;
  vo.tdx = tdx_.VerifyOptionsNow();
  vo.nonce = resp.state->qualifying_data;
  VerifiedAzureTdx v;
  TWI_RETURN_IF_ERROR(VerifyAzureTdx(e, vo, *checks, &v, tdx_.cache()));
  TWI_RETURN_IF_ERROR(tdx::Appraise(v.td_quote, tdx_.policy(), *checks));

  appraisal::EvidenceResult out;
  tdx::AddVerifiedQuote(v.td_quote, az.simulated(), &out);
  TWI_RETURN_IF_ERROR(FinishVtpm(resp, std::move(v.quote), v.claims, checks, &out));
  return out;
}

}  // namespace twi::azure
