// Prometheus publishing with prometheus-cpp's core registry and text serializer.
// Counters add each window's deltas; gauges are set; every series carries its
// workload so that a workload's series can all be removed when it disappears.
#include "daemon/metrics.hpp"

#include <prometheus/client_metric.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "classifier/numbers.hpp"
#include "collectors/counter_delta.hpp"
#include "config/config.hpp"
#include "daemon/build_info.hpp"
#include "daemon/prometheus_util.hpp"
#include "daemon/self_process.hpp"

namespace boundwise {

namespace {

using prom::histogram_of;
using prom::kDiskBounds;
using prom::kRequestBounds;
using prom::kRunqueueBounds;
using prom::kSyscallBounds;
using prom::observe;
using prom::utf8;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Labels;

// A dependency that has not been waited on for this many windows loses its series
// (5 minutes at the default 10 s window): auto-named dependencies churn, and the cap
// upstream bounds them per window, not over the agent's lifetime.
constexpr std::uint64_t kStaleDependencyWindows = 30;

// A cumulative total (the kernel's PSI, the agent's stage CPU) as a Prometheus counter,
// which only ever increases: adds the growth since `last`, by the rule of
// collectors/counter_delta.hpp (a total that went backwards adds nothing, and the next
// publish counts from the new total).
void add_growth(Counter& counter, double total, double& last) {
  if (auto growth = counter_delta(total, last)) counter.Increment(*growth);
  last = total;
}

}  // namespace

struct MetricsPublisher::State {
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
  Family<Gauge>& collector_duration = gauge("boundwise_collector_duration_seconds",
                                            "Duration of the collector's last sampling round");
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
              "Stack samples of the workload's threads kept in its profile, by type (cpu: "
              "on-CPU samples of the stacks collector)");
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
    observe(h, bounds, window);
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

  // One window's thread time and CPU of a workload (Tier::detail).
  static void publish_window(State& s, const std::string& name, const WorkloadWindow& win,
                             const Verdict& v) {
    for (Reason r : kAllReasons) {
      s.add(s.thread_seconds, {{"workload", name}, {"reason", std::string(to_string(r))}}, name)
          .Increment(non_negative(win.thread_seconds[index_of(r)]));
    }
    s.add(s.cpu_seconds, {{"workload", name}}, name).Increment(non_negative(win.cpu_seconds));
    s.add(s.cores_used, {{"workload", name}}, name).Set(non_negative(v.cpu_cores_used));
    for (const auto& [state, seconds] : win.offcpu_seconds_by_state) {
      s.add(s.offcpu_seconds, {{"workload", name}, {"state", state}}, name)
          .Increment(non_negative(seconds));
    }
    if (win.inbound_latency) {
      s.add(s.inbound_requests, {{"workload", name}}, name)
          .Increment(non_negative(win.inbound_requests));
    }
  }

  // A workload's measured latency histograms (Tier::workload_latency).
  static void publish_latency(State& s, const std::string& name, const WorkloadWindow& win) {
    if (win.runqueue_latency) {
      Labels labels{{"workload", name}};
      State::add_histogram(s.runqueue_latency, labels, s.workload_series[name], kRunqueueBounds,
                           *win.runqueue_latency);
    }
    for (const auto& [cls, latency] : win.syscall_latency) {
      Labels labels{{"workload", name}, {"class", cls}};
      State::add_histogram(s.syscall_latency, labels, s.workload_series[name], kSyscallBounds,
                           latency);
    }
    if (win.disk_latency) {
      Labels labels{{"workload", name}};
      State::add_histogram(s.disk_latency, labels, s.workload_series[name], kDiskBounds,
                           *win.disk_latency);
    }
    if (win.inbound_latency) {
      Labels labels{{"workload", name}};
      State::add_histogram(s.inbound_latency, labels, s.workload_series[name], kRequestBounds,
                           *win.inbound_latency);
    }
  }

  // One dependency's counters (Tier::dependencies): wait, requests, bytes.
  static void publish_dependency(State& s, const std::string& name, const std::string& dependency,
                                 const DependencyWindow& d) {
    auto& series = s.dependency_series[{name, dependency}];
    series.last_seen = s.publishes;
    Labels labels{{"workload", name}, {"dependency", dependency}};
    State::add(s.dependency_wait, labels, series.removers).Increment(non_negative(d.wait_seconds));
    if (d.request_latency || d.requests != 0 || d.bytes_sent != 0 || d.bytes_received != 0) {
      State::add(s.dependency_requests, labels, series.removers)
          .Increment(static_cast<double>(d.requests));
      Labels sent = labels, received = labels;
      sent.emplace("direction", "sent");
      received.emplace("direction", "received");
      State::add(s.dependency_bytes, sent, series.removers)
          .Increment(static_cast<double>(d.bytes_sent));
      State::add(s.dependency_bytes, received, series.removers)
          .Increment(static_cast<double>(d.bytes_received));
    }
  }

  // One dependency's latency histograms (Tier::dependency_latency); its counters are
  // exported (publish_dependency ran before).
  static void publish_dependency_latency(State& s, const std::string& name,
                                         const std::string& dependency, const DependencyWindow& d) {
    auto& series = s.dependency_series[{name, dependency}];
    series.latency = true;
    Labels labels{{"workload", name}, {"dependency", dependency}};
    const LatencyHistogram latency =
        d.request_latency ? *d.request_latency : histogram_of(d.blocked_intervals_seconds);
    if (latency.count() > 0) {
      State::add_histogram(s.dependency_latency, labels, series.removers, kRequestBounds, latency);
    }
    if (d.connect_latency) {
      State::add_histogram(s.dependency_connect, labels, series.removers, kRequestBounds,
                           *d.connect_latency);
    }
  }

  // The series `publish` would add to a State, counted on a scratch State that is
  // emptied again: what max_series left out, exactly as a scraper would have counted it.
  std::size_t series_left_out(const std::function<void(State&)>& publish) {
    if (!scratch) scratch = std::make_unique<State>();
    publish(*scratch);
    const std::size_t n = scratch->series_count();
    for (auto& [name, removers] : scratch->workload_series) remove_all(removers);
    for (auto& [key, d] : scratch->dependency_series) remove_all(d.removers);
    scratch->workload_series.clear();
    scratch->dependency_series.clear();
    return n;
  }

  // Publishes a group of series that max_series may leave out: a group already exported
  // always (no gaps in its graphs), a new one while the registry is under the cap;
  // otherwise counts what it would have added. Returns whether it was published.
  bool admit(bool exported, const std::function<void(State&)>& publish) {
    if (exported || series_count() < max_series) {
      publish(*this);
      return true;
    }
    dropped_series += static_cast<double>(series_left_out(publish));
    return false;
  }

  // The groups max_series may leave out, for every workload with a window, one tier at
  // a time in priority order (docs/METRICS.md, "The series cap").
  void publish_tiers(const Snapshot& snapshot) {
    std::vector<const WorkloadReport*> classified;
    for (const auto& r : snapshot.workloads) {
      if (r.state != WorkloadState::absent && r.window && r.verdict && r.recommendation &&
          workload_series.count(utf8(r.name)) != 0) {
        classified.push_back(&r);
      }
    }
    for (Tier tier : {Tier::detail, Tier::workload_latency}) {
      for (const WorkloadReport* r : classified) {
        const std::string name = utf8(r->name);
        const bool exported = admitted.count({name, tier}) != 0;
        const bool published = admit(exported, [&](State& st) {
          if (tier == Tier::detail) {
            publish_window(st, name, *r->window, *r->verdict);
            publish_memory(st, name, *r->window);
            publish_cpu_limit(st, name, *r->window);
            publish_runtime(st, name, *r->window);
          } else {
            publish_latency(st, name, *r->window);
          }
        });
        if (published) admitted.insert({name, tier});
      }
    }
    for (Tier tier : {Tier::dependencies, Tier::dependency_latency}) {
      for (const WorkloadReport* r : classified) {
        const std::string name = utf8(r->name);
        for (const auto& d : r->window->dependencies) {
          const std::string dependency = utf8(d.name);
          auto it = dependency_series.find({name, dependency});
          if (tier == Tier::dependencies) {
            admit(it != dependency_series.end(),
                  [&](State& st) { publish_dependency(st, name, dependency, d); });
          } else {
            const auto publish = [&](State& st) {
              publish_dependency_latency(st, name, dependency, d);
            };
            if (it != dependency_series.end()) {
              admit(it->second.latency, publish);
            } else {  // its counters were left out: so are its histograms
              dropped_series += static_cast<double>(series_left_out(publish));
            }
          }
        }
      }
    }
  }

  // The verdict and the recommendation.
  static void publish_verdict(State& s, const std::string& name, const Verdict& v,
                              const Recommendation& rec) {
    for (std::size_t i = 0; i < kBottleneckCount; ++i) {
      auto cls = static_cast<Bottleneck>(i);
      s.add(s.bottleneck, {{"workload", name}, {"class", std::string(to_string(cls))}}, name)
          .Set(cls == v.bottleneck ? 1 : 0);
    }
    for (std::size_t i = 0; i < kModelCount; ++i) {
      auto model = static_cast<Model>(i);
      s.add(s.recommendation, {{"workload", name}, {"model", std::string(to_string(model))}}, name)
          .Set(model == rec.model ? 1 : 0);
    }
    s.add(s.workers, {{"workload", name}}, name).Set(rec.workers);
    s.add(s.confidence, {{"workload", name}}, name).Set(non_negative(v.confidence));
  }

  // How long the published class has held, and how often it changed.
  static void publish_stability(State& s, const std::string& name, const StabilityReport& st) {
    add_growth(s.add(s.verdict_changes, {{"workload", name}}, name),
               static_cast<double>(st.changes), s.verdict_changes_last[name]);
    s.add(s.verdict_stable, {{"workload", name}}, name).Set(non_negative(st.stable_for_seconds));
  }

  // The objective and the last window against it; nothing without one, and no ratio or
  // met without a measurement to judge by.
  static void publish_objective(State& s, const std::string& name, const Recommendation& r) {
    const Labels labels{{"workload", name}};
    const auto& o = r.objective;
    const auto& st = r.objective_status;
    for (const auto& [quantile, objective] :
         {std::pair{"0.95", o ? o->latency_p95_seconds : std::nullopt},
          std::pair{"0.99", o ? o->latency_p99_seconds : std::nullopt}}) {
      const Labels q{{"workload", name}, {"quantile", quantile}};
      if (objective) {
        s.add(s.slo_objective, q, name).Set(*objective);
      } else {
        s.remove(s.slo_objective, q, name);
      }
    }
    if (st && st->latency_ratio) {
      s.add(s.slo_ratio, labels, name).Set(non_negative(*st->latency_ratio));
    } else {
      s.remove(s.slo_ratio, labels, name);
    }
    if (st && st->met) {
      s.add(s.slo_met, labels, name).Set(*st->met ? 1 : 0);
    } else {
      s.remove(s.slo_met, labels, name);
    }
  }

  // The cgroup CPU limit and its enforcement.
  static void publish_cpu_limit(State& s, const std::string& name, const WorkloadWindow& win) {
    Labels labels{{"workload", name}};
    if (!win.cpu_limit) {
      s.remove(s.cpu_limit, labels, name);
      return;
    }
    s.add(s.cpu_limit, labels, name).Set(non_negative(win.cpu_limit->cores));
    auto& throttled = s.add(s.cpu_throttled, labels, name);
    auto& yes = s.add(s.cpu_throttled_periods, {{"workload", name}, {"throttled", "true"}}, name);
    auto& no = s.add(s.cpu_throttled_periods, {{"workload", name}, {"throttled", "false"}}, name);
    if (!win.cpu_limit->counters_valid) return;
    throttled.Increment(non_negative(win.cpu_limit->throttled_seconds));
    const auto periods = win.cpu_limit->periods;
    const auto hit = std::min(win.cpu_limit->throttled_periods, periods);
    yes.Increment(static_cast<double>(hit));
    no.Increment(static_cast<double>(periods - hit));
  }

  // Memory by kind.
  static void publish_memory(State& s, const std::string& name, const WorkloadWindow& win) {
    // pss and uss are 0 when smaps_rollup was unreadable: absent beats a wrong 0.
    const std::pair<const char*, std::uint64_t> memory[] = {{"rss", win.memory.rss_bytes},
                                                            {"pss", win.memory.pss_bytes},
                                                            {"uss", win.memory.uss_bytes},
                                                            {"shared", win.memory.shared_bytes}};
    for (const auto& [kind, bytes] : memory) {
      Labels labels{{"workload", name}, {"kind", kind}};
      if (bytes == 0 && std::string_view(kind) != "rss") {
        s.remove(s.memory, labels, name);
        continue;
      }
      s.add(s.memory, labels, name).Set(static_cast<double>(bytes));
    }
  }

  // The runtime and, for Python, its GIL.
  static void publish_runtime(State& s, const std::string& name, const WorkloadWindow& win) {
    if (!win.runtime.kind.empty()) {
      // One series per workload: a version change (a redeploy) replaces the old one.
      Labels labels{{"workload", name},
                    {"kind", win.runtime.kind},
                    {"version", utf8(win.runtime.version)},
                    {"free_threaded", win.runtime.free_threaded ? "true" : "false"}};
      s.set_info(s.runtime_info, s.runtime_info_labels[name], labels, name);
    }
    if (win.runtime.kind == "python") {
      s.add(s.gil_wait, {{"workload", name}}, name)
          .Increment(non_negative(win.thread_seconds[index_of(Reason::gil)]));
      if (win.gil.measured) {
        s.add(s.gil_held, {{"workload", name}}, name).Increment(non_negative(win.gil.held_seconds));
        s.add(s.native_cpu, {{"workload", name}}, name)
            .Increment(non_negative(native_cpu_seconds(win)));
      }
    }
  }

  // Node facts and the eBPF programs' cost.
  static void publish_node(State& s, const Snapshot& snapshot) {
    const NodeWindow& node = snapshot.node;
    s.node_busy.Add({}).Set(non_negative(node.cpu_busy_ratio));
    s.node_cores.Add({}).Set(node.cores);
    s.node_load1.Add({}).Set(non_negative(node.load1));
    for (const auto& [resource, totals] : node.pressure_totals) {
      const std::pair<const char*, double> kinds[] = {{"some", totals.some_seconds},
                                                      {"full", totals.full_seconds}};
      for (const auto& [kind, value] : kinds) {
        add_growth(s.node_pressure.Add({{"resource", resource}, {"kind", kind}}), value,
                   s.pressure_last[resource + "/" + kind]);
      }
    }
    // The programs' cumulative kernel stats, the same way.
    for (const auto& [program, stats] : node.bpf_programs) {
      auto& last = s.bpf_last[program];
      Labels labels{{"program", utf8(program)}};
      Counter& seconds = s.bpf_program_seconds.Add(labels);
      Counter& runs = s.bpf_program_runs.Add(labels);
      auto seconds_delta = counter_delta(stats.run_seconds, last.run_seconds);
      auto runs_delta = counter_delta(stats.runs, last.runs);
      if (seconds_delta && runs_delta) {  // one program's stats: all or none
        seconds.Increment(*seconds_delta);
        runs.Increment(static_cast<double>(*runs_delta));
      }
      last = stats;
    }
    for (const auto& [tool, duty] : node.ebpf_duty) {
      s.ebpf_attached_seconds.Add({{"tool", utf8(tool)}})
          .Increment(non_negative(std::clamp(duty, 0.0, 1.0) * snapshot.window_seconds));
    }
    publish_unwinding(s, snapshot);
  }

  // The stacks collector's cost (cumulative in the node window), while it is configured.
  static void publish_unwinding(State& s, const Snapshot& snapshot) {
    const bool stacks = std::any_of(snapshot.collectors.begin(), snapshot.collectors.end(),
                                    [](const CollectorStatus& c) { return c.name == "stacks"; });
    if (!stacks) return;
    const NodeWindow& node = snapshot.node;
    add_growth(s.unwind_seconds.Add({}), node.unwind_seconds, s.unwind_seconds_last);
    // Every cause the collector knows, from 0 (the label set is this list).
    for (const char* cause :
         {"no_unwind_info", "stack_truncated", "read_failed", "bad_frame", "process_gone", "lost",
          "overloaded", "bad_record", "thread_ran", "stack_read_failed", "python_unmatched",
          "python_read_failed", "python_unreadable"}) {
      s.unwind_failures.Add({{"cause", cause}});
    }
    for (const auto& [cause, total] : node.unwind_failures) {
      auto& last = s.unwind_failures_last[cause];
      if (auto growth = counter_delta(total, last)) {
        s.unwind_failures.Add({{"cause", utf8(cause)}}).Increment(static_cast<double>(*growth));
      }
      last = total;
    }
  }

  // The agent's own process from /proc/self; a failed read keeps the last values.
  void publish_self() {
    auto self = read_self_process();
    if (!self) return;
    add_growth(self_cpu.Add({}), self->cpu_seconds, self_cpu_last);
    self_rss.Add({}).Set(self->resident_bytes);
    self_fds.Add({}).Set(self->open_fds);
    if (self->max_fds) {
      self_max_fds.Add({}).Set(*self->max_fds);
    } else if (self_max_fds.Has({})) {
      self_max_fds.Remove(&self_max_fds.Add({}));
    }
    self_start.Add({}).Set(self->start_time_seconds);
  }

  // Series of workloads no longer present leave, with their dependencies, before the series cap
  // admits new ones.
  void drop_absent(const std::set<std::string>& present) {
    State& s = *this;
    for (auto it = s.workload_series.begin(); it != s.workload_series.end();) {
      if (present.count(it->first) == 0) {
        State::remove_all(it->second);
        s.runtime_info_labels.erase(it->first);
        s.pod_info_labels.erase(it->first);
        s.verdict_changes_last.erase(it->first);
        s.admitted.erase({it->first, Tier::detail});
        s.admitted.erase({it->first, Tier::workload_latency});
        it = s.workload_series.erase(it);
      } else {
        ++it;
      }
    }
    // A workload's dependencies leave with it, before the series cap admits new ones.
    for (auto it = s.dependency_series.begin(); it != s.dependency_series.end();) {
      if (present.count(it->first.first) == 0) {
        State::remove_all(it->second.removers);
        it = s.dependency_series.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Dependencies of absent workloads, and those not waited on for kStaleDependencyWindows.
  void prune_dependencies(const std::set<std::string>& present) {
    State& s = *this;
    for (auto it = s.dependency_series.begin(); it != s.dependency_series.end();) {
      bool gone = present.count(it->first.first) == 0 ||
                  s.publishes - it->second.last_seen >= kStaleDependencyWindows;
      if (gone) {
        State::remove_all(it->second.removers);
        it = s.dependency_series.erase(it);
      } else {
        ++it;
      }
    }
  }
};

MetricsPublisher::MetricsPublisher() : state_(std::make_unique<State>()) {
  const BuildInfo& build = build_info();
  state_->build_info
      .Add({{"version", std::string(build.version)},
            {"commit", std::string(build.commit)},
            {"build_type", std::string(build.build_type)},
            {"compiler", std::string(build.compiler)}})
      .Set(1);
  set_config_reload(true, static_cast<double>(std::time(nullptr)));
  for (const char* what : {"workloads", "dependencies", "series"}) count_dropped(what, 0);
  state_->windows.Add({});
  state_->publish_self();
}

MetricsPublisher::~MetricsPublisher() = default;

void MetricsPublisher::publish(const Snapshot& snapshot) {
  State& s = *state_;
  ++s.publishes;
  std::set<std::string> present;
  // An absent target keeps only boundwise_target_up (re-added below at 0).
  for (const auto& w : snapshot.workloads) {
    if (w.state == WorkloadState::running) present.insert(utf8(w.name));
  }
  s.drop_absent(present);
  // A workload's identity and verdict are never left out (max_workloads bounds them);
  // the rest is admitted tier by tier below.
  for (const auto& report : snapshot.workloads) {
    const std::string name = utf8(report.name);
    const bool absent = report.state == WorkloadState::absent;
    const bool live = !absent && report.state != WorkloadState::defunct;
    s.add(s.target_up, {{"workload", name}}, name).Set(live ? 1 : 0);
    if (absent) continue;  // nothing else to say of a target with no process
    s.add(s.stopped, {{"workload", name}}, name)
        .Set(report.state == WorkloadState::stopped ? 1 : 0);
    s.add(s.threads, {{"workload", name}}, name).Set(report.threads);
    s.add(s.processes, {{"workload", name}}, name)
        .Set(report.window ? report.window->processes : static_cast<double>(report.pids.size()));
    // From discovery, so published from the start like the two above. One series per
    // workload: a configured workload whose pod was replaced gets the new pod's.
    Labels pod_labels;
    if (report.pod) {
      pod_labels = {{"workload", name},
                    {"pod_uid", utf8(report.pod->pod_uid)},
                    {"container_id", utf8(report.pod->container_id)},
                    {"qos_class", utf8(report.pod->qos_class)}};
    }
    s.set_info(s.pod_info, s.pod_info_labels[name], pod_labels, name);
    if (report.cpu_profile) {
      s.add(s.profile_samples, {{"workload", name}, {"type", "cpu"}}, name)
          .Increment(static_cast<double>(report.cpu_profile_window_samples));
    }
    if (!report.window || !report.verdict || !report.recommendation) continue;
    State::publish_verdict(s, name, *report.verdict, *report.recommendation);
    if (report.stability) State::publish_stability(s, name, *report.stability);
    State::publish_objective(s, name, *report.recommendation);
  }
  s.dropped_series = 0;
  s.publish_tiers(snapshot);
  s.dropped.Add({{"what", "series"}}).Increment(s.dropped_series);
  s.prune_dependencies(present);
  State::publish_node(s, snapshot);
  for (const auto& c : snapshot.collectors) {
    s.collector_up.Add({{"collector", utf8(c.name)}}).Set(c.up ? 1 : 0);
    s.collector_duration.Add({{"collector", utf8(c.name)}})
        .Set(non_negative(c.last_duration_seconds));
  }
  for (const auto& [stage, seconds] : snapshot.stage_cpu_seconds) {
    add_growth(s.stage_seconds.Add({{"stage", stage}}), seconds, s.stage_last[stage]);
  }
  s.windows.Add({}).Increment();
  s.publish_self();
}

void MetricsPublisher::set_max_series(std::size_t max_series) { state_->max_series = max_series; }

void MetricsPublisher::count_dropped(const std::string& what, double n) {
  auto& counter = state_->dropped.Add({{"what", what}});
  if (n > 0) counter.Increment(n);
}

void MetricsPublisher::set_config_reload(bool ok, double unix_time) {
  state_->reload_ok.Add({}).Set(ok ? 1 : 0);
  if (ok) state_->reload_time.Add({}).Set(unix_time);
}

std::string MetricsPublisher::render() const {
  return prometheus::TextSerializer().Serialize(state_->registry.Collect());
}

}  // namespace boundwise
