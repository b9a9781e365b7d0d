#include "plugin/config/keymanager_config.h"

#include <array>

#include "attestors/core/str.h"

namespace twi::config {
namespace {

constexpr std::array kKeyManagerSchema = {
    KeyDoc{"log_level", "string", "\"info\"", "\"debug\"",
           "Log level of the plugin's stderr log: trace, debug, info, warn or error."},
    KeyDoc{"socket_path", "string", "", "\"/run/spire/twi-keys/keys.sock\"",
           "Required. Unix socket on which the twi agent NodeAttestor (key_binding."
           "keymanager_socket) reads the pending SVID key and has it sign the binding transcript. "
           "Its directory is created 0700, or must be owned by the agent's uid with no group or "
           "other access; the socket is 0600 and only the agent's own uid may connect."},
};

}  // namespace

bool ReadSocketPath(Reader& r, std::string_view key, std::string* out) {
  auto v = r.String(key);
  if (v) {
    if (v->empty() || (*v)[0] != '/' || v->back() == '/' || v->size() > 100) {
      r.Problem(key, StrCat("\"", r.Path(key), "\" must be an absolute socket path of at most "
                            "100 bytes, got \"", v->substr(0, 100), "\""));
    } else {
      *out = *v;
    }
  }
  return v.has_value();
}

void ReadAgentKeyBinding(Reader& top, std::string* keymanager_socket) {
  Reader kb = top.Block("key_binding");
  ReadSocketPath(kb, "keymanager_socket", keymanager_socket);
  kb.Finish();
}

std::span<const KeyDoc> KeyManagerSchema() { return kKeyManagerSchema; }

}  // namespace twi::config
