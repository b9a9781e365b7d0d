// The documented configuration keys of each plugin: the single source for the README's
// config reference (checked by test/unit/readme_test.cc) and for the example configs.
// Every key a config builder reads must be listed here; a key listed here must be read.
#pragma once

#include <span>
#include <string_view>

namespace twi::config {

struct KeyDoc {
  std::string_view key;            // dotted path for keys inside blocks: "sev_snp.min_tcb.snp"
  std::string_view type;           // "string", "bool", "integer", "list of strings"
  std::string_view default_value;  // as shown in the README ("" = no default / unset)
  std::string_view example;        // an HCL value that the builder accepts
  std::string_view description;
};

std::span<const KeyDoc> AgentSchema();
std::span<const KeyDoc> ServerSchema();
std::span<const KeyDoc> WorkloadSchema();

}  // namespace twi::config
