// twi verify --type tpm-quote --ak-pub FILE --quote FILE --signature FILE [--pcrs FILE]
//            --nonce HEX [--ak-cert FILE --ca FILE...] [--event-log FILE] [--at RFC3339] [--json]
//
// Verifies a TPM 2.0 quote with the server's verifier (attestors/tpm/verify.h): the AK's
// attributes (when --ak-pub is a TPMT_PUBLIC / TPM2B_PUBLIC; a PEM or DER SPKI has none and is
// taken as given), the signature with the AK's scheme, magic, type, the qualifying data byte for
// byte against --nonce, and the pcrDigest over --pcrs. With --ak-cert the AK certificate must
// chain to a --ca root (more --ca files may hold intermediates); with --event-log the log is
// replayed against the quoted PCRs. Files are raw bytes or hex text; --quote may be a
// TPMS_ATTEST or a TPM2B_ATTEST. --pcrs: {"sha256": {"0": "<hex>", ...}, "sha1": {...}}.
//
// Without --pcrs the quote still proves the nonce and the PCR selection, and pcr_digest_ok is
// false. --nonce "" expects a quote without qualifying data, which proves no freshness (warned).
//
// `twi collect --kind tpm` writes exactly these files (quote.bin, signature.bin, pcrs.json,
// ak_pub.bin, event_log.bin).
#include "cli/verify_tpm.h"

#include <cstdio>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"

#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "attestors/core/str.h"
#include "attestors/tpm/ek_trust.h"
#include "attestors/tpm/policy.h"
#include "attestors/tpm/verify.h"
#include "cli/input.h"
#include "cli/outcome.h"
#include "nlohmann/json.hpp"

namespace twi::cli {
namespace {

constexpr char kTpmType[] = "tpm-quote";

int TpmVerifyUsage(const std::string& why) {
  if (!why.empty()) std::fprintf(stderr, "twi verify: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: twi verify --type tpm-quote --ak-pub FILE --quote FILE --signature FILE\n"
               "                  [--pcrs FILE] --nonce HEX [--ak-cert FILE --ca FILE...]\n"
               "                  [--event-log FILE] [--at RFC3339] [--json]\n");
  return 2;
}

}  // namespace

// {"sha256": {"0": "<hex>"}} -> PcrBanks; errors name the bank and index.
absl::StatusOr<tpm::PcrBanks> ParsePcrsJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("--pcrs: not a JSON object keyed by bank");
  }
  tpm::PcrBanks out;
  for (const auto& [bank_name, values] : j.items()) {
    const uint16_t bank = tpm::HashAlgFromName(bank_name);
    if (bank == 0 || !values.is_object()) {
      return absl::InvalidArgumentError(twi::StrCat(
          "--pcrs: \"", bank_name.substr(0, 40), "\" must be sha1, sha256, sha384 or sha512 "
          "holding an object of PCR index -> hex"));
    }
    for (const auto& [index, hex] : values.items()) {
      uint32_t i = 0;
      if (!absl::SimpleAtoi(index, &i) || i > 23 || !hex.is_string()) {
        return absl::InvalidArgumentError(twi::StrCat("--pcrs: ", bank_name, " entry \"",
                                                      index.substr(0, 20),
                                                      "\" must be a PCR index 0-23 with a hex string"));
      }
      auto b = HexDecode(hex.get<std::string>());
      if (!b.ok()) {
        return absl::InvalidArgumentError(
            twi::StrCat("--pcrs: ", bank_name, " PCR ", i, ": ", b.status().message()));
      }
      out[bank][i] = *std::move(b);
    }
  }
  return out;
}

int VerifyTpmQuote(const std::vector<std::string>& args) {
  std::map<std::string, std::string> opt;
  std::vector<std::string> cas;
  bool json = false;
  bool have_nonce = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--ca" && i + 1 < args.size()) {
      cas.push_back(args[++i]);
    } else if ((a == "--type" || a == "--ak-pub" || a == "--quote" || a == "--signature" ||
                a == "--pcrs" || a == "--nonce" || a == "--ak-cert" || a == "--event-log" ||
                a == "--at") && i + 1 < args.size()) {
      if (opt.count(a) != 0) return TpmVerifyUsage(twi::StrCat(a, " given twice"));
      opt[a] = args[++i];
      have_nonce = have_nonce || a == "--nonce";
    } else {
      return TpmVerifyUsage(twi::StrCat("unexpected argument \"", a.substr(0, 60), "\""));
    }
  }
  for (const char* required : {"--ak-pub", "--quote", "--signature"}) {
    if (opt[required].empty()) return TpmVerifyUsage(twi::StrCat(required, " is required"));
  }
  if (!have_nonce) return TpmVerifyUsage("--nonce is required (the expected qualifying data, hex)");
  if (opt["--ak-cert"].empty() != cas.empty()) return TpmVerifyUsage("--ak-cert and --ca go together");
  auto nonce = HexDecode(opt["--nonce"]);
  if (!nonce.ok()) return TpmVerifyUsage(twi::StrCat("--nonce: ", nonce.status().message()));
  TimePoint at = std::chrono::system_clock::now();
  if (!opt["--at"].empty()) {
    auto t = ParseRfc3339(opt["--at"]);
    if (!t.ok()) return TpmVerifyUsage(std::string(t.status().message()));
    at = *t;
  }
  // Files that cannot be read are usage errors; their contents are evidence (exit 1).
  std::map<std::string, Bytes> files;
  for (const char* f : {"--ak-pub", "--quote", "--signature", "--event-log"}) {
    if (opt[f].empty()) continue;
    auto b = ReadBlob(opt[f]);
    if (!b.ok() && (absl::IsNotFound(b.status()) || absl::IsPermissionDenied(b.status()))) {
      return TpmVerifyUsage(std::string(b.status().message()));
    }
    files[f] = b.ok() ? *std::move(b) : Bytes();
  }
  std::optional<std::string> pcrs_text;
  if (!opt["--pcrs"].empty()) {
    auto t = ReadFileToString(opt["--pcrs"]);
    if (!t.ok()) return TpmVerifyUsage(std::string(t.status().message()));
    pcrs_text = *std::move(t);
  }
  std::vector<Certificate> ca_certs;
  for (const std::string& f : cas) {
    auto c = ReadCertificates(f);
    if (!c.ok()) return TpmVerifyUsage(twi::StrCat("--ca ", f, ": ", c.status().message()));
    ca_certs.insert(ca_certs.end(), c->begin(), c->end());
  }

  VerifyOutcome out;
  auto fail = [&](const std::string& check, absl::Status s) {
    out.error = std::string(s.message());
    (void)out.checks.Fail(check, out.error, absl::StatusCode::kInvalidArgument);
    return PrintOutcome(out, kTpmType, json);
  };
  auto ak = tpm::AkKey::Parse(files["--ak-pub"]);
  if (!ak.ok()) return fail("ak.structure", ak.status());
  tpm::PcrBanks pcrs;
  if (pcrs_text) {
    auto p = ParsePcrsJson(*pcrs_text);
    if (!p.ok()) return fail("pcr.values", p.status());
    pcrs = *std::move(p);
  }
  if (!opt["--ak-cert"].empty()) {
    auto certs = ReadCertificates(opt["--ak-cert"]);
    if (!certs.ok() && (absl::IsNotFound(certs.status()) || absl::IsPermissionDenied(certs.status()))) {
      return TpmVerifyUsage(std::string(certs.status().message()));
    }
    if (!certs.ok() || certs->empty()) {
      return fail("ak.certificate", certs.ok() ? absl::InvalidArgumentError("no certificate in --ak-cert")
                                               : certs.status());
    }
    tpm::TrustAnchors anchors;
    for (Certificate& c : ca_certs) {
      (c.IsSelfIssued() ? anchors.ak_roots : anchors.ak_intermediates).push_back(std::move(c));
    }
    std::vector<Certificate> presented(certs->begin() + 1, certs->end());
    tpm::TpmIdentity id;
    absl::Status s = tpm::VerifyAkCertificate((*certs)[0], presented, *ak, anchors, at, out.checks, &id);
    if (!s.ok()) {
      out.error = std::string(s.message());
      return PrintOutcome(out, kTpmType, json);
    }
  }
  tpm::VerifyOptions vo;
  vo.nonce = *nonce;
  vo.allow_empty_nonce = nonce->empty();
  if (nonce->empty()) {
    std::fprintf(stderr, "twi verify: warning: --nonce \"\": a quote without qualifying data "
                         "proves no freshness\n");
  }
  // The CLI checks a quote against the AK it is given: an SPKI (no TPMT_PUBLIC) is taken as
  // vouched for by whoever handed it over (an AK certificate, an Azure HCL report).
  vo.allow_ak_without_attributes = true;
  vo.allow_missing_pcr_values = !pcrs_text.has_value();
  tpm::VerifiedQuote quote;
  absl::Status s = tpm::VerifyQuote(*ak, files["--quote"], files["--signature"], pcrs, vo,
                                    out.checks, &quote);
  out.claims = tpm::Claims(quote, nullptr);
  if (!s.ok()) {
    out.error = std::string(s.message());
    return PrintOutcome(out, kTpmType, json);
  }
  std::optional<tpm::EventLogFacts> facts;
  if (!opt["--event-log"].empty()) {
    facts.emplace();
    s = tpm::VerifyEventLog(quote, files["--event-log"], out.checks, &*facts);
    if (!s.ok()) {
      out.error = std::string(s.message());
      return PrintOutcome(out, kTpmType, json);
    }
    out.claims = tpm::Claims(quote, &*facts);
  }
  out.selectors = tpm::Selectors(quote, facts ? &*facts : nullptr);
  out.verified = true;
  return PrintOutcome(out, kTpmType, json);
}

}  // namespace twi::cli
