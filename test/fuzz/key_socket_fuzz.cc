// Fuzzes what the twi KeyManager does with a request frame from its socket (after the peer-uid
// check: a same-uid process may still send anything), and what the server does with a
// payload's SVID key SPKI: the request parser and dispatch into the key store (nonce and digest
// sizes, generation check, PoP signing) and ParseSvidKey.
#include <cstddef>
#include <cstdint>

#include "attestors/keybinding/binding.h"
#include "attestors/keybinding/key_socket.h"
#include "plugin/keymanager/key_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* store = [] {
    auto* s = new twi::keymanager::KeyStore();
    (void)s->GenerateKey("agent-svid-A", twi::keymanager::pb::EC_P256);
    return s;
  }();
  twi::ByteView in(data, size);
  (void)twi::keybinding::HandleKeySocketRequest(*store, in);
  (void)twi::keybinding::ParseSvidKey(in);
  return 0;
}
