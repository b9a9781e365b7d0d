// twi-workloadattestor: SPIRE WorkloadAttestor plugin. Adapts Attest / AttestReference to
// attestors/process (who the process is) and the local TEE context (what it runs in).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>

#include "absl/strings/str_join.h"
#include "attestors/core/str.h"
#include "attestors/process/inspector.h"
#include "plugin/config/configs.h"
#include "plugin/runtime/log.h"
#include "plugin/runtime/runtime.h"
#include "plugin/workload/tee_context.h"
#include "spiffe/broker/workload_reference.pb.h"
#include "spire/plugin/agent/workloadattestor/v1/workloadattestor.grpc.pb.h"

namespace twi {
namespace {

namespace pb = spire::plugin::agent::workloadattestor::v1;

constexpr char kPidReferenceType[] = "type.googleapis.com/spiffe.broker.WorkloadPIDReference";

struct State {
  std::unique_ptr<process::ProcessInspector> inspector;
  std::unique_ptr<workload::TeeContext> tee;
};

class WorkloadPlugin final : public runtime::Configurable, public pb::WorkloadAttestor::Service {
 public:
  absl::Status Configure(const std::string& td, const std::string& hcl) override {
    auto cfg = config::BuildWorkloadConfig(hcl, td);
    if (!cfg.ok()) return cfg.status();
    log::SetLevel(cfg->log_level);
    auto state = Build(*cfg);
    if (!state.ok()) return state.status();
    for (const auto& w : cfg->warnings) log::Warn(w);
    process::ExeIntegrity integrity = (*state)->inspector->exe_integrity();
    if (!integrity.strong) {
      // Issue 15: path, sha256 and ima:* then describe a file the process chose.
      log::Warn(twi::StrCat("exe-integrity is weak: ", integrity.reason,
                            ". Registration entries must not rely on path/sha256/ima alone: "
                            "pair them with a uid only the workload runs as, or require "
                            "exe-integrity:strong (set user.max_user_namespaces = 0)"));
    }
    log::Info("configured", {{"proc_root", cfg->proc_root},
                             {"ima", (*state)->inspector->ima_enabled() ? "on" : (*state)->inspector->ima_status()},
                             {"tee", absl::StrJoin((*state)->tee->Selectors(), ",")}});
    std::shared_ptr<State> old;
    {
      std::lock_guard<std::mutex> l(mu_);
      old = std::move(state_);
      state_ = *std::move(state);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> Validate(const std::string& td, const std::string& hcl) override {
    auto cfg = config::BuildWorkloadConfig(hcl, td);
    if (!cfg.ok()) return cfg.status();
    return cfg->warnings;
  }

  void Deinit() override {
    std::lock_guard<std::mutex> l(mu_);
    state_.reset();
  }

  grpc::Status Attest(grpc::ServerContext*, const pb::AttestRequest* req, pb::AttestResponse* resp) override {
    auto sel = Selectors(req->pid());
    if (!sel.ok()) return runtime::ToGrpc(sel.status());
    for (auto& s : *sel) resp->add_selector_values(std::move(s));
    return grpc::Status::OK;
  }

  grpc::Status AttestReference(grpc::ServerContext*, const pb::AttestReferenceRequest* req,
                               pb::AttestReferenceResponse* resp) override {
    if (req->reference().type_url() != kPidReferenceType) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          twi::StrCat("unsupported workload reference type \"", req->reference().type_url(),
                                      "\" (supported: ", kPidReferenceType, ")"));
    }
    spiffe::broker::WorkloadPIDReference ref;
    if (!req->reference().UnpackTo(&ref)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed WorkloadPIDReference");
    }
    auto sel = Selectors(ref.pid());
    if (!sel.ok()) return runtime::ToGrpc(sel.status());
    for (auto& s : *sel) resp->add_selector_values(std::move(s));
    return grpc::Status::OK;
  }

 private:
  static absl::StatusOr<std::shared_ptr<State>> Build(const config::WorkloadConfig& cfg) {
    process::ProcessOptions o;
    o.proc_root = cfg.proc_root;
    o.hash_executable = cfg.hash_executables;
    o.max_exe_hash_bytes = static_cast<uint64_t>(cfg.max_executable_bytes);
    o.ima_path = cfg.ima_path;
    o.proc_sys_root = cfg.proc_sys_root;
    o.hash_limits.max_concurrent = static_cast<int>(cfg.max_concurrent_hashes);
    o.hash_limits.timeout = std::chrono::milliseconds(cfg.hash_timeout_ms);
    o.hash_limits.uid_budget_bytes = static_cast<uint64_t>(cfg.hash_budget_bytes_per_uid);
    auto inspector = process::ProcessInspector::Create(std::move(o));
    if (!inspector.ok()) return inspector.status();
    auto tee = workload::TeeContext::Create(cfg);
    if (!tee.ok()) return tee.status();
    auto state = std::make_shared<State>();
    state->inspector = *std::move(inspector);
    state->tee = *std::move(tee);
    return state;
  }

  absl::StatusOr<std::vector<std::string>> Selectors(int pid) {
    std::shared_ptr<State> state;
    {
      std::lock_guard<std::mutex> l(mu_);
      state = state_;
    }
    if (!state) return absl::FailedPreconditionError("not configured");
    auto a = state->inspector->Attest(pid);
    if (!a.ok()) {
      log::Debug("workload attestation failed", {{"pid", std::to_string(pid)},
                                                 {"error", std::string(a.status().message())}});
      return a.status();
    }
    // Why an expected selector is missing (size cap, unknown user, IMA off...): for operators
    // whose registration entry does not match.
    if (!a->notes.empty()) {
      log::Debug("workload attested with notes", {{"pid", std::to_string(pid)},
                                                  {"notes", absl::StrJoin(a->notes, "; ")}});
    }
    std::vector<std::string> sel = std::move(a->selectors);
    std::vector<std::string> tee = state->tee->Selectors();
    sel.insert(sel.end(), tee.begin(), tee.end());
    return sel;
  }

  std::mutex mu_;
  std::shared_ptr<State> state_;
};

}  // namespace
}  // namespace twi

int main(int argc, char** argv) {
  twi::WorkloadPlugin plugin;
  twi::runtime::PluginSpec spec{"twi-workloadattestor", "WorkloadAttestor",
                                twi::pb::WorkloadAttestor::service_full_name(), &plugin, &plugin,
                                twi::config::kBuiltKinds.List()};
  return twi::runtime::Run(spec, argc, argv);
}
