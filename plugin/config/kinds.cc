#include "plugin/config/kinds.h"

#include <utility>

#include "attestors/core/str.h"

namespace twi::config {
namespace {

// The TWI_KINDS name of an evidence kind: Azure's two evidence kinds are built as one.
std::string_view BuildName(std::string_view kind) {
  return kind == "azure-sev-snp" || kind == "azure-tdx" ? "azure" : kind;
}

}  // namespace

std::string BuiltKinds::List() const {
  std::string out = "sev-snp";
  for (auto [on, name] : {std::pair{tdx, "tdx"}, {tpm, "tpm"}, {azure, "azure"}, {gcp, "gcp"}}) {
    if (on) out = twi::StrCat(out, ";", name);
  }
  return out;
}

bool BuiltKinds::Has(std::string_view kind) const {
  kind = BuildName(kind);
  if (kind == "sev-snp") return true;
  if (kind == "tdx") return tdx;
  if (kind == "tpm") return tpm;
  if (kind == "azure") return azure;
  if (kind == "gcp") return gcp;
  return false;
}

std::string NotBuilt(std::string_view what, std::string_view kind, const BuiltKinds& built) {
  if (built.Has(kind)) return "";
  kind = BuildName(kind);
  return twi::StrCat(what, " needs ", kind, " support, which this binary was built without (TWI_KINDS=",
                     built.List(), "); use a build with ", kind, " in TWI_KINDS");
}

}  // namespace twi::config
