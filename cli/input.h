// Evidence files as operators have them: raw binary, hex text, PEM or DER, detected.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/x509.h"

namespace twi::cli {

// Raw bytes of a binary blob (a report): hex text (whitespace ignored, optional 0x) is decoded,
// PEM is base64-decoded, anything else is taken as raw bytes.
absl::StatusOr<Bytes> ReadBlob(const std::string& path);
// A read error that is the operator's (no such file, no permission): a usage error, exit 2,
// where anything else wrong with a file's contents is evidence refused, exit 1.
bool IsUsageError(const absl::Status& s);
// Certificates from a PEM bundle or one DER certificate.
absl::StatusOr<std::vector<Certificate>> ReadCertificates(const std::string& path);

}  // namespace twi::cli
