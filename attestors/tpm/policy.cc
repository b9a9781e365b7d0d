#include "attestors/tpm/policy.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attestors/core/echo.h"
#include "attestors/core/status.h"

namespace twi::tpm {
namespace {

constexpr uint32_t kMaxPcr = 23;

std::string OneOf(const std::vector<Bytes>& values) {
  std::vector<std::string> hex;
  for (const Bytes& v : values) hex.push_back(ShortHex(v));
  return StrCat("one of [", EchoList(hex), "]");
}

bool Contains(const std::vector<Bytes>& values, ByteView v) {
  for (const Bytes& x : values) {
    if (ConstantTimeEqual(x, v)) return true;
  }
  return false;
}

void CheckRule(const PcrRule& r, std::vector<std::string>& problems) {
  const size_t size = DigestSize(r.bank);
  if (size == 0) problems.push_back(StrCat("pcr bank ", AlgName(r.bank), " is not supported"));
  if (r.index > kMaxPcr) problems.push_back(StrCat("pcr index ", r.index, " is above 23"));
  if (r.values.empty()) problems.push_back(StrCat(PcrKey(r.bank, r.index), ": empty allow-list"));
  for (const Bytes& v : r.values) {
    if (size != 0 && v.size() != size) {
      problems.push_back(StrCat(PcrKey(r.bank, r.index), ": value of ", v.size(),
                                " bytes, want ", size));
    }
  }
}

absl::Status Problems(const std::vector<std::string>& problems) {
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("tpm policy: ", absl::StrJoin(problems, "; ")));
}

}  // namespace

absl::StatusOr<std::vector<PcrRule>> ParsePcrRules(
    const std::map<std::string, std::vector<std::string>>& config) {
  std::vector<PcrRule> rules;
  std::vector<std::string> problems;
  std::set<std::pair<uint16_t, uint32_t>> seen;
  for (const auto& [key, values] : config) {
    size_t colon = key.find(':');
    PcrRule r;
    uint32_t index = 0;
    if (colon == std::string::npos ||
        (r.bank = HashAlgFromName(std::string_view(key).substr(0, colon))) == 0 ||
        !absl::SimpleAtoi(ToAbsl(std::string_view(key).substr(colon + 1)), &index)) {
      problems.push_back(StrCat("pcrs key \"", EchoText(key, 32),
                                "\" is not <sha1|sha256|sha384|sha512>:<index>"));
      continue;
    }
    r.index = index;
    if (!seen.insert({r.bank, r.index}).second) {
      problems.push_back(StrCat(PcrKey(r.bank, r.index), " listed twice (as \"", EchoText(key, 32),
                                "\")"));
    }
    for (const std::string& v : values) {
      auto b = HexDecode(v);
      if (!b.ok()) {
        problems.push_back(StrCat(key, ": ", b.status().message()));
        continue;
      }
      r.values.push_back(*std::move(b));
    }
    CheckRule(r, problems);
    rules.push_back(std::move(r));
  }
  TWI_RETURN_IF_ERROR(Problems(problems));
  return rules;
}

absl::Status ValidatePolicy(const TpmPolicy& policy) {
  std::vector<std::string> problems;
  std::set<std::pair<uint16_t, uint32_t>> seen;
  for (const PcrRule& r : policy.pcrs) {
    CheckRule(r, problems);
    if (!seen.insert({r.bank, r.index}).second) {
      problems.push_back(StrCat(PcrKey(r.bank, r.index), " listed twice"));
    }
  }
  for (const Bytes& d : policy.boot_loader_digests) {
    if (d.size() != 20 && d.size() != 32 && d.size() != 48 && d.size() != 64) {
      problems.push_back(StrCat("boot loader digest of ", d.size(), " bytes is no sha digest"));
    }
  }
  return Problems(problems);
}

absl::Status Appraise(const VerifiedQuote& quote, const EventLogFacts* log,
                      const TpmPolicy& policy, CheckList& checks) {
  FirstFailure result(checks);
  if (quote.sig_hash == TPM2_ALG_SHA1 && !policy.allow_sha1_signatures) {
    result.Fail("policy.signature_hash",
                "quote signed with sha1; want sha256 or stronger (allow_sha1_signatures not set)");
  } else {
    result.Pass("policy.signature_hash", StrCat("quote signed with ", AlgName(quote.sig_hash)));
  }

  if (policy.pcrs.empty()) {
    result.Pass("policy.pcrs", "no pcr allow-list configured: any value (selectors carry them)");
  } else if (!quote.pcr_digest_ok) {
    result.Fail("policy.pcrs", "the pcr allow-list needs pcr values authenticated by the quote's "
                               "pcrDigest; none were");
  } else {
    std::vector<std::string> ok;
    bool failed = false;
    for (const PcrRule& r : policy.pcrs) {
      const std::string key = PcrKey(r.bank, r.index);
      const Bytes* got = nullptr;
      if (auto bank = quote.pcrs.find(r.bank); bank != quote.pcrs.end()) {
        if (auto it = bank->second.find(r.index); it != bank->second.end()) got = &it->second;
      }
      if (got == nullptr) {
        result.Fail("policy.pcrs", StrCat(key, " is not in the quote; want ", OneOf(r.values)));
        failed = true;
      } else if (!Contains(r.values, *got)) {
        result.Fail("policy.pcrs", StrCat(key, " is ", ShortHex(*got), "; want ", OneOf(r.values)));
        failed = true;
      } else {
        ok.push_back(key);
      }
    }
    if (!failed) result.Pass("policy.pcrs", StrCat("allow-listed: ", EchoList(ok, 24)));
  }

  if (policy.require_secure_boot) {
    if (log == nullptr) {
      result.Fail("policy.secure_boot", "no verified event log; want secure boot enabled");
    } else if (!log->Matched(kSecureBootPcr)) {
      result.Fail("policy.secure_boot", "pcr 7 was not replayed to its quoted value; want secure "
                                        "boot enabled per a matching log");
    } else if (!log->secure_boot.has_value()) {
      result.Fail("policy.secure_boot", "the log does not measure SecureBoot; want enabled");
    } else if (!*log->secure_boot) {
      result.Fail("policy.secure_boot", "SecureBoot is disabled; want enabled");
    } else {
      result.Pass("policy.secure_boot", "SecureBoot enabled (pcr 7 replayed)");
    }
  }

  if (!policy.boot_loader_digests.empty()) {
    if (log == nullptr) {
      result.Fail("policy.boot_loader",
                  StrCat("no verified event log; want boot loader ", OneOf(policy.boot_loader_digests)));
    } else if (!log->Matched(kBootLoaderPcr) || log->boot_applications.empty()) {
      result.Fail("policy.boot_loader",
                  StrCat("no boot application in a replayed pcr 4; want ",
                         OneOf(policy.boot_loader_digests)));
    } else if (!Contains(policy.boot_loader_digests, log->boot_applications.front())) {
      result.Fail("policy.boot_loader",
                  StrCat("boot loader ", ShortHex(log->boot_applications.front()), "; want ",
                         OneOf(policy.boot_loader_digests)));
    } else {
      result.Pass("policy.boot_loader",
                  StrCat("boot loader ", ShortHex(log->boot_applications.front()), " allow-listed"));
    }
  }
  return result.status();
}

std::vector<std::string> Selectors(const VerifiedQuote& quote, const EventLogFacts* log) {
  std::vector<std::string> out = {"tee:tpm"};
  if (quote.pcr_digest_ok) {
    for (const auto& [bank, values] : quote.pcrs) {
      for (const auto& [index, value] : values) {
        out.push_back(StrCat("tpm:pcr:", AlgName(bank), ":", index, ":", HexEncode(value)));
      }
    }
  }
  if (log != nullptr && log->Matched(kSecureBootPcr) && log->secure_boot.has_value()) {
    out.push_back(StrCat("tpm:secure-boot:", *log->secure_boot ? "true" : "false"));
  }
  return out;
}

std::map<std::string, std::string> Claims(const VerifiedQuote& quote, const EventLogFacts* log) {
  std::map<std::string, std::string> c;
  c["pcr_digest_ok"] = quote.pcr_digest_ok ? "true" : "false";
  c["ak_pub_sha256"] = HexEncode(quote.ak_spki_sha256);
  if (quote.has_attest) {
    const TPMS_ATTEST& a = quote.attest.attest;
    c["nonce"] = HexEncode(ByteView(a.extraData.buffer, a.extraData.size));
    c["signature_scheme"] = StrCat(AlgName(quote.sig_alg), "-", AlgName(quote.sig_hash));
    c["firmware_version"] = absl::StrFormat("%016x", a.firmwareVersion);
  }
  // Bank names and hex digests need no JSON escaping.
  std::vector<std::string> banks;
  if (quote.pcr_digest_ok) {
    for (const auto& [bank, values] : quote.pcrs) {
      std::vector<std::string> entries;
      for (const auto& [index, value] : values) {
        entries.push_back(StrCat("\"", index, "\":\"", HexEncode(value), "\""));
      }
      banks.push_back(StrCat("\"", AlgName(bank), "\":{", absl::StrJoin(entries, ","), "}"));
    }
  }
  c["pcrs"] = StrCat("{", absl::StrJoin(banks, ","), "}");
  if (log != nullptr) {
    c["eventlog_bank"] = AlgName(log->bank);
    c["eventlog_pcrs"] = absl::StrJoin(log->matched_pcrs, ",");
    if (log->Matched(kSecureBootPcr) && log->secure_boot.has_value()) {
      c["secure_boot"] = *log->secure_boot ? "true" : "false";
    }
  }
  return c;
}

}  // namespace twi::tpm
