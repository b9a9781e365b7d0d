#include "attestors/eventlog/tcg.h"

#include <openssl/evp.h>

#include <cstring>

#include "attestors/core/status.h"
#include "attestors/core/str.h"

namespace twi::eventlog {
namespace {

constexpr char kSpecIdSignature[] = "Spec ID Event03";  // 16 bytes with the NUL
constexpr char kStartupLocality[] = "StartupLocality";  // 16 bytes with the NUL
// Bounds for hostile input: no real log has more algorithms or bigger events.
constexpr uint32_t kMaxAlgorithms = 16;
constexpr uint32_t kMaxEventData = 16 << 20;

absl::Status At(size_t offset, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("event log at offset ", offset, ": ", what));
}

const EVP_MD* Md(uint16_t alg) {
  switch (alg) {
    case kAlgSha1: return EVP_sha1();
    case kAlgSha256: return EVP_sha256();
    case kAlgSha384: return EVP_sha384();
    case kAlgSha512: return EVP_sha512();
    default: return nullptr;
  }
}

// H(a || b) with `alg` (known to Md()).
Bytes Extend(uint16_t alg, ByteView a, ByteView b) {
  Bytes out(DigestSize(alg));
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, Md(alg), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  return out;
}

bool AllBytes(ByteView b, uint8_t v) {
  for (uint8_t x : b) {
    if (x != v) return false;
  }
  return true;
}

struct SpecId {
  std::vector<std::pair<uint16_t, uint16_t>> algorithms;  // (alg, digest size)
};

// TCG_EfiSpecIDEvent, the data of the first (SHA-1 format) record of a crypto-agile log.
absl::StatusOr<SpecId> ParseSpecId(ByteView data, size_t offset) {
  ByteCursor c(data);
  auto sig = c.Take(16, "signature");
  if (!sig.ok()) return At(offset, "spec id event: truncated signature");
  auto head = c.Take(8, "platformClass..uintnSize");
  auto n = c.U32Le("numberOfAlgorithms");
  if (!head.ok() || !n.ok()) return At(offset, "spec id event: truncated header");
  if (*n == 0 || *n > kMaxAlgorithms) {
    return At(offset, StrCat("spec id event: ", *n, " algorithms, want 1..", kMaxAlgorithms));
  }
  SpecId id;
  for (uint32_t i = 0; i < *n; ++i) {
    auto alg = c.U16Le("algorithmId");
    auto size = c.U16Le("digestSize");
    if (!alg.ok() || !size.ok()) return At(offset, "spec id event: truncated algorithm list");
    size_t known = DigestSize(*alg);
    if (known != 0 && known != *size) {
      return At(offset, StrCat("spec id event: ", AlgName(*alg), " digest size ", *size,
                               ", want ", known));
    }
    if (*size == 0 || *size > 64) {
      return At(offset, StrCat("spec id event: digest size ", *size, " for ", AlgName(*alg)));
    }
    for (const auto& [a, s] : id.algorithms) {
      if (a == *alg) return At(offset, StrCat("spec id event: ", AlgName(a), " listed twice"));
    }
    id.algorithms.emplace_back(*alg, *size);
  }
  return id;
}

bool IsSpecIdEvent(const Event& e) {
  return e.type == kEvNoAction && e.data.size() >= 16 &&
         std::memcmp(e.data.data(), kSpecIdSignature, 16) == 0;
}

}  // namespace

size_t DigestSize(uint16_t alg) {
  switch (alg) {
    case kAlgSha1: return 20;
    case kAlgSha256: return 32;
    case kAlgSha384: return 48;
    case kAlgSha512: return 64;
    default: return 0;
  }
}

std::string AlgName(uint16_t alg) {
  switch (alg) {
    case kAlgSha1: return "sha1";
    case kAlgSha256: return "sha256";
    case kAlgSha384: return "sha384";
    case kAlgSha512: return "sha512";
    default: {
      char buf[16];
      std::snprintf(buf, sizeof buf, "alg-0x%04x", alg);
      return buf;
    }
  }
}

absl::StatusOr<EventLog> Parse(ByteView log, const ParseOptions& options) {
  EventLog out;
  ByteCursor c(log);
  // The first record is always in the SHA-1 (TCG_PCR_EVENT) format.
  auto read_legacy = [&](size_t offset) -> absl::StatusOr<Event> {
    Event e;
    e.offset = offset;
    auto index = c.U32Le("pcrIndex");
    auto type = c.U32Le("eventType");
    auto digest = c.Take(20, "digest");
    auto size = c.U32Le("eventSize");
    if (!index.ok() || !type.ok() || !digest.ok() || !size.ok()) {
      return At(offset, "truncated TCG_PCR_EVENT header");
    }
    if (*size > kMaxEventData) return At(offset, StrCat("event size ", *size, " too large"));
    auto data = c.Take(*size, "event");
    if (!data.ok()) return At(offset, StrCat("event data of ", *size, " bytes runs past the log"));
    e.index = *index;
    e.type = *type;
    e.digests[kAlgSha1] = Bytes(digest->begin(), digest->end());
    e.data.assign(data->begin(), data->end());
    return e;
  };
  if (log.empty()) return absl::InvalidArgumentError("event log is empty");
  TWI_ASSIGN_OR_RETURN(Event first, read_legacy(0));
  SpecId spec;
  if (IsSpecIdEvent(first)) {
    TWI_ASSIGN_OR_RETURN(spec, ParseSpecId(first.data, 0));
    out.crypto_agile = true;
    for (const auto& [alg, size] : spec.algorithms) out.algorithms.push_back(alg);
  } else {
    out.algorithms = {kAlgSha1};
    out.events.push_back(std::move(first));
  }

  while (c.remaining() > 0) {
    const size_t offset = c.offset();
    if (out.events.size() >= options.max_events) {
      return At(offset, StrCat("more than ", options.max_events, " events"));
    }
    if (options.stop_at_padding) {
      // The log area after the last event is filled with 0xFF (or zeros): an event header
      // (index and type) made of either is the end.
      ByteView head = log.subspan(offset, std::min<size_t>(8, c.remaining()));
      if (AllBytes(head, 0xFF) || AllBytes(head, 0x00)) break;
    }
    if (!out.crypto_agile) {
      TWI_ASSIGN_OR_RETURN(Event e, read_legacy(offset));
      out.events.push_back(std::move(e));
      continue;
    }
    Event e;
    e.offset = offset;
    auto index = c.U32Le("pcrIndex");
    auto type = c.U32Le("eventType");
    auto count = c.U32Le("digests.count");
    if (!index.ok() || !type.ok() || !count.ok()) return At(offset, "truncated TCG_PCR_EVENT2 header");
    if (*count > spec.algorithms.size()) {
      return At(offset, StrCat(*count, " digests, the spec id event declares ",
                               spec.algorithms.size(), " algorithms"));
    }
    for (uint32_t i = 0; i < *count; ++i) {
      auto alg = c.U16Le("hashAlg");
      if (!alg.ok()) return At(offset, "truncated digest list");
      size_t size = 0;
      for (const auto& [a, s] : spec.algorithms) {
        if (a == *alg) size = s;
      }
      if (size == 0) {
        return At(offset, StrCat("digest of ", AlgName(*alg), " not declared in the spec id event"));
      }
      auto d = c.Take(size, "digest");
      if (!d.ok()) return At(offset, "truncated digest");
      if (!e.digests.emplace(*alg, Bytes(d->begin(), d->end())).second) {
        return At(offset, StrCat(AlgName(*alg), " digest given twice"));
      }
    }
    auto size = c.U32Le("eventSize");
    if (!size.ok()) return At(offset, "truncated event size");
    if (*size > kMaxEventData) return At(offset, StrCat("event size ", *size, " too large"));
    auto data = c.Take(*size, "event");
    if (!data.ok()) return At(offset, StrCat("event data of ", *size, " bytes runs past the log"));
    e.index = *index;
    e.type = *type;
    e.data.assign(data->begin(), data->end());
    if (e.type == kEvNoAction && e.index == 0 && e.data.size() == 17 &&
        std::memcmp(e.data.data(), kStartupLocality, 16) == 0) {
      out.startup_locality = e.data[16];
    }
    out.events.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::map<uint32_t, Bytes>> Replay(const EventLog& log, uint16_t alg) {
  if (Md(alg) == nullptr) {
    return absl::InvalidArgumentError(StrCat("event log replay: unsupported algorithm ", AlgName(alg)));
  }
  bool declared = false;
  for (uint16_t a : log.algorithms) declared |= a == alg;
  if (!declared) {
    return absl::InvalidArgumentError(
        StrCat("event log replay: the log has no ", AlgName(alg), " digests"));
  }
  std::map<uint32_t, Bytes> values;
  for (const Event& e : log.events) {
    if (e.type == kEvNoAction) continue;
    auto d = e.digests.find(alg);
    if (d == e.digests.end()) {
      return absl::InvalidArgumentError(StrCat("event log replay: event at offset ", e.offset,
                                               " (index ", e.index, ") has no ", AlgName(alg),
                                               " digest"));
    }
    auto [it, fresh] = values.try_emplace(e.index, Bytes(DigestSize(alg), 0));
    if (fresh && e.index == 0) it->second.back() = log.startup_locality;
    it->second = Extend(alg, it->second, d->second);
  }
  return values;
}

BootFacts ExtractFacts(const EventLog& log, uint16_t alg, uint32_t secure_boot_index,
                       uint32_t boot_app_index) {
  // EFI_GLOBAL_VARIABLE {8BE4DF61-93CA-11D2-AA0D-00E098032B8C} as it is laid out in memory.
  static constexpr uint8_t kGlobalVariable[16] = {0x61, 0xDF, 0xE4, 0x8B, 0xCA, 0x93, 0xD2, 0x11,
                                                  0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C};
  static constexpr char16_t kSecureBoot[] = u"SecureBoot";
  BootFacts facts;
  for (const Event& e : log.events) {
    if (e.type == kEvEfiVariableDriverConfig && e.index == secure_boot_index) {
      // UEFI_VARIABLE_DATA: GUID, u64 name length (chars), u64 data length, name, data.
      ByteCursor c(e.data);
      auto guid = c.Take(16, "guid");
      auto name_len = c.U64Le("name length");
      auto data_len = c.U64Le("data length");
      if (!guid.ok() || !name_len.ok() || !data_len.ok()) continue;
      if (std::memcmp(guid->data(), kGlobalVariable, 16) != 0 || *name_len != 10) continue;
      auto name = c.Take(20, "name");
      if (!name.ok()) continue;
      bool match = true;
      for (size_t i = 0; i < 10; ++i) match &= LoadLe16(name->data() + 2 * i) == kSecureBoot[i];
      if (!match || *data_len > c.remaining()) continue;
      auto value = c.Take(static_cast<size_t>(*data_len), "data");
      if (!value.ok()) continue;
      facts.secure_boot = !value->empty() && (*value)[0] == 1;
    } else if (e.type == kEvEfiBootServicesApplication && e.index == boot_app_index) {
      auto d = e.digests.find(alg);
      if (d != e.digests.end()) facts.boot_applications.push_back(d->second);
    }
  }
  return facts;
}

}  // namespace twi::eventlog
