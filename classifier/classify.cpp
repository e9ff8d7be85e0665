// classify(): the decision table of docs/CLASSIFIER.md, in its order. Every branch
// records why it fired in Verdict::rationale.
#include "classifier/classify.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "classifier/numbers.hpp"
#include "classifier/text.hpp"

namespace boundwise {

namespace {

using namespace thresholds;

// A ratio from a collector, trusted only inside [0, 1].
double ratio(double v) { return std::min(non_negative(v), 1.0); }

double at(const PerReason<double>& p, Reason r) { return p[index_of(r)]; }

// How much evidence the window holds: full after kFullEvidenceRounds sampling rounds
// and kFullEvidenceThreadSeconds of judged thread time; collectors that do not sample
// (sample_rounds 0) are judged on thread time alone.
double evidence_weight(const WorkloadWindow& w, double judged_thread_seconds) {
  double by_rounds =
      w.sample_rounds > 0 ? static_cast<double>(w.sample_rounds) / kFullEvidenceRounds : 1.0;
  double by_time = judged_thread_seconds / kFullEvidenceThreadSeconds;
  return std::clamp(by_rounds, 0.0, 1.0) * std::clamp(by_time, 0.0, 1.0);
}

}  // namespace

Verdict classify(const WorkloadWindow& w) {
  Verdict v;
  PerReason<double> seconds{};
  double total = 0;
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    seconds[i] = non_negative(w.thread_seconds[i]);
    total += seconds[i];
  }
  double duration = non_negative(w.duration_seconds);
  if (duration > 0) {
    double cpu = w.cpu_seconds > 0 ? non_negative(w.cpu_seconds) : at(seconds, Reason::on_cpu);
    v.cpu_cores_used = non_negative(cpu / duration);
  }

  if (total <= 0 || duration <= 0) {
    v.bottleneck = Bottleneck::idle;
    v.confidence = 0;
    v.rationale.push_back("no thread time observed in the window");
    return v;
  }
  // Thread-seconds that overflow a double are not a measurement: say so, guess nothing.
  if (!std::isfinite(total)) {
    v.bottleneck = Bottleneck::idle;
    v.confidence = 0;
    v.cpu_cores_used = 0;
    v.rationale.push_back("thread time in the window is not finite; no verdict");
    return v;
  }

  double idle_seconds = at(seconds, Reason::idle);
  double busy = total - idle_seconds;
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    v.shares[i] = seconds[i] / total;
    if (busy > 0 && kAllReasons[i] != Reason::idle) v.busy_shares[i] = seconds[i] / busy;
  }

  for (const auto& d : w.dependencies) {
    DependencyShare s{d.name, d.endpoint, non_negative(d.wait_seconds) / total, d.latency};
    if (d.request_latency) s.latency_source = "ebpf";
    if (w.duration_seconds > 0)
      s.requests_per_second = static_cast<double>(d.requests) / w.duration_seconds;
    v.dependencies.push_back(std::move(s));
  }
  std::stable_sort(v.dependencies.begin(), v.dependencies.end(),
                   [](const auto& a, const auto& b) { return a.wait_share > b.wait_share; });

  const auto& b = v.busy_shares;
  double evidence = evidence_weight(w, busy);
  auto set = [&](Bottleneck cls, double strength, std::string why) {
    v.bottleneck = cls;
    v.confidence = std::clamp(strength, 0.0, 1.0) * evidence;
    v.rationale.push_back(std::move(why));
  };

  // 1. Idle: almost no thread time doing anything but waiting for work or sleeping.
  // Its evidence is all observed time (idle time is what it is judged on).
  double active_threads = (busy - at(seconds, Reason::sleep)) / duration;
  if (active_threads < kIdleActiveThreads) {
    evidence = evidence_weight(w, total);
    set(Bottleneck::idle, 1.0 - active_threads / kIdleActiveThreads * 0.5,
        printf_string("active thread-time %.3f threads < %.2f", active_threads,
                      kIdleActiveThreads));
    return v;
  }

  // 2a. The workload's own CPU limit is the limit: its cgroup's quota ran out in many
  // enforcement periods (a Kubernetes CPU limit throttling it).
  double runnable = at(b, Reason::on_cpu) + at(b, Reason::runqueue);
  if (const auto& limit = w.cpu_limit; limit && runnable >= kDominant) {
    if (const double throttled = limit->throttled_share().value_or(0);
        throttled >= kThrottledShare) {
      set(Bottleneck::cpu_saturated, 0.5 + throttled,
          printf_string(
              "CPU limit %.2f cores (cgroup %s) throttled %.0f%% of %llu periods, %.2f s held back",
              limit->cores, limit->cgroup.c_str(), throttled * 100,
              static_cast<unsigned long long>(limit->periods),
              non_negative(limit->throttled_seconds)));
      return v;
    }
  }

  // 2b. The node's CPUs are the limit: runnable threads queue for a CPU, or other work
  // keeps every core busy, so there is no free core for more of this workload's.
  double queue_ratio = runnable > 0 ? at(b, Reason::runqueue) / runnable : 0;
  bool node_known = w.node.cores > 0;
  double busy_cores = ratio(w.node.cpu_busy_ratio) * w.node.cores;
  bool no_free_core = node_known && w.node.cores - busy_cores < kFreeCore &&
                      busy_cores - v.cpu_cores_used >= kFreeCore;
  bool saturated = node_known ? (ratio(w.node.cpu_busy_ratio) >= kNodeBusy &&
                                 (queue_ratio >= kRunqueueRatio || no_free_core))
                              : queue_ratio >= kRunqueueRatioNoNode;
  if (saturated && runnable >= kDominant) {
    std::string why =
        queue_ratio >= kRunqueueRatio || !node_known
            ? printf_string(
                  "runnable threads wait for a CPU %.0f%% of the time; node CPU busy %.0f%%",
                  queue_ratio * 100, ratio(w.node.cpu_busy_ratio) * 100)
            : printf_string(
                  "no free core: node CPU busy %.0f%% of %d cores, %.2f of them by other work",
                  ratio(w.node.cpu_busy_ratio) * 100, w.node.cores, busy_cores - v.cpu_cores_used);
    double strength = 0.5 + std::max(queue_ratio, no_free_core ? 0.3 : 0.0);
    // PSI is supporting evidence only: it is node-wide and absent on some kernels.
    if (w.node.pressure_available) {
      double some = ratio(w.node.cpu_pressure_some);
      why += printf_string("; PSI cpu some %.0f%%", some * 100);
      if (some < kCpuPressureSupport) strength *= 0.5;
    }
    set(Bottleneck::cpu_saturated, strength, why);
    return v;
  }

  // 3. Memory: major faults, or the node stalls on memory.
  double paging = at(b, Reason::paging);
  if (paging >= kPagingShare ||
      (ratio(w.node.memory_pressure_full) >= kMemoryFullPressure && paging > 0)) {
    set(Bottleneck::memory_bound, 0.5 + paging,
        printf_string("paging %.0f%% of busy time; node memory full-pressure %.0f%%", paging * 100,
                      ratio(w.node.memory_pressure_full) * 100));
    return v;
  }

  // 4. The GIL: Python threads queue for the interpreter lock.
  double gil = at(b, Reason::gil);
  double on_cpu = at(b, Reason::on_cpu);
  bool gil_share = gil >= kGilShare && gil >= 0.5 * on_cpu;
  bool gil_over_cpu = gil > 0 && gil >= on_cpu && gil + on_cpu >= kDominant;
  if (gil_share || gil_over_cpu) {
    set(Bottleneck::gil_contended, 0.5 + gil,
        printf_string("GIL wait %.0f%% of busy time (on CPU %.0f%%)", gil * 100, on_cpu * 100));
    return v;
  }

  // 5. A dominant reason.
  struct Group {
    const char* name;
    double share;
  };
  double io = at(b, Reason::net) + at(b, Reason::ipc);
  Group groups[] = {{"cpu", runnable},
                    {"net", io},
                    {"disk", at(b, Reason::disk)},
                    {"lock", at(b, Reason::lock)},
                    {"gil", gil},
                    {"sleep", at(b, Reason::sleep)},
                    {"paging", paging},
                    {"other", at(b, Reason::other)}};
  std::sort(std::begin(groups), std::end(groups),
            [](const Group& x, const Group& y) { return x.share > y.share; });
  const Group& top = groups[0];
  const Group& second = groups[1];
  double strength = 0.5 + (top.share - second.share);
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s %.0f%% of busy time (next: %s %.0f%%)", top.name,
                top.share * 100, second.name, second.share * 100);
  std::string why = buf;

  if (top.share >= kDominant && top.share > second.share) {
    std::string_view name = top.name;
    if (name == "cpu") {
      if (v.cpu_cores_used >= kParallelCores) {
        set(Bottleneck::cpu_parallel, strength,
            why + printf_string("; %.2f cores in use >= %.2f", v.cpu_cores_used, kParallelCores));
      } else if (w.busy_threads_max >= 2 && v.cpu_cores_used >= kParallelCoresWithThreads) {
        set(Bottleneck::cpu_parallel, strength,
            why +
                printf_string("; %.2f cores in use >= %.2f", v.cpu_cores_used,
                              kParallelCoresWithThreads) +
                " with " + std::to_string(w.busy_threads_max) + " threads on CPU at once");
      } else {
        set(Bottleneck::cpu_bound, strength,
            why + printf_string("; %.2f cores in use < %.2f", v.cpu_cores_used, kParallelCores));
      }
      return v;
    }
    if (name == "net") {
      set(Bottleneck::io_network, strength, why);
      return v;
    }
    if (name == "disk") {
      set(Bottleneck::io_disk, strength, why);
      return v;
    }
    if (name == "lock") {
      set(Bottleneck::lock_contended, strength, why);
      return v;
    }
    if (name == "sleep") {
      set(Bottleneck::idle, strength, why + "; timer-paced work");
      return v;
    }
  }
  // 6. Nothing dominates (or only "other" does): mixed, naming the top two.
  set(Bottleneck::mixed, 0.5, why + "; no reason holds a majority");
  return v;
}

}  // namespace boundwise
