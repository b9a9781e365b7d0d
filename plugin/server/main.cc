// twi-server-nodeattestor: SPIRE server NodeAttestor plugin. A thin adapter between SPIRE's
// Attest stream and attestors/appraisal's NodeSession; it parses no evidence.
#include <cstdlib>

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>

#include "attestors/core/echo.h"
#include "attestors/core/str.h"
#include "absl/strings/str_join.h"
#include "attestors/appraisal/node_verifier.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"
#include "attestors/keybinding/records_socket.h"
#include "plugin/config/configs.h"
#include "plugin/runtime/log.h"
#include "plugin/runtime/runtime.h"
#include "plugin/server/appraisers.h"
#include "plugin/server/ear_sink.h"
#include "spire/hostservice/server/agentstore/v1/agentstore.grpc.pb.h"
#include "spire/plugin/server/nodeattestor/v1/nodeattestor.grpc.pb.h"
#include "twi_version.h"

namespace twi {
namespace {

namespace pb = spire::plugin::server::nodeattestor::v1;
namespace storepb = spire::hostservice::server::agentstore::v1;

absl::StatusOr<std::shared_ptr<const appraisal::NodeVerifier>> BuildVerifier(
    const config::ServerConfig& cfg) {
  auto appraisers = server::MakeAppraisers(cfg);
  if (!appraisers.ok()) return appraisers.status();
  appraisal::VerifierOptions opts;
  opts.trust_domain = cfg.trust_domain;
  opts.agent_path_template = cfg.agent_path_template;
  opts.insecure_allow_no_tee = cfg.insecure_allow_no_tee;
  // With key binding configured, an agent that binds no SVID key is refused at attestation.
  opts.require_svid_key = cfg.key_binding.enabled;
  opts.claims_policy = cfg.claims.policy;
  opts.verifier_build = "twi-server-nodeattestor " TWI_VERSION;
  opts.unverified_kinds = server::KindsNotBuilt();
  auto ear = server::LoggingEarSink::Create(cfg.claims);
  if (!ear.ok()) return ear.status();
  opts.ear_sink = *std::move(ear);
  return std::make_shared<const appraisal::NodeVerifier>(std::move(opts), *std::move(appraisers));
}

// "new" or "known" from SPIRE's AgentStore host service, or "" when it cannot tell. For the
// log only: SPIRE itself replaces the selectors of a re-attesting agent.
std::string AgentStoreStatus(const std::string& agent_id) {
  const std::string svc = storepb::AgentStore::service_full_name();
  if (!runtime::Host()->Offers(svc)) return "";
  auto channel = runtime::Host()->Channel(std::chrono::seconds(1));
  if (!channel.ok()) return "";
  auto stub = storepb::AgentStore::NewStub(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  storepb::GetAgentInfoRequest req;
  req.set_agent_id(agent_id);
  storepb::GetAgentInfoResponse resp;
  grpc::Status s = stub->GetAgentInfo(&ctx, req, &resp);
  if (s.ok()) return "known";
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return "new";
  return "";
}

class ServerPlugin final : public runtime::Configurable, public pb::NodeAttestor::Service {
 public:
  absl::Status Configure(const std::string& td, const std::string& hcl) override {
    // SPIRE calls Configure again on SIGUSR1: a refused configuration leaves the previous one
    // in force; an accepted one applies to attestations that start after the swap below.
    auto cfg = config::BuildServerConfig(hcl, td);
    absl::Status refused = cfg.status();
    std::shared_ptr<const appraisal::NodeVerifier> verifier;
    if (cfg.ok()) {
      auto v = BuildVerifier(*cfg);
      if (v.ok()) verifier = *std::move(v);
      else refused = v.status();
    }
    if (!refused.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      if (verifier_) log::Error("new configuration refused; the previous one stays in force");
      return refused;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      absl::Status kb = ApplyKeyBindingLocked(cfg->key_binding);
      if (!kb.ok()) {
        if (verifier_) log::Error("new configuration refused; the previous one stays in force");
        return kb;
      }
    }
    log::SetLevel(cfg->log_level);
    for (const auto& w : cfg->warnings) log::Warn(w);
    const auto& claims = cfg->claims.policy;
    log::Info("configured", {{"trust_domain", cfg->trust_domain},
                             {"agent_path_template", cfg->agent_path_template},
                             {"claims_policy", claims ? claims->policy_id : "none"}});
    std::lock_guard<std::mutex> l(mu_);
    verifier_ = std::move(verifier);
    key_binding_ = cfg->key_binding;
    return absl::OkStatus();
  }

  void Deinit() override {
    std::lock_guard<std::mutex> l(mu_);
    record_server_.reset();  // removes the records socket
  }

  absl::StatusOr<std::vector<std::string>> Validate(const std::string& td, const std::string& hcl) override {
    auto cfg = config::BuildServerConfig(hcl, td);
    if (!cfg.ok()) return cfg.status();
    auto verifier = BuildVerifier(*cfg);
    if (!verifier.ok()) return verifier.status();
    return cfg->warnings;
  }

  grpc::Status Attest(grpc::ServerContext* ctx,
                      grpc::ServerReaderWriter<pb::AttestResponse, pb::AttestRequest>* stream) override {
    std::shared_ptr<const appraisal::NodeVerifier> verifier;
    config::ServerKeyBinding kb;
    std::shared_ptr<keybinding::RecordTable> records;
    {
      std::lock_guard<std::mutex> l(mu_);
      verifier = verifier_;
      kb = key_binding_;
      records = records_;
    }
    if (!verifier) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not configured");
    std::string peer;
    auto md = ctx->client_metadata().find("x-forwarded-client-ip");
    if (md != ctx->client_metadata().end()) peer = EchoText(std::string_view(md->second.data(), md->second.size()), 64);

    appraisal::NodeSession session(verifier);
    pb::AttestRequest req;
    if (!stream->Read(&req)) return grpc::Status(grpc::StatusCode::CANCELLED, "stream closed before the payload");
    if (req.request_case() != pb::AttestRequest::kPayload) {
      return Reject(peer, absl::InvalidArgumentError("first attestation message must carry the payload"));
    }
    const std::string payload = req.payload();
    auto challenge = session.HandlePayload(AsBytes(payload));
    if (!challenge.ok()) return Reject(peer, challenge.status());
    pb::AttestResponse resp;
    resp.set_challenge(std::string(AsString(*challenge)));
    if (!stream->Write(resp)) return grpc::Status(grpc::StatusCode::CANCELLED, "host went away");
    if (!stream->Read(&req)) {
      return grpc::Status(grpc::StatusCode::CANCELLED, "stream closed before the challenge response");
    }
    if (req.request_case() != pb::AttestRequest::kChallengeResponse) {
      return Reject(peer, absl::InvalidArgumentError("expected a challenge response, got another payload"));
    }
    auto attrs = session.HandleChallengeResponse(AsBytes(req.challenge_response()));
    if (!attrs.ok()) return Reject(peer, attrs.status());
    if (kb.enabled) {
      absl::Status bound = KeyBinding(kb, records.get(), *attrs, payload, resp.challenge(),
                                      req.challenge_response(), &attrs->spiffe_id);
      if (!bound.ok()) return Reject(peer, bound);
    }
    if (!attrs->claims_warning.empty()) log::Warn("claims policy warning", {{"warning", attrs->claims_warning}});
    std::string known = AgentStoreStatus(attrs->spiffe_id);
    log::Fields fields = {{"agent_id", attrs->spiffe_id},
                          {"selectors", absl::StrJoin(attrs->selectors, ",")},
                          {"agent", known.empty() ? "unknown" : known},
                          {"peer", peer}};
    for (const char* k : {"sev_snp.root"}) {  // built-in or extra root, for the audit trail
      if (auto it = attrs->fields.find(k); it != attrs->fields.end()) fields.emplace_back("root", it->second);
    }
    log::Info("agent attested", fields);
    pb::AttestResponse done;
    auto* a = done.mutable_agent_attributes();
    a->set_spiffe_id(attrs->spiffe_id);
    for (const auto& s : attrs->selectors) a->add_selector_values(s);
    a->set_can_reattest(attrs->can_reattest);
    stream->Write(done);
    return grpc::Status::OK;
  }

 private:
  // Starts, keeps or stops the records server for `kb` (mode "records": the composer's side
  // of the channel). The table survives reconfiguration; a moved socket starts a new server.
  absl::Status ApplyKeyBindingLocked(const config::ServerKeyBinding& kb) {
    const bool want = kb.enabled && !kb.stateless();
    if (!want) {
      record_server_.reset();
      return absl::OkStatus();
    }
    if (!records_) records_ = std::make_shared<keybinding::RecordTable>();
    records_->set_ttl(std::chrono::seconds(kb.record_ttl_seconds));
    if (record_server_ && record_server_->path() == kb.records_socket) return absl::OkStatus();
    record_server_.reset();
    auto srv = keybinding::RecordServer::Start(kb.records_socket, records_);
    if (!srv.ok()) return Annotate(srv.status(), "key_binding.records_socket");
    record_server_ = *std::move(srv);
    log::Info("serving binding records", {{"socket", kb.records_socket}});
    return absl::OkStatus();
  }

  // After a successful attestation with key binding configured: the verified SVID key goes
  // into a binding record for the composer (mode "records") or into the agent ID ("stateless").
  static absl::Status KeyBinding(const config::ServerKeyBinding& kb, keybinding::RecordTable* records,
                                 const appraisal::AgentAttributes& attrs, const std::string& payload,
                                 const std::string& challenge, const std::string& response,
                                 std::string* agent_id) {
    if (attrs.svid_key_hash.empty()) {
      return absl::PermissionDeniedError(
          "key_binding: the agent bound no SVID key (configure twi-agent-keymanager and the agent's "
          "key_binding block)");
    }
    if (kb.stateless()) {
      *agent_id += "/kb-" + attrs.svid_key_hash;
      log::Info("agent ID carries the bound key", {{"agent_id", *agent_id}, {"key_sha256", attrs.svid_key_hash}});
      return absl::OkStatus();
    }
    auto hash = HexDecode(attrs.svid_key_hash);
    if (!hash.ok() || records == nullptr) return absl::InternalError("key_binding: no record table");
    // What the record (and the SVID extension) names: this exchange, each part length-prefixed.
    Bytes exchange;
    for (const std::string* part : {&payload, &challenge, &response}) {
      uint8_t len[8];
      StoreLe64(len, part->size());
      exchange.insert(exchange.end(), len, len + 8);
      exchange.insert(exchange.end(), part->begin(), part->end());
    }
    const Bytes digest = Sha256(exchange);
    absl::Status put = records->Put(*agent_id, *hash, digest, {});
    if (!put.ok()) {
      return absl::UnavailableError(twi::StrCat("key_binding: binding record not written: ", put.message()));
    }
    log::Info("binding record written", {{"agent_id", *agent_id},
                                         {"key_sha256", attrs.svid_key_hash},
                                         {"attestation_digest", HexEncode(digest)},
                                         {"ttl_seconds", std::to_string(kb.record_ttl_seconds)}});
    return absl::OkStatus();
  }

  // Errors may quote the agent's input: they are bounded (and escaped) before they reach the
  // log or travel back through SPIRE, whatever the check that produced them.
  grpc::Status Reject(const std::string& peer, const absl::Status& s) {
    std::string message = EchoText(std::string(s.message()), kMaxErrorBytes);
    log::Warn("attestation rejected", {{"code", absl::StatusCodeToString(s.code())},
                                       {"error", message},
                                       {"peer", peer}});
    return runtime::ToGrpc(absl::Status(s.code(), message));
  }
  static constexpr size_t kMaxErrorBytes = 2048;

  std::mutex mu_;
  std::shared_ptr<const appraisal::NodeVerifier> verifier_;
  config::ServerKeyBinding key_binding_;
  std::shared_ptr<keybinding::RecordTable> records_;
  std::unique_ptr<keybinding::RecordServer> record_server_;
};

}  // namespace
}  // namespace twi

int main(int argc, char** argv) {
  // tpm2-tss MU may log parse errors of untrusted TPM structures to stderr, which SPIRE reads
  // as hclog lines; the verifier returns them as statuses. Set before any thread starts.
  setenv("TSS2_LOG", "all+NONE", /*overwrite=*/0);
  twi::ServerPlugin plugin;
  twi::runtime::PluginSpec spec{"twi-server-nodeattestor", "NodeAttestor",
                                twi::pb::NodeAttestor::service_full_name(), &plugin, &plugin,
                                twi::config::kBuiltKinds.List()};
  return twi::runtime::Run(spec, argc, argv);
}
