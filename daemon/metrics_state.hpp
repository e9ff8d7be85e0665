// The state of a MetricsPublisher, shared by its two source files: metrics.cpp (the
// order of publishing, the series cap and the removal of what left) and
// metrics_sections.cpp (one function per section of the exposition: a workload's
// verdict, its window, memory, runtime, dependencies; the node; the agent itself).
// Private to those two files: include it nowhere else.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "classifier/histogram.hpp"
#include "config/config.hpp"
#include "daemon/metrics.hpp"
#include "daemon/prometheus_util.hpp"

namespace boundwise {

struct MetricsPublisher::State {
  using Counter = prometheus::Counter;
  using Gauge = prometheus::Gauge;
  using Histogram = prometheus::Histogram;
  using Labels = prometheus::Labels;
  template <class T>
  using Family = prometheus::Family<T>;

  prometheus::Registry registry;

  // The families, one line each: name and help (docs/METRICS.md has the full table).
  Family<Counter>& counter(const char* name, const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
  }
  Family<Gauge>& gauge(const char* name, const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
  }
  Family<Histogram>& histogram(const char* name, const std::string& help) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
  }

  Family<Counter>& thread_seconds =
      counter("boundwise_thread_seconds_total",
              "Thread time of the workload by wait reason (on_cpu, runqueue, gil, lock, net, disk, "
              "ipc, sleep, idle, paging, other)");
  Family<Counter>& cpu_seconds = counter(
      "boundwise_cpu_seconds_total", "CPU time (user + system) used by the workload's processes");
  Family<Gauge>& cores_used =
      gauge("boundwise_cpu_cores_used", "Cores the workload used on average over the last window");
  Family<Counter>& dependency_wait =
      counter("boundwise_dependency_wait_seconds_total",
              "Thread time the workload spent blocked on a dependency");
  Family<Histogram>& dependency_latency =
      histogram("boundwise_dependency_latency_seconds",
                "Latency of a dependency: request to first byte of the response measured by eBPF "
                "(net tool), else the length of completed blocked waits sampled by procfs "
                "(resolution: the sampling interval)");
  Family<Counter>& dependency_requests =
      counter("boundwise_dependency_requests_total",
              "Requests to a dependency that got a response, measured by eBPF");
  Family<Counter>& dependency_bytes =
      counter("boundwise_dependency_bytes_total",
              "Bytes sent to and received from a dependency (direction), measured by eBPF");
  Family<Histogram>& dependency_connect =
      histogram("boundwise_dependency_connect_latency_seconds",
                "TCP connect latency to a dependency (SYN sent to established), measured by eBPF");
  Family<Histogram>& inbound_latency =
      histogram("boundwise_inbound_latency_seconds",
                "Latency of requests the workload served on connections it accepted (first byte "
                "received to first byte of the response sent), measured by eBPF");
  Family<Counter>& inbound_requests =
      counter("boundwise_inbound_requests_total",
              "Requests the workload served on connections it accepted, measured by eBPF");
  Family<Histogram>& inbound_latency_from_arrival = histogram(
      "boundwise_inbound_latency_from_arrival_seconds",
      "Latency of the same requests timed from their arrival: a new connection's first request "
      "from the end of its TCP handshake, so the time it waited to be accepted counts, "
      "measured by eBPF");
  Family<Counter>& inbound_arrivals =
      counter("boundwise_inbound_arrivals_total",
              "Connections that completed their handshake on a port the workload listens on, "
              "accepted or still queued, measured by eBPF");
  Family<Counter>& offcpu_seconds =
      counter("boundwise_offcpu_seconds_total",
              "Off-CPU thread time of the workload by scheduler state, measured by eBPF "
              "(interruptible, uninterruptible, preempted, woken, other)");
  Family<Histogram>& runqueue_latency =
      histogram("boundwise_runqueue_latency_seconds",
                "Run-queue latency of the workload's threads (woken or preempted to on-CPU), "
                "measured by eBPF");
  Family<Histogram>& syscall_latency = histogram(
      "boundwise_syscall_latency_seconds",
      "Latency of the workload's syscalls by class (read, write, recv, send, poll, futex, "
      "fsync, connect, accept, sleep, other), measured by eBPF while the syscalls tool "
      "is attached");
  Family<Histogram>& disk_latency =
      histogram("boundwise_disk_latency_seconds",
                "Block request latency (issued to the device to completed) of requests the "
                "workload's threads submitted, measured by eBPF while the disk tool is attached");
  Family<Counter>& ebpf_attached_seconds =
      counter("boundwise_ebpf_tool_attached_seconds_total",
              "Time each eBPF tool had its programs attached; below the wall-clock rate when the "
              "overhead budget duty-cycles it");
  Family<Counter>& bpf_program_seconds =
      counter("boundwise_ebpf_program_seconds_total",
              "CPU time spent in each of the agent's BPF programs (kernel run-time stats)");
  Family<Counter>& bpf_program_runs =
      counter("boundwise_ebpf_program_runs_total",
              "Runs of each of the agent's BPF programs (kernel run-time stats)");
  Family<Gauge>& bottleneck = gauge(
      "boundwise_bottleneck", "1 for the workload's current bottleneck class, 0 for the others");
  Family<Gauge>& recommendation =
      gauge("boundwise_recommendation",
            "1 for the concurrency model recommended for the workload, 0 for the others");
  Family<Gauge>& workers = gauge("boundwise_recommended_workers",
                                 "Worker count recommended for the workload (0: no change)");
  Family<Gauge>& confidence =
      gauge("boundwise_verdict_confidence", "Confidence of the current verdict, 0 to 1");
  Family<Counter>& verdict_changes =
      counter("boundwise_verdict_changes_total",
              "Changes of the workload's published class: a new class takes effect after "
              "holding verdict_change_windows windows, or at once with confidence >= 0.9");
  Family<Gauge>& verdict_stable =
      gauge("boundwise_verdict_stable_seconds", "Time the workload's published class has held");
  Family<Gauge>& slo_objective =
      gauge("boundwise_slo_objective_seconds",
            "The workload's latency objective (config slo:) by quantile (0.95, 0.99)");
  Family<Gauge>& slo_ratio =
      gauge("boundwise_slo_latency_ratio",
            "The workload's latency over its objective (the larger of p95's and p99's); above "
            "1 misses it");
  Family<Gauge>& slo_met = gauge("boundwise_slo_met",
                                 "1 when the workload met every objective it has a measurement "
                                 "for in the last window, else 0");
  // Per workload: the published-change count last added to verdict_changes.
  std::map<std::string, double> verdict_changes_last;
  Family<Gauge>& threads =
      gauge("boundwise_workload_threads", "Threads in the workload at the end of the last window");
  Family<Gauge>& cpu_limit =
      gauge("boundwise_workload_cpu_limit_cores",
            "CPU limit of the workload's cgroup (its quota / period, at the smallest level of "
            "its cgroup path); absent without a limit");
  Family<Counter>& cpu_throttled =
      counter("boundwise_workload_cpu_throttled_seconds_total",
              "Time the kernel held the workload's tasks back because its cgroup's CPU quota "
              "ran out (cpu.stat throttled time)");
  Family<Counter>& cpu_throttled_periods =
      counter("boundwise_workload_cpu_throttled_periods_total",
              "CPU quota enforcement periods of the workload's cgroup, by whether the quota ran "
              "out (throttled=true|false); their ratio is the throttled share");
  Family<Gauge>& target_up =
      gauge("boundwise_target_up",
            "1 while the workload has a live process (running or stopped); 0 for a configured "
            "target with none, or whose processes are all zombies");
  Family<Gauge>& stopped =
      gauge("boundwise_workload_stopped",
            "1 when every process of the workload is stopped (SIGSTOP, SIGTSTP, a debugger)");
  Family<Gauge>& processes = gauge("boundwise_workload_processes",
                                   "Processes in the workload at the end of the last window");
  Family<Gauge>& memory =
      gauge("boundwise_workload_memory_bytes",
            "Memory of the workload's processes by kind (rss, pss, uss, shared)");
  Family<Gauge>& runtime_info =
      gauge("boundwise_runtime_info",
            "The runtime inside the workload (kind, version, free_threaded); always 1");
  Family<Gauge>& pod_info =
      gauge("boundwise_workload_pod_info",
            "The Kubernetes pod (and container) the workload runs in, from its cgroup path "
            "(pod_uid, container_id, qos_class); always 1");
  Family<Counter>& gil_wait =
      counter("boundwise_python_gil_wait_seconds_total",
              "Thread time the workload's Python threads spent waiting for the GIL");
  Family<Counter>& gil_held = counter("boundwise_python_gil_held_seconds_total",
                                      "Time the GIL of the workload's Python processes was held "
                                      "(read from memory; summed over processes)");
  Family<Counter>& native_cpu =
      counter("boundwise_python_native_cpu_seconds_total",
              "CPU time of the workload's Python processes spent without holding the GIL");
  Family<Gauge>& node_busy =
      gauge("boundwise_node_cpu_busy_ratio",
            "Share of the node's CPU time that was busy over the last window");
  Family<Gauge>& node_cores = gauge("boundwise_node_cpu_cores", "CPUs of the node");
  Family<Gauge>& node_load1 = gauge("boundwise_node_load1", "One-minute load average of the node");
  Family<Counter>& node_pressure =
      counter("boundwise_node_pressure_seconds_total",
              "Time some (or all) tasks of the node stalled on a resource (/proc/pressure)");
  Family<Gauge>& collector_up =
      gauge("boundwise_collector_up",
            "1 if the collector is working, 0 if it is down (see the agent's log for why)");
  Family<Counter>& collector_rounds =
      counter("boundwise_collector_rounds_total",
              "Sampling rounds the collector ran (collectors that sample on a period)");
  std::map<std::string, double> collector_rounds_last;  // by collector
  Family<Gauge>& collector_behind =
      gauge("boundwise_collector_behind",
            "1 when the collector ran under 80 % of its set sampling rounds in the last window "
            "(late rounds are skipped: a starved agent samples less), else 0");
  Family<Gauge>& collector_duration = gauge("boundwise_collector_duration_seconds",
                                            "Duration of the collector's last sampling round");
  Family<Histogram>& sampling_lateness =
      histogram("boundwise_sampling_lateness_seconds",
                "How late each sampling round started after it was due (the sampling "
                "schedule's jitter; rounds over a period late are skipped, see "
                "boundwise_collector_behind)");
  Family<Counter>& windows = counter("boundwise_windows_total", "Classification windows completed");
  Family<Counter>& stage_seconds =
      counter("boundwise_agent_stage_seconds_total",
              "CPU time of the agent's own threads by stage (discovery, sampling, assembly, "
              "classify, publish, http)");
  std::map<std::string, double> stage_last;  // the stage CPU totals last seen
  Family<Counter>& dropped =
      counter("boundwise_dropped_total",
              "What the agent's limits left out: workloads over max_workloads and dependencies "
              "over max_dependencies (per window), series over max_series (each series, per "
              "window)");
  std::size_t max_series = static_cast<std::size_t>(Config{}.max_series);
  Family<Gauge>& reload_ok =
      gauge("boundwise_config_last_reload_successful",
            "1 if the last configuration (re)load succeeded, 0 if the agent kept the old one");
  Family<Gauge>& reload_time = gauge("boundwise_config_last_reload_success_timestamp_seconds",
                                     "Unix time of the last successful configuration load");
  Family<Gauge>& build_info =
      gauge("boundwise_build_info",
            "Build of the agent (version, git commit, build type, compiler); always 1");
  Family<Counter>& profile_samples =
      counter("boundwise_profile_samples_total",
              "Stacks of the workload's threads kept in its profile, by type (cpu: on-CPU "
              "samples; offcpu: stacks of blocked threads; gil: probes that found the GIL "
              "held)");
  Family<Counter>& profile_offcpu_seconds =
      counter("boundwise_profile_offcpu_seconds_total",
              "Blocked time the workload's off-CPU stacks stand for (each stack weighs its "
              "round's interval times the threads the round left out)");
  Family<Counter>& unwind_seconds =
      counter("boundwise_unwind_seconds_total",
              "CPU time the stacks collector spent reading, unwinding and naming samples");
  Family<Counter>& unwind_failures =
      counter("boundwise_unwind_failures_total",
              "Stack samples cut short (partial stack kept) or dropped, by cause");
  double unwind_seconds_last = 0;
  std::map<std::string, std::uint64_t> unwind_failures_last;
  // The agent's own process, under the names every Prometheus client library uses.
  Family<Counter>& self_cpu =
      counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
  double self_cpu_last = 0;
  Family<Gauge>& self_rss =
      gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  Family<Gauge>& self_fds = gauge("process_open_fds", "Number of open file descriptors.");
  Family<Gauge>& self_max_fds =
      gauge("process_max_fds", "Maximum number of open file descriptors.");
  Family<Gauge>& self_start =
      gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");

  // How to remove one exported metric, and how many series it exports: 1, or for a
  // histogram one per bucket (+Inf included) plus _sum and _count.
  struct Removal {
    std::function<void()> remove;
    std::size_t series = 1;
  };
  using Removers = std::map<void*, Removal>;
  struct DependencySeries {
    std::uint64_t last_seen = 0;  // publish number
    bool latency = false;         // its histograms are exported (Tier::dependency_latency)
    Removers removers;
  };
  // The groups of series max_series leaves out, last first: a workload's identity and
  // verdict (never left out), its thread time, CPU, memory and runtime, its latency
  // histograms, its dependencies' counters, their latency histograms.
  enum class Tier { verdict, detail, workload_latency, dependencies, dependency_latency };
  std::set<std::pair<std::string, Tier>> admitted;  // exported workload groups
  double dropped_series = 0;                        // this publish
  std::unique_ptr<State> scratch;                   // for series_left_out

  // Removers of every series that belongs to a workload.
  std::map<std::string, Removers> workload_series;
  // The collectors' lateness histograms: per host, kept for the agent's life (never
  // removed, not counted against max_series).
  Removers collector_series;
  // Per (workload, dependency), kept apart so that a stale dependency can leave alone.
  std::map<std::pair<std::string, std::string>, DependencySeries> dependency_series;
  std::uint64_t publishes = 0;
  std::map<std::string, double> pressure_last;        // by "resource/kind"
  std::map<std::string, Labels> runtime_info_labels;  // by workload
  std::map<std::string, Labels> pod_info_labels;      // by workload
  std::map<std::string, NodeWindow::BpfProgramStats> bpf_last;

  template <class T>
  static T& add(Family<T>& family, const Labels& labels, Removers& removers) {
    T& metric = family.Add(labels);
    removers.emplace(&metric, Removal{[&family, &metric] { family.Remove(&metric); }});
    return metric;
  }

  template <class T>
  T& add(Family<T>& family, const Labels& labels, const std::string& workload) {
    return add(family, labels, workload_series[workload]);
  }

  // Removes a workload's series with these labels, if it exists.
  void remove(Family<Gauge>& family, const Labels& labels, const std::string& workload) {
    if (labels.empty() || !family.Has(labels)) return;
    auto& stale = family.Add(labels);
    workload_series[workload].erase(&stale);
    family.Remove(&stale);
  }

  // An `_info` series: one per workload, always 1; a change of labels (a redeploy, a
  // replaced pod) replaces the old series. No labels: none.
  void set_info(Family<Gauge>& family, Labels& published, const Labels& labels,
                const std::string& workload) {
    if (published != labels) {
      remove(family, published, workload);
      published = labels;
    }
    if (!labels.empty()) add(family, labels, workload).Set(1);
  }

  // A latency histogram series with buckets `bounds`, registered for removal, and one
  // window's observations added to it.
  static void add_histogram(Family<Histogram>& family, const Labels& labels, Removers& removers,
                            const Histogram::BucketBoundaries& bounds,
                            const LatencyHistogram& window) {
    Histogram& h = family.Add(labels, bounds);
    removers.emplace(&h, Removal{[&family, &h] { family.Remove(&h); }, bounds.size() + 3});
    prom::observe(h, bounds, window);
  }

  // Series of workloads and dependencies, as a scraper counts them (the per-host ones
  // are few and fixed).
  std::size_t series_count() const {
    std::size_t n = 0;
    auto add_up = [&n](const Removers& removers) {
      for (const auto& [ptr, removal] : removers) n += removal.series;
    };
    for (const auto& [name, removers] : workload_series) add_up(removers);
    for (const auto& [key, d] : dependency_series) add_up(d.removers);
    return n;
  }

  static void remove_all(Removers& removers) {
    for (auto& [ptr, removal] : removers) removal.remove();
    removers.clear();
  }

  // The sections of the exposition (metrics_sections.cpp).

  // One window's thread time and CPU of a workload (Tier::detail).
  static void publish_window(State& s, const std::string& name, const WorkloadWindow& win,
                             const Verdict& v);

  // A workload's measured latency histograms (Tier::workload_latency).
  static void publish_latency(State& s, const std::string& name, const WorkloadWindow& win);

  // One dependency's counters (Tier::dependencies): wait, requests, bytes.
  static void publish_dependency(State& s, const std::string& name, const std::string& dependency,
                                 const DependencyWindow& d);

  // One dependency's latency histograms (Tier::dependency_latency); its counters are
  // exported (publish_dependency ran before).
  static void publish_dependency_latency(State& s, const std::string& name,
                                         const std::string& dependency, const DependencyWindow& d);

  // The verdict and the recommendation.
  static void publish_verdict(State& s, const std::string& name, const Verdict& v,
                              const Recommendation& rec);

  // How long the published class has held, and how often it changed.
  static void publish_stability(State& s, const std::string& name, const StabilityReport& st);

  // The objective and the last window against it; nothing without one, and no ratio or
  // met without a measurement to judge by.
  static void publish_objective(State& s, const std::string& name, const Recommendation& r);

  // The cgroup CPU limit and its enforcement.
  static void publish_cpu_limit(State& s, const std::string& name, const WorkloadWindow& win);

  // Memory by kind.
  static void publish_memory(State& s, const std::string& name, const WorkloadWindow& win);

  // The runtime and, for Python, its GIL.
  static void publish_runtime(State& s, const std::string& name, const WorkloadWindow& win);

  // Node facts and the eBPF programs' cost.
  static void publish_node(State& s, const Snapshot& snapshot);

  // The stacks collector's cost (cumulative in the node window), while it is configured.
  static void publish_unwinding(State& s, const Snapshot& snapshot);

  // The agent's own process from /proc/self; a failed read keeps the last values.
  void publish_self();

  // The order of publishing, the series cap and removals (metrics.cpp).

  // The series `publish` would add to a State, counted on a scratch State that is
  // emptied again: what max_series left out, exactly as a scraper would have counted it.
  std::size_t series_left_out(const std::function<void(State&)>& publish);

  // Publishes a group of series that max_series may leave out: a group already exported
  // always (no gaps in its graphs), a new one while the registry is under the cap;
  // otherwise counts what it would have added. Returns whether it was published.
  bool admit(bool exported, const std::function<void(State&)>& publish);

  // The groups max_series may leave out, for every workload with a window, one tier at
  // a time in priority order (docs/METRICS.md, "The series cap").
  void publish_tiers(const Snapshot& snapshot);

  // Series of workloads no longer present leave, with their dependencies, before the series cap
  // admits new ones.
  void drop_absent(const std::set<std::string>& present);

  // Dependencies of absent workloads, and those not waited on for kStaleDependencyWindows.
  void prune_dependencies(const std::set<std::string>& present);

  // A cumulative total (the kernel's PSI, the agent's stage CPU) as a Prometheus counter,
  // which only ever increases: adds the growth since `last`, by the rule of
  // collectors/counter_delta.hpp (a total that went backwards adds nothing, and the next
  // publish counts from the new total).
  static void add_growth(Counter& counter, double total, double& last);
};

}  // namespace boundwise
