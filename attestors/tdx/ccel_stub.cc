// Placeholder until the CCEL parser lands on main (attestors/tdx/ccel.h): every call is
// UNIMPLEMENTED, so evidence carrying a CCEL is refused rather than trusted.
#include "attestors/tdx/ccel.h"

namespace twi::tdx {

absl::StatusOr<CcelTable> ParseCcelTable(ByteView) {
  return absl::UnimplementedError("ccel: table parsing is not built yet");
}
absl::StatusOr<CcelReplay> ReplayCcel(ByteView) {
  return absl::UnimplementedError("ccel: replay is not built yet");
}

}  // namespace twi::tdx
