// twi-agent-keymanager: SPIRE agent KeyManager plugin. Keeps SPIRE's agent SVID keys in memory
// (KeyStore) and lets the twi agent NodeAttestor, over a local socket, read the pending key
// and have it sign the fixed key-binding transcript (attestors/keybinding).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>

#include "attestors/keybinding/binding.h"
#include "attestors/keybinding/key_socket.h"
#include "plugin/config/keymanager_config.h"
#include "plugin/keymanager/key_store.h"
#include "plugin/runtime/log.h"
#include "plugin/runtime/runtime.h"
#include "spire/plugin/agent/keymanager/v1/keymanager.grpc.pb.h"

namespace twi {
namespace {

using keymanager::pb::KeyManager;
namespace pb = keymanager::pb;

class KeyManagerPlugin final : public runtime::Configurable, public KeyManager::Service {
 public:
  absl::Status Configure(const std::string& td, const std::string& hcl) override {
    auto cfg = config::BuildKeyManagerConfig(hcl, td);
    if (!cfg.ok()) return cfg.status();
    log::SetLevel(cfg->log_level);
    std::lock_guard<std::mutex> l(mu_);
    if (!socket_ || socket_->path() != cfg->socket_path) {
      socket_.reset();  // a new path: let go of the old socket first
      auto s = keybinding::KeySocketServer::Start(cfg->socket_path, store_);
      if (!s.ok()) return absl::InvalidArgumentError(s.status().message());
      socket_ = *std::move(s);
    }
    log::Info("configured", {{"socket_path", cfg->socket_path}});
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> Validate(const std::string& td,
                                                   const std::string& hcl) override {
    auto cfg = config::BuildKeyManagerConfig(hcl, td);
    if (!cfg.ok()) return cfg.status();
    return cfg->warnings;
  }

  void Deinit() override {
    std::lock_guard<std::mutex> l(mu_);
    socket_.reset();
  }

  grpc::Status GenerateKey(grpc::ServerContext*, const pb::GenerateKeyRequest* req,
                           pb::GenerateKeyResponse* resp) override {
    auto k = store_->GenerateKey(req->key_id(), req->key_type());
    if (!k.ok()) return runtime::ToGrpc(k.status());
    log::Debug("generated key", {{"key_id", k->id()}, {"fingerprint", k->fingerprint()}});
    *resp->mutable_public_key() = *std::move(k);
    return grpc::Status::OK;
  }

  grpc::Status GetPublicKey(grpc::ServerContext*, const pb::GetPublicKeyRequest* req,
                            pb::GetPublicKeyResponse* resp) override {
    auto k = store_->GetPublicKey(req->key_id());
    if (!k.ok()) return runtime::ToGrpc(k.status());
    *resp->mutable_public_key() = *std::move(k);
    return grpc::Status::OK;
  }

  grpc::Status GetPublicKeys(grpc::ServerContext*, const pb::GetPublicKeysRequest*,
                             pb::GetPublicKeysResponse* resp) override {
    for (auto& k : store_->GetPublicKeys()) *resp->add_public_keys() = std::move(k);
    return grpc::Status::OK;
  }

  grpc::Status SignData(grpc::ServerContext*, const pb::SignDataRequest* req,
                        pb::SignDataResponse* resp) override {
    auto r = store_->SignData(*req);
    if (!r.ok()) return runtime::ToGrpc(r.status());
    *resp = *std::move(r);
    return grpc::Status::OK;
  }

 private:
  std::shared_ptr<keymanager::KeyStore> store_ = std::make_shared<keymanager::KeyStore>();
  std::mutex mu_;
  std::unique_ptr<keybinding::KeySocketServer> socket_;
};

}  // namespace
}  // namespace twi

int main(int argc, char** argv) {
  twi::KeyManagerPlugin plugin;
  twi::runtime::PluginSpec spec{"twi-agent-keymanager", "KeyManager",
                                twi::KeyManager::service_full_name(), &plugin, &plugin,
                                /*evidence_kinds=*/""};
  return twi::runtime::Run(spec, argc, argv);
}
