// Every selector value the plugins emit, documented once: the README's selector tables are
// checked against these lists by test/unit/readme_test.cc, and each emitting module's tests
// check that what it emits matches a documented pattern.
#pragma once

#include <span>
#include <string_view>

namespace twi::appraisal {

struct SelectorDoc {
  std::string_view pattern;      // e.g. "sev-snp:measurement:<hex>"
  std::string_view description;
};

std::span<const SelectorDoc> NodeSelectors();      // twi-server-nodeattestor
std::span<const SelectorDoc> WorkloadSelectors();  // twi-workloadattestor

// True when `value` matches one documented pattern of `docs`: literal text must match, a
// <placeholder> matches one or more characters (up to the next literal).
bool MatchesDocumented(std::span<const SelectorDoc> docs, std::string_view value);

}  // namespace twi::appraisal
