#include "plugin/server/ear_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "attestors/core/str.h"
#include "plugin/runtime/log.h"

namespace twi::server {
namespace {

absl::Status AppendLine(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(twi::StrCat("cannot open \"", path, "\": ", std::strerror(errno)));
  std::string data = line + "\n";
  // O_APPEND: one write() per line keeps lines whole even with several writers.
  ssize_t n = ::write(fd, data.data(), data.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size())) {
    return absl::UnavailableError(twi::StrCat("cannot append to \"", path, "\": ", n < 0 ? std::strerror(err) : "short write"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const LoggingEarSink>> LoggingEarSink::Create(const config::ClaimsSettings& s) {
  auto sink = std::shared_ptr<LoggingEarSink>(new LoggingEarSink());
  if (!s.ear_signing_key_file.empty()) {
    auto key = appraisal::LoadEarSigningKey(s.ear_signing_key_file);
    if (!key.ok()) {
      return absl::InvalidArgumentError(twi::StrCat("ear_signing_key_file: ", key.status().message()));
    }
    sink->key_ = *std::move(key);
  }
  if (!s.ear_audit_file.empty()) {
    int fd = ::open(s.ear_audit_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return absl::InvalidArgumentError(twi::StrCat("ear_audit_file: cannot open \"", s.ear_audit_file,
                                                    "\" for appending: ", std::strerror(errno)));
    }
    ::close(fd);
    sink->audit_path_ = s.ear_audit_file;
  }
  return std::shared_ptr<const LoggingEarSink>(std::move(sink));
}

void LoggingEarSink::Record(const appraisal::EarFacts& facts) const {
  nlohmann::ordered_json ear = appraisal::BuildEar(facts);
  std::string json = ear.dump();
  log::Fields fields = {{"status", facts.status}, {"ear", json}};
  std::string line = json;
  if (key_) {
    auto jwt = appraisal::SignEarJwt(ear, key_.get());
    if (jwt.ok()) {
      fields.emplace_back("ear_jwt", *jwt);
      line = *jwt;
    } else {
      log::Error("cannot sign the attestation result", {{"error", std::string(jwt.status().message())}});
    }
  }
  log::Info("attestation result", fields);
  if (audit_path_.empty()) return;
  std::lock_guard<std::mutex> l(mu_);
  absl::Status s = AppendLine(audit_path_, line);
  // The attestation has been decided and logged already; a full disk must not turn into an
  // outage of every agent, so the failure is logged loudly instead.
  if (!s.ok()) log::Error("cannot append the attestation result to the audit file", {{"error", std::string(s.message())}});
}

}  // namespace twi::server
