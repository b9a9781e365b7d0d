// tpm2-tss loaded on first use (TWI_STATIC_DEPS builds): see tss2_lazy.cc.
#pragma once

#include <string_view>

namespace twi::tpm {

// Test hook: load `replacement` instead of the library `soname` (e.g. "libtss2-tctildr.so.0"),
// so a test can see what a missing library does. Only before that library's first use; false if
// it is not one the shim loads or has already been loaded.
bool ReplaceTss2LibraryForTest(std::string_view soname, const char* replacement);

}  // namespace twi::tpm
