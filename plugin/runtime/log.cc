#include "attestors/core/str.h"
#include "plugin/runtime/log.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

#include "attestors/core/echo.h"
#include "nlohmann/json.hpp"

namespace twi::log {
namespace {

// The fields of the entry being logged on this thread. They travel beside spdlog's payload,
// never inside it: no byte of a value (a certificate CN, a peer's input) can end a field and
// start another. spdlog's synchronous loggers format on the calling thread.
thread_local const Fields* tl_fields = nullptr;

// Longest field value written; longer ones are cut (EchoText says how much was left out).
constexpr size_t kMaxFieldBytes = 4096;

std::string& Module() {
  static std::string m = "twi";
  return m;
}

std::string_view LevelName(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    default: return "error";
  }
}

class HclogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    static const Fields kNone;
    const Fields& fields = tl_fields != nullptr ? *tl_fields : kNone;
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    std::string line = FormatLine(LevelName(msg.level), Module(), text, fields, micros);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<HclogFormatter>();
  }
};

void Install(std::shared_ptr<spdlog::logger> logger) {
  logger->set_formatter(std::make_unique<HclogFormatter>());
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

void Emit(spdlog::level::level_enum level, std::string_view msg, const Fields& fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  tl_fields = &fields;
  logger->log(level, spdlog::string_view_t(msg.data(), msg.size()));
  tl_fields = nullptr;
}

}  // namespace

std::string FormatLine(std::string_view level, std::string_view module, std::string_view msg,
                       const Fields& fields, long long micros_since_epoch) {
  time_t secs = static_cast<time_t>(micros_since_epoch / 1000000);
  long long frac = micros_since_epoch % 1000000;
  if (frac < 0) { frac += 1000000; --secs; }
  struct tm tm;
  gmtime_r(&secs, &tm);
  char ts[64];
  size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(ts + n, sizeof(ts) - n, ".%06lldZ", frac);
  // ordered_json keeps @level/@message/@module/@timestamp first, then fields in order.
  nlohmann::ordered_json j;
  j["@level"] = std::string(level);
  j["@message"] = EchoControls(msg, kMaxFieldBytes);
  j["@module"] = std::string(module);
  j["@timestamp"] = std::string(ts);
  for (const auto& [k, v] : fields) {
    if (k.empty() || k[0] == '@') continue;  // never let a field replace a reserved key
    // Control characters are written as \xNN text: JSON would escape them, but SPIRE may
    // re-render the entry as plain text, where a newline would forge a log line. Backslashes
    // stay: the JSON writer escapes them, and a value may itself be JSON (the EAR).
    j[EchoControls(k, 64)] = EchoControls(v, kMaxFieldBytes);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Init(std::string_view module) {
  Module() = std::string(module);
  Install(std::make_shared<spdlog::logger>(std::string(module),
                                           std::make_shared<spdlog::sinks::stderr_sink_mt>()));
}

void InitForTest(std::string_view module, std::ostream& out) {
  Module() = std::string(module);
  Install(std::make_shared<spdlog::logger>(std::string(module),
                                           std::make_shared<spdlog::sinks::ostream_sink_mt>(out, true)));
}

void SetLevel(std::string_view level) {
  auto l = spdlog::level::from_str(std::string(level == "warn" ? "warning" : level));
  if (level == "trace" || level == "debug" || level == "info" || level == "warn" || level == "error") {
    spdlog::default_logger_raw()->set_level(l);
  }
}

void Trace(std::string_view m, const Fields& f) { Emit(spdlog::level::trace, m, f); }
void Debug(std::string_view m, const Fields& f) { Emit(spdlog::level::debug, m, f); }
void Info(std::string_view m, const Fields& f) { Emit(spdlog::level::info, m, f); }
void Warn(std::string_view m, const Fields& f) { Emit(spdlog::level::warn, m, f); }
void Error(std::string_view m, const Fields& f) { Emit(spdlog::level::err, m, f); }

}  // namespace twi::log
