// The /recommend document. Numbers are rounded to what a person reads (shares to
// 4 decimals) and never NaN or infinite: JSON has no spelling for those.
#include "daemon/recommend_json.hpp"

#include <cmath>
#include <cstdint>
#include <ctime>

#include "classifier/histogram.hpp"
#include "classifier/top_stacks.hpp"

namespace boundwise {

double round_to(double v, double scale) {
  if (!std::isfinite(v)) return 0.0;
  double r = std::round(v * scale) / scale;
  // v * scale overflows for huge v: such a value needs no rounding.
  return std::isfinite(r) ? r : v;
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string iso8601(double seconds_since_epoch) {
  return iso8601(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(seconds_since_epoch))));
}

namespace {

using nlohmann::json;

// smaps_rollup figures are 0 when it was unreadable: say unknown, not 0.
json bytes_or_null(std::uint64_t bytes) { return bytes == 0 ? json(nullptr) : json(bytes); }
double share(double v) { return round_to(v, 1e4); }
double seconds(double v) { return round_to(v, 1e6); }

json shares_json(const PerReason<double>& shares) {
  json out = json::object();
  for (Reason r : kAllReasons) out[std::string(to_string(r))] = share(shares[index_of(r)]);
  return out;
}

json latency_json(const std::optional<LatencyQuantiles>& q) {
  if (!q) return nullptr;
  return json{{"p50", seconds(q->p50)}, {"p95", seconds(q->p95)}, {"p99", seconds(q->p99)}};
}

json verdict_json(const Verdict& v) {
  json deps = json::array();
  for (const auto& d : v.dependencies) {
    deps.push_back({{"name", d.name},
                    {"endpoint", d.endpoint},
                    {"wait_share", share(d.wait_share)},
                    {"latency_seconds", latency_json(d.latency)},
                    {"latency_source", d.latency_source},
                    {"requests_per_second", round_to(d.requests_per_second, 1e3)}});
  }
  return json{{"class", std::string(to_string(v.bottleneck))},
              {"confidence", share(v.confidence)},
              {"cpu_cores_used", round_to(v.cpu_cores_used, 1e3)},
              {"shares", shares_json(v.shares)},
              {"busy_shares", shares_json(v.busy_shares)},
              {"dependencies", deps},
              {"rationale", v.rationale}};
}

json option_json(const OptionScore& o) {
  return json{
      {"model", std::string(option_name(o.model))},
      {"speedup", round_to(o.speedup, 1e3)},
      {"basis", o.basis},
      {"workers", o.workers},
      {"cores", round_to(o.cores, 1e3)},
      {"memory_bytes", bytes_or_null(o.memory_bytes)},
      {"cost_per_month", o.cost_per_month ? json(round_to(*o.cost_per_month, 1e2)) : json(nullptr)},
      {"risks", o.risks},
      {"meets_objective", o.meets_objective ? json(*o.meets_objective) : json(nullptr)}};
}

json optional_number(const std::optional<double>& v, double scale) {
  return v ? json(round_to(*v, scale)) : json(nullptr);
}

// The workload's objective and the window against it; null without one.
json slo_json(const Recommendation& r) {
  if (!r.objective || !r.objective_status) return nullptr;
  const Objective& o = *r.objective;
  const ObjectiveStatus& s = *r.objective_status;
  return json{{"objective",
               {{"latency_p95_seconds", optional_number(o.latency_p95_seconds, 1e6)},
                {"latency_p99_seconds", optional_number(o.latency_p99_seconds, 1e6)},
                {"throughput_min_per_second", optional_number(o.throughput_min_per_second, 1e3)}}},
              {"source", s.source.empty() ? json(nullptr) : json(s.source)},
              {"current",
               {{"latency_p95_seconds", optional_number(s.p95_seconds, 1e6)},
                {"latency_p99_seconds", optional_number(s.p99_seconds, 1e6)},
                {"throughput_per_second", optional_number(s.throughput_per_second, 1e3)}}},
              {"met", s.met ? json(*s.met) : json(nullptr)},
              {"latency_ratio", optional_number(s.latency_ratio, 1e4)},
              {"service_latency_ratio", optional_number(s.service_latency_ratio, 1e4)},
              {"budget_used", optional_number(s.budget_used, 1e4)}};
}

json recommendation_json(const Recommendation& r) {
  json options = json::array();
  for (const auto& o : r.options) options.push_back(option_json(o));
  return json{{"model", std::string(to_string(r.model))},
              {"workers", r.workers},
              {"summary", r.summary},
              {"evidence", r.evidence},
              {"risks", r.risks},
              {"chosen", std::string(option_name(r.model))},
              {"options", options},
              {"currency", r.currency.empty() ? json(nullptr) : json(r.currency)},
              {"steps", r.steps},
              {"slo", slo_json(r)}};
}

// Ids only: names are not in the cgroup path (docs/API.md says how to look them up).
json pod_json(const PodContainer& pod) {
  auto or_null = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
  return json{{"pod_uid", pod.pod_uid},
              {"container_id", or_null(pod.container_id)},
              {"container_runtime", or_null(pod.runtime)},
              {"qos_class", or_null(pod.qos_class)}};
}

// The GIL section of a Python workload. Wait comes from the futex signature (exact);
// held and native CPU need memory reads: null, with source "futex signature", when the
// GIL was not readable.
json gil_json(const WorkloadWindow& win) {
  const bool measured = win.gil.measured;
  return {{"source", measured ? "memory" : "futex signature"},
          {"wait_source", win.gil.wait_measured_in_kernel ? "ebpf" : "sampled"},
          {"wait_seconds", seconds(win.thread_seconds[index_of(Reason::gil)])},
          {"held_seconds", measured ? json(seconds(win.gil.held_seconds)) : json(nullptr)},
          {"native_cpu_seconds", measured ? json(seconds(native_cpu_seconds(win))) : json(nullptr)},
          {"waiters_mean", measured ? json(round_to(win.gil.waiters_mean, 1e3)) : json(nullptr)},
          {"switches", measured ? json(win.gil.switches) : json(nullptr)},
          {"holder_threads", measured ? json(win.gil.holder_threads) : json(nullptr)}};
}

// The sections only the ebpf collector's tools measure (absent, or null for inbound,
// without them): scheduler (sched tool), syscalls and disk (syscalls and disk tools),
// inbound requests (net tool).
void add_measured_json(const Snapshot& s, const WorkloadWindow& win, json& out) {
  if (win.runqueue_latency) {
    // Measured by the ebpf collector's sched tool (absent without it).
    json offcpu = json::object();
    for (const auto& [state, secs] : win.offcpu_seconds_by_state) offcpu[state] = seconds(secs);
    out["scheduler"] = {
        {"source", "ebpf"},
        {"runqueue_waits", win.runqueue_latency->count()},
        {"runqueue_latency_seconds", latency_json(histogram_quantiles(*win.runqueue_latency))},
        {"offcpu_seconds_by_state", offcpu}};
  }
  // Measured by the ebpf collector's syscalls and disk tools (absent without them).
  // attached_share: the part of the window the tool measured (overhead budget); the
  // counts cover that part only.
  auto attached = [&s](const char* tool) {
    auto d = s.node.ebpf_duty.find(tool);
    return d != s.node.ebpf_duty.end() ? json(share(d->second)) : json(nullptr);
  };
  if (!win.syscall_latency.empty()) {
    json classes = json::object();
    for (const auto& [cls, h] : win.syscall_latency) {
      classes[cls] = {{"calls", h.count()},
                      {"latency_seconds", latency_json(histogram_quantiles(h))}};
    }
    out["syscalls"] = {
        {"source", "ebpf"}, {"attached_share", attached("syscalls")}, {"classes", classes}};
  }
  if (win.disk_latency) {
    out["disk"] = {{"source", "ebpf"},
                   {"attached_share", attached("disk")},
                   {"requests", win.disk_latency->count()},
                   {"latency_seconds", latency_json(histogram_quantiles(*win.disk_latency))}};
  }
  // Requests the workload served (ebpf net tool); null without measurements.
  out["inbound"] = nullptr;
  if (win.inbound_latency) {
    if (auto q = histogram_quantiles(*win.inbound_latency)) {
      auto per_second = [&win](double n) {
        return win.duration_seconds > 0 ? round_to(n / win.duration_seconds, 1e3) : 0.0;
      };
      // latency_seconds: service (first byte in → first byte out); from_arrival: with
      // the wait for accept() (null when no request waited); arrivals: connections.
      json from_arrival = nullptr;
      if (win.inbound_total_latency) {
        from_arrival = latency_json(histogram_quantiles(*win.inbound_total_latency));
      }
      out["inbound"] = {{"latency_seconds", latency_json(q)},
                        {"latency_from_arrival_seconds", from_arrival},
                        {"requests_per_second", per_second(win.inbound_requests)},
                        {"arrivals_per_second", per_second(win.inbound_arrivals)}};
    }
  }
}

json class_or_null(const std::optional<Bottleneck>& b) {
  return b ? json(std::string(to_string(*b))) : json(nullptr);
}

json stability_json(const StabilityReport& st, bool history) {
  json out{{"stable_for_seconds", round_to(st.stable_for_seconds, 1e3)},
           {"previous_class", class_or_null(st.previous_class)},
           {"pending_class", class_or_null(st.pending_class)},
           {"pending_windows", st.pending_windows},
           {"changes", st.changes}};
  if (history) {
    json windows = json::array();
    for (const auto& h : st.history) {
      windows.push_back({{"end", iso8601(h.end_seconds)},
                         {"class", std::string(to_string(h.bottleneck))},
                         {"confidence", share(h.confidence)},
                         {"model", std::string(to_string(h.model))},
                         {"workers", h.workers},
                         {"cpu_cores_used", round_to(h.cpu_cores_used, 1e3)},
                         {"top_reason", std::string(to_string(h.top_reason))},
                         {"top_share", share(h.top_share)},
                         {"published", h.published},
                         {"figures", figures_json(h.figures)}});
    }
    out["history"] = windows;
  }
  return out;
}

// Where the verdict's time goes in the code (classifier/top_stacks.hpp); null when the
// stacks collector (or, for a wait, its off-CPU stacks) does not run.
json top_stacks_json(const std::optional<std::vector<TopStack>>& stacks) {
  if (!stacks) return nullptr;
  json out = json::array();
  for (const auto& t : *stacks) {
    const bool cpu = t.reason == Reason::on_cpu;
    out.push_back({{"type", cpu            ? "cpu"
                            : t.gil_holder ? "gil"
                                           : "offcpu"},
                   {"reason", std::string(to_string(t.reason))},
                   {"dependency", t.detail.empty() ? json(nullptr) : json(t.detail)},
                   {"frames", t.frames},
                   {"share", share(t.share)},
                   {"text", describe(t)}});
  }
  return out;
}

json workload_json(const Snapshot& s, const WorkloadReport& w, bool history) {
  const bool absent = w.state == WorkloadState::absent;
  json out{
      {"workload", w.name},
      {"state", std::string(to_string(w.state))},
      {"state_detail", w.state_detail.empty() ? json(nullptr) : json(w.state_detail)},
      {"absent_since", absent && w.absent_since ? json(iso8601(*w.absent_since)) : json(nullptr)},
      {"pids", w.pids},
      {"threads", w.threads},
      {"kubernetes", w.pod ? pod_json(*w.pod) : json(nullptr)},
      {"verdict", w.verdict ? verdict_json(*w.verdict) : json(nullptr)},
      {"node", {{"cores", s.node.cores}, {"cpu_busy_ratio", share(s.node.cpu_busy_ratio)}}},
      {"recommendation", w.recommendation ? recommendation_json(*w.recommendation) : json(nullptr)},
      {"stability", w.stability ? stability_json(*w.stability, history) : json(nullptr)},
      {"top_stacks", top_stacks_json(w.top_stacks)}};
  if (w.window) {
    const auto& win = *w.window;
    out["processes"] = win.processes;
    out["parked_threads"] = win.parked_threads;
    out["event_loop"] = win.event_loop;
    out["established_connections"] = win.established_connections;
    out["busy_threads_max"] = win.busy_threads_max;
    out["memory_bytes"] = {{"rss", win.memory.rss_bytes},
                           {"pss", bytes_or_null(win.memory.pss_bytes)},
                           {"uss", bytes_or_null(win.memory.uss_bytes)},
                           {"shared", bytes_or_null(win.memory.shared_bytes)}};
    out["runtime"] = {
        {"kind", win.runtime.kind.empty() ? json(nullptr) : json(win.runtime.kind)},
        {"version", win.runtime.version},
        {"free_threaded", win.runtime.free_threaded},
        {"gil_readable", win.runtime.gil_readable},
        {"server", win.runtime.server.empty() ? json(nullptr) : json(win.runtime.server)},
        {"worker_processes", win.runtime.worker_processes}};
    out["cpu_limit"] = nullptr;
    if (const auto& limit = win.cpu_limit) {
      const auto throttled = limit->throttled_share();
      out["cpu_limit"] = {
          {"cores", round_to(limit->cores, 1e3)},
          {"cgroup", limit->cgroup},
          {"throttled_share", throttled ? json(share(*throttled)) : json(nullptr)},
          {"throttled_seconds",
           limit->counters_valid ? json(seconds(limit->throttled_seconds)) : json(nullptr)}};
    }
    out["current_model"] = current_model(win);
    out["start_method"] =
        win.runtime.start_method.empty() ? json(nullptr) : json(win.runtime.start_method);
    if (win.runtime.kind == "python") out["gil"] = gil_json(win);
    add_measured_json(s, win, out);
    out["window"] = {{"duration_seconds", round_to(win.duration_seconds, 1e3)},
                     {"sample_rounds", win.sample_rounds},
                     {"cpu_seconds", seconds(win.cpu_seconds)},
                     {"runqueue_seconds", seconds(win.runqueue_seconds)},
                     {"voluntary_switches", win.voluntary_switches},
                     {"involuntary_switches", win.involuntary_switches},
                     {"major_faults", win.major_faults},
                     {"read_bytes", win.read_bytes},
                     {"write_bytes", win.write_bytes}};
  }
  return out;
}

}  // namespace

nlohmann::json recommend_document(const Snapshot& s, const std::optional<std::string>& only,
                                  bool history) {
  json workloads = json::array();
  for (const auto& w : s.workloads) {
    if (only && w.name != *only) continue;
    workloads.push_back(workload_json(s, w, history));
  }
  json collectors = json::array();
  for (const auto& c : s.collectors) {
    json collector{{"name", c.name}, {"up", c.up}, {"error", c.error}};
    if (c.rounds_per_second > 0) {  // it samples on a period
      collector["rounds_per_second"] = round_to(c.rounds_per_second, 1e2);
      collector["achieved_rounds_per_second"] = round_to(c.achieved_rounds_per_second, 1e2);
      collector["behind"] = c.behind;
    }
    collectors.push_back(std::move(collector));
  }
  json ebpf_duty = json::object();
  for (const auto& [tool, duty] : s.node.ebpf_duty) ebpf_duty[tool] = share(duty);
  return json{{"schema_version", kRecommendSchemaVersion},
              {"host", s.host},
              {"generated_at", iso8601(s.generated_at)},
              {"window_seconds", round_to(s.window_seconds, 1e3)},
              {"windows_completed", s.windows_completed},
              {"node",
               {{"cores", s.node.cores},
                {"cpu_busy_ratio", share(s.node.cpu_busy_ratio)},
                {"load1", round_to(s.node.load1, 1e2)},
                {"cpu_pressure_some", share(s.node.cpu_pressure_some)},
                {"io_pressure_some", share(s.node.io_pressure_some)},
                {"memory_pressure_some", share(s.node.memory_pressure_some)}}},
              {"collectors", collectors},
              // Share of the last window each eBPF tool was attached (overhead budget).
              {"ebpf_duty", ebpf_duty},
              {"workloads", workloads}};
}

json figures_json(const WindowFigures& f) {
  auto optional_seconds = [](const std::optional<double>& v) {
    return v ? json(seconds(*v)) : json(nullptr);
  };
  return json{
      {"throughput_basis", std::string(to_string(f.basis))},
      {"throughput_per_second", round_to(f.throughput_per_second, 1e3)},
      {"latency_seconds", f.p95_seconds ? json{{"p50", optional_seconds(f.p50_seconds)},
                                               {"p95", optional_seconds(f.p95_seconds)},
                                               {"p99", optional_seconds(f.p99_seconds)}}
                                        : json(nullptr)},
      {"cpu_cores_used", round_to(f.cpu_cores_used, 1e3)},
      {"node_busy_ratio", share(f.node_busy_ratio)},
      {"memory_bytes", bytes_or_null(f.memory_bytes)},
      {"memory_per_process_bytes", bytes_or_null(f.memory_per_process_bytes)},
      {"processes", f.processes},
      {"threads", f.threads},
      {"cost_per_month", f.cost_per_month ? json(round_to(*f.cost_per_month, 1e2)) : json(nullptr)},
      {"model_in_use", f.model_in_use},
      {"dependency", f.dependency.empty() ? json(nullptr) : json(f.dependency)},
      {"dependency_in_flight", round_to(f.dependency_in_flight, 1e3)},
      {"dependency_p95_seconds", optional_seconds(f.dependency_p95_seconds)}};
}

}  // namespace boundwise
