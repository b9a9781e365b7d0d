// twi collect [--kind sev-snp|tdx|tpm|azure|gcp] [--simulate KIND] [--nonce HEX] --out DIR
//             [--hierarchy-dir DIR] [--rsa-bits 2048|4096] [--imds-url URL]   (azure)
//             [--tee sev-snp|tdx]   (--simulate azure|gcp: the simulated VM's hardware)
//             [--collateral-url URL] [--collateral-offline PATH] [--pccs-allow-self-signed-tls]
//             [--tcti T] [--pcr-banks sha256[,sha1...]] [--pcrs 0-7[,14...]]   (tpm)
//             [--tpm T] [--ca FILE]   (gcp: the vTPM, the GCE vTPM CA bundle for verify.sh)
//
// Writes the evidence the agent plugin would send (same device code, sevsnp/ and tdx/collect.h) as the
// files `twi verify --type KIND` takes, plus DIR/verify.sh running that verification. Exit 0
// written, 1 collection failed, 2 usage (including kinds not supported yet).
#include "cli/collect.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "cli/commands.h"

namespace twi::cli {
namespace {

int CollectUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi collect: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi collect [--kind sev-snp|tdx|tpm|azure|gcp] [--simulate KIND] [--nonce HEX]\n"
               "                   --out DIR [--hierarchy-dir DIR] [--rsa-bits 2048|4096]\n"
               "                   [--collateral-url URL] [--collateral-offline PATH]\n"
               "                   [--pccs-allow-self-signed-tls]   (tdx: where collateral comes from)\n"
               "                   [--tcti T] [--pcr-banks sha256[,sha1...]] [--pcrs 0-7[,14...]]\n"
               "                   [--tpm T] [--ca FILE]   (gcp: the vTPM, the GCE vTPM CA bundle)\n"
               "                   [--imds-url URL]   (azure: where THIM / the TD quoting service answer)\n"
               "                   [--tee sev-snp|tdx]   (--simulate azure|gcp: the simulated VM's hardware)\n");
  return 2;
}

// Single-quoted for sh: nothing inside is expanded.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

bool WriteVerifyScript(const CollectRequest& r, const Collected& c) {
  std::string args;
  for (const auto& a : c.verify_args) args += " " + ShellQuote(a);
  std::string script = twi::StrCat(
      "#!/bin/sh\n"
      "# Written by `twi collect`: verifies the evidence beside this file as the server plugin\n"
      "# would, and exits with twi verify's status (0 verified, 1 rejected, 2 usage). Extra\n"
      "# arguments go to twi verify (e.g. --json, --policy FILE, --at RFC3339).\n",
      c.note.empty() ? "" : twi::StrCat("# ", c.note, "\n"),
      "set -e\n"
      "cd \"$(dirname \"$0\")\"\n"
      "TWI=\"${TWI:-", r.twi_path, "}\"\n"
      "[ -x \"$TWI\" ] || TWI=twi\n"
      "exec \"$TWI\" verify", args, " \"$@\"\n");
  const auto path = r.out / "verify.sh";
  std::ofstream f(path, std::ios::trunc);
  f << script;
  f.close();
  return static_cast<bool>(f) && ::chmod(path.c_str(), 0755) == 0;
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "twi";
  return std::string(buf, static_cast<size_t>(n));
}

// "sha256,sha1" and "0-7,14": the same PCRs in every bank, like the agent's tpm block.
absl::StatusOr<std::vector<tpm::PcrBankSelection>> ParseTpmPcrSelection(const std::string& banks,
                                                                        const std::string& pcrs) {
  std::vector<uint32_t> indices;
  for (absl::string_view item : absl::StrSplit(pcrs, ',')) {
    std::pair<absl::string_view, absl::string_view> range = absl::StrSplit(item, absl::MaxSplits('-', 1));
    uint32_t first = 0, last = 0;
    if (!absl::SimpleAtoi(range.first, &first) ||
        !absl::SimpleAtoi(range.second.empty() ? range.first : range.second, &last) || last < first ||
        last > 31) {
      return absl::InvalidArgumentError(twi::StrCat("--pcrs: \"", std::string(item).substr(0, 16),
                                                    "\" is not an index or range within 0-31"));
    }
    for (uint32_t i = first; i <= last; ++i) indices.push_back(i);
  }
  std::vector<tpm::PcrBankSelection> out;
  for (absl::string_view name : absl::StrSplit(banks, ',')) {
    TWI_ASSIGN_OR_RETURN(uint16_t alg, tpm::PcrBankFromName(std::string(name)));
    out.push_back({alg, indices});
  }
  return out;
}

}  // namespace

absl::Status WriteEvidenceFile(const std::filesystem::path& p, std::string_view data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  f.close();
  if (!f) return absl::UnavailableError(twi::StrCat("cannot write ", p.string()));
  return absl::OkStatus();
}

const std::vector<EvidenceKind>& EvidenceKinds() {
  // A new kind adds its collector here (and its `twi verify --type`).
  static const std::vector<EvidenceKind> kinds = {
      {"sev-snp", &CollectSevSnp},
      {"tdx", &CollectTdx},
      {"tpm", &CollectTpm},
      {"azure", &CollectAzure},
      {"gcp", &CollectGcp},
  };
  return kinds;
}

int RunCollect(const CollectRequest& r) {
  const EvidenceKind* kind = nullptr;
  std::string names;
  for (const auto& k : EvidenceKinds()) {
    if (r.kind == k.name) kind = &k;
    names += names.empty() ? k.name : twi::StrCat(", ", k.name);
  }
  if (kind == nullptr) return CollectUsage(twi::StrCat("unknown evidence kind \"", r.kind, "\" (known: ", names, ")"));
  if (kind->collect == nullptr) {
    std::string supported;
    for (const auto& k : EvidenceKinds()) {
      if (k.collect != nullptr) supported += supported.empty() ? k.name : twi::StrCat(", ", k.name);
    }
    std::fprintf(stderr, "twi collect: evidence kind \"%s\" is not supported yet (supported: %s)\n",
                 kind->name, supported.c_str());
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(r.out, ec);
  if (ec) {
    std::fprintf(stderr, "twi collect: cannot create %s: %s\n", r.out.c_str(), ec.message().c_str());
    return 1;
  }
  auto c = kind->collect(r);
  if (!c.ok()) {
    std::fprintf(stderr, "twi collect: %s\n", std::string(c.status().message()).c_str());
    return 1;
  }
  if (!WriteVerifyScript(r, *c)) {
    std::fprintf(stderr, "twi collect: cannot write %s/verify.sh\n", r.out.c_str());
    return 1;
  }
  std::string files;
  for (const auto& f : c->files) files += f + ",";
  std::printf("collected %s evidence from %s (nonce %s)\n", kind->name, c->device.c_str(),
              HexEncode(r.nonce).c_str());
  if (!c->note.empty()) std::printf("%s\n", c->note.c_str());
  std::printf("wrote %s/{%sverify.sh}\n", r.out.c_str(), files.c_str());
  return 0;
}

int Collect(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--pccs-allow-self-signed-tls") {
      opt[a] = "true";
    } else if ((a == "--kind" || a == "--simulate" || a == "--nonce" || a == "--out" ||
                a == "--hierarchy-dir" || a == "--rsa-bits" || a == "--collateral-url" ||
                a == "--collateral-offline" || a == "--tcti" || a == "--tpm" ||
                a == "--pcr-banks" || a == "--pcrs" || a == "--ca" || a == "--imds-url" ||
                a == "--tee") &&
               i + 1 < args.size()) {
      opt[a] = args[++i];
    } else {
      return CollectUsage(twi::StrCat("unexpected argument \"", a, "\""));
    }
  }
  if (opt["--out"].empty()) return CollectUsage("--out is required");
  CollectRequest r;
  r.simulate = opt.count("--simulate") > 0;
  r.kind = r.simulate ? opt["--simulate"] : opt.count("--kind") ? opt["--kind"] : "sev-snp";
  if (r.simulate && opt.count("--kind") && opt["--kind"] != r.kind) {
    return CollectUsage(twi::StrCat("--kind ", opt["--kind"], " and --simulate ", r.kind, " disagree"));
  }
  if (opt.count("--nonce")) {
    auto n = HexDecode(opt["--nonce"]);
    if (!n.ok() || n->empty() || n->size() > 64) return CollectUsage("--nonce must be 1 to 64 bytes of hex");
    r.nonce = *std::move(n);
  } else {
    auto n = RandomBytes(32);
    if (!n.ok()) return CollectUsage(std::string(n.status().message()));
    r.nonce = *std::move(n);
  }
  r.out = std::filesystem::absolute(opt["--out"]);
  r.twi_path = SelfPath();
  r.sim_dir = opt["--hierarchy-dir"];
  if (opt.count("--collateral-url")) r.dcap.base_url = opt["--collateral-url"];
  if (opt.count("--collateral-offline")) r.dcap.offline_path = opt["--collateral-offline"];
  r.dcap.allow_self_signed_tls = opt.count("--pccs-allow-self-signed-tls") > 0;
  if (opt.count("--rsa-bits")) {
    r.sim_rsa_bits = std::atoi(opt["--rsa-bits"].c_str());
    if (r.sim_rsa_bits != 2048 && r.sim_rsa_bits != 4096) return CollectUsage("--rsa-bits must be 2048 or 4096");
  }
  if (opt.count("--tcti")) r.tpm.tcti = opt["--tcti"];
  if (opt.count("--tpm")) r.tpm.tcti = opt["--tpm"];  // gcp: the vTPM
  r.gcp_ca_file = opt["--ca"];
  if (opt.count("--imds-url")) r.imds_url = opt["--imds-url"];
  if (opt.count("--tee")) {
    // A VM's device says which hardware it runs on (Azure: the HCL report); only a
    // simulation is told.
    if (!r.simulate || (r.kind != "azure" && r.kind != "gcp")) {
      return CollectUsage("--tee chooses the simulated VM's hardware (with --simulate azure or gcp); "
                          "on a VM the HCL report (azure) or the guest's device (gcp) says which it is");
    }
    if (opt["--tee"] != "sev-snp" && opt["--tee"] != "tdx") return CollectUsage("--tee must be sev-snp or tdx");
    r.sim_tee = opt["--tee"];
  }
  if (opt.count("--pcr-banks") || opt.count("--pcrs")) {
    auto sel = ParseTpmPcrSelection(opt.count("--pcr-banks") ? opt["--pcr-banks"] : "sha256",
                                    opt.count("--pcrs") ? opt["--pcrs"] : "0-7");
    if (!sel.ok()) return CollectUsage(std::string(sel.status().message()));
    r.tpm_pcrs = *std::move(sel);
  }
  return RunCollect(r);
}

}  // namespace twi::cli
