// The target set: which processes belong to which workload right now. Discovery
// (daemon/) produces it every scan; collectors consume it.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace boundwise {

// A process identity that survives PID reuse: the PID plus its start time
// (field 22 of /proc/PID/stat, clock ticks since boot).
struct ProcessKey {
  int pid = 0;
  std::uint64_t start_time_ticks = 0;
  auto operator<=>(const ProcessKey&) const = default;
};

struct TargetWorkload {
  std::string name;
  std::vector<ProcessKey> processes;  // the selector's roots plus all descendants, by pid
};

struct TargetSet {
  std::vector<TargetWorkload> workloads;
};

}  // namespace boundwise
