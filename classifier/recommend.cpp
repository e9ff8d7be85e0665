// recommend(): the model column of docs/CLASSIFIER.md's decision table, with worker
// counts, evidence sentences carrying numbers, and concrete risks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include "classifier/capacity.hpp"
#include "classifier/classify.hpp"
#include "classifier/histogram.hpp"
#include "classifier/numbers.hpp"
#include "classifier/objective.hpp"
#include "classifier/options.hpp"
#include "classifier/sizing.hpp"
#include "classifier/text.hpp"

namespace boundwise {

namespace {

using namespace thresholds;

double at(const PerReason<double>& p, Reason r) { return p[index_of(r)]; }
// Window fields come from collectors; a non-finite one prints as 0, never "nan".
int pct(double share) {
  return static_cast<int>(std::lround(std::clamp(non_negative(share), -10.0, 10.0) * 100));
}

std::string latency_text(const std::optional<LatencyQuantiles>& q) {
  if (!q) return "";
  double ms = q->p95 * 1000;
  if (!std::isfinite(ms) || ms < 0) return "";
  return printf_string(" (p95 %.0f ms)", ms);
}

void add_common_evidence(const Verdict& v, const WorkloadWindow& w, Recommendation& r) {
  const auto& b = v.busy_shares;
  r.evidence.push_back(printf_string(
      "busy thread time: on CPU %d%%, run queue %d%%, GIL %d%%, lock %d%%, network %d%%, "
      "disk %d%%, ipc %d%%, sleep %d%%, other %d%%; of all thread time: idle %d%%, sleep %d%%",
      pct(at(b, Reason::on_cpu)), pct(at(b, Reason::runqueue)), pct(at(b, Reason::gil)),
      pct(at(b, Reason::lock)), pct(at(b, Reason::net)), pct(at(b, Reason::disk)),
      pct(at(b, Reason::ipc)), pct(at(b, Reason::sleep)), pct(at(b, Reason::other)),
      pct(at(v.shares, Reason::idle)), pct(at(v.shares, Reason::sleep))));
  if (w.node.cores > 0) {
    r.evidence.push_back(printf_string("%.2f cores used of %d; node CPU busy %d%%",
                                       non_negative(v.cpu_cores_used), w.node.cores,
                                       pct(w.node.cpu_busy_ratio)));
  } else {
    r.evidence.push_back(printf_string("%.2f cores used", non_negative(v.cpu_cores_used)));
  }
  r.evidence.push_back(printf_string(
      "%d thread%s in %d process%s over a %.0f s window", w.threads, w.threads == 1 ? "" : "s",
      w.processes, w.processes == 1 ? "" : "es", non_negative(w.duration_seconds)));
  // Measured by the ebpf collector's sched tool: how long a runnable thread waited for
  // a CPU. The run-queue share above says how much; this says how long each time.
  if (w.runqueue_latency) {
    auto q = histogram_quantiles(*w.runqueue_latency);
    if (q) {
      r.evidence.push_back(printf_string(
          "run-queue latency (eBPF, %llu waits): p50 %.2f ms, p95 %.2f ms, p99 %.2f ms",
          static_cast<unsigned long long>(w.runqueue_latency->count()), non_negative(q->p50) * 1e3,
          non_negative(q->p95) * 1e3, non_negative(q->p99) * 1e3));
    }
  }
  // A tool the overhead budget duty-cycled measured only part of the window.
  static const std::map<std::string, const char*> kWhat = {
      {"sched", "off-CPU and run-queue"},
      {"net", "dependency and inbound latency"},
      {"syscalls", "syscall latency"},
      {"disk", "disk latency"}};
  for (const auto& [tool, duty] : w.node.ebpf_duty) {
    if (!(duty < 0.995)) continue;
    auto what = kWhat.find(tool);
    const char* label = what != kWhat.end() ? what->second : tool.c_str();
    if (duty <= 0) {
      r.evidence.push_back(
          printf_string("%s not measured: eBPF tool %s detached to stay within the overhead budget",
                        label, tool.c_str()));
    } else if (pct(duty) == 0) {
      r.evidence.push_back(
          printf_string("%s sampled less than 1%% of the time (overhead budget)", label));
    } else {
      r.evidence.push_back(
          printf_string("%s sampled %d%% of the time (overhead budget)", label, pct(duty)));
    }
  }
}

void add_process_risks(const WorkloadWindow& w, int workers, Recommendation& r) {
  std::uint64_t per = memory_per_process(w);
  if (per > 0) {
    r.risks.push_back(
        printf_string("memory: ~%s per worker process, ~%s for %d workers", mib(per).c_str(),
                      mib(per * static_cast<std::uint64_t>(workers)).c_str(), workers));
  }
  r.risks.push_back(
      "arguments and results cross process boundaries by pickling: large payloads cost CPU "
      "and memory");
  const std::string& method = w.runtime.start_method;
  if (method == "fork" && w.threads > w.processes) {
    r.risks.push_back(printf_string(
        "the fork start method is in use with %d threads in %d processes: forking while other "
        "threads hold locks can deadlock children; prefer forkserver (Linux's default from "
        "Python 3.14) or spawn",
        w.threads, w.processes));
  } else if (method.empty() && w.threads > w.processes) {
    r.risks.push_back(
        w.runtime.kind == "python"
            ? "the fork start method (multiprocessing's default on Linux up to Python 3.13; "
              "3.14 defaults to forkserver) with threads alive in the parent can deadlock "
              "children; prefer forkserver or spawn"
            : "the fork start method with threads alive in the parent can deadlock children; "
              "prefer forkserver or spawn");
  }
}

// Where the GIL numbers come from: memory reads (exact holder, waiters) or the futex
// signature alone (wait time only: inferred); the wait itself measured in the kernel
// at every switch, or sampled.
void add_gil_evidence(const WorkloadWindow& w, Recommendation& r) {
  if (w.runtime.kind != "python") return;
  const double duration = w.duration_seconds > 0 ? w.duration_seconds : 1.0;
  if (w.gil.wait_measured_in_kernel) {
    r.evidence.push_back(printf_string(
        "GIL wait measured by eBPF at every context switch (sleeps in futex on the GIL's "
        "address): %.2f thread-seconds per second",
        non_negative(w.thread_seconds[index_of(Reason::gil)]) / duration));
  }
  if (w.gil.measured) {
    r.evidence.push_back(printf_string(
        "GIL read from memory: held %d%% of the window by %d thread(s), %.1f waiters on "
        "average, %.0f hand-overs/s; %.2f cores ran native code without it",
        pct(w.gil.held_seconds / duration), w.gil.holder_threads, non_negative(w.gil.waiters_mean),
        static_cast<double>(w.gil.switches) / duration, native_cpu_seconds(w) / duration));
  } else {
    r.evidence.push_back(
        "GIL waits inferred from futex waits on the GIL's address (its state could not be "
        "read from memory)");
  }
}

// Measured by the ebpf collector's disk and syscalls tools: how long each block
// request and each fsync took, which the disk share alone does not say.
void add_disk_evidence(const WorkloadWindow& w, Recommendation& r) {
  auto quantiles_text = [](const char* what, const char* unit, const LatencyHistogram& h) {
    auto q = histogram_quantiles(h);
    if (!q) return std::string();
    return printf_string("%s (eBPF, %llu %s): p50 %.2f ms, p95 %.2f ms, p99 %.2f ms", what,
                         static_cast<unsigned long long>(h.count()), unit,
                         non_negative(q->p50) * 1e3, non_negative(q->p95) * 1e3,
                         non_negative(q->p99) * 1e3);
  };
  if (w.disk_latency) {
    if (w.disk_latency->count() > 0) {
      r.evidence.push_back(quantiles_text("disk request latency", "requests", *w.disk_latency));
    } else {
      r.evidence.push_back(
          "no block requests submitted by the workload itself were measured (eBPF): writes "
          "flushed by kernel writeback or journal threads are not attributed to it");
    }
  }
  if (auto f = w.syscall_latency.find("fsync");
      f != w.syscall_latency.end() && f->second.count() > 0)
    r.evidence.push_back(quantiles_text("fsync latency", "calls", f->second));
}

// For thread recommendations in Python: the waits overlap, the Python work between them
// does not.
void add_gil_risk(const Verdict& v, const WorkloadWindow& w, Recommendation& r) {
  double gil = at(v.busy_shares, Reason::gil);
  if (w.runtime.kind != "python" && gil <= 0) return;
  if (w.runtime.free_threaded) return;
  r.risks.push_back(printf_string(
      "Python threads still share one GIL (GIL wait %d%% of busy time now): the CPU part "
      "of each request stays on one core however many threads wait",
      pct(gil)));
}

// The cores a model's I/O workers can keep computing on: one for Python threads (or
// an event loop) under the GIL, the cores available otherwise.
double io_cores(const Verdict& v, const WorkloadWindow& w, Model m) {
  const bool gil = w.runtime.kind == "python" && !w.runtime.free_threaded;
  if (m == Model::asyncio || (m == Model::threads && gil)) return 1;
  return available_cores(v, w);
}

// One bottleneck's model, summary, evidence and risks; recommend() adds what every
// bottleneck shares.
// Waiting for work (idle) and timed sleeps are different things: a process that only
// sleeps is paced by its timers, not starved of work. Each is said with its own share of
// all thread time, as the evidence shows them.
void recommend_idle(const Verdict& v, Recommendation& r) {
  r.model = Model::none;
  const int idle = pct(at(v.shares, Reason::idle));
  const int sleep = pct(at(v.shares, Reason::sleep));
  std::string what;
  if (idle > 0 && sleep > 0) {
    what = printf_string("%d%% of thread time waits for work and %d%% sleeps", idle, sleep);
  } else if (sleep > 0) {
    what = printf_string("%d%% of thread time sleeps (timed waits, nothing to do)", sleep);
  } else {
    what = printf_string("%d%% of thread time waits for work", idle);
  }
  r.summary = printf_string("idle: %s; %.2f cores are used; no change needed", what.c_str(),
                            non_negative(v.cpu_cores_used));
}

void recommend_cpu_saturated(const Verdict& v, const WorkloadWindow& w, int cores,
                             Recommendation& r) {
  const auto& b = v.busy_shares;
  r.model = Model::scale_out;
  const auto& limit = w.cpu_limit;
  if (const double throttled = limit ? limit->throttled_share().value_or(0) : 0;
      throttled >= kThrottledShare) {
    r.summary = printf_string(
        "CPU limit: throttled in %d%% of scheduler periods at its %.2f-core limit (cgroup "
        "%s); raise the limit or scale out — more threads or processes share the same quota",
        pct(throttled), limit->cores, limit->cgroup.c_str());
    r.evidence.push_back(printf_string(
        "cgroup CPU quota %.2f cores at %s: %llu of %llu periods throttled, %.2f s held back",
        limit->cores, limit->cgroup.c_str(),
        static_cast<unsigned long long>(limit->throttled_periods),
        static_cast<unsigned long long>(limit->periods), non_negative(limit->throttled_seconds)));
    r.risks.push_back(
        "throttled threads stall for the rest of each period: latency spikes "
        "of up to one period (100 ms by default) per request");
    return;
  }
  double runnable = at(b, Reason::on_cpu) + at(b, Reason::runqueue);
  double queue = runnable > 0 ? at(b, Reason::runqueue) / runnable : 0;
  if (queue >= kRunqueueRatio || w.node.cores <= 0) {
    r.summary = printf_string(
        "node CPU saturated: busy %d%% of %d cores and runnable threads wait for a CPU %d%% "
        "of the time; no local model helps, scale out or move work off this node",
        pct(w.node.cpu_busy_ratio), cores, pct(queue));
  } else {
    r.summary = printf_string(
        "node CPU saturated: busy %d%% of %d cores, %.2f of them by other work; no free "
        "core for more of this workload's threads or processes: scale out or move work "
        "off this node",
        pct(w.node.cpu_busy_ratio), cores,
        non_negative(w.node.cpu_busy_ratio * w.node.cores - v.cpu_cores_used));
  }
  if (w.node.pressure_available) {
    r.evidence.push_back(
        printf_string("node CPU pressure: some task waited for a CPU %d%% of the window (PSI)",
                      pct(w.node.cpu_pressure_some)));
  }
  r.risks.push_back("more workers on this node add run-queue wait and latency");
}

void recommend_memory_bound(const Verdict& v, const WorkloadWindow& w, Recommendation& r) {
  const auto& b = v.busy_shares;
  r.model = Model::scale_out;
  r.summary = printf_string(
      "memory-bound: %d%% of busy thread time waits on major faults; more workers need "
      "more memory this node does not have: reduce memory use or scale out",
      pct(at(b, Reason::paging)));
  r.evidence.push_back(printf_string("%llu major faults in the window",
                                     static_cast<unsigned long long>(w.major_faults)));
  if (w.node.pressure_available) {
    r.evidence.push_back(
        printf_string("node memory pressure: some %d%%, full %d%% of the window (PSI)",
                      pct(w.node.memory_pressure_some), pct(w.node.memory_pressure_full)));
  }
  if (w.memory.rss_bytes > 0) {
    r.evidence.push_back(printf_string("workload memory: RSS %s, PSS %s",
                                       mib(w.memory.rss_bytes).c_str(),
                                       mib(w.memory.pss_bytes).c_str()));
  }
  r.risks.push_back("adding processes multiplies memory and deepens paging");
}

void recommend_gil_contended(const Verdict& v, const WorkloadWindow& w, int cores,
                             Recommendation& r) {
  const auto& b = v.busy_shares;
  r.model = w.runtime.free_threaded ? Model::free_threaded : Model::processes;
  r.workers = cores;
  r.summary = printf_string(
      "GIL-bound: threads wait for the GIL %d%% of busy time and the workload uses %.2f "
      "cores of %d; %s run Python in parallel",
      pct(at(b, Reason::gil)), non_negative(v.cpu_cores_used), cores,
      w.runtime.free_threaded ? "this free-threaded interpreter's threads"
                              : "processes (one per core)");
  add_gil_evidence(w, r);
  if (!w.runtime.free_threaded) add_process_risks(w, r.workers, r);
  r.risks.push_back(
      "a free-threaded build (3.13t+) would also remove the GIL, at ~40% single-thread "
      "cost on 3.13 and only if every extension supports it");
}

void recommend_cpu_bound(const Verdict& v, const WorkloadWindow& w, int cores, Recommendation& r) {
  const auto& b = v.busy_shares;
  const bool python = w.runtime.kind == "python";
  if (cores <= 1) {
    r.model = Model::scale_out;
    r.summary = printf_string(
        "CPU-bound: on CPU %d%% of busy thread time and this node has one core; scale out",
        pct(at(b, Reason::on_cpu)));
  } else {
    r.model = Model::processes;
    const double available = available_cores(v, w);
    r.workers = std::max(2, static_cast<int>(std::floor(available + 0.05)));
    // On CPU and run queue as the evidence's busy line has them (not their sum).
    const int queue = pct(at(b, Reason::runqueue));
    r.summary = printf_string(
        "CPU-bound: on CPU %d%%%s of busy thread time using %.2f cores of %d; more threads "
        "won't help%s, %d processes use the %.2f cores available to it",
        pct(at(b, Reason::on_cpu)),
        queue > 0 ? printf_string(" (run queue %d%%)", queue).c_str() : "",
        non_negative(v.cpu_cores_used), cores, python ? " under the GIL" : "", r.workers,
        available);
    r.evidence.push_back(available_cores_text(v, w));
    add_process_risks(w, r.workers, r);
    if (!python) {
      r.risks.push_back("native code that is thread-safe could instead use one thread per core");
    }
  }
}

void recommend_cpu_parallel(const Verdict& v, const WorkloadWindow& w, int cores,
                            Recommendation& r) {
  const bool python = w.runtime.kind == "python";
  r.workers = cores;
  if (w.processes <= 1) {
    r.model = Model::threads;
    r.summary = printf_string(
        "CPU-parallel: %d threads keep %.2f cores of %d busy in one process%s; threads "
        "are fine, size them to the cores",
        w.busy_threads_max > 0 ? w.busy_threads_max : w.threads, non_negative(v.cpu_cores_used),
        cores, python ? " (native code running outside the GIL)" : "");
    if (python) {
      add_gil_evidence(w, r);
      r.risks.push_back("pure-Python code added to these threads would serialise on the GIL");
    }
    if (non_negative(v.cpu_cores_used) >= 0.9 * cores) {
      r.risks.push_back(printf_string(
          "the workload already uses %.2f of %d cores: more threads only queue; beyond "
          "this, scale out",
          non_negative(v.cpu_cores_used), cores));
    }
  } else {
    r.model = Model::processes;
    r.summary = printf_string(
        "CPU-parallel across %d processes using %.2f cores of %d; processes already run "
        "in parallel, keep one per core",
        w.processes, non_negative(v.cpu_cores_used), cores);
    add_process_risks(w, r.workers, r);
  }
}

void recommend_io_network(const Verdict& v, const WorkloadWindow& w,
                          std::span<const WindowResult> history, Recommendation& r) {
  const auto& b = v.busy_shares;
  bool loop = w.event_loop || w.established_connections >= kAsyncioConnections;
  r.model = loop ? Model::asyncio : Model::threads;
  const IoDemand demand = io_demand(v, w, io_cores(v, w, r.model));
  r.workers = demand.workers;
  std::optional<CapacitySignal> capacity;
  if (!v.dependencies.empty()) capacity = dependency_capacity(history, v.dependencies.front().name);
  std::string what = "the network";
  std::string latency;
  if (!v.dependencies.empty()) {
    const auto& top = v.dependencies.front();
    what = top.name;
    latency = latency_text(top.latency);
  }
  // The network and local processes (ipc) apart, as the evidence's busy line has them.
  const int net = pct(at(b, Reason::net));
  const int ipc = pct(at(b, Reason::ipc));
  std::string waits =
      printf_string("%d%% of busy thread time waits on %s%s", net, what.c_str(), latency.c_str());
  if (net == 0) {
    waits = printf_string("%d%% of busy thread time waits on local processes (ipc)", ipc);
  } else if (ipc > 0) {
    waits += printf_string(" and %d%% on local processes (ipc)", ipc);
  }
  r.summary =
      printf_string("I/O-bound: %s; %s overlap the waits", waits.c_str(),
                    loop ? "asyncio (already an event loop) or threads" : "threads or asyncio");
  for (const auto& d : v.dependencies) {
    r.evidence.push_back(printf_string("waits on %s %s: %d%% of all thread time%s", d.name.c_str(),
                                       d.endpoint.c_str(), pct(d.wait_share),
                                       latency_text(d.latency).c_str()));
  }
  if (w.established_connections > 0) {
    r.evidence.push_back(printf_string("%d established TCP connections%s",
                                       w.established_connections,
                                       w.event_loop ? "; an event loop waits in epoll" : ""));
  }
  r.evidence.push_back(io_demand_text(demand));
  if (capacity && capacity->rising) {
    // Beyond the most concurrency seen, the rise says more workers would queue at the
    // dependency: the count is not extrapolated past it.
    const int bound =
        std::max(thresholds::kMinIoWorkers, static_cast<int>(std::ceil(capacity->high_in_flight)));
    if (r.workers > bound) {
      r.evidence.push_back(printf_string(
          "workers held at %d (from %d): the most concurrency the dependency was seen to take",
          bound, r.workers));
      r.workers = bound;
    }
    r.evidence.push_back(capacity_text(*capacity));
    r.risks.push_back(capacity_text(*capacity) +
                      ": it queues under more load, so more workers would wait at it — fix or "
                      "scale the dependency");
  } else {
    if (capacity) {
      r.evidence.push_back(
          capacity_text(*capacity) +
          printf_string(": capacity to spare up to %.1f", capacity->high_in_flight));
    }
    r.risks.push_back(
        "more concurrency moves load to the dependency: check its capacity and connection "
        "limits; if its latency is the problem, fix the dependency");
  }
  add_gil_risk(v, w, r);
}

void recommend_io_disk(const Verdict& v, const WorkloadWindow& w, Recommendation& r) {
  const auto& b = v.busy_shares;
  r.model = Model::threads;
  const IoDemand demand = io_demand(v, w, io_cores(v, w, r.model));
  r.workers = demand.workers;
  r.evidence.push_back(io_demand_text(demand));
  r.summary = printf_string(
      "disk-bound: %d%% of busy thread time waits on file or block I/O; threads overlap "
      "the waits until the device saturates",
      pct(at(b, Reason::disk)));
  r.risks.push_back(
      "the device may be the limit (check its utilisation); fsync-heavy writers gain "
      "little from concurrency");
  add_disk_evidence(w, r);
  add_gil_risk(v, w, r);
}

void recommend_lock_contended(const Verdict& v, Recommendation& r) {
  const auto& b = v.busy_shares;
  r.model = Model::none;
  r.summary = printf_string(
      "lock-bound: %d%% of busy thread time waits on locks; more workers add contention, "
      "shorten or split the critical section",
      pct(at(b, Reason::lock)));
  r.risks.push_back("processes would only help if the shared state can be partitioned");
}

void recommend_mixed(const Verdict& v, Recommendation& r) {
  r.model = Model::none;
  r.summary = "mixed: no single reason holds a majority of busy thread time; " +
              (v.rationale.empty() ? std::string("see the shares") : v.rationale.back());
}

}  // namespace

Recommendation recommend(const Verdict& v, const WorkloadWindow& w, const DecisionInputs& inputs) {
  const Prices& prices = inputs.prices;
  Recommendation r;
  const int cores = std::max(1, w.node.cores);
  switch (v.bottleneck) {
    case Bottleneck::idle:
      recommend_idle(v, r);
      break;
    case Bottleneck::cpu_saturated:
      recommend_cpu_saturated(v, w, cores, r);
      break;
    case Bottleneck::memory_bound:
      recommend_memory_bound(v, w, r);
      break;
    case Bottleneck::gil_contended:
      recommend_gil_contended(v, w, cores, r);
      break;
    case Bottleneck::cpu_bound:
      recommend_cpu_bound(v, w, cores, r);
      break;
    case Bottleneck::cpu_parallel:
      recommend_cpu_parallel(v, w, cores, r);
      break;
    case Bottleneck::io_network:
      recommend_io_network(v, w, inputs.history, r);
      break;
    case Bottleneck::io_disk:
      recommend_io_disk(v, w, r);
      break;
    case Bottleneck::lock_contended:
      recommend_lock_contended(v, r);
      break;
    case Bottleneck::mixed:
      recommend_mixed(v, r);
      break;
  }
  add_common_evidence(v, w, r);
  for (const auto& why : v.rationale) r.evidence.push_back("decision: " + why);
  r.options = score_options(v, w, r.model, r.workers, prices);
  if (prices.set()) r.currency = prices.currency;
  if (!inputs.objective.empty()) {
    r.objective = inputs.objective;
    r.objective_status = measure_objective(inputs.objective, v, w);
    align_with_objective(r, v, w);
  }
  r.steps = decision_steps(v, w, r, prices);
  return r;
}

}  // namespace boundwise
