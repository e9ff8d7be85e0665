// Least privilege: which capabilities the agent uses and what each buys, a report of
// what this host grants (`boundwise --check-privileges`, and the start-up log), and
// dropping everything else once the agent has started — optionally switching to an
// unprivileged user when started as root.
#pragma once

#include <string>
#include <vector>

#include "classifier/result.hpp"

namespace boundwise {

struct PrivilegeFact {
  std::string name;  // "CAP_SYS_PTRACE", "BTF", "perf_event_paranoid"
  bool available = false;
  std::string buys;     // what it gives the agent
  std::string without;  // what degrades without it
};

// Capabilities of this process and kernel features of this host, each with its
// consequence. Reads /proc/self/status, /sys and /proc/sys only.
std::vector<PrivilegeFact> check_privileges();

// The report printed by --check-privileges.
std::string format_privileges(const std::vector<PrivilegeFact>& facts);

// Keeps only the capabilities the agent uses (those it holds now) and drops every
// other one, including from the bounding set. With a non-empty `user` and running as
// root, switches to that user and its primary group first, keeping the same
// capabilities. Error: the user does not exist or a system call refused.
Status drop_privileges(const std::string& user);

}  // namespace boundwise
