// Fuzzes /proc/<pid>/cgroup parsing and the container/pod/unit derivation.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "attestors/process/cgroup.h"

namespace {
bool IsLowerHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto lines = twi::process::ParseCgroupFile(text);
  if (lines.ok()) {
    auto info = twi::process::AnalyzeCgroups(*lines);
    if (info.ok()) {
      // Invariants the selectors rely on.
      if (!info->container_id.empty() && !IsLowerHex64(info->container_id)) std::abort();
      if (!info->pod_uid.empty() && info->pod_uid.size() != 36 && info->pod_uid.size() != 32) {
        std::abort();
      }
      if (info->path.empty() || info->path[0] != '/') std::abort();
      if (!info->systemd_user_unit.empty() && info->systemd_unit.empty()) std::abort();
      // A rootless id is never also a container id, and always names its owner.
      if (!info->rootless_container_id.empty() &&
          (!info->container_id.empty() || info->rootless_uid.empty() ||
           !IsLowerHex64(info->rootless_container_id))) {
        std::abort();
      }
      // Pods only under a Kubernetes prefix.
      if (!info->pod_uid.empty() && info->path.find("kube") == std::string::npos) std::abort();
    }
  }
  // The path helpers on raw input too.
  bool monitor = false;
  std::string id = twi::process::ContainerIdFromSegment(text, &monitor);
  if (!id.empty() && (!IsLowerHex64(id) || monitor)) std::abort();
  twi::process::CgroupIds ids = twi::process::IdsFromPath(text);
  if (ids.monitor && (!ids.container_id.empty() || !ids.pod_uid.empty())) std::abort();
  twi::process::PodUidFromSegment(text);
  std::string unit, user_unit;
  twi::process::SystemdUnitsFromPath(text, &unit, &user_unit);
  return 0;
}
