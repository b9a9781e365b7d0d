// twi inspect FILE [--json]: what an evidence file says, in named fields.
//
// Formats plug in as Decoders (inspect.cc lists them): each either decodes the bytes or says
// why they are not its format; the first that decodes wins, and when none does the reasons
// are printed together ("not an SEV-SNP report because ...; not a certificate because ...").
// Decoding is not verification: nothing here checks a signature or a chain.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/tdx/abi.h"
#include "nlohmann/json.hpp"

namespace twi::cli {

// An evidence file as read: the bytes after hex/PEM-armour decoding, and the raw text (PEM
// bundles are decoded from the text).
struct InspectInput {
  Bytes bytes;
  std::string text;
};

struct Inspection {
  std::string title;  // "SEV-SNP attestation report (1184 bytes)"
  // Human form: (name, value) lines; a name starting with "  " is indented under the last.
  std::vector<std::pair<std::string, std::string>> lines;
  // --json: "format" plus the format's fields; SNP reports put theirs under "claims", with
  // the names `twi verify --json` uses.
  nlohmann::ordered_json json;
};

struct Decoder {
  const char* what;  // "an SEV-SNP report", used in "not <what> because ..."
  // The inspection, or an error whose message is the reason the input is not this format.
  absl::StatusOr<Inspection> (*decode)(const InspectInput& input);
};
// In the order they are tried (most specific first).
const std::vector<Decoder>& Decoders();

// Text from untrusted files (certificate names, ...): C-escaped and bounded before printing.
std::string Shown(std::string_view s);
// "a,c" for the set flags of {{"a", true}, {"b", false}, {"c", true}}; "-" when none is set.
std::string Flags(std::initializer_list<std::pair<const char*, bool>> flags);

// SEV-SNP formats (inspect_sevsnp.cc).
absl::StatusOr<Inspection> InspectSnpReport(const InspectInput& input);
absl::StatusOr<Inspection> InspectCertificates(const InspectInput& input);
absl::StatusOr<Inspection> InspectSnpCertTable(const InspectInput& input);

// Intel DCAP formats (inspect_tdx.cc): TDX (and SGX v3) quotes, the nine-key collateral bundle,
// PCS TCB Info / QE Identity responses, CRLs (any issuer).
absl::StatusOr<Inspection> InspectDcapQuote(const InspectInput& input);
absl::StatusOr<Inspection> InspectDcapBundle(const InspectInput& input);
absl::StatusOr<Inspection> InspectDcapDocument(const InspectInput& input);
absl::StatusOr<Inspection> InspectCrl(const InspectInput& input);
// TD claims (tdx::Claims names) in the order operators read them, into `out` and `claims`; a
// TD body's decoded attribute, XFAM and TCB bits into `out` and `decoded`. Shared by the quote
// and the TDREPORT decoders.
void AddTdxClaims(const std::map<std::string, std::string>& claims, Inspection& out,
                  nlohmann::ordered_json& json_claims);
void AddTdDecoded(const tdx::TdReport& td, Inspection& out, nlohmann::ordered_json& decoded);

// Azure formats (inspect_azure.cc): the HCL report (either hardware) and a bare TDREPORT.
absl::StatusOr<Inspection> InspectHclReport(const InspectInput& input);
absl::StatusOr<Inspection> InspectTdReport(const InspectInput& input);

// Boot event logs (inspect_eventlog.cc): the ACPI CCEL table, TCG event logs (CCEL, TPM).
absl::StatusOr<Inspection> InspectCcelTable(const InspectInput& input);
absl::StatusOr<Inspection> InspectEventLog(const InspectInput& input);

// The output of `twi inspect` for `input` (exit code 0), or the combined "not a ..." reasons.
absl::StatusOr<Inspection> InspectBytes(const InspectInput& input);
std::string FormatHuman(const Inspection& inspection);

int Inspect(const std::vector<std::string>& args);

}  // namespace twi::cli
