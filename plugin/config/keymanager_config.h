// Key binding on the agent (issue 14): the twi KeyManager plugin's own config and the agent
// NodeAttestor's `key_binding { keymanager_socket = ... }` block.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "plugin/config/configs.h"
#include "plugin/config/reader.h"
#include "plugin/config/schema.h"

namespace twi::config {

struct KeyManagerConfig : Common {
  std::string socket_path;  // required: where the agent NodeAttestor reaches the pending key
};

absl::StatusOr<KeyManagerConfig> BuildKeyManagerConfig(std::string_view hcl,
                                                       std::string_view trust_domain);

// An absolute socket path of at most 100 bytes (a unix socket address holds 107), checked the
// same way on both sides. True when the key is present (valid or not).
bool ReadSocketPath(Reader& r, std::string_view key, std::string* out);

// The agent's `key_binding` block; sets `keymanager_socket` ("" when the block is absent).
void ReadAgentKeyBinding(Reader& top, std::string* keymanager_socket);

// The documented keys of the KeyManager (README table config:keymanager).
std::span<const KeyDoc> KeyManagerSchema();

}  // namespace twi::config
