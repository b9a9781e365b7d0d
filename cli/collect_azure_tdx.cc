// The TDX half of `twi collect --kind azure`, for a CVM whose HCL report is type 4: the
// TDREPORT inside carries a MAC only the CPU can check, so, as the agent plugin does
// (attestors/azure/node_tdx.h), it is sent to the host's quoting service at IMDS
// (POST /acc/tdquote, the same bounded client) and the TD quote it answers is written with
// its DCAP collateral, for `twi verify --type azure-tdx`:
//   td_quote.bin     the TD quote of the TDREPORT (PCK chain inside)
//   collateral.json  the nine-key bundle for its FMSPC (Intel PCS / a PCCS / offline, as for
//                    --kind tdx), or the simulator's
//   root.pem, policy.hcl  simulation only: the simulated root and a policy trusting it
// Nothing is verified here; that the quote is of this TDREPORT is `twi verify`'s check.
#include "attestors/azure/imds_tdquote.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "cli/collect_azure.h"

namespace twi::cli {

absl::Status AddAzureTdQuote(const CollectRequest& r, const azure::HclReport& hcl,
                             const azure::AzureTdxSimulator* sim, Collected* c) {
  Bytes quote;
  if (sim != nullptr) {
    TWI_ASSIGN_OR_RETURN(quote, sim->QuoteTdReport(hcl.td_report()));
  } else {
    collateral::CurlHttpGetter http(azure::TdQuoteCurlOptions());
    auto q = azure::FetchTdQuote(http, r.imds_url, hcl.td_report());
    if (!q.ok()) {
      return Annotate(q.status(), twi::StrCat("the TD quote of the HCL report's TDREPORT (IMDS at ",
                                              r.imds_url, ", --imds-url)"));
    }
    quote = *std::move(q);
  }
  TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "td_quote.bin", AsString(quote)));
  c->files.push_back("td_quote.bin");
  c->verify_args.insert(c->verify_args.end(), {"--td-quote", "td_quote.bin"});

  std::string bundle;
  if (sim != nullptr) {
    bundle = sim->tdx().collateral_json();
  } else {
    auto b = FetchTdxCollateral(r, quote);
    if (!b.ok()) {
      return Annotate(b.status(), "td_quote.bin written, but its collateral could not be had "
                                  "(--collateral-url URL or --collateral-offline PATH choose the source)");
    }
    bundle = *std::move(b);
  }
  TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / "collateral.json", bundle));
  c->files.push_back("collateral.json");
  c->verify_args.insert(c->verify_args.end(), {"--collateral", "collateral.json"});
  if (sim != nullptr) TWI_RETURN_IF_ERROR(WriteSimTdxTrust(r, sim->tdx().root_pem(), c));
  return absl::OkStatus();
}

}  // namespace twi::cli
