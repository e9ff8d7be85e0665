// The target set: which processes belong to which workload right now. Discovery
// (daemon/) produces it every scan; collectors consume it.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
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

// Where a workload runs in Kubernetes, as far as the cgroup path of its processes
// tells it (procfs::parse_pod_cgroup). The path holds ids only: pod and container
// NAMES and the namespace are in the API server, which the agent does not call; join
// on these ids in PromQL instead (docs/METRICS.md). Empty string = not known.
struct PodContainer {
  std::string pod_uid;       // metadata.uid of the pod, with dashes ("0b3c…-…"), or the
                             // 32-hex-digit UID of a static pod
  std::string container_id;  // 64 hex digits, without the "containerd://" scheme; empty
                             // for a process of the pod that is in none of its containers
  std::string runtime;       // "containerd", "cri-o", "docker"; empty with the cgroupfs
                             // driver (its paths do not name the runtime)
  std::string qos_class;     // "Guaranteed", "Burstable", "BestEffort"; empty when the
                             // path seen from the agent's cgroup namespace hides it
  bool operator==(const PodContainer&) const = default;
};

struct TargetWorkload {
  std::string name;
  std::vector<ProcessKey> processes;  // the selector's roots plus all descendants, by pid
  // Set when the workload's roots all run in one pod (container_id: in one container).
  std::optional<PodContainer> pod;
};

struct TargetSet {
  std::vector<TargetWorkload> workloads;
};

// Every target process and the workload it belongs to.
inline std::map<ProcessKey, std::string> workload_by_process(const TargetSet& targets) {
  std::map<ProcessKey, std::string> out;
  for (const auto& w : targets.workloads) {
    for (const auto& key : w.processes) out.emplace(key, w.name);
  }
  return out;
}

// Keeps a collector's per-process state in step with a new target set, the same way in
// every collector: the state of a process no longer targeted goes (after
// `retire(state)`), a kept one follows its workload's name (`state.workload`), and
// `track(key, workload)` makes the state of a new one (std::nullopt: it is already gone
// or its PID was reused; the next scan decides again). Identity is the ProcessKey, so a
// reused PID is a new process.
template <class State, class Track, class Retire>
void follow_targets(std::map<ProcessKey, State>& tracked, const TargetSet& targets, Track track,
                    Retire retire) {
  const auto wanted = workload_by_process(targets);
  for (auto it = tracked.begin(); it != tracked.end();) {
    auto found = wanted.find(it->first);
    if (found == wanted.end()) {
      retire(it->second);
      it = tracked.erase(it);
    } else {
      it->second.workload = found->second;
      ++it;
    }
  }
  for (const auto& [key, workload] : wanted) {
    if (tracked.count(key) != 0) continue;
    std::optional<State> state = track(key, workload);
    if (state) tracked.emplace(key, std::move(*state));
  }
}

}  // namespace boundwise
