#include "plugin/config/docs.h"

#include "attestors/appraisal/claims_vocabulary.h"
#include "attestors/appraisal/selectors.h"
#include "attestors/core/str.h"
#include "plugin/config/claims_config.h"
#include "plugin/config/keybinding_config.h"
#include "plugin/config/keymanager_config.h"
#include "plugin/config/schema.h"

namespace twi::config {
namespace {

std::string Cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

std::string ConfigTable(std::span<const KeyDoc> schema) {
  std::string out = "| key | type | default | description |\n|---|---|---|---|\n";
  for (const auto& k : schema) {
    out += twi::StrCat("| `", k.key, "` | ", k.type, " | ",
                       k.default_value.empty() ? std::string() : twi::StrCat("`", k.default_value, "`"),
                       k.default_value.empty() ? "| " : " | ", Cell(k.description), " |\n");
  }
  return out;
}

std::string SelectorTable(std::span<const appraisal::SelectorDoc> docs) {
  std::string out = "| selector value | meaning |\n|---|---|\n";
  for (const auto& d : docs) out += twi::StrCat("| `", d.pattern, "` | ", Cell(d.description), " |\n");
  return out;
}

std::string VocabularyTable() {
  std::string out = "| claim | type | exported by | description |\n|---|---|---|---|\n";
  for (const auto& d : appraisal::Vocabulary()) {
    std::string type(appraisal::ClaimTypeName(d.type));
    if (d.type == appraisal::ClaimType::kHex) type = twi::StrCat("hex, ", d.hex_bytes * 2, " digits");
    out += twi::StrCat("| `", d.name, "` | ", type, " | ", Cell(d.exported_by), " | ", Cell(d.description), " |\n");
  }
  return out;
}

constexpr const char* kNames[] = {"config:agent", "config:server", "config:workload",
                                  "selectors:node", "selectors:workload", "config:claims",
                                  "claims:vocabulary", "config:composer", "config:keymanager", nullptr};

}  // namespace

const char* const* TableNames() { return kNames; }

std::string MarkdownTable(std::string_view name) {
  if (name == "config:agent") return ConfigTable(AgentSchema());
  if (name == "config:server") return ConfigTable(ServerSchema());
  if (name == "config:workload") return ConfigTable(WorkloadSchema());
  if (name == "selectors:node") return SelectorTable(appraisal::NodeSelectors());
  if (name == "selectors:workload") return SelectorTable(appraisal::WorkloadSelectors());
  if (name == "config:claims") return ConfigTable(ClaimsSchema());
  if (name == "config:keymanager") return ConfigTable(KeyManagerSchema());
  if (name == "claims:vocabulary") return VocabularyTable();
  if (name == "config:composer") return ConfigTable(ComposerSchema());
  return "";
}

}  // namespace twi::config
