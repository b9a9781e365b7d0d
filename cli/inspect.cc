// twi inspect FILE [--json]
//
// Decodes an evidence file into named fields (human form, or JSON with --json). Exit 0 decoded,
// 1 not a format twi knows (each decoder's reason is printed), 2 usage or unreadable file.
#include "cli/inspect.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/escaping.h"
#include "attestors/core/file.h"
#include "attestors/core/str.h"
#include "cli/commands.h"
#include "cli/input.h"

namespace twi::cli {
namespace {

int InspectUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi inspect: %s\n", why.c_str());
  std::fprintf(stderr, "usage: twi inspect FILE [--json]\n");
  return 2;
}

}  // namespace

std::string Shown(std::string_view s) {
  constexpr size_t kMax = 200;
  std::string e = absl::CHexEscape(ToAbsl(s.substr(0, kMax)));
  return s.size() > kMax ? e + "..." : e;
}

std::string Flags(std::initializer_list<std::pair<const char*, bool>> flags) {
  std::string out;
  for (const auto& [name, set] : flags) {
    if (set) out += out.empty() ? name : twi::StrCat(",", name);
  }
  return out.empty() ? "-" : out;
}

const std::vector<Decoder>& Decoders() {
  // New evidence kinds add their formats here, before the generic certificate decoder when
  // their files could also parse as something else: a TPM quote (TPMS_ATTEST magic
  // 0xff544347), an Azure HCL report ("HCLA" header).
  static const std::vector<Decoder> decoders = {
      {"an SEV-SNP report", &InspectSnpReport},
      {"a DCAP quote", &InspectDcapQuote},
      {"a DCAP collateral bundle", &InspectDcapBundle},
      {"a PCS collateral document", &InspectDcapDocument},
      {"an Azure HCL report", &InspectHclReport},
      {"a TDX TDREPORT", &InspectTdReport},
      {"an SEV-SNP certificate table", &InspectSnpCertTable},
      {"a certificate", &InspectCertificates},
      {"a CRL", &InspectCrl},
      {"a CCEL table", &InspectCcelTable},
      {"a TCG event log", &InspectEventLog},  // last: a legacy log has no magic number
  };
  return decoders;
}

absl::StatusOr<Inspection> InspectBytes(const InspectInput& input) {
  std::string why;
  for (const auto& d : Decoders()) {
    auto got = d.decode(input);
    if (got.ok()) return got;
    why += twi::StrCat(why.empty() ? "" : "; ", "not ", d.what, " because ", got.status().message());
  }
  return absl::InvalidArgumentError(why);
}

std::string FormatHuman(const Inspection& in) {
  std::string out = in.title + "\n";
  size_t width = 0;
  for (const auto& [k, v] : in.lines) width = std::max(width, k.size());
  for (const auto& [k, v] : in.lines) {
    out += twi::StrCat("  ", k, std::string(width - k.size() + 2, ' '), v, "\n");
  }
  return out;
}

int Inspect(const std::vector<std::string>& args) {
  std::string path;
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json") {
      json = true;
    } else if (path.empty() && !a.empty() && a[0] != '-') {
      path = a;
    } else {
      return InspectUsage(twi::StrCat("unexpected argument \"", a, "\""));
    }
  }
  if (path.empty()) return InspectUsage("FILE is required");
  InspectInput input;
  auto text = ReadFileToString(path);
  if (!text.ok()) return InspectUsage(std::string(text.status().message()));
  input.text = *std::move(text);
  auto bytes = ReadBlob(path);
  input.bytes = bytes.ok() ? *std::move(bytes) : ToBytes(input.text);
  auto got = InspectBytes(input);
  if (!got.ok()) {
    std::fprintf(stderr, "twi inspect: %s is not an evidence file twi knows: %s\n", path.c_str(),
                 std::string(got.status().message()).c_str());
    return 1;
  }
  if (json) {
    std::printf("%s\n", got->json.dump(2).c_str());
  } else {
    std::fputs(FormatHuman(*got).c_str(), stdout);
  }
  return 0;
}

}  // namespace twi::cli
