// Fuzzes the /proc/<pid>/status and stat parsers and the passwd/group parser.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "attestors/process/id_names.h"
#include "attestors/process/proc_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto status = twi::process::ParseProcStatus(text);
  (void)status;
  auto stat = twi::process::ParseProcStat(text);
  if (stat.ok() && stat->pid <= 0) std::abort();
  twi::process::ParseIdNameFile(text);
  bool had = false;
  std::string_view stripped = twi::process::StripDeletedSuffix(text, &had);
  if (stripped.size() > text.size()) std::abort();
  return 0;
}
