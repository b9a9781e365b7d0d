// The two halves of `twi collect --kind azure` (collect_azure.cc): the vTPM files every Azure
// CVM gives (both kinds of CVM), and the TDX half (collect_azure_tdx.cc), chosen by the HCL
// report's type.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "attestors/azure/abi.h"
#include "attestors/azure/collect.h"
#include "attestors/azure/sim_tdx.h"
#include "cli/collect.h"

namespace twi::cli {

// Writes hcl_report.bin (`hcl`, as read), quote.bin and signature.bin (one quote over every
// selected bank, qualifying data = the nonce: `twi verify` checks one quote), pcrs.json and
// ak_pub.bin into request.out, and starts c->verify_args with `--type type` and their flags.
absl::Status WriteAzureVtpmFiles(const CollectRequest& request, azure::AzureVtpm& vtpm,
                                 ByteView hcl, const std::string& type, Collected* c);

// The TDX half, after WriteAzureVtpmFiles: td_quote.bin, the TD quote of the HCL report's
// TDREPORT (from IMDS's quoting service at request.imds_url, or from `sim`'s when simulating),
// and collateral.json for it (request.dcap's source, or the simulator's); when simulating,
// root.pem and policy.hcl trusting the simulated root.
absl::Status AddAzureTdQuote(const CollectRequest& request, const azure::HclReport& hcl,
                             const azure::AzureTdxSimulator* sim, Collected* c);

}  // namespace twi::cli
