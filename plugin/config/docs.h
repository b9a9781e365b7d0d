// The README's generated tables: config references and selector lists, as Markdown. `twi docs`
// prints them and test/unit/readme_test.cc checks that the README holds exactly these.
#pragma once

#include <string>
#include <string_view>

namespace twi::config {

// Names: config:agent, config:server, config:workload, selectors:node, selectors:workload,
// config:claims, claims:vocabulary.
// Returns "" for an unknown name.
std::string MarkdownTable(std::string_view name);
// All names above, in README order.
const char* const* TableNames();

}  // namespace twi::config
