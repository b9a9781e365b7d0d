// Google Compute Engine vTPM facts (spec 5): the NV indices where a Shielded / Confidential VM's
// vTPM keeps the Google-issued AK certificates and AK templates, and the instance-information
// extension (OID 1.3.6.1.4.1.11129.2.1.21) Google puts in those certificates:
//
//   InstanceInfo ::= SEQUENCE {
//     zone                UTF8String,
//     projectNumber       INTEGER (0..2^63-1),
//     projectId           UTF8String,
//     instanceId          INTEGER (0..2^63-1),
//     instanceName        UTF8String,
//     securityProperties  [0] EXPLICIT SEQUENCE {
//         securityVersion [0] EXPLICIT INTEGER (0..2^63-1) OPTIONAL,
//         isProduction    [1] EXPLICIT BOOLEAN OPTIONAL } OPTIONAL }
//
// Parsing is strict DER over OpenSSL's ASN.1 primitives (one level at a time, so nesting is
// bounded by the grammar): the whole value at most kMaxInstanceInfoSize bytes, nothing after the
// outer SEQUENCE or inside it beyond the fields above, minimal encodings (the value must
// re-encode to the same bytes). The text fields become selectors and agent-ID path segments,
// so each must be 1..kMaxTextFieldSize bytes of [A-Za-z0-9._:-] (GCE zone, project and
// instance names use lowercase letters, digits and '-'; legacy domain-scoped project IDs add
// '.' and ':'); UTF8String, PrintableString and IA5String are accepted as string types.
// Anything else (controls, spaces, '/', non-ASCII) is refused naming the field.
//
// What this does not do: decide whether a certificate is Google's (verify.h checks the chain),
// or whether non-production instance information is acceptable (verify.h, by option).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"
#include "attestors/core/x509.h"

namespace twi::gcp {

// GCE vTPM NV indices (go-tpm-tools client/handles.go, TCG provisioning guidance): the AK
// certificate (DER) and the TPMT_PUBLIC template the AK is created from (primary key in the
// endorsement hierarchy), RSA-2048 and ECC P-256 variants; and the EK certificates.
inline constexpr uint32_t kAkCertNvIndexRsa = 0x01C10000;
inline constexpr uint32_t kAkTemplateNvIndexRsa = 0x01C10001;
inline constexpr uint32_t kAkCertNvIndexEcc = 0x01C10002;
inline constexpr uint32_t kAkTemplateNvIndexEcc = 0x01C10003;
inline constexpr uint32_t kEkCertNvIndexRsa = 0x01C00002;
inline constexpr uint32_t kEkCertNvIndexEcc = 0x01C0000A;

inline constexpr std::string_view kInstanceInfoOid = "1.3.6.1.4.1.11129.2.1.21";
inline constexpr size_t kMaxInstanceInfoSize = 2048;
inline constexpr size_t kMaxTextFieldSize = 253;

struct InstanceInfo {
  std::string zone;
  uint64_t project_number = 0;
  std::string project_id;
  uint64_t instance_id = 0;
  std::string instance_name;
  bool has_security_properties = false;
  uint64_t security_version = 0;  // 0 when absent
  bool is_production = false;     // false when absent
};

// Parses the extension value (the extnValue OCTET STRING's contents). Errors are
// INVALID_ARGUMENT "instance_info.<field>: <what>" (got/want, escaped and bounded).
absl::StatusOr<InstanceInfo> ParseInstanceInfo(ByteView der);

// The DER encoding of `info` (UTF8Strings; securityProperties written when
// has_security_properties, its fields only when non-default, as DER requires). For simulators
// and tests; does not validate the text fields.
absl::StatusOr<Bytes> EncodeInstanceInfo(const InstanceInfo& info);

// The extension of `cert`, which must be present exactly once (NOT_FOUND when absent,
// INVALID_ARGUMENT when repeated), parsed.
absl::StatusOr<InstanceInfo> InstanceInfoFromCertificate(const Certificate& cert);

// Whether `s` is an acceptable text field (the rule above).
bool IsValidTextField(std::string_view s);

}  // namespace twi::gcp
