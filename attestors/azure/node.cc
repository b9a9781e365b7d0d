#include "attestors/azure/node.h"

#include <cctype>

#include "attestors/appraisal/protocol.h"
#include "attestors/azure/sim.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/sevsnp/policy.h"
#include "attestors/tpm/abi.h"
#include "attestors/tpm/node.h"

namespace twi::azure {
namespace {

constexpr int kMaxQuotes = 8;
constexpr size_t kMaxChain = 4;
constexpr size_t kMaxVmIdSize = 64;

// vmUniqueId is a UUID; anything else (bounded, [0-9a-z-] after lowercasing) is refused rather
// than echoed into selectors and agent IDs.
absl::StatusOr<std::string> VmId(const RuntimeClaims& claims, CheckList& checks) {
  if (!claims.vm_unique_id || claims.vm_unique_id->empty()) {
    return checks.Fail("runtime_claims.vm_id", "runtime claims have no vm-configuration.vmUniqueId",
                       absl::StatusCode::kInvalidArgument);
  }
  std::string id = *claims.vm_unique_id;
  bool ok = id.size() <= kMaxVmIdSize;
  for (char& c : id) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-');
  }
  if (!ok) {
    return checks.Fail("runtime_claims.vm_id",
                       twi::StrCat("vmUniqueId (", claims.vm_unique_id->size(),
                                   " bytes) is not a UUID-like identifier"),
                       absl::StatusCode::kInvalidArgument);
  }
  checks.Pass("runtime_claims.vm_id", id);
  return id;
}

}  // namespace

// ---- agent ----

absl::StatusOr<twi::v1::Evidence> VtpmCollectorBase::Collect(ByteView) {
  return absl::FailedPreconditionError(
      "Azure evidence quotes the server's challenge nonce; it cannot be collected alone");
}

absl::Status VtpmCollectorBase::AddToPayload(twi::v1::Payload* payload) {
  std::lock_guard<std::mutex> l(mu_);
  bound_keys_.Capture(*payload);
  return absl::OkStatus();
}

absl::StatusOr<twi::v1::Evidence> VtpmCollectorBase::Answer(ByteView report_data,
                                                            const twi::v1::Challenge& challenge) {
  std::lock_guard<std::mutex> l(mu_);
  TWI_ASSIGN_OR_RETURN(const Bytes qd,
                       bound_keys_.QualifyingData(AsBytes(challenge.nonce()), report_data, "Azure"));
  twi::v1::Evidence e;
  e.set_kind(kind());
  TWI_RETURN_IF_ERROR(vtpm_->Collect(qd, e.mutable_azure()));
  TWI_RETURN_IF_ERROR(AddHardware(e.mutable_azure()));
  return e;
}

absl::Status AzureSnpCollector::AddHardware(twi::v1::AzureEvidence* out) {
  switch (options_.vcek_source) {
    case VcekSource::kNone:
      return absl::OkStatus();
    case VcekSource::kSimulated: {
      auto vcek = vtpm().tpm().ReadNv(kSimVcekNvIndex);
      if (!vcek.ok()) return Annotate(vcek.status(), "azure: simulated host's VCEK");
      auto ask = vtpm().tpm().ReadNv(kSimAskNvIndex);
      if (!ask.ok()) return Annotate(ask.status(), "azure: simulated host's ASK");
      out->set_vcek(std::string(AsString(*vcek)));
      out->add_vcek_chain(std::string(AsString(*ask)));
      out->set_simulated(true);
      return absl::OkStatus();
    }
    case VcekSource::kImds:
      break;
  }
  if (!vcek_ && http_ != nullptr) {
    // THIM failing is not fatal: without a VCEK in the evidence the server asks AMD KDS (when
    // it has a collateral source), and the next attestation tries THIM again.
    auto thim = FetchThim(*http_, options_.imds_url);
    if (thim.ok()) vcek_ = *std::move(thim);
  }
  if (vcek_) {
    out->set_vcek(std::string(AsString(vcek_->vcek)));
    for (const Bytes& c : vcek_->chain) out->add_vcek_chain(std::string(AsString(c)));
  }
  return absl::OkStatus();
}

// ---- server ----

absl::Status AppraiseVtpm(const twi::v1::AzureEvidence& az, const tpm::AkKey& ak,
                          ByteView qualifying_data, const RuntimeClaims& claims,
                          const AzureAppraiserOptions& options, CheckList& checks,
                          tpm::VerifiedQuote* merged, appraisal::EvidenceResult* out) {
  TWI_RETURN_IF_ERROR(tpm::VerifyQuotes(ak, az.quotes(), 1, qualifying_data, checks, merged));
  std::optional<tpm::EventLogFacts> facts;
  if (!az.event_log().empty()) {
    facts.emplace();
    TWI_RETURN_IF_ERROR(tpm::VerifyEventLog(*merged, AsBytes(az.event_log()), checks, &*facts));
  }
  const tpm::EventLogFacts* log = facts ? &*facts : nullptr;
  TWI_RETURN_IF_ERROR(tpm::Appraise(*merged, log, options.pcr_policy, checks));
  TWI_ASSIGN_OR_RETURN(std::string vm_id, VmId(claims, checks));
  for (std::string& s : tpm::NamedSelectors(*merged, log, options.pcr_policy, options.selector_pcrs)) {
    out->selectors.push_back(std::move(s));
  }
  out->selectors.push_back("platform:azure");
  out->selectors.push_back(twi::StrCat("azure:vm-id:", vm_id));
  out->fields["azure.vm_id"] = vm_id;
  tpm::TpmIdentity identity;
  identity.route = "azure_hcl";  // the HCL report, not an EK, vouches for the AK
  for (auto& [k, v] : tpm::NormalizedClaims(*merged, log, identity)) {
    if (k != "tee") out->claims[k] = v;
  }
  out->claims["azure_vm_id"] = vm_id;
  return absl::OkStatus();
}

absl::StatusOr<appraisal::EvidenceResult> VtpmAppraiserBase::Appraise(const twi::v1::Evidence&,
                                                                      ByteView,
                                                                      CheckList* checks) const {
  return checks->Fail("azure.challenge",
                      "Azure evidence without this stream's challenge has no nonce to check",
                      absl::StatusCode::kFailedPrecondition);
}

absl::StatusOr<std::any> VtpmAppraiserBase::Challenge(const twi::v1::Payload& payload,
                                                      twi::v1::Challenge* challenge,
                                                      CheckList*) const {
  return appraisal::QuoteChallenge(AsBytes(challenge->nonce()), payload);
}

absl::StatusOr<VtpmAppraiserBase::Response> VtpmAppraiserBase::CheckResponse(
    const twi::v1::Evidence& evidence, const std::any& stream_state, bool allow_simulation,
    std::string_view simulated_refusal, CheckList* checks) const {
  Response r;
  r.state = std::any_cast<appraisal::QuoteStreamState>(&stream_state);
  if (r.state == nullptr) return Appraise(evidence, {}, checks).status();  // always refused
  if (!evidence.has_azure()) {
    return checks->Fail("evidence.kind",
                        twi::StrCat(appraisal::KindName(kind()), " evidence without an Azure body"),
                        absl::StatusCode::kInvalidArgument);
  }
  r.az = &evidence.azure();
  if (r.az->simulated() && !allow_simulation) {
    return checks->Fail("evidence.simulated", std::string(simulated_refusal));
  }
  if (r.az->quotes_size() == 0 || r.az->quotes_size() > kMaxQuotes) {
    return checks->Fail("quote.count",
                        twi::StrCat("got ", r.az->quotes_size(), " quotes, want 1..", kMaxQuotes),
                        absl::StatusCode::kInvalidArgument);
  }
  auto ak_public = tpm::ParsePublic(AsBytes(r.az->ak_public()));
  if (!ak_public.ok()) {
    return checks->Fail("ak.public", twi::StrCat("the AK public area: ", ak_public.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  r.ak_public = *std::move(ak_public);
  r.q0 = &r.az->quotes(0);
  r.bank0 = static_cast<uint16_t>(r.q0->hash_alg());
  if (r.q0->hash_alg() > 0xffff || tpm::DigestSize(r.bank0) == 0) {
    return checks->Fail("quote.bank", twi::StrCat("unsupported PCR bank 0x", absl::Hex(r.q0->hash_alg())),
                        absl::StatusCode::kInvalidArgument);
  }
  return r;
}

absl::Status VtpmAppraiserBase::FinishVtpm(const Response& r, tpm::VerifiedQuote first_quote,
                                           const RuntimeClaims& claims, CheckList* checks,
                                           appraisal::EvidenceResult* out) const {
  auto ak = tpm::AkKey::FromPublic(r.ak_public);
  if (!ak.ok()) {
    return checks->Fail("ak.public", std::string(ak.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  tpm::VerifiedQuote merged;
  TWI_RETURN_IF_ERROR(tpm::MergeQuote(std::move(first_quote), r.bank0, *checks, &merged));
  return AppraiseVtpm(*r.az, *ak, r.state->qualifying_data, claims, options_, *checks, &merged,
                      out);
}

absl::StatusOr<appraisal::EvidenceResult> AzureSnpAppraiser::AppraiseResponse(
    const twi::v1::Evidence& evidence, ByteView, const std::any& stream_state,
    CheckList* checks) const {
  TWI_ASSIGN_OR_RETURN(
      Response resp,
      CheckResponse(evidence, stream_state, snp_->options().allow_simulation,
                    "the HCL report comes from the software simulator, not AMD hardware; set "
                    "insecure_simulation_roots = true and pin the simulator's ark.pem in "
                    "sev_snp.extra_roots to accept it (development only)",
                    checks));
  const twi::v1::AzureEvidence& az = *resp.az;
  std::vector<Certificate> chain;
  if (static_cast<size_t>(az.vcek_chain_size()) > kMaxChain) {
    return checks->Fail("evidence.vcek_chain", twi::StrCat("got ", az.vcek_chain_size(),
                                                           " certificates, want at most ", kMaxChain),
                        absl::StatusCode::kInvalidArgument);
  }
  for (const std::string& der : az.vcek_chain()) {
    auto c = Certificate::FromDer(AsBytes(der));
    if (!c.ok()) {
      return checks->Fail("evidence.vcek_chain", std::string(c.status().message()),
                          absl::StatusCode::kInvalidArgument);
    }
    chain.push_back(*std::move(c));
  }
  Bytes vcek = ToBytes(az.vcek());
  if (vcek.empty() && !az.simulated()) {
    // The VCEK for this report's chip and TCB from AMD KDS, when the HCL and SNP reports parse
    // far enough to name them (otherwise VerifyAzureSnp reports what does not parse).
    auto hcl = ParseHclReport(AsBytes(az.hcl_report()));
    auto report = hcl.ok() ? sevsnp::ParseReport(hcl->hw_report)
                           : absl::StatusOr<sevsnp::AttestationReport>(hcl.status());
    if (report.ok()) {
      if (snp_->options().kds == nullptr) {
        return checks->Fail("evidence.endorsement",
                            "no VCEK came with the evidence and no collateral source is "
                            "configured (sev_snp.kds_base_url or kds_offline_dir)",
                            absl::StatusCode::kInvalidArgument);
      }
      TWI_ASSIGN_OR_RETURN(Certificate c, snp_->FetchVcek(*report, checks));
      vcek = c.der();
    }
  }
  const twi::v1::TpmQuote& q0 = *resp.q0;
  Evidence e;
  e.hcl_report = AsBytes(az.hcl_report());
  e.vcek = vcek;
  e.chain = chain;
  e.quote = AsBytes(q0.attest());
  e.signature = AsBytes(q0.signature());
  for (const auto& [index, digest] : q0.pcrs()) e.pcrs[resp.bank0][index] = ToBytes(digest);
  e.ak_public = resp.ak_public;
  VerifyOptions vo;
  vo.snp = snp_->VerifyOptionsFor(az.simulated());
  vo.nonce = resp.state->qualifying_data;
  VerifiedAzureSnp v;
  TWI_RETURN_IF_ERROR(VerifyAzureSnp(e, vo, *checks, &v, snp_->cache()));
  const sevsnp::AttestationReport& r = v.snp.report;
  TWI_RETURN_IF_ERROR(sevsnp::Appraise(r, snp_->policy(), *checks));

  appraisal::EvidenceResult out;
  out.selectors = sevsnp::Selectors(r);
  const char* root = v.snp.builtin_root ? "amd" : "extra";
  out.selectors.push_back(twi::StrCat("sev-snp:root:", root));
  if (az.simulated()) out.selectors.push_back("sev-snp:simulated:true");
  out.claims = sevsnp::NormalizedClaims(r, az.simulated());
  TWI_RETURN_IF_ERROR(FinishVtpm(resp, std::move(v.quote), v.claims, checks, &out));
  auto snp_claims = sevsnp::Claims(r);
  for (const char* k : {"chip_id", "measurement", "host_data", "report_id"}) {
    out.fields[twi::StrCat("sev_snp.", k)] = snp_claims[k];
  }
  if (IsAllZero(ByteView(r.chip_id.data(), r.chip_id.size()))) out.fields["sev_snp.chip_id"] = "";
  out.fields["sev_snp.root"] = twi::StrCat(root, " ", v.snp.root_label, " sha256:",
                                           v.snp.root_fingerprint.substr(0, 16));
  return out;
}

}  // namespace twi::azure
