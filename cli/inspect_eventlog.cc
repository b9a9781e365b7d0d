// `twi inspect` decoders for boot event logs: the ACPI CCEL table of a TD and TCG event logs
// (a TD's CCEL log area, a TPM boot log; legacy SHA-1 or crypto-agile). A log is shown with
// its replayed values per index and algorithm, which is what the quote's RTMRs (index 1..4 ->
// RTMR0..3) or a TPM's PCRs must equal; nothing here compares them or trusts the log.
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attestors/core/str.h"
#include "attestors/eventlog/tcg.h"
#include "attestors/tdx/ccel.h"
#include "cli/inspect.h"

namespace twi::cli {

absl::StatusOr<Inspection> InspectCcelTable(const InspectInput& in) {
  if (in.bytes.size() < 4 || AsString(ByteView(in.bytes).first(4)) != "CCEL") {
    return absl::InvalidArgumentError("it does not start with the ACPI signature \"CCEL\"");
  }
  auto t = tdx::ParseCcelTable(in.bytes);
  if (!t.ok()) return t.status();
  Inspection out;
  out.title = absl::StrFormat("ACPI CCEL table (%d bytes)", in.bytes.size());
  out.json["format"] = "ccel-table";
  auto add = [&](const char* k, nlohmann::ordered_json v) {
    out.lines.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
    out.json[k] = std::move(v);
  };
  add("cc_type", absl::StrCat(t->cc_type, t->cc_type == 2 ? " (tdx)" : ""));
  add("cc_subtype", t->cc_subtype);
  add("log_area_minimum_length", t->log_area_minimum_length);
  add("log_area_start_address", absl::StrFormat("0x%x", t->log_area_start_address));
  return out;
}

absl::StatusOr<Inspection> InspectEventLog(const InspectInput& in) {
  eventlog::ParseOptions options;
  options.stop_at_padding = true;  // a CCEL log area is padded after the last event
  auto log = eventlog::Parse(in.bytes, options);
  if (!log.ok()) return log.status();
  size_t typed = 0;
  for (const auto& e : log->events) typed += e.type != 0 ? 1 : 0;
  if (typed == 0) return absl::InvalidArgumentError("it holds no typed events");
  Inspection out;
  out.title = absl::StrFormat("TCG event log (%s, %d events, not verified)",
                              log->crypto_agile ? "crypto-agile" : "legacy SHA-1", log->events.size());
  out.json["format"] = "tcg-event-log";
  out.json["crypto_agile"] = log->crypto_agile;
  std::vector<std::string> algs;
  for (uint16_t a : log->algorithms) algs.push_back(eventlog::AlgName(a));
  out.json["algorithms"] = algs;
  out.json["events"] = log->events.size();
  out.lines.push_back({"algorithms", absl::StrJoin(algs, ",")});
  out.lines.push_back({"events", absl::StrCat(log->events.size())});
  if (log->startup_locality != 0) {
    out.json["startup_locality"] = log->startup_locality;
    out.lines.push_back({"startup_locality", absl::StrCat(log->startup_locality)});
  }
  // Replayed values: PCRs of a TPM log, or MR index 1..4 = RTMR0..3 of a CCEL log.
  nlohmann::ordered_json replay = nlohmann::ordered_json::object();
  for (uint16_t a : log->algorithms) {
    auto values = eventlog::Replay(*log, a);
    std::string name = eventlog::AlgName(a);
    if (!values.ok()) {
      replay[name] = Shown(std::string(values.status().message()));
      out.lines.push_back({"replay " + name, replay[name].get<std::string>()});
      continue;
    }
    // A SHA-384-only log is a TD's CCEL log (TPM logs carry SHA-1 or SHA-256 banks too).
    bool ccel = log->algorithms == std::vector<uint16_t>{eventlog::kAlgSha384};
    for (const auto& [index, value] : *values) {
      replay[name][absl::StrCat(index)] = HexEncode(value);
      std::string label = absl::StrFormat("replay %s[%d]", name, index);
      if (ccel && index >= 1 && index <= 4) absl::StrAppend(&label, " (rtmr", index - 1, ")");
      out.lines.push_back({label, HexEncode(value)});
    }
  }
  out.json["replay"] = replay;
  return out;
}

}  // namespace twi::cli
