// What the publishers render: the state of every workload after the last window,
// built on the agent's collection thread at each window close and read by the HTTP
// thread's handlers.
// A Snapshot is immutable once built; the agent swaps in a new one per window.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classifier/histogram.hpp"
#include "classifier/profile.hpp"
#include "classifier/stability.hpp"
#include "classifier/top_stacks.hpp"
#include "classifier/verdict.hpp"
#include "classifier/window.hpp"
#include "collectors/targets.hpp"

namespace boundwise {

struct CollectorStatus {
  std::string name;
  bool up = false;
  double last_duration_seconds = 0;  // of the last sample() or contribute()
  std::string error;                 // why it is down; empty when up
  // A collector that samples on a period: the sampling rounds per second it is set to
  // run, and how many it ran in the last window (0 and 0 for the others). The agent
  // skips the rounds it is late for rather than bursting, so a starved agent (a CPU
  // limit, a saturated node, a target too big for its rate) runs fewer: `behind` is set
  // below kBehindShare of the set rate, and the verdicts then rest on fewer samples.
  double rounds_per_second = 0;
  double achieved_rounds_per_second = 0;
  bool behind = false;
  std::uint64_t rounds = 0;  // every round since start, for boundwise_collector_rounds_total
  // How late each round of the last window started after it was due: the sampling
  // schedule's jitter (a busy node delays the agent's timer; a round that overran
  // delays the next).
  LatencyHistogram lateness{};
  static constexpr double kBehindShare = 0.8;
};

// A configured target with no live process stays listed, absent, so that its absence
// can be seen and alerted on (boundwise_target_up 0); auto-discovered workloads that
// end simply go.
// A workload whose processes all stand still is not classified: "stopped" (stopped by
// a signal or held by a debugger) or "defunct" (exited, not reaped: zombies) say so
// instead of an idle verdict.
enum class WorkloadState { running, stopped, defunct, absent };
inline std::string_view to_string(WorkloadState state) {
  switch (state) {
    case WorkloadState::running:
      return "running";
    case WorkloadState::stopped:
      return "stopped";
    case WorkloadState::defunct:
      return "defunct";
    case WorkloadState::absent:
      return "absent";
  }
  return "running";
}

// How long the published class has held, what it was before, a change still pending,
// and the recent windows (docs/CLASSIFIER.md, "Stability").
struct StabilityReport {
  double stable_for_seconds = 0;
  std::optional<Bottleneck> previous_class;
  std::optional<Bottleneck> pending_class;  // seen, not held long enough to publish
  int pending_windows = 0;
  std::uint64_t changes = 0;          // class changes published since the workload appeared
  std::vector<WindowResult> history;  // oldest first, at most kHistoryWindows
};

struct WorkloadReport {
  std::string name;
  WorkloadState state = WorkloadState::running;
  // absent: the end of the first window that found it absent (so within one window of
  // when it went), as far as this agent saw since collection (re)started.
  std::optional<std::chrono::system_clock::time_point> absent_since;
  // stopped, defunct: what the processes are doing and what to do, for a person.
  std::string state_detail;
  std::vector<int> pids;  // ascending, as of the last discovery scan
  int threads = 0;
  std::optional<PodContainer> pod;  // the Kubernetes pod it runs in, if its cgroup says so
  // Absent until the workload's first full window has been classified.
  std::optional<WorkloadWindow> window;
  std::optional<Verdict> verdict;
  std::optional<Recommendation> recommendation;
  // With a verdict: its stability. While a different class is pending, `verdict` and
  // `recommendation` are those last published (`window` is always the last window's:
  // its counters feed the metrics).
  std::optional<StabilityReport> stability;
  // The stacks collector's on-CPU samples of the last windows (profile_seconds) as
  // folded stacks, for GET /profile; null when that collector does not run. Shared:
  // snapshots are immutable and a profile unchanged by a window is not copied.
  std::shared_ptr<const FoldedStacks> cpu_profile;
  std::uint64_t cpu_profile_window_samples = 0;  // of the last window alone
  // Its off-CPU stacks of the same windows, each under its reason's root frame and
  // counted in milliseconds blocked; null when off-CPU stacks are off.
  std::shared_ptr<const FoldedStacks> offcpu_profile;
  std::uint64_t offcpu_profile_window_stacks = 0;  // stacks taken in the last window
  std::uint64_t offcpu_profile_window_ms = 0;      // the blocked time they stand for
  // Its GIL probes of the same windows: the GIL holder's Python frames, one count per
  // probe that found the GIL held; null when the collector does not run.
  std::shared_ptr<const FoldedStacks> gil_profile;
  std::uint64_t gil_profile_window_probes = 0;  // of the last window alone
  // With a verdict and the stacks collector running: where the verdict's time goes in
  // the code (classifier/top_stacks.hpp), from the profiles above; nullopt otherwise.
  std::optional<std::vector<TopStack>> top_stacks;
};

struct Snapshot {
  std::string host;
  std::chrono::system_clock::time_point generated_at{};
  double window_seconds = 0;
  std::uint64_t windows_completed = 0;
  NodeWindow node;
  std::vector<WorkloadReport> workloads;  // sorted by name
  std::vector<CollectorStatus> collectors;
  // CPU time the agent's own threads spent, by stage ("discovery", "sampling",
  // "assembly", "classify", "publish", "http"), cumulative since start.
  std::map<std::string, double> stage_cpu_seconds;
};

}  // namespace boundwise
