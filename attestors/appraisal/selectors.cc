#include "attestors/appraisal/selectors.h"

#include <array>

namespace twi::appraisal {
namespace {

constexpr std::array kNode = {
    SelectorDoc{"instance:<hex>", "SHA-256 of the agent's instance key (SPKI DER); stable for one agent state_dir."},
    SelectorDoc{"tee:sev-snp", "the agent presented a verified AMD SEV-SNP report"},
    SelectorDoc{"sev-snp:measurement:<hex>", "launch MEASUREMENT (96 hex digits)"},
    SelectorDoc{"sev-snp:product:<name>", "milan, genoa or turin"},
    SelectorDoc{"sev-snp:policy-debug:<bool>", "guest POLICY debug bit (false unless sev_snp.allow_debug)"},
    SelectorDoc{"sev-snp:host-data:<hex>", "HOST_DATA set by the host at launch (64 hex digits)"},
    SelectorDoc{"sev-snp:tcb:<tcb>", "REPORTED_TCB, e.g. bl=2,tee=0,snp=5,ucode=68 (,fmc=N on Turin)"},
    SelectorDoc{"sev-snp:signing-key:<key>", "vcek or vlek: which AMD key signed the report"},
    SelectorDoc{"sev-snp:vmpl:<n>", "VMPL that requested the report"},
    SelectorDoc{"sev-snp:id-key-digest:<hex>", "ID_KEY_DIGEST, when the guest was launched with an ID block"},
    SelectorDoc{"sev-snp:guest-svn:<n>", "GUEST_SVN from the ID block (0 without one)"},
    SelectorDoc{"sev-snp:simulated:true", "the report came from the software simulator (only with insecure_simulation_roots)"},
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
