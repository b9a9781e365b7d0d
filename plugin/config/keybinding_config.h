// Key binding on the server (issue 14, spec spire-keybinding-services.md 6.4): the server
// NodeAttestor's `key_binding { ... }` block and the CredentialComposer's configuration.
//
// mode "records" (S1, the default): the NodeAttestor keeps a binding record per key-bound
// attestation and serves it on records_socket; the composer takes it from there.
// mode "stateless" (S3): the NodeAttestor appends /kb-<hex SHA-256(SPKI)> to the agent ID and
// the composer recomputes it from the CSR key; no socket, no state, but the agent ID changes
// at every rotation (README "Key binding").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "plugin/config/reader.h"
#include "plugin/config/schema.h"

namespace twi::config {

inline constexpr char kDefaultRecordsSocket[] = "/run/spire/twi-keybinding/records.sock";

struct ServerKeyBinding {
  bool enabled = false;  // the block is present
  std::string mode = "records";
  std::string records_socket = kDefaultRecordsSocket;
  int64_t record_ttl_seconds = 60;
  bool stateless() const { return mode == "stateless"; }
};

// Reads the key_binding block (`r` is its reader) and calls r.Finish().
void ReadServerKeyBinding(Reader& r, ServerKeyBinding* out);

struct ComposerConfig {
  std::string trust_domain;
  std::string log_level = "info";
  std::string mode = "records";
  std::string records_socket = kDefaultRecordsSocket;
  // The NodeAttestor plugin name in server.conf: agent IDs under
  // spiffe://<trust domain>/spire/agent/<attestor_name>/ must be key-bound.
  std::string attestor_name = "twi";
  int64_t timeout_ms = 2000;
  // Dotted OID of the attestation-digest extension; "" = no extension.
  std::string attestation_extension_oid;
  bool stateless() const { return mode == "stateless"; }
  std::string AgentIdPrefix() const;  // "spiffe://<td>/spire/agent/<attestor_name>/"
};

absl::StatusOr<ComposerConfig> BuildComposerConfig(std::string_view hcl, std::string_view trust_domain);

// Documented keys of the composer (README table config:composer).
std::span<const KeyDoc> ComposerSchema();

// The composer's optional non-critical extension on key-bound agent SVIDs has the value DER
// OCTET STRING { SHA-256 of the attestation exchange (payload, challenge, response) the binding
// record came from }, under an OID of the operator's own arc: the project owns none, and
// SPIRE (Go's OID parser) refuses the registration-free UUID arc 2.25 (128-bit arcs) at issuance.
// Checks a dotted OID as SPIRE will parse it: at least two arcs, the first 0-2, each < 2^31.
bool ValidSpireOid(std::string_view oid);

}  // namespace twi::config
