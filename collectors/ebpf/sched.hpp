// Loader of sched.bpf.c (the kernel side is documented there, the shared layout in
// sched.h): open → load → attach, the target bitmap and tgid → workload map, and
// reads of the per-workload counters. Owns the skeleton: destroying a SchedTool
// detaches and unloads every program of it.
//
// Not thread-safe; the ebpf collector uses it from the io_context thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "classifier/histogram.hpp"
#include "classifier/result.hpp"
#include "collectors/ebpf/sched.h"

struct sched_bpf;

namespace boundwise::ebpf {

using OffCpuNs = std::array<double, BW_OFFCPU_STATES>;

struct SchedCounters {
  OffCpuNs offcpu_ns{};       // cumulative, window-clipped (see sched.h)
  LatencyHistogram runqueue;  // cumulative
};

class SchedTool {
 public:
  // Loads and attaches the programs. Error: why, with a hint (see bpf_util.hpp).
  static Result<std::unique_ptr<SchedTool>> load();
  ~SchedTool();
  SchedTool(const SchedTool&) = delete;
  SchedTool& operator=(const SchedTool&) = delete;

  // Marks a process as belonging to workload `wid` (1..BW_MAX_WORKLOADS-1).
  void mark(int tgid, std::uint32_t wid);
  void unmark(int tgid);
  // Every targeted process the kernel knows, including forks it followed.
  std::vector<std::pair<int, std::uint32_t>> targets() const;

  // Starts an off-CPU segment for a thread that is already asleep when it becomes a
  // target (it would otherwise be unseen until it next runs). state: BW_* from sched.h.
  void seed_thread(int tid, std::uint32_t wid, std::uint32_t state, std::uint64_t since_ns);

  // Cumulative counters of one workload, summed over CPUs.
  SchedCounters counters(std::uint32_t wid) const;

  // Adds, per workload, the part after `window_start_ns` of every off-CPU segment
  // still open at `now_ns` (the kernel counts a segment only when it ends), then
  // makes `now_ns` the start of the next window for the kernel.
  void close_window(std::uint64_t window_start_ns, std::uint64_t now_ns,
                    std::map<std::uint32_t, OffCpuNs>& open_segments);

  // Program names and fds, for run-time stats.
  std::vector<std::pair<std::string, int>> programs() const;

 private:
  explicit SchedTool(sched_bpf* skel);
  sched_bpf* skel_;
  int ncpus_;
};

// CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns().
std::uint64_t monotonic_ns();

}  // namespace boundwise::ebpf
