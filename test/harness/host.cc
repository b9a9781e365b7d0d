#include "attestors/core/str.h"
#include "test/harness/host.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <regex>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "plugin/grpc_broker.grpc.pb.h"
#include "plugin/grpc_controller.grpc.pb.h"
#include "plugin/grpc_stdio.grpc.pb.h"
#include "spiffe/broker/workload_reference.pb.h"
#include "spire/hostservice/server/agentstore/v1/agentstore.grpc.pb.h"
#include "spire/plugin/agent/nodeattestor/v1/nodeattestor.grpc.pb.h"
#include "spire/plugin/agent/workloadattestor/v1/workloadattestor.grpc.pb.h"
#include "spire/plugin/server/nodeattestor/v1/nodeattestor.grpc.pb.h"
#include "spire/service/common/config/v1/config.grpc.pb.h"
#include "spire/service/private/init/v1/init.grpc.pb.h"

extern char** environ;

namespace twi::host {
namespace {

namespace cfgpb = spire::service::common::config::v1;
namespace initpb = spire::service::private_::init::v1;
namespace storepb = spire::hostservice::server::agentstore::v1;
namespace agentpb = spire::plugin::agent::nodeattestor::v1;
namespace serverpb = spire::plugin::server::nodeattestor::v1;
namespace wlpb = spire::plugin::agent::workloadattestor::v1;

absl::Status FromGrpc(const grpc::Status& s, std::string_view prefix = "") {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      twi::StrCat(prefix, s.error_message()));
}

class AgentStoreService final : public storepb::AgentStore::Service {
 public:
  explicit AgentStoreService(std::shared_ptr<AgentStore> store) : store_(std::move(store)) {}
  grpc::Status GetAgentInfo(grpc::ServerContext*, const storepb::GetAgentInfoRequest* req,
                            storepb::GetAgentInfoResponse* resp) override {
    store_->CountLookup();
    if (!store_->Has(req->agent_id())) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such agent");
    resp->mutable_info()->set_agent_id(req->agent_id());
    return grpc::Status::OK;
  }

 private:
  std::shared_ptr<AgentStore> store_;
};

std::string TempSocketPath(std::string_view stem) {
  std::random_device rd;
  const char* dir = std::getenv("TMPDIR");
  return twi::StrCat(dir && *dir ? dir : "/tmp", "/", stem, rd(), rd() % 100000);
}

}  // namespace

// Long-lived streams SPIRE keeps open for the life of the plugin.
struct PluginProcess::Streams {
  grpc::ClientContext broker_ctx;
  std::unique_ptr<grpc::ClientReaderWriter<::plugin::ConnInfo, ::plugin::ConnInfo>> broker;
  grpc::ClientContext stdio_ctx;
  std::unique_ptr<grpc::ClientReader<::plugin::StdioData>> stdio;
  std::thread stdio_thread;
};

void AgentStore::Add(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  ids_.insert(id);
}
bool AgentStore::Has(const std::string& id) const {
  std::lock_guard<std::mutex> l(mu_);
  return ids_.count(id) > 0;
}
int AgentStore::lookups() const {
  std::lock_guard<std::mutex> l(mu_);
  return lookups_;
}
void AgentStore::CountLookup() {
  std::lock_guard<std::mutex> l(mu_);
  ++lookups_;
}

std::string CheckLogLine(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return twi::StrCat("not a JSON object (SPIRE logs it raw at debug): ", line.substr(0, 120));
  }
  for (const char* key : {"@level", "@message"}) {
    if (!j.contains(key)) return twi::StrCat("missing ", key, ": ", line.substr(0, 120));
  }
  for (const char* key : {"@level", "@message", "@timestamp"}) {
    if (j.contains(key) && !j[key].is_string()) {
      return twi::StrCat(key, " is not a string (this panics SPIRE): ", line.substr(0, 120));
    }
  }
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (!kLevels.count(j["@level"].get<std::string>())) {
    return twi::StrCat("unknown @level \"", j["@level"].get<std::string>(), "\"");
  }
  if (j.contains("@timestamp")) {
    static const std::regex kTs(
        R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$)");
    if (!std::regex_match(j["@timestamp"].get<std::string>(), kTs)) {
      return twi::StrCat("@timestamp \"", j["@timestamp"].get<std::string>(),
                          "\" does not have exactly six fractional digits");
    }
  }
  return "";
}

absl::StatusOr<std::unique_ptr<PluginProcess>> PluginProcess::Launch(LaunchOptions opts) {
  std::unique_ptr<PluginProcess> p(new PluginProcess());
  p->opts_ = opts;
  // SPIRE makes plugin_cmd absolute relative to its working directory (no PATH lookup).
  std::string path = opts.path;
  if (!path.empty() && path[0] != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) != nullptr) path = twi::StrCat(cwd, "/", path);
  }
  if (::access(path.c_str(), X_OK) != 0) {
    return absl::NotFoundError(twi::StrCat("plugin_cmd \"", path, "\" is not executable: ",
                                            std::strerror(errno)));
  }
  std::vector<std::string> env;
  std::string cookie = opts.cookie_value.empty() ? opts.plugin_type : opts.cookie_value;
  std::map<std::string, std::string> ours = {
      {opts.plugin_type, cookie},
      {"PLUGIN_PROTOCOL_VERSIONS", "1"},
      {"PLUGIN_MIN_PORT", "10000"},
      {"PLUGIN_MAX_PORT", "25000"}};
  for (const auto& [k, v] : opts.extra_env) ours[k] = v;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    std::string key(kv.substr(0, kv.find('=')));
    if (!ours.count(key)) env.emplace_back(kv);
  }
  for (const auto& [k, v] : ours) env.push_back(twi::StrCat(k, "=", v));  // appended last

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(twi::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<char*> argv, envp;
  argv.push_back(path.data());
  for (auto& a : opts.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(twi::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execve(path.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  p->pid_ = pid;
  p->stderr_thread_ = std::thread(&PluginProcess::ReadStderr, p.get(), err_pipe[0]);

  // The handshake: the first line on stdout.
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + opts.handshake_timeout;
  int out_fd = out_pipe[0];
  bool got_line = false, eof = false;
  while (!got_line && !eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{out_fd, POLLIN, 0};
    int rc = poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc <= 0) continue;
    char c;
    ssize_t n = read(out_fd, &c, 1);
    if (n <= 0) { eof = true; break; }
    if (c == '\n') got_line = true; else line.push_back(c);
  }
  if (!got_line) {
    p->WaitExit(std::chrono::milliseconds(500));
    close(out_fd);
    std::string why = eof ? "plugin exited before we could connect" : "timeout while waiting for plugin to start";
    if (line.empty() && eof) {
      why = "Unrecognized remote plugin message: (empty); Failed to read any lines from plugin's stdout";
    }
    return absl::FailedPreconditionError(twi::StrCat("failed to launch plugin: ", why));
  }
  p->handshake_ = line;
  p->stdout_thread_ = std::thread(&PluginProcess::DrainStdout, p.get(), out_fd);
  std::vector<std::string> f = absl::StrSplit(absl::StripAsciiWhitespace(line), '|');
  if (f.size() < 4) return absl::FailedPreconditionError(twi::StrCat("Unrecognized remote plugin message: ", line));
  if (f[0] != "1") return absl::FailedPreconditionError(twi::StrCat("incompatible core API version with plugin: ", f[0]));
  if (f[1] != "1") return absl::FailedPreconditionError(twi::StrCat("incompatible API version with plugin: ", f[1]));
  if (f[2] != "unix" && f[2] != "tcp") return absl::FailedPreconditionError(twi::StrCat("unknown address type: ", f[2]));
  if (f.size() < 5 || f[4] != "grpc") return absl::FailedPreconditionError("unsupported plugin protocol (want grpc)");
  if (f.size() > 6) return absl::FailedPreconditionError("handshake has more than 6 fields");
  if (f.size() == 6 && f[5].size() > 50) return absl::FailedPreconditionError("error parsing server cert");
  p->socket_path_ = f[3];
  std::string target = f[2] == "unix" ? twi::StrCat("unix:", f[3]) : f[3];
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(INT32_MAX);
  args.SetMaxSendMessageSize(INT32_MAX);
  args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, "unused");
  p->channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (!p->channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return absl::UnavailableError(twi::StrCat("cannot connect to plugin at ", target));
  }

  // Host services, announced on the broker as service id 1.
  p->host_socket_ = TempSocketPath("plugin-host");
  grpc::ServerBuilder hb;
  hb.AddListeningPort(twi::StrCat("unix:", p->host_socket_), grpc::InsecureServerCredentials());
  // Always served (a gRPC server needs one service); plugins only call what Init lists.
  auto svc = std::make_shared<AgentStoreService>(
      opts.agent_store ? opts.agent_store : std::make_shared<AgentStore>());
  hb.RegisterService(svc.get());
  p->host_service_impl_ = svc;
  p->host_server_ = hb.BuildAndStart();
  if (!p->host_server_) return absl::InternalError("cannot start the host-services server");

  p->streams_ = std::make_unique<Streams>();
  auto broker = ::plugin::GRPCBroker::NewStub(p->channel_);
  p->streams_->broker = broker->StartStream(&p->streams_->broker_ctx);
  ::plugin::ConnInfo info;
  info.set_service_id(1);
  info.set_network("unix");
  info.set_address(p->host_socket_);
  if (!p->streams_->broker->Write(info)) {
    return absl::UnavailableError("plugin broker stream failed: cannot send ConnInfo");
  }
  auto stdio = ::plugin::GRPCStdio::NewStub(p->channel_);
  p->streams_->stdio = stdio->StreamStdio(&p->streams_->stdio_ctx, google::protobuf::Empty());
  p->streams_->stdio_thread = std::thread([s = p->streams_.get()] {
    ::plugin::StdioData d;
    while (s->stdio->Read(&d)) {
    }
    s->stdio->Finish();
  });
  return p;
}

PluginProcess::~PluginProcess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    WaitExit(std::chrono::seconds(5));
  }
  if (streams_) {
    streams_->broker_ctx.TryCancel();
    streams_->stdio_ctx.TryCancel();
    if (streams_->stdio_thread.joinable()) streams_->stdio_thread.join();
  }
  if (host_server_) host_server_->Shutdown(std::chrono::system_clock::now());
  if (!host_socket_.empty()) unlink(host_socket_.c_str());
  if (stderr_thread_.joinable()) stderr_thread_.join();
  if (stdout_thread_.joinable()) stdout_thread_.join();
}

void PluginProcess::ReadStderr(int fd) {
  std::string buf;
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (opts_.echo_stderr) fprintf(stderr, "%s\n", line.c_str());
      std::string err = CheckLogLine(line);
      std::lock_guard<std::mutex> l(mu_);
      stderr_lines_.push_back(line);
      if (!err.empty()) log_errors_.push_back(err);
    }
  }
  if (!buf.empty()) {
    std::lock_guard<std::mutex> l(mu_);
    stderr_lines_.push_back(buf);
    log_errors_.push_back(CheckLogLine(buf));
  }
  close(fd);
}

void PluginProcess::DrainStdout(int fd) {
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> l(mu_);
    stray_stdout_ += static_cast<size_t>(n);
  }
  close(fd);
}

bool PluginProcess::WaitExit(std::chrono::milliseconds timeout) {
  if (exited_) return true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::vector<std::string> PluginProcess::stderr_lines() const {
  std::lock_guard<std::mutex> l(mu_);
  return stderr_lines_;
}
std::vector<std::string> PluginProcess::WaitForStderr(
    const std::function<bool(const std::vector<std::string>&)>& done,
    std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<std::string> lines = stderr_lines();
    if (done(lines) || std::chrono::steady_clock::now() >= deadline) return lines;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}
std::vector<std::string> PluginProcess::log_format_errors() const {
  std::lock_guard<std::mutex> l(mu_);
  return log_errors_;
}
size_t PluginProcess::stray_stdout_bytes() const {
  std::lock_guard<std::mutex> l(mu_);
  return stray_stdout_;
}

absl::StatusOr<std::vector<std::string>> PluginProcess::Init(const std::vector<std::string>& host_services) {
  auto stub = initpb::Init::NewStub(channel_);
  grpc::ClientContext ctx;
  initpb::InitRequest req;
  for (const auto& s : host_services) req.add_host_service_names(s);
  initpb::InitResponse resp;
  grpc::Status s = stub->Init(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s, "failed to initialize plugin: ");
  return std::vector<std::string>(resp.plugin_service_names().begin(), resp.plugin_service_names().end());
}

absl::Status PluginProcess::Configure(const std::string& td, const std::string& hcl) {
  auto stub = cfgpb::Config::NewStub(channel_);
  grpc::ClientContext ctx;
  cfgpb::ConfigureRequest req;
  req.mutable_core_configuration()->set_trust_domain(td);
  req.set_hcl_configuration(hcl);
  cfgpb::ConfigureResponse resp;
  return FromGrpc(stub->Configure(&ctx, req, &resp));
}

absl::StatusOr<PluginProcess::Validation> PluginProcess::Validate(const std::string& td, const std::string& hcl) {
  auto stub = cfgpb::Config::NewStub(channel_);
  grpc::ClientContext ctx;
  cfgpb::ValidateRequest req;
  req.mutable_core_configuration()->set_trust_domain(td);
  req.set_hcl_configuration(hcl);
  cfgpb::ValidateResponse resp;
  grpc::Status s = stub->Validate(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return Validation{resp.valid(), {resp.notes().begin(), resp.notes().end()}};
}

absl::Status PluginProcess::Deinit() {
  auto stub = initpb::Init::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  initpb::DeinitRequest req;
  initpb::DeinitResponse resp;
  return FromGrpc(stub->Deinit(&ctx, req, &resp));
}

absl::Status PluginProcess::Shutdown() {
  if (exited_) return absl::OkStatus();
  if (streams_) streams_->broker_ctx.TryCancel();
  auto stub = ::plugin::GRPCController::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  ::plugin::Empty req, resp;
  stub->Shutdown(&ctx, req, &resp);  // the plugin may exit before replying
  if (WaitExit(opts_.shutdown_grace)) return absl::OkStatus();
  kill(pid_, SIGKILL);
  WaitExit(std::chrono::seconds(5));
  return absl::DeadlineExceededError("plugin did not exit within 2 s of Shutdown; killed");
}

absl::Status PluginProcess::Load(const std::string& td, const std::string& hcl, bool server_side) {
  std::vector<std::string> host = server_side
      ? std::vector<std::string>{kIdentityProviderService, kAgentStoreService, kMetricsService}
      : std::vector<std::string>{kMetricsService};
  auto names = Init(host);
  if (!names.ok()) return names.status();
  bool has_config = false, has_type = false;
  std::string want_type = opts_.plugin_type == "WorkloadAttestor"
      ? wlpb::WorkloadAttestor::service_full_name()
      : (server_side ? serverpb::NodeAttestor::service_full_name() : agentpb::NodeAttestor::service_full_name());
  if (opts_.plugin_type == "CredentialComposer") {
    want_type = "spire.plugin.server.credentialcomposer.v1.CredentialComposer";
  } else if (opts_.plugin_type == "KeyManager") {
    want_type = "spire.plugin.agent.keymanager.v1.KeyManager";
  }
  for (const auto& n : *names) {
    if (n == cfgpb::Config::service_full_name()) has_config = true;
    if (n == want_type) has_type = true;
  }
  if (!has_type) return absl::FailedPreconditionError(twi::StrCat("no supported plugin interface found (want ", want_type, ")"));
  if (!has_config) {
    if (!hcl.empty()) return absl::FailedPreconditionError("no supported configuration interface found");
    return absl::OkStatus();
  }
  absl::Status s = Configure(td, hcl);
  if (!s.ok()) return absl::Status(s.code(), twi::StrCat("failed to configure plugin: ", s.message()));
  return absl::OkStatus();
}

NodeAttestationResult AttestNode(PluginProcess& agent, PluginProcess& server, const std::string& td,
                                 const std::string& name, const RelayHooks& hooks, AgentStore* store) {
  NodeAttestationResult out;
  const std::string prefix = twi::StrCat("nodeattestor(", name, "): ");
  auto fail = [&](absl::StatusCode code, std::string_view msg) {
    out.status = absl::Status(code, twi::StrCat(prefix, msg));
    return out;
  };
  auto astub = agentpb::NodeAttestor::NewStub(agent.channel());
  grpc::ClientContext actx;
  auto astream = astub->AidAttestation(&actx);
  agentpb::PayloadOrChallengeResponse amsg;
  if (!astream->Read(&amsg)) {
    grpc::Status s = astream->Finish();
    if (!s.ok()) return fail(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    return fail(absl::StatusCode::kInternal, "plugin closed stream before returning attestation data");
  }
  if (amsg.payload().empty()) return fail(absl::StatusCode::kInternal, "plugin response missing attestation payload");
  std::string payload = amsg.payload();
  if (hooks.payload) hooks.payload(payload);

  auto sstub = serverpb::NodeAttestor::NewStub(server.channel());
  grpc::ClientContext sctx;
  sctx.AddMetadata("x-untrusted-forwarded-host", "localhost");
  sctx.AddMetadata("x-forwarded-client-ip", "127.0.0.1");
  auto sstream = sstub->Attest(&sctx);
  serverpb::AttestRequest sreq;
  sreq.set_payload(payload);
  sstream->Write(sreq);
  for (;;) {
    serverpb::AttestResponse sresp;
    if (!sstream->Read(&sresp)) {
      grpc::Status s = sstream->Finish();
      actx.TryCancel();
      if (!s.ok()) return fail(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
      return fail(absl::StatusCode::kInternal, "plugin closed stream unexpectedly");
    }
    if (sresp.has_agent_attributes()) {
      const auto& a = sresp.agent_attributes();
      sctx.TryCancel();
      actx.TryCancel();
      if (a.spiffe_id().empty()) return fail(absl::StatusCode::kInternal, "plugin response missing agent ID");
      std::string_view id = a.spiffe_id();
      std::string want = twi::StrCat("spiffe://", td, "/");
      if (!id.starts_with("spiffe://") || id.size() <= 9 || id.find('/', 9) == std::string_view::npos) {
        return fail(absl::StatusCode::kInternal, "invalid agent ID");
      }
      std::string_view path = id.substr(id.find('/', 9));
      if (path == "/spire/server") return fail(absl::StatusCode::kInternal, "agent ID cannot be the server ID");
      if (!id.starts_with(want)) out.warnings.push_back("agent ID is not in the agent's trust domain");
      if (!path.starts_with(twi::StrCat("/spire/agent/", name, "/"))) {
        out.warnings.push_back("agent ID is not in the reserved agent namespace for the attestor");
      }
      out.spiffe_id = a.spiffe_id();
      for (const auto& v : a.selector_values()) {
        std::string sel = twi::StrCat(name, ":", v);
        if (std::find(out.selectors.begin(), out.selectors.end(), sel) == out.selectors.end()) {
          out.selectors.push_back(sel);
        }
      }
      out.can_reattest = a.can_reattest();
      if (store) store->Add(out.spiffe_id);
      return out;
    }
    if (!sresp.has_challenge()) {
      sctx.TryCancel();
      actx.TryCancel();
      return fail(absl::StatusCode::kInternal, "plugin response missing challenge or agent attributes");
    }
    ++out.challenges;
    std::string challenge = sresp.challenge();
    if (hooks.challenge) hooks.challenge(challenge);
    agentpb::Challenge ac;
    ac.set_challenge(challenge);
    if (!astream->Write(ac) || !astream->Read(&amsg)) {
      grpc::Status s = astream->Finish();
      sctx.TryCancel();
      if (!s.ok()) return fail(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
      return fail(absl::StatusCode::kInternal, "plugin closed stream before handling the challenge");
    }
    if (amsg.challenge_response().empty()) {
      sctx.TryCancel();
      actx.TryCancel();
      return fail(absl::StatusCode::kInternal, "plugin response missing challenge response");
    }
    std::string response = amsg.challenge_response();
    if (hooks.challenge_response) hooks.challenge_response(response);
    serverpb::AttestRequest r;
    r.set_challenge_response(response);
    sstream->Write(r);
  }
}

absl::StatusOr<std::vector<std::string>> AttestWorkload(PluginProcess& plugin, int pid, bool by_reference,
                                                        const std::string& name) {
  auto stub = wlpb::WorkloadAttestor::NewStub(plugin.channel());
  grpc::ClientContext ctx;
  google::protobuf::RepeatedPtrField<std::string> values;
  grpc::Status s;
  if (by_reference) {
    wlpb::AttestReferenceRequest req;
    spiffe::broker::WorkloadPIDReference ref;
    ref.set_pid(pid);
    req.mutable_reference()->PackFrom(ref);
    wlpb::AttestReferenceResponse resp;
    s = stub->AttestReference(&ctx, req, &resp);
    values = resp.selector_values();
  } else {
    wlpb::AttestRequest req;
    req.set_pid(pid);
    wlpb::AttestResponse resp;
    s = stub->Attest(&ctx, req, &resp);
    values = resp.selector_values();
  }
  if (!s.ok()) return FromGrpc(s, twi::StrCat("workloadattestor(", name, "): "));
  std::vector<std::string> out;
  for (const auto& v : values) out.push_back(twi::StrCat(name, ":", v));
  return out;
}

absl::StatusOr<std::vector<std::string>> AttestReferenceRaw(PluginProcess& plugin, const std::string& type_url,
                                                            const std::string& value) {
  auto stub = wlpb::WorkloadAttestor::NewStub(plugin.channel());
  grpc::ClientContext ctx;
  wlpb::AttestReferenceRequest req;
  req.mutable_reference()->set_type_url(type_url);
  req.mutable_reference()->set_value(value);
  wlpb::AttestReferenceResponse resp;
  grpc::Status s = stub->AttestReference(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return std::vector<std::string>(resp.selector_values().begin(), resp.selector_values().end());
}

}  // namespace twi::host
