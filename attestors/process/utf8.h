// Selector values go into protobuf `string` fields, which must hold valid UTF-8: one path or
// cgroup name with arbitrary bytes would make the host reject the whole response (issue 15,
// item 7). The inspector leaves such values out (with a note) rather than escaping them, so
// no escaped form can collide with a real name that happens to look like an escape.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace twi::process {

// Well-formed UTF-8 as protobuf checks it: no overlong forms, no surrogates (U+D800..DFFF),
// nothing above U+10FFFF, no truncated sequence.
bool IsValidUtf8(std::string_view s);

// For notes and logs: printable ASCII as is, '\' as "\\", any other byte as "\xHH"; at most
// `max` input bytes, then "...".
std::string EscapeBytes(std::string_view s, size_t max);

}  // namespace twi::process
