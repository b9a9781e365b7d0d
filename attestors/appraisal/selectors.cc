#include "attestors/appraisal/selectors.h"

#include <array>

namespace twi::appraisal {
namespace {

constexpr std::array kNode = {
    SelectorDoc{"instance:<hex>", "SHA-256 of the agent's instance key (SPKI DER); stable for one agent state_dir."},
};

constexpr std::array kWorkload = {
    SelectorDoc{"uid:<n>", "effective user id"},
};

// Matches `value` against `pattern` where each <...> stands for a non-empty run of characters.
bool Match(std::string_view pattern, std::string_view value) {
  if (pattern.empty()) return value.empty();
  if (pattern[0] == '<') {
    size_t close = pattern.find('>');
    if (close == std::string_view::npos) return false;
    std::string_view rest = pattern.substr(close + 1);
    for (size_t n = 1; n <= value.size(); ++n) {
      if (Match(rest, value.substr(n))) return true;
    }
    return false;
  }
  size_t lit = pattern.find('<');
  std::string_view literal = pattern.substr(0, lit);
  if (value.substr(0, literal.size()) != literal) return false;
  return Match(pattern.substr(literal.size()), value.substr(literal.size()));
}

}  // namespace

std::span<const SelectorDoc> NodeSelectors() { return kNode; }
std::span<const SelectorDoc> WorkloadSelectors() { return kWorkload; }

bool MatchesDocumented(std::span<const SelectorDoc> docs, std::string_view value) {
  for (const auto& d : docs) {
    if (Match(d.pattern, value)) return true;
  }
  return false;
}

}  // namespace twi::appraisal
