// Fuzzes TCB Info handling: the input as signed TCB Info text (then the TCB level algorithm on
// what parsed), as a PCS response wrapping it, and as a nine-key collateral bundle.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attestors/collateral/dcap_bundle.h"
#include "attestors/collateral/dcap_json.h"
#include "attestors/tdx/verify.h"

using namespace twi::collateral;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto info = ParseTcbInfo(in); info.ok()) {
    twi::tdx::Quote quote;
    quote.td = twi::tdx::TdReport{};
    quote.td->tee_tcb_svn = {3, 1, 3};
    quote.td->tdx15 = true;
    quote.td->tee_tcb_svn2 = {5, 1, 3};
    twi::tdx::PckExtensions pck;
    pck.sgx_tcb.fill(5);
    pck.pce_svn = 11;
    IdentityTcbLevel qe{4, {}, "UpToDate", {}};
    (void)twi::tdx::EvaluateTcb(quote, pck, *info, qe);
    quote.td.reset();
    quote.enclave = twi::tdx::EnclaveReport{};
    (void)twi::tdx::EvaluateTcb(quote, pck, *info, qe);
  }
  if (auto signed_json = ExtractSignedJson(in, "tcbInfo"); signed_json.ok()) {
    (void)ParseTcbInfo(signed_json->body);
  }
  (void)ParseDcapBundle(in);
  return 0;
}
