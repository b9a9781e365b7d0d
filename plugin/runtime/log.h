// Logging for plugins: spdlog to stderr, one hclog JSON object per line, which SPIRE turns
// into its own log entries (spec 1.5). stdout is reserved for the handshake line.
//
//   {"@level":"info","@message":"configured","@module":"twi-server-nodeattestor",
//    "@timestamp":"2026-01-02T03:04:05.123456Z","trust_domain":"example.org"}
//
// All values are JSON strings: SPIRE panics on a non-string @level/@message/@timestamp.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spdlog { class logger; }

namespace twi::log {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Sets up the process logger (stderr) for `module`. Call once at start-up.
void Init(std::string_view module);
// For tests: log to `out` instead of stderr.
void InitForTest(std::string_view module, std::ostream& out);
// "trace", "debug", "info", "warn", "error"; unknown names leave the level unchanged.
void SetLevel(std::string_view level);

void Trace(std::string_view msg, const Fields& fields = {});
void Debug(std::string_view msg, const Fields& fields = {});
void Info(std::string_view msg, const Fields& fields = {});
void Warn(std::string_view msg, const Fields& fields = {});
void Error(std::string_view msg, const Fields& fields = {});

// The JSON line for one entry (exposed for tests). `micros_since_epoch` is the timestamp.
std::string FormatLine(std::string_view level, std::string_view module, std::string_view msg,
                       const Fields& fields, long long micros_since_epoch);

}  // namespace twi::log
