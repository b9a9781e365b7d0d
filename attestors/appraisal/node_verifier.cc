#include "attestors/core/str.h"
#include "attestors/appraisal/node_verifier.h"

#include <openssl/ec.h>
#include <openssl/core_names.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attestors/appraisal/agent_id.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/core/crypto.h"
#include "attestors/core/echo.h"
#include "attestors/core/status.h"
#include "attestors/keybinding/binding.h"

namespace twi::appraisal {
namespace {

absl::Status CheckP256(EVP_PKEY* key) {
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1 ||
      std::string_view(group, len) != "prime256v1") {
    OpenSslErrors();
    return absl::InvalidArgumentError(
        twi::StrCat("instance key must be ECDSA P-256, got ",
                     EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? std::string(group, len)
                                                              : std::string(EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown")));
  }
  return absl::OkStatus();
}

}  // namespace

NodeVerifier::NodeVerifier(VerifierOptions options,
                           std::vector<std::unique_ptr<EvidenceAppraiser>> appraisers)
    : options_(std::move(options)), appraisers_(std::move(appraisers)) {}

const EvidenceAppraiser* NodeVerifier::Find(twi::v1::EvidenceKind kind) const {
  for (const auto& a : appraisers_) {
    if (a->kind() == kind) return a.get();
  }
  return nullptr;
}

NodeSession::NodeSession(std::shared_ptr<const NodeVerifier> verifier)
    : verifier_(std::move(verifier)) {}

absl::StatusOr<Bytes> NodeSession::HandlePayload(ByteView payload) {
  auto out = Payload(payload);
  if (!out.ok()) Record(out.status(), nullptr);
  return out;
}

absl::StatusOr<AgentAttributes> NodeSession::HandleChallengeResponse(ByteView response) {
  auto out = Response(response);
  Record(out.status(), out.ok() ? &*out : nullptr);
  return out;
}

TimePoint NodeSession::Now() const {
  const Clock* c = verifier_->options().clock;
  return c != nullptr ? c->Now() : std::chrono::system_clock::now();
}

void NodeSession::Record(const absl::Status& status, const AgentAttributes* attrs) {
  const auto& opts = verifier_->options();
  if (!opts.ear_sink) return;
  EarFacts f;
  f.iat = Now();
  f.verifier_build = opts.verifier_build;
  if (opts.claims_policy) f.policy_id = opts.claims_policy->policy_id;
  f.claims_policy = evaluation_.has_value();
  if (evaluation_) {
    f.trace = TraceJson(*evaluation_);
    f.claims_recognized = std::any_of(evaluation_->rules.begin(), evaluation_->rules.end(),
                                      [](const RuleTrace& r) { return r.fired; });
  }
  f.tee_evidence = tee_evidence_;
  for (auto k : wanted_) f.evidence_kinds.push_back(KindName(k));
  if (status.ok()) {
    // Without TEE evidence (insecure_allow_no_tee) nothing about the machine was shown.
    f.status = evaluation_ ? evaluation_->status : tee_evidence_ ? kAffirming : kWarning;
    f.agent_id = attrs->spiffe_id;
    f.selectors = attrs->selectors;
  } else {
    f.status = kContraindicated;
    f.failed_at = stage_;
    f.error = std::string(status.message().substr(0, 1024));
  }
  opts.ear_sink->Record(f);
}

absl::StatusOr<Bytes> NodeSession::Payload(ByteView payload) {
  if (state_ != State::kWantPayload) {
    return absl::InvalidArgumentError("unexpected second payload on one attestation stream");
  }
  state_ = State::kDone;  // until the payload is accepted
  if (payload.size() > kMaxPayloadBytes) {
    return absl::InvalidArgumentError(twi::StrCat("attestation payload is ", payload.size(),
                                                  " bytes, more than the limit of ",
                                                  kMaxPayloadBytes));
  }
  twi::v1::Payload p;
  if (payload.empty() || !p.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError(twi::StrCat(
        "attestation payload is not a twi/v1 Payload message (", payload.size(), " bytes: ",
        ShortHex(payload), ")"));
  }
  if (p.version() != kProtocolVersion) {
    return absl::InvalidArgumentError(twi::StrCat("unsupported payload version ", p.version(),
                                                   " (this server speaks ", kProtocolVersion, ")"));
  }
  Bytes spki = ToBytes(p.instance_key_spki());
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr key, PublicKeyFromSpki(spki));
  TWI_RETURN_IF_ERROR(CheckP256(key.get()));
  checks_.Pass("payload.instance_key", "ECDSA P-256 key " + ShortHex(Sha256(spki)));
  if (p.has_svid_key()) {
    auto svid = keybinding::ParseSvidKey(AsBytes(p.svid_key().spki()));
    if (!svid.ok()) {
      return checks_.Fail("payload.svid_key", std::string(svid.status().message()),
                          absl::StatusCode::kInvalidArgument);
    }
    checks_.Pass("payload.svid_key",
                 twi::StrCat("svid key ", ShortHex(Sha256(AsBytes(p.svid_key().spki()))),
                             " generation ", p.svid_key().generation(), " to bind"));
  } else if (verifier_->options().require_svid_key) {
    return checks_.Fail("payload.svid_key",
                        "payload carries no svid key but this server requires key binding "
                        "(the agent needs the twi KeyManager and key_binding configured)");
  }

  for (int k : p.evidence_kinds()) {
    auto kind = static_cast<twi::v1::EvidenceKind>(k);
    if (verifier_->Find(kind) != nullptr &&
        std::find(wanted_.begin(), wanted_.end(), kind) == wanted_.end()) {
      wanted_.push_back(kind);
    }
  }
  if (wanted_.empty() && !verifier_->options().insecure_allow_no_tee) {
    // Bounded: a payload may list thousands of kinds, the error names the first few.
    std::vector<std::string> offered;
    for (int k : p.evidence_kinds()) {
      if (offered.size() == kEchoMaxItems) break;
      offered.push_back(KindName(static_cast<twi::v1::EvidenceKind>(k)));
    }
    std::string listed = EchoList(offered);
    if (size_t more = p.evidence_kinds_size() - offered.size(); more > 0) {
      listed = twi::StrCat(listed, " and ", more, " more");
    }
    // Kinds this server can never verify (built without them) say so, once each.
    std::vector<twi::v1::EvidenceKind> noted;
    for (int k : p.evidence_kinds()) {
      auto kind = static_cast<twi::v1::EvidenceKind>(k);
      auto why = verifier_->options().unverified_kinds.find(kind);
      if (why == verifier_->options().unverified_kinds.end() ||
          std::find(noted.begin(), noted.end(), kind) != noted.end()) {
        continue;
      }
      noted.push_back(kind);
      listed = twi::StrCat(listed, "; ", why->second);
    }
    return checks_.Fail(
        "payload.tee_evidence",
        twi::StrCat("agent offers no TEE evidence this server verifies (offered: ",
                     offered.empty() ? "none" : listed,
                     "); an instance key alone proves nothing about the machine. Set "
                     "insecure_allow_no_tee = true in the server plugin_data to accept such "
                     "agents (development only)"));
  }
  TWI_ASSIGN_OR_RETURN(nonce_, RandomBytes(kNonceSize));
  payload_.assign(payload.begin(), payload.end());
  payload_msg_ = p;
  spki_ = std::move(spki);
  key_ = std::move(key);

  twi::v1::Challenge c;
  c.set_version(kProtocolVersion);
  c.set_nonce(std::string(AsString(nonce_)));
  for (auto k : wanted_) {
    c.add_evidence_kinds(k);
    auto state = verifier_->Find(k)->Challenge(p, &c, &checks_);
    if (!state.ok()) {
      return absl::Status(state.status().code(),
                          twi::StrCat(KindName(k), ": ", state.status().message()));
    }
    stream_state_.push_back(*std::move(state));
  }
  std::string out = c.SerializeAsString();
  state_ = State::kWantResponse;
  return ToBytes(out);
}

absl::StatusOr<AgentAttributes> NodeSession::Response(ByteView response) {
  if (state_ != State::kWantResponse) {
    return absl::InvalidArgumentError(
        state_ == State::kWantPayload ? "challenge response received before the payload"
                                      : "unexpected challenge response: this attestation stream "
                                        "has already answered its challenge");
  }
  state_ = State::kDone;
  if (response.size() > kMaxResponseBytes) {
    return absl::InvalidArgumentError(twi::StrCat("challenge response is ", response.size(),
                                                  " bytes, more than the limit of ",
                                                  kMaxResponseBytes));
  }
  twi::v1::ChallengeResponse r;
  if (response.empty() || !r.ParseFromArray(response.data(), static_cast<int>(response.size()))) {
    return absl::InvalidArgumentError(twi::StrCat(
        "challenge response is not a twi/v1 ChallengeResponse message (", response.size(),
        " bytes: ", ShortHex(response), ")"));
  }
  if (r.version() != kProtocolVersion) {
    return absl::InvalidArgumentError(twi::StrCat("unsupported challenge response version ",
                                                   r.version(), " (this server speaks ",
                                                   kProtocolVersion, ")"));
  }
  if (!ConstantTimeEqual(AsBytes(r.nonce()), nonce_)) {
    return checks_.Fail("response.nonce",
                        twi::StrCat("challenge response answers nonce ", ShortHex(AsBytes(r.nonce())),
                                     ", not this stream's nonce ", ShortHex(nonce_),
                                     " (replayed or mismatched response)"),
                        absl::StatusCode::kInvalidArgument);
  }
  checks_.Pass("response.nonce", "nonce echoed");
  absl::Status sig = VerifySha256(key_.get(), Transcript(nonce_, payload_), AsBytes(r.signature()));
  if (!sig.ok()) {
    return checks_.Fail("response.signature",
                        "instance key signature over the transcript does not verify",
                        absl::StatusCode::kInvalidArgument);
  }
  checks_.Pass("response.signature", "instance key signed the transcript");
  AgentAttributes out;
  if (payload_msg_.has_svid_key()) {
    absl::Status pop = keybinding::VerifyPop(payload_msg_.svid_key(), nonce_, payload_,
                                             AsBytes(r.svid_key_signature()));
    if (!pop.ok()) {
      return checks_.Fail("response.svid_key_signature", std::string(pop.message()),
                          absl::StatusCode::kInvalidArgument);
    }
    checks_.Pass("response.svid_key_signature", "svid key signed the pop transcript");
    // Set now, valid only if every appraiser below accepts the evidence bound to it.
    out.svid_key_spki = ToBytes(payload_msg_.svid_key().spki());
    out.svid_key_hash = keybinding::SvidKeyHash(out.svid_key_spki);
    out.svid_key_generation = payload_msg_.svid_key().generation();
  } else if (!r.svid_key_signature().empty()) {
    return checks_.Fail("response.svid_key_signature",
                        "response carries an svid key signature but the payload no svid key",
                        absl::StatusCode::kInvalidArgument);
  }
  stage_ = "hardware";

  std::string key_hash = InstanceKeyHash(spki_);
  std::map<std::string, std::string> fields = {{"instance_key_hash", key_hash}};
  out.selectors.push_back("instance:" + key_hash);
  // Binds the instance key, and the SVID key when the payload carries one.
  Bytes report_data = ReportData(nonce_, payload_msg_);
  Claims claims;
  for (size_t i = 0; i < wanted_.size(); ++i) {
    const twi::v1::EvidenceKind kind = wanted_[i];
    const twi::v1::Evidence* ev = nullptr;
    for (const auto& e : r.evidence()) {
      if (e.kind() == kind) {
        if (ev != nullptr) {
          return absl::InvalidArgumentError(
              twi::StrCat("challenge response carries ", KindName(kind), " evidence twice"));
        }
        ev = &e;
      }
    }
    if (ev == nullptr) {
      return checks_.Fail("response.evidence",
                          twi::StrCat("challenge response lacks the ", KindName(kind),
                                       " evidence the server asked for"),
                          absl::StatusCode::kInvalidArgument);
    }
    auto result = verifier_->Find(kind)->AppraiseResponse(*ev, report_data, stream_state_[i],
                                                          &checks_);
    if (!result.ok()) {
      return absl::Status(result.status().code(),
                          twi::StrCat(KindName(kind), ": ", result.status().message()));
    }
    out.selectors.insert(out.selectors.end(), result->selectors.begin(), result->selectors.end());
    fields.insert(result->fields.begin(), result->fields.end());
    claims.insert(result->claims.begin(), result->claims.end());
    tee_evidence_ = true;
  }
  const auto& opts = verifier_->options();
  if (opts.claims_policy) {
    stage_ = "executables";
    evaluation_ = Evaluate(*opts.claims_policy, claims, Now());
    if (!evaluation_->accepted) {
      return checks_.Fail("claims.policy", twi::StrCat("policy \"", opts.claims_policy->policy_id,
                                                       "\": ", evaluation_->message));
    }
    checks_.Pass("claims.policy", evaluation_->selectors.empty()
                                      ? evaluation_->message
                                      : twi::StrCat(evaluation_->status, ": ",
                                                    absl::StrJoin(evaluation_->selectors, ", ")));
    if (!opts.claims_policy->emit_raw_selectors) {
      // Only the agent's own key selector and the claims: registration entries then cannot
      // name a digest that changes with every image update.
      std::erase_if(out.selectors, [](const std::string& s) { return s.rfind("instance:", 0) != 0; });
    }
    out.selectors.insert(out.selectors.end(), evaluation_->selectors.begin(),
                         evaluation_->selectors.end());
    if (evaluation_->status == kWarning) out.claims_warning = evaluation_->message;
  }
  stage_ = "agent-id";
  TWI_ASSIGN_OR_RETURN(out.spiffe_id,
                       RenderAgentId(opts.trust_domain, opts.agent_path_template, fields));
  // Selectors are a set for SPIRE; keep the first occurrence's order.
  std::vector<std::string> unique;
  for (auto& s : out.selectors) {
    if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(std::move(s));
  }
  out.selectors = std::move(unique);
  out.can_reattest = true;
  out.checks = checks_.checks();
  out.fields = std::move(fields);
  return out;
}

}  // namespace twi::appraisal
