#include "attestors/tpm/node.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "attestors/appraisal/protocol.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tpm/credential.h"

namespace twi::tpm {
namespace {

// The activation secret: a full SHA-256 digest, the EK nameAlg of every TCG profile template.
constexpr size_t kSecretSize = 32;
// Bounds on what an agent may send (a TPM has at most a few banks and 24 PCRs per bank).
constexpr int kMaxQuotes = 8;

}  // namespace

// ---- agent ----

absl::Status QuoteBanks(TpmCollector& tpm, const std::vector<PcrBankSelection>& banks,
                        ByteView qualifying_data,
                        google::protobuf::RepeatedPtrField<twi::v1::TpmQuote>* out) {
  for (const PcrBankSelection& bank : banks) {
    auto q = tpm.Quote({bank}, qualifying_data);
    if (!q.ok()) return Annotate(q.status(), twi::StrCat("TPM2_Quote of bank ", AlgName(bank.hash_alg)));
    auto* quote = out->Add();
    quote->set_attest(std::string(AsString(q->attest)));
    quote->set_signature(std::string(AsString(q->signature)));
    quote->set_hash_alg(bank.hash_alg);
    for (const PcrValue& v : q->pcrs) {
      (*quote->mutable_pcrs())[v.index] = std::string(AsString(v.digest));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<twi::v1::Evidence> TpmNodeCollector::Collect(ByteView) {
  return absl::FailedPreconditionError(
      "TPM evidence answers the server's credential challenge; it cannot be collected alone");
}

absl::Status TpmNodeCollector::AddToPayload(twi::v1::Payload* payload) {
  std::lock_guard<std::mutex> l(mu_);
  bound_keys_.Capture(*payload);
  auto ek = tpm_->Ek();
  if (!ek.ok()) return Annotate(ek.status(), "TPM endorsement key");
  auto ak = tpm_->Ak();
  if (!ak.ok()) return Annotate(ak.status(), "TPM attestation key");
  auto* id = payload->mutable_tpm();
  id->set_ek_public(std::string(AsString(ek->public_area)));
  id->set_ek_certificate(std::string(AsString(ek->certificate)));
  id->set_ak_public(std::string(AsString(ak->public_area)));
  id->set_ak_certificate(std::string(AsString(ak->certificate)));
  return absl::OkStatus();
}

absl::StatusOr<twi::v1::Evidence> TpmNodeCollector::Answer(ByteView report_data,
                                                           const twi::v1::Challenge& challenge) {
  std::lock_guard<std::mutex> l(mu_);
  TWI_ASSIGN_OR_RETURN(const Bytes qd,
                       bound_keys_.QualifyingData(AsBytes(challenge.nonce()), report_data, "TPM"));
  if (!challenge.has_tpm_credential() || challenge.tpm_credential().credential_blob().empty()) {
    return absl::InvalidArgumentError(
        "the server's challenge carries no TPM credential to activate");
  }
  auto secret = tpm_->ActivateCredential(AsBytes(challenge.tpm_credential().credential_blob()),
                                         AsBytes(challenge.tpm_credential().encrypted_secret()));
  if (!secret.ok()) return Annotate(secret.status(), "TPM2_ActivateCredential");
  twi::v1::Evidence e;
  e.set_kind(kind());
  auto* tpm = e.mutable_tpm();
  tpm->set_activated_secret(std::string(AsString(*secret)));
  TWI_RETURN_IF_ERROR(QuoteBanks(*tpm_, options_.banks, qd, tpm->mutable_quotes()));
  if (!options_.event_log_path.empty()) {
    auto log = ReadEventLog(options_.event_log_path);
    if (!log.ok()) return Annotate(log.status(), "TPM event log");
    tpm->set_event_log(std::string(AsString(*log)));
  }
  return e;
}

// ---- server ----

TpmAppraiser::TpmAppraiser(TpmAppraiserOptions options)
    : options_(std::move(options)), clock_(options_.clock ? options_.clock : &system_clock_) {}

absl::StatusOr<appraisal::EvidenceResult> TpmAppraiser::Appraise(const twi::v1::Evidence&,
                                                                 ByteView, CheckList* checks) const {
  return checks->Fail("tpm.credential",
                      "TPM evidence without this stream's credential challenge proves nothing",
                      absl::StatusCode::kFailedPrecondition);
}

absl::Status TpmAppraiser::Trust(const twi::v1::TpmIdentity& id, const Public& ek,
                                 const AkKey& ak, CheckList* checks, TpmIdentity* out) const {
  // Routes are tried in a fixed order; each is sufficient on its own, so what the agent
  // presents only decides which sufficient proof it offers. A failed route's checks stay in a
  // scratch list: the record shows the route that held, or every refusal.
  const TrustAnchors& a = options_.anchors;
  std::vector<std::string> refusals;
  // Each attempt fills its own identity: what a refused route read (e.g. the manufacturer of
  // an untrusted certificate) never reaches the selectors.
  TpmIdentity candidate;
  auto attempt = [&](auto&& run) {
    CheckList scratch;
    candidate = TpmIdentity();
    absl::Status s = run(scratch);
    if (s.ok()) {
      for (const Check& c : scratch.checks()) {
        if (c.passed) checks->Pass(c.name, c.detail);
      }
      *out = std::move(candidate);
    } else {
      refusals.push_back(std::string(s.message()));
    }
    return s.ok();
  };
  // A certificate route: the agent's certificate for `check`, verified by `verify`.
  auto certificate_route = [&](std::string_view check, std::string_view what,
                               const std::string& der, auto&& verify) {
    if (der.empty()) {
      refusals.push_back(twi::StrCat(check, ": the agent sent no ", what, " certificate"));
      return false;
    }
    auto cert = Certificate::FromDer(AsBytes(der));
    if (!cert.ok()) {
      refusals.push_back(twi::StrCat(check, ": does not parse: ", cert.status().message()));
      return false;
    }
    return attempt([&](CheckList& c) { return verify(*cert, c); });
  };
  if (!a.ek_roots.empty() &&
      certificate_route("ek.certificate", "EK", id.ek_certificate(),
                        [&](const Certificate& cert, CheckList& c) {
                          return VerifyEkCertificate(cert, {}, ek, a, clock_->Now(), c, &candidate);
                        })) {
    return absl::OkStatus();
  }
  if (!a.ek_spki_sha256.empty() &&
      attempt([&](CheckList& c) { return CheckEkHash(ek, a, c, &candidate); })) {
    return absl::OkStatus();
  }
  if (!a.ak_roots.empty() &&
      certificate_route("ak.certificate", "AK", id.ak_certificate(),
                        [&](const Certificate& cert, CheckList& c) {
                          return VerifyAkCertificate(cert, {}, ak, a, clock_->Now(), c, &candidate);
                        })) {
    return absl::OkStatus();
  }
  return checks->Fail("tpm.trust", twi::StrCat("no configured trust route holds for this TPM: ",
                                               absl::StrJoin(refusals, "; ")));
}

absl::StatusOr<std::any> TpmAppraiser::Challenge(const twi::v1::Payload& payload,
                                                 twi::v1::Challenge* challenge,
                                                 CheckList* checks) const {
  if (!payload.has_tpm() || payload.tpm().ek_public().empty() || payload.tpm().ak_public().empty()) {
    return checks->Fail("tpm.identity", "the payload offers TPM evidence without its EK and AK",
                        absl::StatusCode::kInvalidArgument);
  }
  const auto& id = payload.tpm();
  auto ek = ParsePublic(AsBytes(id.ek_public()));
  if (!ek.ok()) {
    return checks->Fail("tpm.identity", twi::StrCat("EK: ", ek.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  auto ak_pub = ParsePublic(AsBytes(id.ak_public()));
  if (!ak_pub.ok()) {
    return checks->Fail("tpm.identity", twi::StrCat("AK: ", ak_pub.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  TWI_RETURN_IF_ERROR(CheckAkAttributes(*ak_pub, *checks));
  auto ak = AkKey::FromPublic(*ak_pub);
  if (!ak.ok()) {
    return checks->Fail("tpm.identity", twi::StrCat("AK: ", ak.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  TpmStreamState state;
  TWI_RETURN_IF_ERROR(Trust(id, *ek, *ak, checks, &state.identity));
  auto name = ComputeName(*ak_pub);
  if (!name.ok()) {
    return checks->Fail("tpm.identity", twi::StrCat("AK name: ", name.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  TWI_ASSIGN_OR_RETURN(state.secret, RandomBytes(kSecretSize));
  auto cred = MakeCredential(*ek, *name, state.secret);
  if (!cred.ok()) {
    return checks->Fail("tpm.credential", twi::StrCat("cannot make a credential for this EK: ",
                                                      cred.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  challenge->mutable_tpm_credential()->set_credential_blob(std::string(AsString(cred->id_object)));
  challenge->mutable_tpm_credential()->set_encrypted_secret(
      std::string(AsString(cred->encrypted_secret)));
  state.qualifying_data = appraisal::TpmQualifyingData(AsBytes(challenge->nonce()), payload);
  state.ak = *std::move(ak);
  return std::any(std::move(state));
}

absl::StatusOr<appraisal::EvidenceResult> TpmAppraiser::AppraiseResponse(
    const twi::v1::Evidence& evidence, ByteView, const std::any& stream_state,
    CheckList* checks) const {
  const auto* state = std::any_cast<TpmStreamState>(&stream_state);
  if (state == nullptr) return Appraise(evidence, {}, checks);
  if (!evidence.has_tpm()) {
    return checks->Fail("evidence.kind", "tpm evidence without a TPM body",
                        absl::StatusCode::kInvalidArgument);
  }
  const auto& tpm = evidence.tpm();
  // Constant time: the secret is what proves the AK lives beside the EK.
  if (!ConstantTimeEqual(AsBytes(tpm.activated_secret()), state->secret)) {
    return checks->Fail("tpm.credential",
                        twi::StrCat("the activated secret (", tpm.activated_secret().size(),
                                    " bytes) is not this stream's credential: the AK is not in "
                                    "the EK's TPM, or the answer was replayed"));
  }
  checks->Pass("tpm.credential", "the EK's TPM activated this stream's credential for the AK");
  VerifiedQuote merged;
  TWI_RETURN_IF_ERROR(VerifyQuotes(state->ak, tpm.quotes(), 0, state->qualifying_data, *checks, &merged));
  std::optional<EventLogFacts> facts;
  if (!tpm.event_log().empty()) {
    facts.emplace();
    TWI_RETURN_IF_ERROR(VerifyEventLog(merged, AsBytes(tpm.event_log()), *checks, &*facts));
  }
  const EventLogFacts* log = facts ? &*facts : nullptr;
  TWI_RETURN_IF_ERROR(tpm::Appraise(merged, log, options_.policy, *checks));

  appraisal::EvidenceResult out;
  out.selectors = NamedSelectors(merged, log, options_.policy, options_.selector_pcrs);
  for (std::string& s : IdentitySelectors(state->identity)) out.selectors.push_back(std::move(s));
  out.selectors.push_back(twi::StrCat("tpm:trust-route:", state->identity.route));
  // One TPM, one machine: credential activation proves the agent holds this EK, so no other
  // machine can present it (agent_id.cc counts it per instance). Empty on the AK certificate
  // route, where no EK is trusted; a template using it then refuses the attestation.
  out.fields["tpm.ek_hash"] = HexEncode(state->identity.ek_spki_sha256);
  out.claims = NormalizedClaims(merged, log, state->identity);
  return out;
}

absl::Status VerifyQuotes(const AkKey& ak,
                          const google::protobuf::RepeatedPtrField<twi::v1::TpmQuote>& quotes,
                          int first, ByteView qualifying_data, CheckList& checks,
                          VerifiedQuote* merged) {
  if (quotes.size() == 0 || quotes.size() > kMaxQuotes) {
    return checks.Fail("quote.count", twi::StrCat("got ", quotes.size(), " quotes, want 1..", kMaxQuotes),
                       absl::StatusCode::kInvalidArgument);
  }
  // Every bank's quote is verified; their authenticated PCRs are merged into one view for the
  // log replay and the policy.
  VerifyOptions vo;
  vo.nonce = Bytes(qualifying_data.begin(), qualifying_data.end());
  for (int i = first; i < quotes.size(); ++i) {
    const twi::v1::TpmQuote& q = quotes[i];
    const uint16_t bank = static_cast<uint16_t>(q.hash_alg());
    if (q.hash_alg() > 0xffff || DigestSize(bank) == 0) {
      return checks.Fail("quote.bank", twi::StrCat("unsupported PCR bank 0x", absl::Hex(q.hash_alg())),
                         absl::StatusCode::kInvalidArgument);
    }
    if (merged->pcrs.count(bank) != 0) {
      return checks.Fail("quote.bank", twi::StrCat("two quotes of bank ", AlgName(bank)),
                         absl::StatusCode::kInvalidArgument);
    }
    PcrBanks values;
    auto& bank_values = values[bank];
    for (const auto& [index, digest] : q.pcrs()) bank_values[index] = ToBytes(digest);
    VerifiedQuote v;
    absl::Status s = VerifyQuote(ak, AsBytes(q.attest()), AsBytes(q.signature()), values, vo,
                                 checks, &v);
    if (!s.ok()) return s;
    TWI_RETURN_IF_ERROR(MergeQuote(std::move(v), bank, checks, merged));
  }
  return absl::OkStatus();
}

absl::Status MergeQuote(VerifiedQuote v, uint16_t bank, CheckList& checks, VerifiedQuote* merged) {
  if (merged->has_attest && (v.sig_alg != merged->sig_alg || v.sig_hash != merged->sig_hash)) {
    return checks.Fail("quote.signature", "quotes of one AK with different schemes",
                       absl::StatusCode::kInvalidArgument);
  }
  for (auto& [b, m] : v.pcrs) merged->pcrs[b] = std::move(m);
  merged->pcrs[bank];  // a bank quoted once cannot be quoted again
  merged->attest = std::move(v.attest);
  merged->has_attest = true;
  merged->sig_alg = v.sig_alg;
  merged->sig_hash = v.sig_hash;
  merged->pcr_digest_ok = true;
  merged->ak_spki_sha256 = std::move(v.ak_spki_sha256);
  merged->ak_name = std::move(v.ak_name);
  return absl::OkStatus();
}

std::vector<std::string> NamedSelectors(const VerifiedQuote& quote, const EventLogFacts* log,
                                        const TpmPolicy& policy,
                                        const std::vector<uint32_t>& selector_pcrs) {
  // tpm:pcr selectors only for PCRs an operator named (policy rules, selector_pcrs): 24 PCRs
  // in every bank would bury the ones that matter.
  auto named = [&](uint16_t bank, uint32_t index) {
    for (const PcrRule& r : policy.pcrs) {
      if (r.bank == bank && r.index == index) return true;
    }
    return std::find(selector_pcrs.begin(), selector_pcrs.end(), index) != selector_pcrs.end();
  };
  std::vector<std::string> out;
  for (std::string& s : Selectors(quote, log)) {
    if (s.rfind("tpm:pcr:", 0) == 0) {
      // tpm:pcr:<bank>:<index>:<hex>
      std::vector<std::string> parts = absl::StrSplit(s, ':');
      if (parts.size() != 5) continue;
      const uint16_t bank = HashAlgFromName(parts[2]);
      uint32_t index = 0;
      if (!absl::SimpleAtoi(parts[3], &index) || !named(bank, index)) continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

appraisal::Claims NormalizedClaims(const VerifiedQuote& quote, const EventLogFacts* log,
                                   const TpmIdentity& identity) {
  appraisal::Claims c = {
      {"tee", "tpm"},
      {"tpm_trust_route", identity.route},
      {"tpm_ak_pub_sha256", HexEncode(quote.ak_spki_sha256)},
  };
  if (!identity.ek_spki_sha256.empty()) c["tpm_ek_hash"] = HexEncode(identity.ek_spki_sha256);
  if (!identity.device.manufacturer.empty()) c["tpm_manufacturer"] = identity.device.manufacturer;
  if (quote.pcr_digest_ok) {
    for (const auto& [bank, values] : quote.pcrs) {
      for (const auto& [index, digest] : values) {
        c[twi::StrCat("tpm_pcr_", AlgName(bank), "_", index)] = HexEncode(digest);
      }
    }
  }
  if (log != nullptr && log->secure_boot && log->Matched(kSecureBootPcr)) {
    c["tpm_secure_boot"] = *log->secure_boot ? "true" : "false";
  }
  return c;
}

}  // namespace twi::tpm
