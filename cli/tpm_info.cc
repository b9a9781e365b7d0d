// twi tpm info [--tcti T] [--ek rsa|ecc] [--ek-handle H] [--ak-handle H] [--json]
//
// What an operator on the VM needs to know about its TPM before configuring the plugins: the
// manufacturer, the active PCR banks, the EK the agent would use (public area, Name, the hash
// the server's ek_hashes allow-list takes, the certificate from NV) and the persistent handles in use. Reads only: it creates no AK and
// persists nothing. Exit 0, 1 when the TPM cannot be opened or read, 2 usage.
#include <algorithm>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "attestors/core/crypto.h"
#include "attestors/core/str.h"
#include "attestors/core/x509.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/collect.h"
#include "cli/commands.h"
#include "nlohmann/json.hpp"

namespace twi::cli {
namespace {

int InfoUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi tpm info: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi tpm info [--tcti T] [--ek rsa|ecc] [--ek-handle H] [--ak-handle H] [--json]\n");
  return 2;
}

std::string Handle(uint32_t h) { return twi::StrCat("0x", absl::Hex(h, absl::kZeroPad8)); }

bool ParseHandle(const std::string& text, uint32_t* out) {
  return absl::SimpleHexAtoi(text, out);  // accepts an optional 0x
}

}  // namespace

int Tpm(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "info") return InfoUsage("want the subcommand info");
  tpm::TpmCollectOptions options;
  bool json = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--json") {
      json = true;
    } else if (a == "--tcti" && has_value) {
      options.tcti = args[++i];
    } else if (a == "--ek" && has_value) {
      const std::string& v = args[++i];
      if (v != "rsa" && v != "ecc") return InfoUsage("--ek must be rsa or ecc");
      options.ek_alg = v == "rsa" ? tpm::KeyAlg::kRsa2048 : tpm::KeyAlg::kEccP256;
    } else if ((a == "--ek-handle" || a == "--ak-handle") && has_value) {
      uint32_t h = 0;
      if (!ParseHandle(args[++i], &h)) return InfoUsage(twi::StrCat(a, " must be a hex handle"));
      (a == "--ek-handle" ? options.ek_handle : options.ak_handle) = h;
    } else {
      return InfoUsage(twi::StrCat("unexpected argument \"", a.substr(0, 64), "\""));
    }
  }
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "twi tpm info: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  auto tpm = tpm::TpmCollector::Open(options);
  if (!tpm.ok()) return fail(tpm.status());
  auto manufacturer = (*tpm)->Manufacturer();
  auto banks = (*tpm)->ActiveBanks();
  auto ek = (*tpm)->Ek();
  auto persistent = (*tpm)->PersistentHandles();
  for (const absl::Status& s : {manufacturer.status(), banks.status(), ek.status(),
                                persistent.status()}) {
    if (!s.ok()) return fail(s);
  }
  nlohmann::ordered_json out;
  out["tcti"] = options.tcti;
  out["manufacturer"] = *manufacturer;
  std::vector<std::string> bank_names;
  for (uint16_t b : *banks) bank_names.push_back(tpm::AlgName(b));
  out["pcr_banks"] = bank_names;
  nlohmann::ordered_json e;
  e["type"] = std::string(tpm::KeyAlgName(ek->alg));
  e["handle"] = ek->persistent_handle ? Handle(ek->persistent_handle) : "transient";
  e["name"] = HexEncode(ek->name);
  // What the server's ek_hashes allow-list and the tpm:ek-hash selector take.
  auto ek_pub = tpm::ParsePublic(ek->public_area);
  auto spki = ek_pub.ok() ? tpm::PublicSpki(*ek_pub) : absl::StatusOr<Bytes>(ek_pub.status());
  if (!spki.ok()) return fail(spki.status());
  e["ek_hash"] = HexEncode(Sha256(*spki));
  e["public_area"] = HexEncode(ek->public_area);
  if (!ek->certificate.empty()) {
    auto cert = Certificate::FromDer(ek->certificate);
    e["certificate_bytes"] = ek->certificate.size();
    e["certificate_subject"] = cert.ok() ? cert->subject() : "(does not parse)";
    e["certificate_issuer"] = cert.ok() ? cert->issuer() : "";
  }
  out["ek"] = e;
  if (options.ak_handle != 0) {
    // Only an AK that is already persisted: `info` makes nothing.
    auto handles = *persistent;
    if (std::find(handles.begin(), handles.end(), options.ak_handle) == handles.end()) {
      out["ak"] = twi::StrCat("none at ", Handle(options.ak_handle));
    } else {
      auto ak = (*tpm)->Ak();
      if (!ak.ok()) return fail(ak.status());
      out["ak"] = {{"handle", Handle(ak->persistent_handle)},
                   {"type", std::string(tpm::KeyAlgName(ak->alg))},
                   {"name", HexEncode(ak->name)}};
    }
  }
  std::vector<std::string> handles;
  for (uint32_t h : *persistent) handles.push_back(Handle(h));
  out["persistent_handles"] = handles;

  if (json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("tpm          %s (manufacturer \"%s\")\n", options.tcti.c_str(),
              manufacturer->c_str());
  std::printf("pcr banks    %s\n", absl::StrJoin(bank_names, ", ").c_str());
  std::printf("ek           %s, %s, name %s\n", e["type"].get<std::string>().c_str(),
              e["handle"].get<std::string>().c_str(), HexEncode(ek->name).c_str());
  std::printf("ek hash      %s (sha256 of the EK SPKI: server ek_hashes, tpm:ek-hash)\n",
              e["ek_hash"].get<std::string>().c_str());
  if (ek->certificate.empty()) {
    std::printf("ek cert      none in NV\n");
  } else {
    std::printf("ek cert      %zu bytes, subject \"%s\", issuer \"%s\"\n", ek->certificate.size(),
                e["certificate_subject"].get<std::string>().c_str(),
                e["certificate_issuer"].get<std::string>().c_str());
  }
  if (out.contains("ak")) {
    std::printf("ak           %s\n", out["ak"].is_string()
                                         ? out["ak"].get<std::string>().c_str()
                                         : twi::StrCat(out["ak"]["type"].get<std::string>(), ", ",
                                                       out["ak"]["handle"].get<std::string>(),
                                                       ", name ", out["ak"]["name"].get<std::string>())
                                               .c_str());
  }
  std::printf("persistent   %s\n", handles.empty() ? "none" : absl::StrJoin(handles, " ").c_str());
  return 0;
}

}  // namespace twi::cli
