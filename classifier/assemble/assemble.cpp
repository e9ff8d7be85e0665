// The assemble stage; the precedence of each field is in assemble.hpp.
#include "classifier/assemble/assemble.hpp"

#include <algorithm>
#include <cmath>

namespace boundwise {

namespace {

bool is_d_reason(Reason r) { return r == Reason::disk || r == Reason::paging; }
bool is_off_cpu(Reason r) { return r != Reason::on_cpu && r != Reason::runqueue; }

std::uint64_t rounded(double v) {
  return static_cast<std::uint64_t>(std::llround(non_negative(v)));
}

void merge_into(std::optional<LatencyHistogram>& into, const LatencyHistogram& h) {
  if (h.count() == 0) return;
  if (into) {
    into->merge(h);
  } else {
    into = h;
  }
}

void add_sampled(DependencyWindow& d, const SampledEvidence::Dependency& s) {
  d.wait_seconds += non_negative(s.wait_seconds);
  for (double v : s.blocked_intervals_seconds) {
    if (non_negative(v) > 0) d.blocked_intervals_seconds.push_back(v);
  }
}

void add_measured(DependencyWindow& d, const MeasuredDependency& m) {
  merge_into(d.request_latency, m.request_latency);
  merge_into(d.connect_latency, m.connect_latency);
  d.requests += rounded(m.requests);
  d.bytes_sent += rounded(m.bytes_sent);
  d.bytes_received += rounded(m.bytes_received);
}

void add_dependency(DependencyWindow& into, const DependencyWindow& d) {
  into.wait_seconds += d.wait_seconds;
  into.blocked_intervals_seconds.insert(into.blocked_intervals_seconds.end(),
                                        d.blocked_intervals_seconds.begin(),
                                        d.blocked_intervals_seconds.end());
  if (d.request_latency) merge_into(into.request_latency, *d.request_latency);
  if (d.connect_latency) merge_into(into.connect_latency, *d.connect_latency);
  into.requests += d.requests;
  into.bytes_sent += d.bytes_sent;
  into.bytes_received += d.bytes_received;
}

void apply_sampled(const SampledEvidence& s, WorkloadWindow& w) {
  for (std::size_t i = 0; i < kReasonCount; ++i)
    w.thread_seconds[i] = non_negative(s.thread_seconds[i]);
  w.parked_threads = std::max(0, s.parked_threads);
  w.sample_rounds = s.sample_rounds;
  w.cpu_seconds = non_negative(s.cpu_seconds);
  w.runqueue_seconds = non_negative(s.runqueue_seconds);
  w.voluntary_switches = s.voluntary_switches;
  w.involuntary_switches = s.involuntary_switches;
  w.major_faults = s.major_faults;
  w.read_bytes = s.read_bytes;
  w.write_bytes = s.write_bytes;
  w.threads = std::max(0, s.threads);
  w.processes = std::max(0, s.processes);
  w.pids = s.pids;
  w.event_loop = s.event_loop;
  w.established_connections = std::max(0, s.established_connections);
  w.busy_threads_max = std::max(0, s.busy_threads_max);
  w.memory = s.memory;
}

void apply_net(const MeasuredNet& n, WorkloadWindow& w) {
  if (n.inbound_latency) w.inbound_latency = n.inbound_latency;
  w.inbound_requests = non_negative(n.inbound_requests);
  if (n.inbound_total_latency) w.inbound_total_latency = n.inbound_total_latency;
  w.inbound_arrivals = non_negative(n.inbound_arrivals);
}

}  // namespace

std::map<std::string, WorkloadWindow> assemble(const EvidenceSet& evidence,
                                               const AssembleRules& rules) {
  static const std::map<Endpoint, SampledEvidence::Dependency> kNoSampled;
  static const std::map<Endpoint, MeasuredDependency> kNoMeasured;
  std::map<std::string, WorkloadWindow> out;
  for (const auto& [name, e] : evidence.workloads) {
    WorkloadWindow& w = out[name];
    w.workload = name;
    w.duration_seconds = non_negative(e.duration_seconds);
    w.node = evidence.node;
    if (e.sampled) apply_sampled(*e.sampled, w);
    if (e.runtime) {
      w.runtime = e.runtime->runtime;
      w.gil = e.runtime->gil;
      w.gil.held_seconds = non_negative(w.gil.held_seconds);
      w.gil.waiters_mean = non_negative(w.gil.waiters_mean);
      w.gil.wait_measured_in_kernel = false;
    }
    if (e.net) apply_net(*e.net, w);
    if (e.cpu_limit && e.cpu_limit->cores > 0) {
      w.cpu_limit = e.cpu_limit;
      w.cpu_limit->throttled_seconds = non_negative(w.cpu_limit->throttled_seconds);
      if (w.cpu_limit->throttled_periods > w.cpu_limit->periods)
        w.cpu_limit->counters_valid = false;
    }
    if (e.io) {
      w.syscall_latency = e.io->syscall_latency;
      w.disk_latency = e.io->disk_latency;
    }
    // Named once, from both sources; then the off-CPU merge rescales sampled waits
    // uniformly, which keeps the order the cap was chosen by.
    w.dependencies = name_dependencies(e.sampled ? e.sampled->dependencies : kNoSampled,
                                       e.net ? e.net->dependencies : kNoMeasured, rules);
    if (e.offcpu) {
      merge_offcpu(*e.offcpu, w);
      w.runqueue_latency = e.offcpu->runqueue_latency;
    }
    finalize_window(w);
  }
  return out;
}

void merge_offcpu(const MeasuredOffCpu& m, WorkloadWindow& w) {
  const double interruptible = non_negative(m.interruptible);
  const double uninterruptible = non_negative(m.uninterruptible);
  const double other = non_negative(m.other);
  const double gil = non_negative(m.gil);
  w.offcpu_seconds_by_state = {{"interruptible", interruptible},
                               {"uninterruptible", uninterruptible},
                               {"preempted", non_negative(m.preempted)},
                               {"woken", non_negative(m.woken)},
                               {"other", other}};
  if (m.gil_exact) w.offcpu_seconds_by_state["gil"] = gil;
  const double measured_sleep = interruptible + uninterruptible + other + gil;
  if (measured_sleep <= 0) return;  // nothing measured: keep procfs's split
  const double d_share = uninterruptible / measured_sleep;
  const double gil_share = m.gil_exact ? gil / measured_sleep : 0;

  // The buckets procfs's sampled seconds are rescaled in: D reasons, the GIL (only
  // when measured), the rest of the sleeps.
  auto measured_gil = [&](Reason r) { return m.gil_exact && r == Reason::gil; };
  double d_procfs = 0;
  double s_procfs = 0;
  double gil_procfs = 0;
  for (Reason r : kAllReasons) {
    if (!is_off_cpu(r)) continue;
    const double v = non_negative(w.thread_seconds[index_of(r)]);
    (is_d_reason(r) ? d_procfs : measured_gil(r) ? gil_procfs : s_procfs) += v;
  }
  const double off_cpu = d_procfs + s_procfs + gil_procfs;
  if (off_cpu <= 0) return;
  const double d_target = off_cpu * d_share;
  const double gil_target = off_cpu * gil_share;
  const double s_target = off_cpu - d_target - gil_target;

  const double d_scale = d_procfs > 0 ? d_target / d_procfs : 0;
  const double s_scale = s_procfs > 0 ? s_target / s_procfs : 0;
  for (Reason r : kAllReasons) {
    if (!is_off_cpu(r)) continue;
    double& v = w.thread_seconds[index_of(r)];
    if (measured_gil(r)) {
      v = gil_target;
    } else {
      v = non_negative(v) * (is_d_reason(r) ? d_scale : s_scale);
    }
  }
  if (d_procfs <= 0) w.thread_seconds[index_of(Reason::disk)] += d_target;
  if (s_procfs <= 0) w.thread_seconds[index_of(Reason::other)] += s_target;
  for (auto& d : w.dependencies) d.wait_seconds = non_negative(d.wait_seconds) * s_scale;
  if (m.gil_exact) w.gil.wait_measured_in_kernel = true;
}

std::vector<DependencyWindow> name_dependencies(
    const std::map<Endpoint, SampledEvidence::Dependency>& sampled,
    const std::map<Endpoint, MeasuredDependency>& measured, const AssembleRules& rules) {
  std::map<std::string, DependencyWindow> by_name;
  auto entry = [&](const Endpoint& endpoint) -> DependencyWindow& {
    std::string name = dependency_name(endpoint, rules.dependencies);
    auto& d = by_name[name];
    if (d.name.empty()) {
      d.name = name;
      d.endpoint = endpoint.to_string();
    }
    return d;
  };
  for (const auto& [endpoint, s] : sampled) add_sampled(entry(endpoint), s);
  for (const auto& [endpoint, m] : measured) {
    if (m.request_latency.count() == 0 && m.connect_latency.count() == 0 &&
        rounded(m.requests) == 0 && rounded(m.bytes_sent) == 0 && rounded(m.bytes_received) == 0) {
      continue;  // nothing happened on it this window
    }
    add_measured(entry(endpoint), m);
  }
  std::vector<DependencyWindow> list;
  list.reserve(by_name.size());
  for (auto& [name, d] : by_name) list.push_back(std::move(d));
  std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    if (a.wait_seconds != b.wait_seconds) return a.wait_seconds > b.wait_seconds;
    return a.requests > b.requests;
  });
  const auto cap = static_cast<std::size_t>(std::max(1, rules.max_dependencies_per_workload));
  if (list.size() > cap) {
    DependencyWindow other;
    other.name = "other";
    for (std::size_t i = cap; i < list.size(); ++i) add_dependency(other, list[i]);
    other.folded = static_cast<int>(list.size() - cap);
    list.resize(cap);
    list.push_back(std::move(other));
  }
  return list;
}

}  // namespace boundwise
