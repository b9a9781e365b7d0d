// Whether /proc/<pid>/exe can be trusted to name the file the process runs (issue 15, item 1).
//
// Inside a user namespace it created itself, an unprivileged process holds
// CAP_CHECKPOINT_RESTORE over that namespace, which is all prctl(PR_SET_MM, PR_SET_MM_MAP)
// asks before replacing the process's exe link with any executable file it can open. After
// that, /proc/<pid>/exe, its path, its digest and its IMA entry all describe a binary the
// process never ran. A CLONE_VM helper can create the namespace, so the process being
// attested may itself stay in the host user namespace; no check of its maps or code ranges
// helps (the same prctl sets them). Only the host can close this: by forbidding unprivileged
// user namespaces. So the attestor reports which case it is in and lets policy decide:
//   strong  user.max_user_namespaces = 0, or kernel.unprivileged_userns_clone = 0 (Debian),
//           or kernel.apparmor_restrict_unprivileged_userns = 1 (Ubuntu 23.10+);
//   weak    otherwise, including when those files cannot be read (fail closed).
// "strong" still trusts root and processes AppArmor allows to create user namespaces
// (Ubuntu's unconfined profiles): both can change their exe link anyway.
//
// The values are read from `proc_sys_root` (normally /proc/sys, the agent's view: in a
// container with its own user namespace, that namespace's limits).
#pragma once

#include <string>

namespace twi::process {

struct ExeIntegrity {
  bool strong = false;
  std::string reason;  // which setting decided, e.g. "user.max_user_namespaces = 0"
};

ExeIntegrity ReadExeIntegrity(const std::string& proc_sys_root);

}  // namespace twi::process
