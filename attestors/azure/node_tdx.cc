#include "attestors/azure/node_tdx.h"

#include "attestors/appraisal/protocol.h"
#include "attestors/azure/imds_tdquote.h"
#include "attestors/azure/verify_tdx.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tdx/policy.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/node.h"

namespace twi::azure {
namespace {

constexpr int kMaxQuotes = 8;

}  // namespace

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

absl::StatusOr<appraisal::EvidenceResult> AzureTdxAppraiser::Appraise(const twi::v1::Evidence&,
                                                                      ByteView,
                                                                      CheckList* checks) const {
  return checks->Fail("azure.challenge",
                      "Azure evidence without this stream's challenge has no nonce to check",
                      absl::StatusCode::kFailedPrecondition);
}

absl::StatusOr<std::any> AzureTdxAppraiser::Challenge(const twi::v1::Payload& payload,
                                                      twi::v1::Challenge* challenge,
                                                      CheckList*) const {
  AzureStreamState state;
  state.qualifying_data = appraisal::TpmQualifyingData(AsBytes(challenge->nonce()), payload);
  return std::any(std::move(state));
}

absl::StatusOr<appraisal::EvidenceResult> AzureTdxAppraiser::AppraiseResponse(
    const twi::v1::Evidence& evidence, ByteView, const std::any& stream_state,
    CheckList* checks) const {
  const auto* state = std::any_cast<AzureStreamState>(&stream_state);
  if (state == nullptr) return Appraise(evidence, {}, checks);
  if (!evidence.has_azure()) {
    return checks->Fail("evidence.kind", "azure-tdx evidence without an Azure body",
                        absl::StatusCode::kInvalidArgument);
  }
  const twi::v1::AzureEvidence& az = evidence.azure();
  if (az.simulated() && !tdx_.options().allow_simulation) {
    return checks->Fail("evidence.simulated",
                        "the TD quote comes from the software simulator, not Intel hardware; set "
                        "insecure_simulation_roots = true and pin the simulator's root.pem in "
                        "tdx.extra_roots to accept it (development only)");
  }
  if (az.quotes_size() == 0 || az.quotes_size() > kMaxQuotes) {
    return checks->Fail("quote.count", StrCat("got ", az.quotes_size(), " quotes, want 1..", kMaxQuotes),
                        absl::StatusCode::kInvalidArgument);
  }
  auto ak_public = tpm::ParsePublic(AsBytes(az.ak_public()));
  if (!ak_public.ok()) {
    return checks->Fail("ak.public", StrCat("the AK public area: ", ak_public.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  const twi::v1::TpmQuote& q0 = az.quotes(0);
  const uint16_t bank0 = static_cast<uint16_t>(q0.hash_alg());
  if (q0.hash_alg() > 0xffff || tpm::DigestSize(bank0) == 0) {
    return checks->Fail("quote.bank", StrCat("unsupported PCR bank 0x", absl::Hex(q0.hash_alg())),
                        absl::StatusCode::kInvalidArgument);
  }

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
  for (const auto& [index, digest] : q0.pcrs()) e.pcrs[bank0][index] = ToBytes(digest);
  e.ak_public = *ak_public;
  TdxVerifyOptions vo;
  vo.tdx = tdx_.VerifyOptionsNow();
  vo.nonce = state->qualifying_data;
  VerifiedAzureTdx v;
  TWI_RETURN_IF_ERROR(VerifyAzureTdx(e, vo, *checks, &v, tdx_.cache()));
  TWI_RETURN_IF_ERROR(tdx::Appraise(v.td_quote, tdx_.policy(), *checks));

  auto ak = tpm::AkKey::FromPublic(*ak_public);
  if (!ak.ok()) {
    return checks->Fail("ak.public", std::string(ak.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  tpm::VerifiedQuote merged;
  TWI_RETURN_IF_ERROR(tpm::MergeQuote(std::move(v.quote), bank0, *checks, &merged));
  appraisal::EvidenceResult out;
  tdx::AddVerifiedQuote(v.td_quote, az.simulated(), &out);
  TWI_RETURN_IF_ERROR(AppraiseVtpm(az, *ak, state->qualifying_data, v.claims, options_, *checks,
                                   &merged, &out));
  return out;
}

}  // namespace twi::azure
