// Evidence: what each collector observed of one workload over one window, by source,
// before anything is merged. Each collector writes only its own part (procfs the
// sampled part, the eBPF tools their measured parts, the python collector the
// runtime part, the node collector the node facts); assemble() (assemble.hpp) is the
// one place that combines them into the WorkloadWindow the classifier reads.
//
// Units as everywhere: seconds and bytes; counts are deltas over the window. Numbers
// are taken as the collectors produced them: assemble() sanitises them (a
// non-finite or negative value counts as 0).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "classifier/endpoint.hpp"
#include "classifier/histogram.hpp"
#include "classifier/profile.hpp"
#include "classifier/reason.hpp"
#include "classifier/window.hpp"

namespace boundwise {

// The procfs collector: every thread sampled at the sample rate (why it waits), exact
// per-thread and per-process counters read once a window.
struct SampledEvidence {
  // Thread time by reason: exact run and run-queue time (schedstat), the off-CPU rest
  // split over reasons by the samples. Parked threads are counted under idle.
  PerReason<double> thread_seconds{};
  int parked_threads = 0;
  std::uint64_t sample_rounds = 0;
  double cpu_seconds = 0;
  double runqueue_seconds = 0;
  std::uint64_t voluntary_switches = 0;
  std::uint64_t involuntary_switches = 0;
  std::uint64_t major_faults = 0;
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
  int threads = 0;        // at window end
  int processes = 0;      // at window end
  std::vector<int> pids;  // at window end, ascending
  bool event_loop = false;
  int established_connections = 0;
  int busy_threads_max = 0;
  MemoryUsage memory;
  // Waits on remote endpoints, not yet named or capped.
  struct Dependency {
    double wait_seconds = 0;  // part of thread_seconds[net]
    std::vector<double> blocked_intervals_seconds;
    bool operator==(const Dependency&) const = default;
  };
  std::map<Endpoint, Dependency> dependencies;

  bool operator==(const SampledEvidence&) const = default;
};

// The ebpf collector's sched tool: off-CPU thread-seconds by the state the kernel saw
// at each switch, and run-queue latency. Covers only the tool's attached share of the
// window when the overhead budget duty-cycles it: shares are fair, seconds are not.
struct MeasuredOffCpu {
  double interruptible = 0;
  double uninterruptible = 0;
  double preempted = 0;
  double woken = 0;
  double other = 0;
  double gil = 0;          // asleep in futex on the GIL (part of what procfs calls sleep)
  bool gil_exact = false;  // the kernel knew the GIL of at least one of the processes
  std::optional<LatencyHistogram> runqueue_latency;

  bool operator==(const MeasuredOffCpu&) const = default;
};

// The ebpf collector's net tool, per remote endpoint and for requests served.
struct MeasuredDependency {
  LatencyHistogram request_latency;
  LatencyHistogram connect_latency;
  double requests = 0;  // divided by the attached fraction when duty-cycled
  double bytes_sent = 0;
  double bytes_received = 0;

  bool operator==(const MeasuredDependency&) const = default;
};
struct MeasuredNet {
  std::map<Endpoint, MeasuredDependency> dependencies;
  std::optional<LatencyHistogram> inbound_latency;
  double inbound_requests = 0;
  // From arrival: with the time connections waited to be accepted (absent when none
  // waited measurably), and the connections that arrived (accepted or still queued).
  std::optional<LatencyHistogram> inbound_total_latency;
  double inbound_arrivals = 0;

  bool operator==(const MeasuredNet&) const = default;
};

// The ebpf collector's syscalls and disk tools (each sets its own field).
struct MeasuredIo {
  std::map<std::string, LatencyHistogram> syscall_latency;  // by class, classes with calls
  std::optional<LatencyHistogram> disk_latency;

  bool operator==(const MeasuredIo&) const = default;
};

// The python collector: what the runtime is and what its GIL did.
struct RuntimeEvidence {
  RuntimeInfo runtime;
  GilWindow gil;  // gil.wait_measured_in_kernel is set by assemble(), not here

  bool operator==(const RuntimeEvidence&) const = default;
};

struct WorkloadEvidence {
  std::string workload;
  double duration_seconds = 0;
  std::optional<SampledEvidence> sampled;
  std::optional<MeasuredOffCpu> offcpu;
  std::optional<MeasuredNet> net;
  std::optional<MeasuredIo> io;
  std::optional<RuntimeEvidence> runtime;
  std::optional<CpuLimit> cpu_limit;  // the cgroup collector; absent: no limit
  // The stacks collector: the window's on-CPU samples as folded stacks; absent when it
  // does not run. Not read by assemble(): the agent keeps it for GET /profile.
  std::optional<FoldedStacks> cpu_stacks;
  // The stacks collector's off-CPU stacks of the window, the reason of each wait as its
  // root frame (reason_frame, profile.hpp), each counted in milliseconds blocked;
  // absent when off-CPU stacks are off. Not read by assemble() either.
  std::optional<FoldedStacks> offcpu_stacks;
  // The stacks collector's GIL probes of the window (10 a second per CPython process):
  // for each probe that found the GIL held, the holder's Python frames (root first),
  // counted once. Who holds the GIL; absent when the collector does not run. Not read
  // by assemble().
  std::optional<FoldedStacks> gil_stacks;

  bool operator==(const WorkloadEvidence&) const = default;
};

// One window's evidence. Collectors may assume `workloads` has an entry for every
// target workload (the daemon creates them) and must not add others.
struct EvidenceSet {
  NodeWindow node;
  std::map<std::string, WorkloadEvidence> workloads;

  // Field by field (record and replay's round-trip tests); a NaN is unequal to itself.
  bool operator==(const EvidenceSet&) const = default;
};

}  // namespace boundwise
