// The evidence kinds this binary was built with (TWI_KINDS, cmake/Kinds.cmake): the plugins'
// registration seams (agent collectors, server appraisers, workload TEE context, config blocks,
// `twi sim`) ask kBuiltKinds, and every use of a kind left out is refused with NotBuilt's
// reason instead of being ignored.
#pragma once

#include <string>
#include <string_view>

#include "twi_kinds.h"

namespace twi::config {

// SEV-SNP is always built in.
struct BuiltKinds {
  bool tdx = true;
  bool tpm = true;
  bool azure = true;
  bool gcp = true;

  // As TWI_KINDS takes it: "sev-snp;tdx;tpm;azure;gcp" for every kind.
  std::string List() const;
  // `kind` is a TWI_KINDS name (sev-snp, tdx, tpm, azure, gcp) or an evidence kind name
  // (azure-sev-snp and azure-tdx belong to azure); unknown names are not built in.
  bool Has(std::string_view kind) const;
};

inline constexpr BuiltKinds kBuiltKinds{TWI_WITH_TDX != 0, TWI_WITH_TPM != 0, TWI_WITH_AZURE != 0,
                                        TWI_WITH_GCP != 0};

// Why `what` (e.g. "the tdx block", "tdx evidence") cannot be used: `kind` is not in `built`,
// naming the build's TWI_KINDS; "" when `built` has the kind.
std::string NotBuilt(std::string_view what, std::string_view kind,
                     const BuiltKinds& built = kBuiltKinds);

}  // namespace twi::config
