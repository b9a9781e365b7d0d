#include "attestors/gcp/node.h"

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/core/echo.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tpm/node.h"

namespace twi::gcp {
namespace {

// GCE's chain is AK <- intermediate <- root; an agent sending more is not a GCE vTPM.
constexpr int kMaxIntermediates = 4;

}  // namespace

// ---- agent ----

absl::StatusOr<twi::v1::Evidence> GcpCollector::Collect(ByteView) {
  return absl::FailedPreconditionError(
      "GCP evidence quotes over the server's challenge; it cannot be collected alone");
}

absl::Status GcpCollector::AddToPayload(twi::v1::Payload* payload) {
  std::lock_guard<std::mutex> l(mu_);
  bound_keys_.Capture(*payload);
  return absl::OkStatus();
}

std::string GcpCollector::tee_name() const {
  if (tee_ == nullptr) return "none";
  return appraisal::KindName(tee_->kind());
}

absl::StatusOr<twi::v1::Evidence> GcpCollector::Answer(ByteView report_data,
                                                       const twi::v1::Challenge& challenge) {
  std::lock_guard<std::mutex> l(mu_);
  TWI_ASSIGN_OR_RETURN(const Bytes qd,
                       bound_keys_.QualifyingData(AsBytes(challenge.nonce()), report_data, "GCP"));
  TWI_ASSIGN_OR_RETURN(twi::v1::GcpEvidence gcp,
                       gcp::Collect(*vtpm_, tee_.get(), qd, report_data, options_));
  twi::v1::Evidence e;
  e.set_kind(kind());
  *e.mutable_gcp() = std::move(gcp);
  return e;
}

// ---- server ----

GcpAppraiser::GcpAppraiser(GcpAppraiserOptions options)
    : options_(std::move(options)), clock_(options_.clock ? options_.clock : &system_clock_) {}

absl::StatusOr<appraisal::EvidenceResult> GcpAppraiser::Appraise(const twi::v1::Evidence&,
                                                                 ByteView, CheckList* checks) const {
  return checks->Fail("gcp.challenge",
                      "GCP evidence without this stream's challenge proves no freshness",
                      absl::StatusCode::kFailedPrecondition);
}

absl::StatusOr<std::any> GcpAppraiser::Challenge(const twi::v1::Payload& payload,
                                                 twi::v1::Challenge* challenge,
                                                 CheckList*) const {
  return appraisal::QuoteChallenge(AsBytes(challenge->nonce()), payload);
}

absl::StatusOr<appraisal::EvidenceResult> GcpAppraiser::AppraiseHardware(
    const twi::v1::GcpEvidence& gcp, ByteView expected_report_data, CheckList* checks) const {
  twi::v1::Evidence hw;
  const appraisal::EvidenceAppraiser* appraiser = nullptr;
  switch (options_.require_tee) {
    case Hardware::kNone:
      checks->Pass("hw.required", "none required (gcp.require_tee = \"none\"): the vTPM alone");
      return appraisal::EvidenceResult();
    case Hardware::kSevSnp:
      if (!gcp.has_sev_snp()) break;
      hw.set_kind(twi::v1::EVIDENCE_KIND_SEV_SNP);
      *hw.mutable_sev_snp() = gcp.sev_snp();
      appraiser = options_.sev_snp;
      break;
    case Hardware::kTdx:
      if (!gcp.has_tdx()) break;
      hw.set_kind(twi::v1::EVIDENCE_KIND_TDX);
      *hw.mutable_tdx() = gcp.tdx();
      appraiser = options_.tdx;
      break;
  }
  const char* want = HardwareName(options_.require_tee);
  if (hw.kind() == twi::v1::EVIDENCE_KIND_UNSPECIFIED) {
    const char* got = gcp.has_sev_snp() ? "sev-snp" : gcp.has_tdx() ? "tdx" : "none";
    return checks->Fail("hw.required",
                        twi::StrCat("gcp.require_tee wants ", want, " evidence; the agent sent ", got));
  }
  if (appraiser == nullptr) {
    return checks->Fail("hw.required", twi::StrCat("no ", want, " appraiser is configured"),
                        absl::StatusCode::kInternal);
  }
  checks->Pass("hw.required", twi::StrCat(want, " evidence present"));
  auto r = appraiser->Appraise(hw, expected_report_data, checks);
  if (!r.ok()) return Annotate(r.status(), want);
  return r;
}

absl::StatusOr<appraisal::EvidenceResult> GcpAppraiser::AppraiseResponse(
    const twi::v1::Evidence& evidence, ByteView expected_report_data,
    const std::any& stream_state, CheckList* checks) const {
  const auto* state = std::any_cast<appraisal::QuoteStreamState>(&stream_state);
  if (state == nullptr) return Appraise(evidence, expected_report_data, checks);
  if (!evidence.has_gcp()) {
    return checks->Fail("evidence.kind", "gcp evidence without a GCP body",
                        absl::StatusCode::kInvalidArgument);
  }
  const auto& gcp = evidence.gcp();
  if (gcp.simulated() && !options_.allow_simulation) {
    return checks->Fail("evidence.simulated",
                        "the evidence comes from a simulated GCE vTPM, not Google's; set "
                        "insecure_simulation_roots = true and put the simulated CA in "
                        "gcp.ca_bundle to accept it (development only)");
  }
  if (gcp.intermediates_size() > kMaxIntermediates) {
    return checks->Fail("ak_cert.structure", twi::StrCat("got ", gcp.intermediates_size(),
                                                         " intermediates, want at most ",
                                                         kMaxIntermediates),
                        absl::StatusCode::kInvalidArgument);
  }
  std::vector<Certificate> intermediates;
  for (const std::string& der : gcp.intermediates()) {
    auto c = Certificate::FromDer(AsBytes(der));
    if (!c.ok()) {
      return checks->Fail("ak_cert.structure",
                          twi::StrCat("an intermediate does not parse: ", c.status().message()),
                          absl::StatusCode::kInvalidArgument);
    }
    intermediates.push_back(*std::move(c));
  }
  VerifyOptions vo;
  vo.time = clock_->Now();
  vo.cas = options_.cas;
  vo.allow_non_production = options_.allow_non_production;
  vo.allow_simulated_ca = options_.allow_simulation;
  VerifiedGcp v;
  TWI_RETURN_IF_ERROR(VerifyAkCertificate(AsBytes(gcp.ak_certificate()), intermediates, vo,
                                          *checks, &v));
  // Simulated by the agent's word or by the root that verified it: the mark travels outside
  // the transcript signature, the root does not.
  const bool simulated =
      gcp.simulated() ||
      (!v.chain.empty() && absl::StrContains(v.chain.back().subject(), ToAbsl(kSimulatedCaOrganization)));
  const InstanceInfo& instance = v.instance;
  if (!options_.allowed_project_ids.empty()) {
    const auto& allowed = options_.allowed_project_ids;
    if (std::find(allowed.begin(), allowed.end(), instance.project_id) == allowed.end()) {
      return checks->Fail("gcp.project",
                          twi::StrCat("project \"", EchoText(instance.project_id),
                                      "\" is not in gcp.allowed_project_ids (",
                                      EchoList(allowed), ")"));
    }
    checks->Pass("gcp.project", twi::StrCat("project ", instance.project_id, " is allowed"));
  }
  // The node flow needs the AK public area (the quotes' attributes are checked against it);
  // VerifyGcp's fallback to the certificate's key serves `twi verify` alone.
  if (gcp.ak_public().empty()) {
    return checks->Fail("ak.public_match", "the agent sent no AK public area",
                        absl::StatusCode::kInvalidArgument);
  }
  TWI_ASSIGN_OR_RETURN(tpm::AkKey ak, MatchAkPublic(AsBytes(gcp.ak_public()), v, *checks));
  tpm::VerifiedQuote quotes;
  TWI_RETURN_IF_ERROR(
      tpm::VerifyQuotes(ak, gcp.quotes(), 0, state->qualifying_data, *checks, &quotes));
  std::optional<tpm::EventLogFacts> facts;
  if (!gcp.event_log().empty()) {
    facts.emplace();
    TWI_RETURN_IF_ERROR(tpm::VerifyEventLog(quotes, AsBytes(gcp.event_log()), *checks, &*facts));
  }
  const tpm::EventLogFacts* log = facts ? &*facts : nullptr;
  TWI_RETURN_IF_ERROR(tpm::Appraise(quotes, log, options_.policy, *checks));
  TWI_ASSIGN_OR_RETURN(appraisal::EvidenceResult out,
                       AppraiseHardware(gcp, expected_report_data, checks));

  // The instance first: it is what registration entries of GCP agents select on.
  std::vector<std::string> selectors = Selectors(v);
  if (simulated) selectors.push_back("gcp:simulated:true");
  selectors.insert(selectors.end(), out.selectors.begin(), out.selectors.end());
  for (std::string& s : tpm::NamedSelectors(quotes, log, options_.policy, options_.selector_pcrs)) {
    // tee:tpm says a credential was activated (TPM kind); here the AK certificate vouches.
    if (s != "tee:tpm") selectors.push_back(std::move(s));
  }
  out.selectors = std::move(selectors);

  out.fields["gcp.project_id"] = instance.project_id;
  out.fields["gcp.project_number"] = twi::StrCat(instance.project_number);
  out.fields["gcp.zone"] = instance.zone;
  out.fields["gcp.instance_id"] = twi::StrCat(instance.instance_id);
  out.fields["gcp.instance_name"] = instance.instance_name;

  tpm::TpmIdentity identity;
  identity.route = "ak_certificate";
  for (auto& [name, value] : tpm::NormalizedClaims(quotes, log, identity)) {
    // The hardware evidence names the TEE; the vTPM is only "tpm" without one.
    if (name != "tee" || out.claims.count("tee") == 0) out.claims[name] = std::move(value);
  }
  out.claims["gcp_project_id"] = instance.project_id;
  out.claims["gcp_project_number"] = twi::StrCat(instance.project_number);
  out.claims["gcp_zone"] = instance.zone;
  out.claims["gcp_instance_id"] = twi::StrCat(instance.instance_id);
  out.claims["gcp_instance_name"] = instance.instance_name;
  if (simulated) out.claims["simulated"] = "true";
  return out;
}

}  // namespace twi::gcp
