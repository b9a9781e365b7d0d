// twi-server-credentialcomposer: SPIRE server CredentialComposer plugin that refuses an agent
// X509-SVID under the twi attestor's prefix unless the CSR's public key is the key the twi
// NodeAttestor saw bound into verified TEE evidence (spec spire-keybinding-services.md 6.4).
//
// mode "records": the NodeAttestor left a binding record (agent ID, SHA-256(SPKI)) on its
// records socket in the same AttestAgent call; the record is taken (consumed) here.
// mode "stateless": the agent ID's last segment is kb-<hex SHA-256(SPKI)>, recomputed here.
// Every other RPC is UNIMPLEMENTED, which SPIRE treats as "keep the defaults": a composer
// error blocks issuance, so this plugin must not touch anything it does not need.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>

#include "attestors/core/bytes.h"
#include "attestors/core/crypto.h"
#include "attestors/core/echo.h"
#include "attestors/core/str.h"
#include "attestors/keybinding/records_socket.h"
#include "plugin/config/keybinding_config.h"
#include "plugin/runtime/log.h"
#include "plugin/runtime/runtime.h"
#include "spire/plugin/server/credentialcomposer/v1/credentialcomposer.grpc.pb.h"
#include "twi_version.h"

namespace twi {
namespace {

namespace pb = spire::plugin::server::credentialcomposer::v1;

constexpr char kNotBound[] = "agent key not bound to attested evidence";

struct State {
  config::ComposerConfig cfg;
  std::shared_ptr<keybinding::RecordClient> client;  // mode "records"
};

// DER OCTET STRING of a short digest (the extension's extnValue contents).
std::string OctetString(ByteView digest) {
  std::string out;
  out.push_back(0x04);
  out.push_back(static_cast<char>(digest.size()));
  out.append(AsString(digest));
  return out;
}

class Composer final : public runtime::Configurable, public pb::CredentialComposer::Service {
 public:
  absl::Status Configure(const std::string& td, const std::string& hcl) override {
    auto cfg = config::BuildComposerConfig(hcl, td);
    if (!cfg.ok()) return cfg.status();
    auto st = std::make_shared<State>();
    st->cfg = *std::move(cfg);
    if (!st->cfg.stateless()) {
      st->client = std::make_shared<keybinding::RecordClient>(
          st->cfg.records_socket, std::chrono::milliseconds(st->cfg.timeout_ms));
    }
    log::SetLevel(st->cfg.log_level);
    log::Info("configured", {{"mode", st->cfg.mode},
                             {"agent_id_prefix", st->cfg.AgentIdPrefix()},
                             {"records_socket", st->cfg.stateless() ? "" : st->cfg.records_socket}});
    std::lock_guard<std::mutex> l(mu_);
    state_ = std::move(st);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> Validate(const std::string& td, const std::string& hcl) override {
    auto cfg = config::BuildComposerConfig(hcl, td);
    if (!cfg.ok()) return cfg.status();
    return std::vector<std::string>{};
  }

  grpc::Status ComposeAgentX509SVID(grpc::ServerContext*, const pb::ComposeAgentX509SVIDRequest* req,
                                    pb::ComposeAgentX509SVIDResponse* resp) override {
    std::shared_ptr<const State> st;
    {
      std::lock_guard<std::mutex> l(mu_);
      st = state_;
    }
    // Not configured: nothing can be checked, so nothing under any prefix is vouched for.
    if (!st) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not configured");
    const std::string& id = req->spiffe_id();
    const std::string prefix = st->cfg.AgentIdPrefix();
    if (id.size() <= prefix.size() || id.compare(0, prefix.size(), prefix) != 0) {
      // Other attestors' agents and join tokens: SPIRE's defaults stay.
      return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "not a key-bound agent ID; defaults kept");
    }
    std::string shown_id = EchoText(id, 256);
    // Hash the key as the NodeAttestor did: DER SPKI re-encoded by OpenSSL, so an equivalent
    // but differently encoded key cannot slip past or be refused by an encoding detail.
    auto key = PublicKeyFromSpki(AsBytes(req->public_key()));
    absl::StatusOr<Bytes> spki = key.ok() ? PublicKeyToSpki(key->get()) : key.status();
    if (!spki.ok()) {
      return Refuse(grpc::StatusCode::PERMISSION_DENIED, shown_id, "",
                    twi::StrCat(kNotBound, ": CSR public key does not parse"));
    }
    const Bytes hash = Sha256(*spki);
    const std::string hex = HexEncode(hash);
    if (st->cfg.stateless()) {
      const std::string want = "/kb-" + hex;
      if (id.size() < want.size() || id.compare(id.size() - want.size(), want.size(), want) != 0) {
        return Refuse(grpc::StatusCode::PERMISSION_DENIED, shown_id, hex,
                      twi::StrCat(kNotBound, ": agent ID does not end in /kb-<SHA-256 of the CSR key>"));
      }
      log::Info("agent key binding verified", {{"agent_id", shown_id}, {"key_sha256", hex}, {"mode", "stateless"}});
      return grpc::Status::OK;  // attributes unset: SPIRE's defaults
    }
    auto rec = st->client->Take(id, hash);
    if (!rec.ok()) {
      if (rec.status().code() == absl::StatusCode::kNotFound) {
        return Refuse(grpc::StatusCode::PERMISSION_DENIED, shown_id, hex,
                      twi::StrCat(kNotBound, ": ", rec.status().message()));
      }
      // Socket down, slow or refusing us: fail closed.
      return Refuse(grpc::StatusCode::UNAVAILABLE, shown_id, hex,
                    twi::StrCat(kNotBound, ": binding records unavailable: ", rec.status().message()));
    }
    log::Info("agent key binding verified",
              {{"agent_id", shown_id}, {"key_sha256", hex}, {"mode", "records"},
               {"attestation_digest", HexEncode(rec->attestation_digest)}});
    if (!st->cfg.attestation_extension_oid.empty() && !rec->attestation_digest.empty()) {
      // Echo SPIRE's attributes (they replace the defaults wholesale) and add ours.
      *resp->mutable_attributes() = req->attributes();
      auto* ext = resp->mutable_attributes()->add_extra_extensions();
      ext->set_oid(st->cfg.attestation_extension_oid);
      ext->set_value(OctetString(rec->attestation_digest));
      ext->set_critical(false);
    }
    return grpc::Status::OK;
  }

 private:
  grpc::Status Refuse(grpc::StatusCode code, const std::string& id, const std::string& key_hex,
                      const std::string& why) {
    log::Warn("agent SVID refused", {{"agent_id", id}, {"key_sha256", key_hex}, {"error", why}});
    return grpc::Status(code, why);
  }

  std::mutex mu_;
  std::shared_ptr<const State> state_;
};

}  // namespace
}  // namespace twi

int main(int argc, char** argv) {
  twi::Composer plugin;
  twi::runtime::PluginSpec spec{"twi-server-credentialcomposer", "CredentialComposer",
                                twi::pb::CredentialComposer::service_full_name(), &plugin, &plugin,
                                /*evidence_kinds=*/""};
  return twi::runtime::Run(spec, argc, argv);
}
