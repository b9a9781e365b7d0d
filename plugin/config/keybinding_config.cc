#include "plugin/config/keybinding_config.h"

#include <array>

#include "attestors/core/str.h"
#include "plugin/config/configs.h"

namespace twi::config {
namespace {

void ReadMode(Reader& r, std::string* mode) {
  if (auto v = r.String("mode")) {
    if (*v != "records" && *v != "stateless") {
      r.Problem("mode", twi::StrCat("\"", r.Path("mode"), "\" must be \"records\" or \"stateless\"; got \"",
                                    *v, "\""));
    } else {
      *mode = *v;
    }
  }
}

void ReadSocket(Reader& r, std::string* socket) {
  if (auto v = r.String("records_socket")) {
    if (v->empty() || (*v)[0] != '/' || v->size() > 100) {
      r.Problem("records_socket", twi::StrCat("\"", r.Path("records_socket"),
                                              "\" must be an absolute path of at most 100 bytes"));
    } else {
      *socket = *v;
    }
  }
}

constexpr std::array kComposer = {
    KeyDoc{"log_level", "string", "\"info\"", "\"debug\"",
           "Log level of the plugin's stderr log: trace, debug, info, warn or error."},
    KeyDoc{"mode", "string", "\"records\"", "\"records\"",
           "\"records\": an agent SVID under the attestor's prefix needs a binding record from the "
           "twi NodeAttestor (same SPIRE server) for its agent ID and CSR key, consumed once. "
           "\"stateless\": the agent ID's last segment must be kb-<hex SHA-256 of the CSR key's "
           "SPKI> (the NodeAttestor's key_binding.mode = \"stateless\")."},
    KeyDoc{"records_socket", "string", "\"/run/spire/twi-keybinding/records.sock\"",
           "\"/run/spire/twi-keybinding/records.sock\"",
           "The twi NodeAttestor's key_binding.records_socket (mode \"records\")."},
    KeyDoc{"attestor_name", "string", "\"twi\"", "\"twi\"",
           "Name of the twi NodeAttestor in server.conf: agent IDs under "
           "spiffe://<trust domain>/spire/agent/<attestor_name>/ must be key-bound; others keep "
           "SPIRE's defaults."},
    KeyDoc{"timeout_ms", "integer", "2000", "2000",
           "Longest wait for the records socket per agent SVID; past it, or when the socket is "
           "down, issuance is refused (fail closed)."},
    KeyDoc{"attestation_extension_oid", "string", "\"\"", "\"1.3.6.1.4.1.32473.1\"",
           "Dotted OID, from an arc you own, of a non-critical extension added to key-bound agent "
           "SVIDs (mode \"records\"): OCTET STRING holding SHA-256 of the attestation exchange "
           "the binding record came from (the NodeAttestor logs it as attestation_digest). \"\" "
           "adds none. Every arc must be below 2^31 (SPIRE refuses larger ones, e.g. 2.25 UUID "
           "OIDs, at issuance)."},
};

}  // namespace

void ReadServerKeyBinding(Reader& r, ServerKeyBinding* out) {
  ReadMode(r, &out->mode);
  ReadSocket(r, &out->records_socket);
  if (auto v = r.Int("record_ttl_seconds", 1, 3600)) out->record_ttl_seconds = *v;
  r.Finish();
}

std::string ComposerConfig::AgentIdPrefix() const {
  return twi::StrCat("spiffe://", trust_domain, "/spire/agent/", attestor_name, "/");
}

absl::StatusOr<ComposerConfig> BuildComposerConfig(std::string_view hcl, std::string_view trust_domain) {
  Problems problems;
  hcl::Value root = ParseOrRecord(hcl, &problems);
  if (!problems.empty()) return problems.ToStatus();
  Reader r(&root, "", &problems);
  ComposerConfig c;
  if (!ValidTrustDomain(trust_domain)) {
    problems.Add(twi::StrCat("trust domain \"", trust_domain,
                             "\" is not valid (SPIRE passes a bare name such as example.org)"));
  }
  c.trust_domain = std::string(trust_domain);
  if (auto v = r.String("log_level")) {
    if (*v != "trace" && *v != "debug" && *v != "info" && *v != "warn" && *v != "error") {
      r.Problem("log_level", twi::StrCat("\"log_level\" must be one of trace, debug, info, warn, error; got \"",
                                         *v, "\""));
    } else {
      c.log_level = *v;
    }
  }
  ReadMode(r, &c.mode);
  ReadSocket(r, &c.records_socket);
  if (auto v = r.String("attestor_name")) {
    bool ok = !v->empty() && v->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                  "0123456789._-") == std::string::npos;
    if (!ok) r.Problem("attestor_name", "\"attestor_name\" must be a SPIFFE path segment ([A-Za-z0-9._-])");
    else c.attestor_name = *v;
  }
  if (auto v = r.Int("timeout_ms", 1, 60000)) c.timeout_ms = *v;
  if (auto v = r.String("attestation_extension_oid")) {
    if (!v->empty() && !ValidSpireOid(*v)) {
      r.Problem("attestation_extension_oid",
                twi::StrCat("\"attestation_extension_oid\" must be a dotted OID whose first arc is 0-2 "
                            "and every arc below 2^31 (SPIRE's limit); got \"", *v, "\""));
    } else {
      c.attestation_extension_oid = *v;
    }
  }
  r.Finish();
  absl::Status s = problems.ToStatus();
  if (!s.ok()) return s;
  return c;
}

std::span<const KeyDoc> ComposerSchema() { return kComposer; }

bool ValidSpireOid(std::string_view oid) {
  int arcs = 0;
  size_t i = 0;
  while (i <= oid.size()) {
    size_t dot = oid.find('.', i);
    if (dot == std::string_view::npos) dot = oid.size();
    std::string_view arc = oid.substr(i, dot - i);
    if (arc.empty() || arc.size() > 10 || (arc.size() > 1 && arc[0] == '0')) return false;
    uint64_t v = 0;
    for (char ch : arc) {
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + static_cast<uint64_t>(ch - '0');
    }
    if (v > 0x7fffffff || (arcs == 0 && v > 2)) return false;
    ++arcs;
    i = dot + 1;
  }
  return arcs >= 2;
}

}  // namespace twi::config
