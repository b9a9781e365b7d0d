// twi-agent-nodeattestor: SPIRE agent NodeAttestor plugin. A thin adapter between SPIRE's
// AidAttestation stream and attestors/appraisal's NodeAttester; it parses no evidence.
#include <cstdlib>

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>

#include "attestors/core/str.h"
#include "attestors/appraisal/node_attester.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/keybinding/key_socket.h"
#include "plugin/agent/collectors.h"
#include "plugin/config/configs.h"
#include "plugin/runtime/log.h"
#include "plugin/runtime/runtime.h"
#include "spire/plugin/agent/nodeattestor/v1/nodeattestor.grpc.pb.h"

namespace twi {
namespace {

namespace pb = spire::plugin::agent::nodeattestor::v1;

class AgentPlugin final : public runtime::Configurable, public pb::NodeAttestor::Service {
 public:
  absl::Status Configure(const std::string& td, const std::string& hcl) override {
    auto cfg = config::BuildAgentConfig(hcl, td);
    if (!cfg.ok()) return cfg.status();
    log::SetLevel(cfg->log_level);
    auto key = appraisal::LoadOrCreateInstanceKey(cfg->state_dir);
    if (!key.ok()) return absl::InvalidArgumentError(key.status().message());
    {
      // The collectors open the TPM again: a raw /dev/tpm0 allows one open at a time, so the
      // previous configuration lets go of it first (attestations in flight keep their own
      // reference and finish).
      std::lock_guard<std::mutex> l(mu_);
      attester_.reset();
    }
    auto collectors = agent::MakeCollectors(*cfg);
    if (!collectors.ok()) return collectors.status();
    // Key binding: the KeyManager is asked at every attestation (it may start after us).
    std::shared_ptr<const keybinding::PendingKeyService> svid_keys;
    if (!cfg->keymanager_socket.empty()) {
      svid_keys = std::make_shared<const keybinding::KeySocketClient>(cfg->keymanager_socket);
    }
    auto attester = std::make_shared<const appraisal::NodeAttester>(
        *std::move(key), *std::move(collectors), std::move(svid_keys));
    for (const auto& w : cfg->warnings) log::Warn(w);
    log::Fields fields = {{"trust_domain", cfg->trust_domain},
                          {"state_dir", cfg->state_dir},
                          {"instance_key", appraisal::InstanceKeyHash(attester->instance_key_spki())}};
    if (!cfg->keymanager_socket.empty()) fields.emplace_back("keymanager_socket", cfg->keymanager_socket);
    log::Info("configured", fields);
    std::lock_guard<std::mutex> l(mu_);
    attester_ = std::move(attester);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> Validate(const std::string& td, const std::string& hcl) override {
    auto cfg = config::BuildAgentConfig(hcl, td);
    if (!cfg.ok()) return cfg.status();
    return cfg->warnings;
  }

  grpc::Status AidAttestation(grpc::ServerContext* ctx,
                              grpc::ServerReaderWriter<pb::PayloadOrChallengeResponse, pb::Challenge>* stream) override {
    std::shared_ptr<const appraisal::NodeAttester> attester;
    {
      std::lock_guard<std::mutex> l(mu_);
      attester = attester_;
    }
    if (!attester) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not configured");
    auto payload = attester->Payload();
    if (!payload.ok()) {
      log::Error("cannot build the attestation payload", {{"error", std::string(payload.status().message())}});
      return runtime::ToGrpc(payload.status());
    }
    pb::PayloadOrChallengeResponse out;
    out.set_payload(std::string(AsString(*payload)));
    if (!stream->Write(out)) return grpc::Status::OK;  // the host went away
    pb::Challenge challenge;
    while (stream->Read(&challenge)) {
      auto resp = attester->Respond(AsBytes(challenge.challenge()), *payload);
      if (!resp.ok()) {
        log::Error("cannot answer the server's challenge", {{"error", std::string(resp.status().message())}});
        return runtime::ToGrpc(resp.status());
      }
      pb::PayloadOrChallengeResponse r;
      r.set_challenge_response(std::string(AsString(*resp)));
      if (!stream->Write(r)) break;
    }
    // SPIRE cancels the stream when the server has decided: normal completion.
    return grpc::Status::OK;
  }

 private:
  std::mutex mu_;
  std::shared_ptr<const appraisal::NodeAttester> attester_;
};

}  // namespace
}  // namespace twi

int main(int argc, char** argv) {
  // tpm2-tss logs its own errors to stderr, which SPIRE reads as hclog lines; the TPM code
  // returns every error it needs as a status. Set before any thread starts (setenv is not
  // thread-safe); an operator's own TSS2_LOG wins.
  setenv("TSS2_LOG", "all+NONE", /*overwrite=*/0);
  twi::AgentPlugin plugin;
  twi::runtime::PluginSpec spec{"twi-agent-nodeattestor", "NodeAttestor",
                                twi::pb::NodeAttestor::service_full_name(), &plugin, &plugin,
                                twi::config::kBuiltKinds.List()};
  return twi::runtime::Run(spec, argc, argv);
}
