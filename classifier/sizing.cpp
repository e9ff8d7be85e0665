// Capacity arithmetic: cores available, Amdahl, Little's law (sizing.hpp).
#include "classifier/sizing.hpp"

#include <algorithm>
#include <cmath>

#include "classifier/classify.hpp"
#include "classifier/numbers.hpp"
#include "classifier/text.hpp"

namespace boundwise {

namespace {

// Connections arrive faster than they are served when their count exceeds the requests
// served by more than this: a window's edges cut a few of either out (a request that
// arrived before the window and was served in it, one that arrived at its end), never
// a tenth at the rates that matter.
constexpr double kBacklogRatio = 1.1;

double seconds_of(const WorkloadWindow& w, Reason r) {
  return non_negative(w.thread_seconds[index_of(r)]);
}

// Thread time spent on requests: everything but waiting for work and timed sleeps.
double active_thread_seconds(const WorkloadWindow& w) {
  double active = 0;
  for (Reason r : kAllReasons) {
    if (r != Reason::idle && r != Reason::sleep) active += seconds_of(w, r);
  }
  return active;
}

// The threads that serve requests now, by the model in use; 0 when they cannot be
// counted (an event loop's tasks are not threads).
int workers_now(const WorkloadWindow& w) {
  const std::string model = current_model(w);
  if (model == "asyncio") return 0;
  if ((model == "processes" || model == "mixed") && w.runtime.worker_processes > 0) {
    return w.runtime.worker_processes * std::max(1, w.runtime.max_worker_threads);
  }
  return std::max(1, w.threads - w.parked_threads);
}

double mean_seconds(const LatencyHistogram& h) {
  const auto n = h.count();
  return n > 0 ? non_negative(h.sum_seconds) / static_cast<double>(n) : 0.0;
}

}  // namespace

double idle_cores(const WorkloadWindow& w) {
  return std::max(0, w.node.cores) * (1.0 - std::min(non_negative(w.node.cpu_busy_ratio), 1.0));
}

double available_cores(const Verdict& v, const WorkloadWindow& w) {
  const double own = non_negative(v.cpu_cores_used);
  double available = static_cast<double>(std::max(1, w.node.cores));
  if (w.node.cores > 0) {
    available = std::min(available, own + idle_cores(w));
  }
  if (w.cpu_limit && non_negative(w.cpu_limit->cores) > 0) {
    available = std::min(available, non_negative(w.cpu_limit->cores));
  }
  return std::max(available, own);
}

std::string available_cores_text(const Verdict& v, const WorkloadWindow& w) {
  std::string text = printf_string("cores available: %.2f = own %.2f + idle %.2f of the node's %d",
                                   available_cores(v, w), non_negative(v.cpu_cores_used),
                                   idle_cores(w), w.node.cores);
  if (w.cpu_limit && w.cpu_limit->cores > 0) {
    text += printf_string(", capped by the cgroup CPU limit of %.2f", w.cpu_limit->cores);
  }
  return text;
}

std::uint64_t workload_memory_bytes(const WorkloadWindow& w) {
  return w.memory.pss_bytes > 0 ? w.memory.pss_bytes : w.memory.rss_bytes;
}

std::uint64_t memory_per_process(const WorkloadWindow& w) {
  const int n =
      std::max(1, w.memory.processes_measured > 0 ? w.memory.processes_measured : w.processes);
  return workload_memory_bytes(w) / static_cast<std::uint64_t>(n);
}

std::uint64_t memory_per_added_process(const WorkloadWindow& w) {
  if (w.memory.processes_measured >= 2 && w.memory.uss_bytes > 0) {
    return w.memory.uss_bytes / static_cast<std::uint64_t>(w.memory.processes_measured);
  }
  return memory_per_process(w);
}

double amdahl(double serial, double cores) {
  const double s = std::clamp(non_negative(serial), 0.0, 1.0);
  const double n = std::max(1.0, non_negative(cores));
  return 1.0 / (s + (1.0 - s) / n);
}

IoDemand io_demand(const Verdict& v, const WorkloadWindow& w, double cores) {
  using namespace thresholds;
  IoDemand d;
  const double duration = non_negative(w.duration_seconds);
  const double active = active_thread_seconds(w);
  if (active > 0) {
    d.cpu_share = (seconds_of(w, Reason::on_cpu) + seconds_of(w, Reason::runqueue) +
                   seconds_of(w, Reason::gil)) /
                  active;
  }
  if (duration > 0) {
    // Measured demand first: requests the workload served, else those it sent (plus
    // the threads computing between them, which are in flight too).
    if (w.inbound_latency && w.inbound_latency->count() > 0 &&
        non_negative(w.inbound_requests) > 0) {
      d.source = "inbound";
      d.served_rate_per_second = non_negative(w.inbound_requests) / duration;
      d.seconds_per_request = mean_seconds(*w.inbound_latency);
      // Connections that arrived but were not served wait in the accept queue: the
      // demand is what arrived, each needing the service time (not the time it queued).
      const double arrived = non_negative(w.inbound_arrivals) / duration;
      d.backlog = arrived > d.served_rate_per_second * kBacklogRatio;
      d.rate_per_second = d.backlog ? arrived : d.served_rate_per_second;
      d.measured_in_flight = d.rate_per_second * d.seconds_per_request;
    } else {
      double rate = 0;
      double in_dependencies = 0;
      for (const auto& dep : w.dependencies) {
        if (!dep.request_latency || dep.request_latency->count() == 0 || dep.requests == 0)
          continue;
        const double r = static_cast<double>(dep.requests) / duration;
        rate += r;
        in_dependencies += r * mean_seconds(*dep.request_latency);
      }
      if (rate > 0) {
        d.source = "dependencies";
        d.rate_per_second = rate;
        d.seconds_per_request = in_dependencies / rate;
        d.measured_in_flight = in_dependencies + non_negative(v.cpu_cores_used);
      }
    }
    d.active_threads = active / duration;
    d.in_flight = std::max(d.measured_in_flight, d.active_threads);
    d.served_in_flight =
        d.backlog ? std::max(d.served_rate_per_second * d.seconds_per_request, d.active_threads)
                  : d.in_flight;
    if (!d.backlog) d.served_rate_per_second = d.rate_per_second;
  }
  d.workers_now = workers_now(w);
  if (d.workers_now > 0) {
    d.utilisation = d.in_flight / d.workers_now;
    d.saturated = d.utilisation >= sizing::kSaturatedUtilisation;
  }
  const double needed = std::ceil(d.in_flight / sizing::kTargetUtilisation);
  const double sustained = cpu_sustained_concurrency(d, cores);
  d.capped_by_cpu = sustained < needed;
  const double workers = std::min(needed, std::floor(sustained));
  d.workers = static_cast<int>(
      std::clamp(workers, static_cast<double>(kMinIoWorkers), static_cast<double>(kMaxIoWorkers)));
  return d;
}

double cpu_sustained_concurrency(const IoDemand& d, double cores) {
  const double max = thresholds::kMaxIoWorkers;
  if (d.cpu_share <= 0) return max;
  return std::min(max, std::max(1.0, non_negative(cores)) / d.cpu_share);
}

std::string io_demand_text(const IoDemand& d) {
  std::string text;
  if (d.source == "sampled") {
    text = printf_string(
        "concurrency (sampled, no request counts: a bound from the wait/compute split): %.1f "
        "threads active on average",
        d.in_flight);
  } else {
    text = printf_string(
        "Little's law: %.1f requests/s (eBPF, %s) × %.3f s = %.1f in flight (sampled: %.1f "
        "threads active)",
        d.rate_per_second,
        d.backlog               ? "arrived"
        : d.source == "inbound" ? "served"
                                : "sent to dependencies, plus computing",
        d.seconds_per_request, d.measured_in_flight, d.active_threads);
    if (d.backlog) {
      text +=
          printf_string("; %.1f/s served: the rest waits to be accepted (%.1f in flight served)",
                        d.served_rate_per_second, d.served_in_flight);
    }
  }
  if (d.workers_now > 0) {
    text += printf_string(" on %d workers (%.0f%% busy%s)", d.workers_now,
                          std::min(d.utilisation, 10.0) * 100,
                          d.saturated ? ": saturated, the demand may be higher" : "");
  }
  text += printf_string(" → %d workers at %.0f%% utilisation", d.workers,
                        sizing::kTargetUtilisation * 100);
  if (d.capped_by_cpu) {
    text += printf_string(", capped where computing (%.0f%% of active time) fills the cores",
                          d.cpu_share * 100);
  }
  return text;
}

}  // namespace boundwise
