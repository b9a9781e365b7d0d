#include "attestors/sevsnp/policy.h"

#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace twi::sevsnp {
namespace {

std::string Hex64(uint64_t v) { return absl::StrFormat("0x%016x", v); }

using Outcome = FirstFailure;

void CheckBit(Outcome& out, const GuestPolicy& p, bool set, bool allowed, int bit,
              absl::string_view name, absl::string_view what, absl::string_view option,
              absl::string_view accept) {
  if (set && !allowed) {
    out.Fail(std::string(name),
             absl::StrFormat("guest policy allows %s (POLICY bit %d set, %s); set %s = true to "
                             "accept %s", what, bit, Hex64(p.raw), option, accept));
  } else {
    out.Pass(std::string(name),
             absl::StrFormat("POLICY bit %d %s (%s)%s", bit, set ? "set" : "clear", Hex64(p.raw),
                             set ? absl::StrCat(", allowed by ", option) : ""));
  }
}

void CheckTcbFloor(Outcome& out, absl::string_view name, absl::string_view field,
                   const TcbVersion& t, const TcbMinimum& min) {
  if (min.empty()) {
    out.Pass(std::string(name), "no minimum tcb configured");
    return;
  }
  if (!t.decoded) {
    out.Fail(std::string(name), absl::StrCat(field, " ", TcbString(t),
                                             " cannot be compared: product unknown"));
    return;
  }
  struct Item { const char* comp; uint8_t got; std::optional<uint8_t> want; };
  std::vector<Item> items = {{"bl", t.bootloader, min.bootloader},
                             {"tee", t.tee, min.tee},
                             {"snp", t.snp, min.snp},
                             {"ucode", t.microcode, min.microcode}};
  if (t.has_fmc) items.push_back({"fmc", t.fmc, min.fmc});  // fmc exists on Turin only
  for (const Item& i : items) {
    if (i.want && i.got < *i.want) {
      out.Fail(std::string(name), absl::StrCat(field, " ", i.comp, "=", i.got,
                                               " is below the minimum ", *i.want, " (",
                                               TcbString(t), ")"));
      return;
    }
  }
  out.Pass(std::string(name), absl::StrCat(field, " ", TcbString(t), " meets the minimum"));
}

bool FirmwareBelow(const FirmwareVersion& v, const MinFirmware& m) {
  if (std::tie(v.major, v.minor) != std::tie(m.major, m.minor)) {
    return std::tie(v.major, v.minor) < std::tie(m.major, m.minor);
  }
  return m.build.has_value() && v.build < *m.build;
}

std::string MinFirmwareString(const MinFirmware& m) {
  return m.build ? absl::StrCat(m.major, ".", m.minor, ".", *m.build)
                 : absl::StrCat(m.major, ".", m.minor);
}

void CheckAllowList(Outcome& out, absl::string_view name, absl::string_view field, ByteView got,
                    const std::vector<Bytes>& allowed) {
  if (allowed.empty()) {
    out.Pass(std::string(name), absl::StrCat("any ", field, " (no allow-list); got ",
                                             HexEncode(got)));
    return;
  }
  for (const Bytes& a : allowed) {
    if (ConstantTimeEqual(a, got)) {
      out.Pass(std::string(name), absl::StrCat(field, " ", HexEncode(got), " is allowed"));
      return;
    }
  }
  out.Fail(std::string(name),
           absl::StrCat(field, " ", HexEncode(got), " is not in the allow-list (",
                        allowed.size(), allowed.size() == 1 ? " value: " : " values, first ",
                        ShortHex(allowed[0]), ")"));
}

}  // namespace

absl::StatusOr<MinFirmware> ParseMinFirmware(std::string_view s_std) {
  absl::string_view s(s_std.data(), s_std.size());
  std::vector<absl::string_view> parts = absl::StrSplit(s, '.');
  if (parts.size() != 2 && parts.size() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("firmware version \"", s, "\" must be major.minor or major.minor.build"));
  }
  uint8_t v[3] = {};
  for (size_t i = 0; i < parts.size(); ++i) {
    uint32_t x = 0;
    if (!absl::SimpleAtoi(parts[i], &x) || x > 255) {
      return absl::InvalidArgumentError(absl::StrCat("firmware version \"", s, "\": part \"",
                                                     parts[i], "\" is not a number 0..255"));
    }
    v[i] = static_cast<uint8_t>(x);
  }
  MinFirmware m{v[0], v[1], std::nullopt};
  if (parts.size() == 3) m.build = v[2];
  return m;
}

absl::StatusOr<std::vector<Bytes>> ParseHexAllowList(std::span<const std::string> hex,
                                                     size_t want_len, std::string_view field_std) {
  absl::string_view field(field_std.data(), field_std.size());
  std::vector<Bytes> out;
  for (size_t i = 0; i < hex.size(); ++i) {
    auto b = HexDecode(hex[i]);
    if (!b.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "]: ", b.status().message()));
    }
    if (b->size() != want_len) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "] is ", b->size(),
                                                     " bytes, want ", want_len));
    }
    out.push_back(std::move(*b));
  }
  return out;
}

absl::Status ValidatePolicy(const SnpPolicy& p) {
  std::vector<std::string> problems;
  auto lengths = [&](const std::vector<Bytes>& list, size_t want, absl::string_view field) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].size() != want) {
        problems.push_back(absl::StrCat(field, "[", i, "] is ", list[i].size(), " bytes, want ",
                                        want));
      }
    }
  };
  lengths(p.measurements, 48, "measurements");
  lengths(p.host_data, 32, "host_data");
  lengths(p.id_key_digests, 48, "id_key_digests");
  lengths(p.author_key_digests, 48, "author_key_digests");
  if (p.allowed_vmpls.empty()) problems.push_back("allowed_vmpls is empty: no report could pass");
  for (uint32_t v : p.allowed_vmpls) {
    if (v > 3) problems.push_back(absl::StrCat("allowed_vmpls has ", v, ", want 0..3"));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid sev-snp policy: ", absl::StrJoin(problems, "; ")));
}

absl::Status Appraise(const AttestationReport& r, const SnpPolicy& policy, CheckList& checks) {
  Outcome out(checks);
  const GuestPolicy& gp = r.policy;
  CheckBit(out, gp, gp.debug, policy.allow_debug, 19, "policy.debug", "debugging", "allow_debug",
           "debug guests");
  if (gp.reserved_bit17) {
    out.Pass("policy.reserved_bit17", absl::StrCat("POLICY bit 17 set (", Hex64(gp.raw), ")"));
  } else {
    out.Fail("policy.reserved_bit17",
             absl::StrCat("POLICY bit 17 is 0 (", Hex64(gp.raw),
                          "); the spec requires it to be 1"));
  }
  if (gp.undefined_bits != 0) {
    out.Fail("policy.undefined_bits",
             absl::StrCat("POLICY sets undefined bits ", Hex64(gp.undefined_bits), " (",
                          Hex64(gp.raw), "); want bits 63:26 zero"));
  } else {
    out.Pass("policy.undefined_bits", "POLICY bits 63:26 zero");
  }
  CheckBit(out, gp, gp.smt, policy.allow_smt, 16, "policy.smt", "SMT", "allow_smt",
           "SMT guests");
  CheckBit(out, gp, gp.migrate_ma, policy.allow_migration_agent, 18, "policy.migration_agent",
           "a migration agent", "allow_migration_agent", "migratable guests");

  std::vector<std::string> vmpls;
  bool vmpl_ok = false;
  for (uint32_t v : policy.allowed_vmpls) {
    vmpls.push_back(absl::StrCat(v));
    vmpl_ok = vmpl_ok || v == r.vmpl;
  }
  std::string allowed = absl::StrCat("{", absl::StrJoin(vmpls, ","), "}");
  if (vmpl_ok) {
    out.Pass("policy.vmpl", absl::StrCat("VMPL ", r.vmpl, " in ", allowed));
  } else {
    out.Fail("policy.vmpl", absl::StrCat("report VMPL is ", r.vmpl, "; allowed VMPLs are ",
                                         allowed));
  }

  SigningKey key = r.signer_info.signing_key;
  bool key_ok = policy.signing_key == SigningKeyPolicy::kBoth ||
                (policy.signing_key == SigningKeyPolicy::kVcekOnly && key == SigningKey::kVcek) ||
                (policy.signing_key == SigningKeyPolicy::kVlekOnly && key == SigningKey::kVlek);
  if (key_ok) {
    out.Pass("policy.signing_key", absl::StrCat("signed by the ", SigningKeyName(key)));
  } else {
    out.Fail("policy.signing_key",
             absl::StrCat("report is signed by the ", SigningKeyName(key),
                          "; policy allows only the ",
                          policy.signing_key == SigningKeyPolicy::kVcekOnly ? "vcek" : "vlek"));
  }

  CheckTcbFloor(out, "policy.tcb.reported", "REPORTED_TCB", r.reported_tcb, policy.min_tcb);
  CheckTcbFloor(out, "policy.tcb.committed", "COMMITTED_TCB", r.committed_tcb, policy.min_tcb);
  CheckTcbFloor(out, "policy.tcb.current", "CURRENT_TCB", r.current_tcb, policy.min_tcb);

  if (!policy.min_firmware) {
    out.Pass("policy.firmware", absl::StrCat("no minimum firmware configured; current ",
                                             FirmwareString(r.current_fw)));
  } else if (FirmwareBelow(r.current_fw, *policy.min_firmware)) {
    out.Fail("policy.firmware", absl::StrCat("CURRENT firmware ", FirmwareString(r.current_fw),
                                             " is below the minimum ",
                                             MinFirmwareString(*policy.min_firmware)));
  } else if (FirmwareBelow(r.committed_fw, *policy.min_firmware)) {
    out.Fail("policy.firmware",
             absl::StrCat("COMMITTED firmware ", FirmwareString(r.committed_fw),
                          " is below the minimum ", MinFirmwareString(*policy.min_firmware)));
  } else {
    out.Pass("policy.firmware", absl::StrCat("firmware ", FirmwareString(r.current_fw),
                                             " (committed ", FirmwareString(r.committed_fw),
                                             ") >= ", MinFirmwareString(*policy.min_firmware)));
  }

  CheckAllowList(out, "policy.measurement", "MEASUREMENT", r.measurement, policy.measurements);
  CheckAllowList(out, "policy.host_data", "HOST_DATA", r.host_data, policy.host_data);
  CheckAllowList(out, "policy.id_key_digest", "ID_KEY_DIGEST", r.id_key_digest,
                 policy.id_key_digests);
  if (!policy.author_key_digests.empty() && !r.signer_info.author_key_en) {
    out.Fail("policy.author_key_digest",
             "AUTHOR_KEY_EN is 0 (no author key), but an author_key_digests allow-list is "
             "configured");
  } else {
    CheckAllowList(out, "policy.author_key_digest", "AUTHOR_KEY_DIGEST", r.author_key_digest,
                   policy.author_key_digests);
  }
  return out.status();
}

std::vector<std::string> Selectors(const AttestationReport& r) {
  std::vector<std::string> s = {
      "tee:sev-snp",
      absl::StrCat("sev-snp:measurement:", HexEncode(r.measurement)),
  };
  if (r.product != Product::kUnknown) {
    s.push_back(absl::StrCat("sev-snp:product:", ProductName(r.product)));
  }
  s.push_back(absl::StrCat("sev-snp:policy-debug:", r.policy.debug ? "true" : "false"));
  s.push_back(absl::StrCat("sev-snp:host-data:", HexEncode(r.host_data)));
  if (r.reported_tcb.decoded) {
    s.push_back(absl::StrCat("sev-snp:tcb:", TcbString(r.reported_tcb)));
  }
  s.push_back(absl::StrCat("sev-snp:signing-key:", SigningKeyName(r.signer_info.signing_key)));
  s.push_back(absl::StrCat("sev-snp:vmpl:", r.vmpl));
  if (!IsAllZero(r.id_key_digest)) {
    s.push_back(absl::StrCat("sev-snp:id-key-digest:", HexEncode(r.id_key_digest)));
  }
  s.push_back(absl::StrCat("sev-snp:guest-svn:", r.guest_svn));
  return s;
}

std::map<std::string, std::string> Claims(const AttestationReport& r) {
  return {
      {"measurement", HexEncode(r.measurement)},
      {"report_version", absl::StrCat(r.version)},
      {"product", std::string(ProductName(r.product))},
      {"reported_tcb", TcbString(r.reported_tcb)},
      {"current_tcb", TcbString(r.current_tcb)},
      {"committed_tcb", TcbString(r.committed_tcb)},
      {"launch_tcb", TcbString(r.launch_tcb)},
      {"chip_id", HexEncode(r.chip_id)},
      {"policy", Hex64(r.policy.raw)},
      {"policy_debug", r.policy.debug ? "true" : "false"},
      {"vmpl", absl::StrCat(r.vmpl)},
      {"guest_svn", absl::StrCat(r.guest_svn)},
      {"host_data", HexEncode(r.host_data)},
      {"id_key_digest", HexEncode(r.id_key_digest)},
      {"author_key_digest", HexEncode(r.author_key_digest)},
      {"family_id", HexEncode(r.family_id)},
      {"image_id", HexEncode(r.image_id)},
      {"report_id", HexEncode(r.report_id)},
      {"report_data", HexEncode(r.report_data)},
      {"signing_key", std::string(SigningKeyName(r.signer_info.signing_key))},
      {"platform_info", Hex64(r.platform_info.raw)},
      {"current_firmware", FirmwareString(r.current_fw)},
      {"committed_firmware", FirmwareString(r.committed_fw)},
  };
}

}  // namespace twi::sevsnp
