#include "attestors/core/str.h"
#include "plugin/runtime/runtime.h"

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "plugin/grpc_broker.grpc.pb.h"
#include "plugin/grpc_controller.grpc.pb.h"
#include "plugin/grpc_stdio.grpc.pb.h"
#include "plugin/runtime/log.h"
#include "spire/service/common/config/v1/config.grpc.pb.h"
#include "spire/service/private/init/v1/init.grpc.pb.h"
#include "twi_version.h"

namespace twi::runtime {
namespace {

namespace cfgpb = spire::service::common::config::v1;
namespace initpb = spire::service::private_::init::v1;

constexpr int kMaxMessageBytes = 64 << 20;

// Process-wide shutdown latch: set by Controller/Shutdown, SIGTERM or a fatal server error.
struct ShutdownLatch {
  std::mutex mu;
  std::condition_variable cv;
  bool requested = false;
  std::string reason;
  void Request(std::string why) {
    std::lock_guard<std::mutex> l(mu);
    if (!requested) reason = std::move(why);
    requested = true;
    cv.notify_all();
  }
  bool Wait(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> l(mu);
    return cv.wait_for(l, d, [&] { return requested; });
  }
  bool IsRequested() {
    std::lock_guard<std::mutex> l(mu);
    return requested;
  }
};

ShutdownLatch& Latch() {
  static ShutdownLatch l;
  return l;
}

HostServices& HostInstance() {
  static HostServices h;
  return h;
}

class BrokerService final : public ::plugin::GRPCBroker::Service {
 public:
  grpc::Status StartStream(grpc::ServerContext* ctx,
                           grpc::ServerReaderWriter<::plugin::ConnInfo, ::plugin::ConnInfo>* stream) override {
    ::plugin::ConnInfo info;
    while (stream->Read(&info)) {
      log::Debug("broker connection info", {{"service_id", std::to_string(info.service_id())},
                                             {"network", info.network()},
                                             {"address", info.address()}});
      if (info.service_id() == 1) HostInstance().SetConnInfo(info.network(), info.address());
    }
    return grpc::Status::OK;
  }
};

class ControllerService final : public ::plugin::GRPCController::Service {
 public:
  grpc::Status Shutdown(grpc::ServerContext*, const ::plugin::Empty*, ::plugin::Empty*) override {
    Latch().Request("host requested shutdown");
    return grpc::Status::OK;
  }
};

class StdioService final : public ::plugin::GRPCStdio::Service {
 public:
  // Nothing is relayed (logs go to stderr, which SPIRE reads directly); the stream stays
  // open until the host cancels it or the plugin shuts down.
  grpc::Status StreamStdio(grpc::ServerContext* ctx, const google::protobuf::Empty*,
                           grpc::ServerWriter<::plugin::StdioData>*) override {
    while (!ctx->IsCancelled() && !Latch().Wait(std::chrono::milliseconds(200))) {
    }
    return grpc::Status::OK;
  }
};

class InitService final : public initpb::Init::Service {
 public:
  InitService(const PluginSpec& spec) : spec_(spec) {}
  grpc::Status Init(grpc::ServerContext*, const initpb::InitRequest* req,
                    initpb::InitResponse* resp) override {
    HostInstance().SetNames({req->host_service_names().begin(), req->host_service_names().end()});
    resp->add_plugin_service_names(spec_.service_name);
    if (spec_.configurable != nullptr) {
      resp->add_plugin_service_names(cfgpb::Config::service_full_name());
    }
    log::Debug("initialized", {{"host_services", absl::StrJoin(req->host_service_names(), ",")}});
    return grpc::Status::OK;
  }
  grpc::Status Deinit(grpc::ServerContext*, const initpb::DeinitRequest*,
                      initpb::DeinitResponse*) override {
    if (spec_.configurable != nullptr) spec_.configurable->Deinit();
    log::Debug("deinitialized");
    return grpc::Status::OK;
  }

 private:
  const PluginSpec& spec_;
};

class ConfigService final : public cfgpb::Config::Service {
 public:
  explicit ConfigService(Configurable* c) : c_(c) {}
  grpc::Status Configure(grpc::ServerContext*, const cfgpb::ConfigureRequest* req,
                         cfgpb::ConfigureResponse*) override {
    absl::Status s = c_->Configure(req->core_configuration().trust_domain(), req->hcl_configuration());
    if (!s.ok()) log::Error("configuration rejected", {{"error", std::string(s.message())}});
    return ToGrpc(s);
  }
  grpc::Status Validate(grpc::ServerContext*, const cfgpb::ValidateRequest* req,
                        cfgpb::ValidateResponse* resp) override {
    auto notes = c_->Validate(req->core_configuration().trust_domain(), req->hcl_configuration());
    if (!notes.ok()) {
      resp->set_valid(false);
      resp->add_notes(std::string(notes.status().message()));
      return grpc::Status::OK;
    }
    resp->set_valid(true);
    for (auto& n : *notes) resp->add_notes(n);
    return grpc::Status::OK;
  }

 private:
  Configurable* c_;
};

// gRPC's own log lines would reach SPIRE as raw text; route them through the JSON logger.
void GrpcLog(gpr_log_func_args* args) {
  std::string msg = args->message ? args->message : "";
  log::Fields f = {{"source", "grpc"}, {"file", twi::StrCat(args->file ? args->file : "", ":", args->line)}};
  if (args->severity == GPR_LOG_SEVERITY_ERROR) {
    log::Error(msg, f);
  } else {
    log::Debug(msg, f);
  }
}

std::string SocketDir() {
  for (const char* var : {"PLUGIN_UNIX_SOCKET_DIR", "TMPDIR"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  return "/tmp";
}

std::string NewSocketPath() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist(0, 9999999999ULL);
  return twi::StrCat(SocketDir(), "/plugin", dist(rd));
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> HostServices::Channel(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> l(mu_);
  if (!cv_.wait_for(l, wait, [&] { return target_.has_value(); })) {
    return absl::UnavailableError(
        "host services unavailable: the host sent no broker connection info for service id 1");
  }
  if (!channel_) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    channel_ = grpc::CreateCustomChannel(*target_, grpc::InsecureChannelCredentials(), args);
  }
  return channel_;
}

bool HostServices::Offers(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

void HostServices::SetConnInfo(const std::string& network, const std::string& address) {
  std::lock_guard<std::mutex> l(mu_);
  target_ = network == "unix" ? twi::StrCat("unix:", address) : address;
  channel_.reset();
  cv_.notify_all();
}

void HostServices::SetNames(std::vector<std::string> names) {
  std::lock_guard<std::mutex> l(mu_);
  names_ = std::move(names);
}

HostServices* Host() { return &HostInstance(); }

std::string HandshakeLine(const std::string& socket_path) {
  return twi::StrCat("1|1|unix|", socket_path, "|grpc|\n");
}

int Run(const PluginSpec& spec, int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--version") {
    if (spec.evidence_kinds.empty()) {
      std::printf("%s %s\n", spec.module.c_str(), TWI_VERSION);
    } else {
      std::printf("%s %s (evidence kinds: %s)\n", spec.module.c_str(), TWI_VERSION,
                  spec.evidence_kinds.c_str());
    }
    return 0;
  }
  const char* cookie = std::getenv(spec.plugin_type.c_str());
  if (cookie == nullptr || spec.plugin_type != cookie) {
    std::fprintf(stderr,
                 "%s: this binary is a SPIRE %s plugin, not meant to be run directly.\n"
                 "Declare it with plugin_cmd in SPIRE's configuration; SPIRE starts it with the "
                 "environment %s=%s (got %s).\n",
                 spec.module.c_str(), spec.plugin_type.c_str(), spec.plugin_type.c_str(),
                 spec.plugin_type.c_str(), cookie == nullptr ? "nothing" : twi::StrCat("\"", cookie, "\"").c_str());
    return 1;
  }
  // glibc gives every new thread its own malloc arena (up to 8 per core), each a fresh 64 MiB
  // mapping trimmed to alignment; gRPC starts about six threads before the handshake, and those
  // mappings were ~10% of the start (scripts/bench-startup.py). Two arenas are plenty for a
  // plugin serving one host. Before the first thread starts.
  mallopt(M_ARENA_MAX, 2);
  log::Init(spec.module);
  gpr_set_log_function(GrpcLog);
  ::signal(SIGINT, SIG_IGN);  // a Ctrl-C on SPIRE's terminal must not kill us before SPIRE
  ::signal(SIGPIPE, SIG_IGN);
  // SIGUSR1 asks SPIRE to re-read plugin_data_file; one sent to SPIRE's process group must not
  // kill its plugins (Go plugins ignore it too, as they do every signal they don't watch).
  ::signal(SIGUSR1, SIG_IGN);
  // SIGTERM and SIGHUP are taken by a dedicated thread; block them before gRPC starts threads.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::thread([sigs] {
    int sig = 0;
    if (sigwait(&sigs, &sig) == 0) Latch().Request(twi::StrCat("signal ", strsignal(sig)));
  }).detach();

  // Keep the real stdout for the handshake only; anything else written to fd 1 goes to stderr.
  int handshake_fd = ::dup(STDOUT_FILENO);
  if (handshake_fd < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    log::Error("cannot set up stdout", {{"error", std::strerror(errno)}});
    return 1;
  }

  BrokerService broker;
  ControllerService controller;
  StdioService stdio;
  InitService init(spec);
  std::unique_ptr<ConfigService> config;
  if (spec.configurable != nullptr) config = std::make_unique<ConfigService>(spec.configurable);

  grpc::EnableDefaultHealthCheckService(true);
  std::string socket_path = NewSocketPath();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(twi::StrCat("unix:", socket_path), grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // One host talks to a plugin, one RPC at a time per service: one completion queue (gRPC's
  // default is one per core, each with its own polling threads) keeps the start and idle cost
  // down (scripts/bench-startup.py).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.RegisterService(&broker);
  builder.RegisterService(&controller);
  builder.RegisterService(&stdio);
  builder.RegisterService(&init);
  if (config) builder.RegisterService(config.get());
  builder.RegisterService(spec.service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    log::Error("cannot listen on the plugin socket", {{"path", socket_path}});
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus("plugin", true);

  std::string line = HandshakeLine(socket_path);
  if (::write(handshake_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    log::Error("cannot write the handshake line", {{"error", std::strerror(errno)}});
    ::unlink(socket_path.c_str());
    return 1;
  }
  ::close(handshake_fd);
  if (spec.evidence_kinds.empty()) {
    log::Info("plugin serving", {{"socket", socket_path}, {"version", TWI_VERSION}});
  } else {
    log::Info("plugin serving", {{"socket", socket_path}, {"version", TWI_VERSION},
                                 {"evidence_kinds", spec.evidence_kinds}});
  }

  while (!Latch().Wait(std::chrono::hours(1))) {
  }
  log::Debug("shutting down", {{"reason", Latch().reason}});
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  ::unlink(socket_path.c_str());
  std::fflush(stderr);
  // gRPC's internal threads may still hold resources; the host only waits 2 s, so leave now.
  std::_Exit(0);
}

}  // namespace twi::runtime
