// The TPM collector of `twi collect`: an AK quote over the nonce from the TPM the agent plugin
// would use (same code, attestors/tpm/collect.h), written as
//   quote.bin       TPMS_ATTEST (qualifying data = the nonce, byte for byte)
//   signature.bin   TPMT_SIGNATURE by the AK
//   pcrs.json       {"sha256": {"0": "<hex>", ...}}: the PCR values the quote covers
//   ak_pub.bin      the AK's TPMT_PUBLIC
//   ek_pub.bin      the EK's TPMT_PUBLIC, and ek_cert.der when the TPM holds a certificate
//   event_log.bin   the firmware's TCG event log, when the kernel exposes one
// for `twi verify --type tpm-quote --ak-pub ak_pub.bin --quote quote.bin --signature
// signature.bin --pcrs pcrs.json --nonce HEX [--event-log event_log.bin]`. That checks the
// quote against the AK given; the EK files are for checking the AK's provenance by hand (the
// server proves it by credential activation, which needs the server's challenge).
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tpm/abi.h"
#include "cli/collect.h"
#include "nlohmann/json.hpp"

namespace twi::cli {

absl::StatusOr<Collected> CollectTpm(const CollectRequest& r) {
  if (r.simulate) {
    return absl::InvalidArgumentError(
        "there is no TPM simulator inside twi; run swtpm and pass --tcti swtpm:port=P");
  }
  TWI_ASSIGN_OR_RETURN(std::unique_ptr<tpm::TpmCollector> device,
                       tpm::TpmCollector::Open(r.tpm));
  TWI_ASSIGN_OR_RETURN(tpm::TpmKeyInfo ek, device->Ek());
  TWI_ASSIGN_OR_RETURN(tpm::TpmKeyInfo ak, device->Ak());
  TWI_ASSIGN_OR_RETURN(tpm::TpmQuote quote, device->Quote(r.tpm_pcrs, r.nonce));
  TWI_ASSIGN_OR_RETURN(Bytes event_log, tpm::ReadEventLog(r.tpm_event_log));

  Collected c;
  c.device = r.tpm.tcti;
  auto write = [&](const char* name, ByteView data) -> absl::Status {
    TWI_RETURN_IF_ERROR(WriteEvidenceFile(r.out / name, AsString(data)));
    c.files.push_back(name);
    return absl::OkStatus();
  };
  TWI_RETURN_IF_ERROR(write("quote.bin", quote.attest));
  TWI_RETURN_IF_ERROR(write("signature.bin", quote.signature));
  nlohmann::ordered_json pcrs = nlohmann::ordered_json::object();  // indices ascending
  for (const tpm::PcrValue& v : quote.pcrs) {
    pcrs[tpm::AlgName(v.hash_alg)][std::to_string(v.index)] = HexEncode(v.digest);
  }
  TWI_RETURN_IF_ERROR(write("pcrs.json", AsBytes(pcrs.dump(2) + "\n")));
  TWI_RETURN_IF_ERROR(write("ak_pub.bin", ak.public_area));
  TWI_RETURN_IF_ERROR(write("ek_pub.bin", ek.public_area));
  if (!ek.certificate.empty()) TWI_RETURN_IF_ERROR(write("ek_cert.der", ek.certificate));
  c.verify_args = {"--type", "tpm-quote", "--ak-pub", "ak_pub.bin", "--quote", "quote.bin",
                   "--signature", "signature.bin", "--pcrs", "pcrs.json",
                   "--nonce", HexEncode(r.nonce)};
  if (!event_log.empty()) {
    TWI_RETURN_IF_ERROR(write("event_log.bin", event_log));
    c.verify_args.insert(c.verify_args.end(), {"--event-log", "event_log.bin"});
  }
  return c;
}

}  // namespace twi::cli
