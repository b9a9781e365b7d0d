// Fuzzes the TCG event-log parser, replay in every declared bank and the facts reader.
#include <cstdint>
#include <cstdlib>

#include "attestors/eventlog/tcg.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace twi::eventlog;
  for (bool padding : {false, true}) {
    ParseOptions o;
    o.stop_at_padding = padding;
    o.max_events = 4096;
    auto log = Parse(twi::ByteView(data, size), o);
    if (!log.ok()) continue;
    if (log->events.size() > o.max_events || log->algorithms.empty()) std::abort();
    for (uint16_t alg : log->algorithms) {
      auto replay = Replay(*log, alg);
      if (replay.ok()) {
        for (const auto& [index, value] : *replay) {
          if (value.size() != DigestSize(alg)) std::abort();
        }
      }
      BootFacts facts = ExtractFacts(*log, alg, 7, 4);
      for (const auto& d : facts.boot_applications) {
        if (d.size() != DigestSize(alg) && DigestSize(alg) != 0) std::abort();
      }
    }
  }
  return 0;
}
