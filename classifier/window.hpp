// The classification window: everything the collectors observed about one workload
// over N seconds, in the form the classifier consumes.
//
// Collectors fill a WorkloadWindow (each its own fields; see collectors/collector.hpp);
// finalize_window() derives the quantiles; classify() and recommend() read it. All
// times are seconds, all counts are deltas over the window unless a field says
// "cumulative" (those feed Prometheus counters, never the classifier).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "classifier/histogram.hpp"
#include "classifier/reason.hpp"

namespace boundwise {

struct LatencyQuantiles {
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;

  bool operator==(const LatencyQuantiles&) const = default;
};

// Nearest-rank quantiles of the samples; nullopt when there are none.
std::optional<LatencyQuantiles> quantiles_of(std::vector<double> samples);

struct DependencyWindow {
  std::string name;         // "orders-db", "postgres 127.0.0.1:5432", or "other"
  std::string endpoint;     // "10.0.0.5:5432"; empty for the "other" bucket
  double wait_seconds = 0;  // thread-seconds blocked on this dependency in the window
  // Lengths of observed blocked intervals (one per completed wait; resolution =
  // the sampling interval for the procfs collector, exact for eBPF).
  std::vector<double> blocked_intervals_seconds;
  // Measured by the ebpf collector: request → response latency (first byte sent after
  // a response → first byte received back). When set it is the latency, and the
  // procfs estimate above is left out.
  std::optional<LatencyHistogram> request_latency;
  std::uint64_t requests = 0;                       // ebpf: requests that got a response
  std::uint64_t bytes_sent = 0;                     // ebpf
  std::uint64_t bytes_received = 0;                 // ebpf
  std::optional<LatencyHistogram> connect_latency;  // ebpf: SYN sent → established
  std::optional<LatencyQuantiles> latency;          // set by finalize_window()
  // The "other" bucket only: how many dependencies over the cap were summed into it.
  int folded = 0;

  bool operator==(const DependencyWindow&) const = default;
};

struct PressureTotals {
  // Cumulative stall time from /proc/pressure/<resource> ("total=" in µs → s).
  double some_seconds = 0;
  double full_seconds = 0;  // cpu has no "full" on older kernels: 0

  bool operator==(const PressureTotals&) const = default;
};

// The CPU limit a workload runs under — its cgroup's CPU bandwidth quota (cgroup v2
// cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us), at the level of its cgroup path
// that binds (the smallest) — and how the kernel enforced it over the window (cpu.stat).
// A Kubernetes CPU limit is such a quota.
struct CpuLimit {
  double cores = 0;    // quota / period
  std::string cgroup;  // the binding level's path, as /proc/PID/cgroup names it
  // Enforcement over the window (cpu.stat deltas); counters_valid is false in the first
  // window (no baseline) and when a counter went backwards (a new cgroup at that path).
  bool counters_valid = false;
  std::uint64_t periods = 0;            // nr_periods: enforcement periods with runnable tasks
  std::uint64_t throttled_periods = 0;  // nr_throttled: periods that ran out of quota
  double throttled_seconds = 0;         // throttled_time (v1, ns) / throttled_usec (v2)

  // The share of the window's enforcement periods whose quota ran out; nullopt without
  // valid counters or periods.
  std::optional<double> throttled_share() const {
    if (!counters_valid || periods == 0) return std::nullopt;
    return static_cast<double>(throttled_periods) / static_cast<double>(periods);
  }

  bool operator==(const CpuLimit&) const = default;
};

struct NodeWindow {
  int cores = 0;
  double cpu_busy_ratio = 0;  // non-idle share of all CPU time over the window, [0,1]
  double load1 = 0;
  int runnable_tasks = 0;  // /proc/loadavg running count at window end
  // Share of the window with some task stalled on the resource, [0,1].
  double cpu_pressure_some = 0;
  double io_pressure_some = 0;
  double memory_pressure_some = 0;
  double memory_pressure_full = 0;
  bool pressure_available = false;
  // Cumulative (since boot), for boundwise_node_pressure_seconds_total.
  std::map<std::string, PressureTotals> pressure_totals;  // key "cpu" | "io" | "memory"
  // Cumulative run time and runs of each BPF program of the agent (kernel run-time
  // stats; empty when they could not be enabled), for
  // boundwise_ebpf_program_seconds_total.
  struct BpfProgramStats {
    double run_seconds = 0;
    std::uint64_t runs = 0;

    bool operator==(const BpfProgramStats&) const = default;
  };
  std::map<std::string, BpfProgramStats> bpf_programs;  // key: program name
  // Share of the window each loaded eBPF tool ("sched", "net", "syscalls", "disk")
  // had its programs attached: below 1 when the overhead budget duty-cycled it, 0
  // when it detached it. Absent tools were not loaded.
  std::map<std::string, double> ebpf_duty;
  // The stacks collector's cost, cumulative since it started (so 0 and empty without
  // it): CPU seconds spent unwinding and naming frames, and samples dropped by cause
  // ("no_unwind_info", "stack_truncated", "read_failed", "process_gone", ...), for
  // boundwise_unwind_seconds_total and boundwise_unwind_failures_total.
  double unwind_seconds = 0;
  std::map<std::string, std::uint64_t> unwind_failures;

  bool operator==(const NodeWindow&) const = default;
};

struct MemoryUsage {
  std::uint64_t rss_bytes = 0;     // sum over processes
  std::uint64_t pss_bytes = 0;     // sum over processes (smaps_rollup); 0 if unreadable
  std::uint64_t uss_bytes = 0;     // private clean + dirty; 0 if unreadable
  std::uint64_t shared_bytes = 0;  // shared clean + dirty (RSS shared with any process)
  int processes_measured = 0;

  bool operator==(const MemoryUsage&) const = default;
};

// What the runtime inside the workload is, as far as known (the python collector).
struct RuntimeInfo {
  std::string kind;     // "python", "native", or "" when unknown
  std::string version;  // "3.12.1", or "3.8" when only the minor is known
  bool free_threaded = false;
  bool gil_readable = false;  // GIL state read from memory, not inferred
  // Process topology (python collector): how workers are started and served.
  std::string start_method;    // "fork", "spawn", "forkserver", or "" (no workers seen)
  std::string server;          // "gunicorn", "uvicorn", "multiprocessing", or ""
  int worker_processes = 0;    // helpers (resource tracker, forkserver) and masters excluded
  int max_worker_threads = 0;  // most threads in one worker process

  bool operator==(const RuntimeInfo&) const = default;
};

// The GIL read from memory by the python collector, summed over the workload's
// Python processes. Waiting for the GIL is thread_seconds[gil] (the futex signature,
// exact); on-CPU time without the GIL (native code) is cpu_seconds − held_seconds.
struct GilWindow {
  bool measured = false;             // at least one sample read from memory
  std::uint64_t samples = 0;         // process-samples read
  std::uint64_t locked_samples = 0;  // of which the GIL was locked
  double held_seconds = 0;           // Σ over processes of locked share × observed time
  double waiters_mean = 0;           // Σ over processes of mean waiters per sample
  std::uint64_t switches = 0;        // switch_number delta (GIL hand-overs)
  int holder_threads = 0;            // distinct threads seen holding it
  // thread_seconds[gil] was measured by the ebpf collector at every context switch
  // (sleeps in futex on the GIL's address) rather than sampled from procfs.
  bool wait_measured_in_kernel = false;

  bool operator==(const GilWindow&) const = default;
};

struct WorkloadWindow {
  std::string workload;
  double duration_seconds = 0;      // wall-clock length of the window
  std::uint64_t sample_rounds = 0;  // thread-state sampling rounds in the window

  // Thread time by reason. Sums to the total thread lifetime inside the window
  // (≈ threads × duration). Parked threads (blocked the whole window with no
  // context switch) are counted under idle.
  PerReason<double> thread_seconds{};
  int parked_threads = 0;

  double cpu_seconds = 0;       // utime+stime delta of all threads
  double runqueue_seconds = 0;  // schedstat run-queue wait delta
  std::uint64_t voluntary_switches = 0;
  std::uint64_t involuntary_switches = 0;
  std::uint64_t major_faults = 0;
  std::uint64_t read_bytes = 0;   // /proc/PID/io read_bytes delta (storage layer)
  std::uint64_t write_bytes = 0;  // /proc/PID/io write_bytes delta

  int threads = 0;        // at window end
  int processes = 0;      // at window end
  std::vector<int> pids;  // at window end, ascending

  // Evidence about the concurrency model already in use.
  bool event_loop = false;          // a thread waits in epoll_wait/poll/select over many fds
  int established_connections = 0;  // TCP connections in ESTABLISHED state at window end
  int busy_threads_max = 0;         // most threads seen on CPU or runnable in one sampling round

  std::vector<DependencyWindow> dependencies;

  // Measured by the ebpf collector (empty without it). Off-CPU thread time by the
  // state the thread was in ("interruptible", "uninterruptible", "preempted",
  // "woken", "other"; see collectors/ebpf/sched.h), and run-queue latency (woken or
  // preempted → on CPU) of the waits that ended in the window.
  std::map<std::string, double> offcpu_seconds_by_state;
  std::optional<LatencyHistogram> runqueue_latency;
  // Measured by the ebpf collector's syscalls tool: latency of the syscalls that
  // returned in the window, by class ("read", "write", "recv", "send", "poll", "futex",
  // "fsync", "connect", "accept", "sleep", "other"; collectors/ebpf/syscalls.h). Only
  // classes with calls are present. When the overhead budget duty-cycles the tool
  // (node.ebpf_duty["syscalls"] < 1) the counts cover only its attached share of the
  // window; the distributions are unbiased samples.
  std::map<std::string, LatencyHistogram> syscall_latency;
  // Measured by the ebpf collector's disk tool: block request latency (issued to the
  // device → completed) of the requests the workload's threads submitted. Writeback
  // by kernel threads is not attributed (docs/COLLECTORS.md). Same duty-cycle note.
  std::optional<LatencyHistogram> disk_latency;
  // Measured by the ebpf collector's net tool: latency of requests the workload served
  // on connections it accepted (first byte of a request received → first byte of the
  // response sent), and how many completed in the window (divided by the tool's
  // attached fraction when duty-cycled, hence not an integer).
  std::optional<LatencyHistogram> inbound_latency;
  double inbound_requests = 0;
  // The same requests timed from their arrival: a new connection's first request from
  // the end of its handshake, so the time it waited in the listen socket's accept
  // queue (workers all busy) counts. Absent when no request waited measurably: then it
  // is inbound_latency. inbound_arrivals: connections that completed their handshake on
  // a port the workload listens on, served or still queued: with one request per
  // connection (HTTP/1.0, gunicorn's sync workers) the offered request rate.
  std::optional<LatencyHistogram> inbound_total_latency;
  double inbound_arrivals = 0;

  MemoryUsage memory;
  RuntimeInfo runtime;
  GilWindow gil;
  NodeWindow node;
  // The cgroup collector: the CPU limit of the cgroup most of the workload's processes
  // run in; absent when it has none (or the collector is off).
  std::optional<CpuLimit> cpu_limit;

  // Field by field; a NaN is unequal to itself.
  bool operator==(const WorkloadWindow&) const = default;

  // Sum of thread_seconds over all reasons.
  double total_thread_seconds() const;
};

// On-CPU time of the workload's Python processes without the GIL (native code that
// released it): cpu_seconds − gil.held_seconds, at least 0; 0 unless gil.measured.
double native_cpu_seconds(const WorkloadWindow& w);

// The concurrency model the workload uses now: "processes" (worker processes, one
// thread each), "mixed" (workers with threads, or uvicorn's event-loop workers),
// "asyncio" (one process with an event loop), "threads" (one process, several
// threads) or "single".
std::string current_model(const WorkloadWindow& w);

// Computes derived fields (dependency latency quantiles) in place.
void finalize_window(WorkloadWindow& w);

}  // namespace boundwise
