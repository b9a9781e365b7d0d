// A crypto-agile SHA-256 TCG event log built in memory, with the PCR extends a TPM must see
// for the log to replay (tests only).
#pragma once

#include <tss2/tss2_tpm2_types.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "attestors/core/bytes.h"
#include "attestors/core/crypto.h"

namespace twi::tpm::testing {

class EventLogBuilder {
 public:
  Bytes log;
  std::vector<std::pair<uint32_t, Bytes>> extends;  // (PCR, SHA-256 digest) in log order

  EventLogBuilder() {
    Bytes data(16, 0);
    std::memcpy(data.data(), "Spec ID Event03", 16);
    Put32(data, 0);
    data.insert(data.end(), {0, 2, 0, 2});
    Put32(data, 1);
    Put16(data, TPM2_ALG_SHA256);
    Put16(data, 32);
    data.push_back(0);
    Put32(log, 0);
    Put32(log, 3);  // EV_NO_ACTION
    log.insert(log.end(), 20, 0);
    Put32(log, static_cast<uint32_t>(data.size()));
    log.insert(log.end(), data.begin(), data.end());
  }
  void Event(uint32_t pcr, uint32_t type, const Bytes& data) {
    Bytes digest = Sha256(data);
    Put32(log, pcr);
    Put32(log, type);
    Put32(log, 1);
    Put16(log, TPM2_ALG_SHA256);
    log.insert(log.end(), digest.begin(), digest.end());
    Put32(log, static_cast<uint32_t>(data.size()));
    log.insert(log.end(), data.begin(), data.end());
    extends.push_back({pcr, digest});
  }
  // EV_EFI_VARIABLE_DRIVER_CONFIG for SecureBoot = `value` in PCR 7.
  void SecureBoot(uint8_t value) {
    Bytes d = {0x61, 0xDF, 0xE4, 0x8B, 0xCA, 0x93, 0xD2, 0x11,
               0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C};
    for (int i = 0; i < 8; ++i) d.push_back(i == 0 ? 10 : 0);  // name length (chars)
    for (int i = 0; i < 8; ++i) d.push_back(i == 0 ? 1 : 0);   // data length
    for (char c : std::string("SecureBoot")) Put16(d, static_cast<uint16_t>(c));
    d.push_back(value);
    Event(7, 0x80000001, d);
  }

 private:
  static void Put32(Bytes& b, uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  static void Put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v));
    b.push_back(static_cast<uint8_t>(v >> 8));
  }
};

}  // namespace twi::tpm::testing
