// The sections of the exposition, one function each: what a workload's verdict,
// window, memory, runtime and dependencies, the node and the agent itself add to the
// registry every window (the families are in metrics_state.hpp; the order of
// publishing and the series cap in metrics.cpp).
#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>

#include "classifier/numbers.hpp"
#include "collectors/counter_delta.hpp"
#include "daemon/metrics_state.hpp"
#include "daemon/prometheus_util.hpp"
#include "daemon/self_process.hpp"

namespace boundwise {

namespace {

using prom::histogram_of;
using prom::kDiskBounds;
using prom::kRequestBounds;
using prom::kRunqueueBounds;
using prom::kSyscallBounds;
using prom::utf8;

}  // namespace

// One window's thread time and CPU of a workload (Tier::detail).
void MetricsPublisher::State::publish_window(State& s, const std::string& name,
                                             const WorkloadWindow& win, const Verdict& v) {
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
  // Arrivals without a served request (every worker stuck) count too.
  if (win.inbound_latency || win.inbound_arrivals > 0) {
    s.add(s.inbound_requests, {{"workload", name}}, name)
        .Increment(non_negative(win.inbound_requests));
    s.add(s.inbound_arrivals, {{"workload", name}}, name)
        .Increment(non_negative(win.inbound_arrivals));
  }
}

// A workload's measured latency histograms (Tier::workload_latency).
void MetricsPublisher::State::publish_latency(State& s, const std::string& name,
                                              const WorkloadWindow& win) {
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
    // Absent when no request waited measurably to be accepted: then from arrival is the
    // service latency itself (classifier/window.hpp).
    State::add_histogram(
        s.inbound_latency_from_arrival, labels, s.workload_series[name], kRequestBounds,
        win.inbound_total_latency ? *win.inbound_total_latency : *win.inbound_latency);
  }
}

// One dependency's counters (Tier::dependencies): wait, requests, bytes.
void MetricsPublisher::State::publish_dependency(State& s, const std::string& name,
                                                 const std::string& dependency,
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
void MetricsPublisher::State::publish_dependency_latency(State& s, const std::string& name,
                                                         const std::string& dependency,
                                                         const DependencyWindow& d) {
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

// The verdict and the recommendation.
void MetricsPublisher::State::publish_verdict(State& s, const std::string& name, const Verdict& v,
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
void MetricsPublisher::State::publish_stability(State& s, const std::string& name,
                                                const StabilityReport& st) {
  add_growth(s.add(s.verdict_changes, {{"workload", name}}, name), static_cast<double>(st.changes),
             s.verdict_changes_last[name]);
  s.add(s.verdict_stable, {{"workload", name}}, name).Set(non_negative(st.stable_for_seconds));
}

// The objective and the last window against it; nothing without one, and no ratio or
// met without a measurement to judge by.
void MetricsPublisher::State::publish_objective(State& s, const std::string& name,
                                                const Recommendation& r) {
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
void MetricsPublisher::State::publish_cpu_limit(State& s, const std::string& name,
                                                const WorkloadWindow& win) {
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
void MetricsPublisher::State::publish_memory(State& s, const std::string& name,
                                             const WorkloadWindow& win) {
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
void MetricsPublisher::State::publish_runtime(State& s, const std::string& name,
                                              const WorkloadWindow& win) {
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
void MetricsPublisher::State::publish_node(State& s, const Snapshot& snapshot) {
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
void MetricsPublisher::State::publish_unwinding(State& s, const Snapshot& snapshot) {
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
void MetricsPublisher::State::publish_self() {
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

}  // namespace boundwise
