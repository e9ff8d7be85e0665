// Option scoring (options.hpp): each model's projected speed-up, cores, memory, money
// and risks, by the formulas of docs/CLASSIFIER.md ("Options").
#include "classifier/options.hpp"

#include <algorithm>
#include <cmath>

#include "classifier/classify.hpp"
#include "classifier/histogram.hpp"
#include "classifier/numbers.hpp"
#include "classifier/objective.hpp"
#include "classifier/sizing.hpp"
#include "classifier/text.hpp"

namespace boundwise {

namespace {

// The work below this many cores is not worth projecting from: speed-ups are ratios
// over it, and a hundredth of a core is housekeeping.
constexpr double kMinCoresUsed = 0.01;
// A free-threaded CPython runs single-threaded code slower than the default build:
// ~40 % on 3.13 (the figure the 3.13 release notes give for the experimental build).
constexpr double kFreeThreadedOverhead = 0.4;

double at(const PerReason<double>& p, Reason r) { return p[index_of(r)]; }

// How a workload's throughput responds to a model: CPU work follows cores (Amdahl),
// I/O work follows concurrency (Little), and where neither is the limit (idle, a lock,
// memory) no local model changes it.
enum class Regime { cpu, concurrency, fixed };

Regime regime_of(Bottleneck b) {
  switch (b) {
    case Bottleneck::cpu_bound:
    case Bottleneck::gil_contended:
    case Bottleneck::cpu_parallel:
    case Bottleneck::cpu_saturated:
      return Regime::cpu;
    case Bottleneck::io_network:
    case Bottleneck::io_disk:
    case Bottleneck::mixed:
      return Regime::concurrency;
    case Bottleneck::lock_contended:
    case Bottleneck::memory_bound:
    case Bottleneck::idle:
      return Regime::fixed;
  }
  return Regime::fixed;
}

// What the projections are computed from, once per workload.
struct Inputs {
  double cores_now = 0;  // cores used now (at least kMinCoresUsed)
  double available = 0;  // cores available to it (sizing::available_cores)
  bool python = false;
  bool gil = false;  // Python threads share one GIL (not a free-threaded build)
  // Share of the CPU work that holds the GIL (Amdahl's serial fraction for threads).
  double gil_serial = 0;
  std::string gil_serial_basis;
  std::uint64_t memory_total = 0;  // PSS, else RSS, over all its processes
  std::uint64_t memory_per_process = 0;
  std::uint64_t memory_per_added_process = 0;  // sizing::memory_per_added_process
  int processes_now = 1;
  int workers_now = 0;
};

Inputs inputs_of(const Verdict& v, const WorkloadWindow& w) {
  Inputs in;
  in.cores_now = std::max(non_negative(v.cpu_cores_used), kMinCoresUsed);
  in.available = std::max(available_cores(v, w), in.cores_now);
  in.python = w.runtime.kind == "python";
  in.gil = in.python && !w.runtime.free_threaded;
  if (in.gil && w.gil.measured && non_negative(w.cpu_seconds) > 0) {
    in.gil_serial = std::clamp(non_negative(w.gil.held_seconds) / w.cpu_seconds, 0.0, 1.0);
    in.gil_serial_basis = printf_string("GIL held for %.0f%% of the CPU time (read from memory)",
                                        in.gil_serial * 100);
  } else if (in.gil) {
    // At most one core's worth of the work holds the GIL at a time.
    in.gil_serial = std::min(1.0, 1.0 / std::max(1.0, in.cores_now));
    in.gil_serial_basis =
        printf_string("GIL not read: assumed held by all the CPU work up to one core (serial %.2f)",
                      in.gil_serial);
  }
  in.memory_total = workload_memory_bytes(w);
  in.memory_per_process = memory_per_process(w);
  in.memory_per_added_process = memory_per_added_process(w);
  in.processes_now =
      std::max(1, w.memory.processes_measured > 0 ? w.memory.processes_measured : w.processes);
  return in;
}

// The cores each model keeps busy with Python or native work.
double model_cores(Model m, const Inputs& in) {
  switch (m) {
    case Model::asyncio:
      return 1;
    case Model::threads:
      return in.gil ? 1 : in.available;
    case Model::none:
    case Model::processes:
    case Model::free_threaded:
    case Model::scale_out:
      return in.available;
  }
  return in.available;
}

// CPU-bound work: throughput is the cores the model can keep busy with it.
void project_cpu(OptionScore& o, const WorkloadWindow& w, const Inputs& in) {
  const double n = in.available;
  switch (o.model) {
    case Model::none:
      o.basis = printf_string("the model in use: %.2f cores", in.cores_now);
      return;
    case Model::threads: {
      // Threads in one process already run: their projection is never below now.
      const std::string model_now = current_model(w);
      const double at_least = model_now == "threads" || model_now == "single" ? in.cores_now : 0;
      if (in.gil) {
        const double cores = std::min(n, std::max(at_least, amdahl(in.gil_serial, n)));
        o.speedup = cores / in.cores_now;
        o.basis = printf_string(
            "Amdahl over %.2f available cores with serial share %.2f (%s): %.2f cores / %.2f now",
            n, in.gil_serial, in.gil_serial_basis.c_str(), cores, in.cores_now);
      } else {
        // Native threads parallelise what the code already runs in parallel: one busy
        // thread at a time means the work is serial until the code changes.
        const double serial = w.busy_threads_max <= 1 ? 1.0 : 1.0 / w.busy_threads_max;
        const double cores = std::min(n, std::max(at_least, amdahl(serial, n)));
        o.speedup = cores / in.cores_now;
        o.basis = printf_string(
            "Amdahl over %.2f available cores with serial share %.2f (%d threads seen on "
            "CPU at once): %.2f cores / %.2f now",
            n, serial, std::max(1, w.busy_threads_max), cores, in.cores_now);
      }
      o.workers = std::max(1, static_cast<int>(std::floor(n + 0.05)));
      return;
    }
    case Model::processes:
      o.workers = std::max(1, static_cast<int>(std::floor(n + 0.05)));
      o.speedup = std::min(static_cast<double>(o.workers), n) / in.cores_now;
      o.basis =
          printf_string("processes share nothing: %d worker(s) on %.2f available cores / %.2f now",
                        o.workers, n, in.cores_now);
      return;
    case Model::asyncio:
      o.workers = 1;
      o.speedup = std::min(1.0, n) / in.cores_now;
      o.basis = printf_string("one event-loop thread: at most 1 core / %.2f now", in.cores_now);
      return;
    case Model::free_threaded: {
      const double overhead = w.runtime.free_threaded ? 0.0 : kFreeThreadedOverhead;
      o.workers = std::max(1, static_cast<int>(std::floor(n + 0.05)));
      o.speedup = n / (1 + overhead) / in.cores_now;
      o.basis = printf_string(
          "threads without a GIL on %.2f available cores, %.0f%% single-thread cost: %.2f "
          "cores' worth / %.2f now",
          n, overhead * 100, n / (1 + overhead), in.cores_now);
      return;
    }
    case Model::scale_out:
      o.workers = 2;
      o.speedup = 2;
      o.basis = "a second replica on another node with the same share of its cores: 2 × now";
      return;
  }
}

// Concurrency-bound work: throughput is the requests in flight the model sustains
// over the time each takes (Little's law), capped where its CPU fills its cores, and
// by the demand itself when the workers are not saturated.
void project_concurrency(OptionScore& o, const Verdict& v, const WorkloadWindow& w,
                         const Inputs& in) {
  const IoDemand now = io_demand(v, w, model_cores(Model::none, in));
  // Throughput now is what was served; with a backlog the demand (in_flight) is more.
  const double in_flight = std::max(now.served_in_flight, kMinCoresUsed);
  if (o.model == Model::none) {
    o.workers = now.workers_now;
    o.basis = now.backlog ? printf_string(
                                "the model in use: %.1f in flight served of a demand "
                                "of %.1f (the rest queues for accept())",
                                now.served_in_flight, now.in_flight)
                          : printf_string("the model in use: %.1f in flight", now.in_flight);
    return;
  }
  if (o.model == Model::scale_out) {
    o.workers = 2;
    o.speedup = now.saturated ? 2 : 1;
    if (now.backlog) o.speedup = std::min(2.0, now.in_flight / in_flight);
    o.basis = now.saturated
                  ? "a second replica on another node: 2 × the concurrency of saturated workers"
                  : printf_string(
                        "the workers are %.0f%% busy: the demand, not capacity, sets "
                        "throughput; a second replica adds none",
                        now.utilisation * 100);
    return;
  }
  const double cores = model_cores(o.model, in);
  const IoDemand d = io_demand(v, w, cores);
  o.workers = d.workers;
  const double sustained =
      std::min(static_cast<double>(d.workers), cpu_sustained_concurrency(d, cores));
  // Unsaturated workers already serve all the demand: more only absorb bursts. With a
  // backlog the demand is known (what arrived): no model serves more than that.
  double served =
      now.saturated || now.workers_now == 0 ? sustained : std::min(sustained, in_flight);
  if (now.backlog) served = std::min(sustained, now.in_flight);
  o.speedup = served / in_flight;
  if (o.model == Model::free_threaded && !w.runtime.free_threaded) {
    o.speedup /= 1 + kFreeThreadedOverhead * d.cpu_share;
  }
  o.basis = printf_string(
      "Little's law: %d workers sustain %.1f in flight (computing %.0f%% of the time on %.2f "
      "cores) against %.1f now%s",
      d.workers, sustained, d.cpu_share * 100, cores, now.served_in_flight,
      now.backlog ? printf_string(", for a demand of %.1f", now.in_flight).c_str()
      : now.saturated || now.workers_now == 0 ? ""
                                              : ", and the demand is met already");
}

void project_fixed(OptionScore& o, const Verdict& v) {
  o.workers = o.model == Model::scale_out ? 2 : 0;
  if (o.model == Model::scale_out && v.bottleneck != Bottleneck::idle) {
    o.speedup = 2;
    o.basis = "a second replica on another node: 2 × now, if the work can be split";
    return;
  }
  switch (v.bottleneck) {
    case Bottleneck::lock_contended:
      o.basis = printf_string(
          "a lock holds %.0f%% of busy thread time: it, not the model, "
          "sets throughput",
          at(v.busy_shares, Reason::lock) * 100);
      break;
    case Bottleneck::memory_bound:
      o.basis = printf_string(
          "paging holds %.0f%% of busy thread time: more workers need "
          "memory the node does not have",
          at(v.busy_shares, Reason::paging) * 100);
      break;
    default:
      o.basis = "idle: the demand, not the model, sets throughput";
      break;
  }
}

std::uint64_t scaled(std::uint64_t bytes, double factor) {
  return static_cast<std::uint64_t>(static_cast<double>(bytes) * std::max(0.0, factor));
}

void project_resources(OptionScore& o, const Inputs& in) {
  o.cores = in.cores_now * o.speedup;
  switch (o.model) {
    case Model::processes: {
      // Fewer processes than now: their share each; more: what is there now plus what
      // each added one brings of its own.
      const int workers = std::max(1, o.workers);
      o.memory_bytes =
          workers <= in.processes_now
              ? in.memory_per_process * static_cast<std::uint64_t>(workers)
              : in.memory_total + in.memory_per_added_process *
                                      static_cast<std::uint64_t>(workers - in.processes_now);
      break;
    }
    case Model::scale_out:
      o.memory_bytes = scaled(in.memory_total, 2);
      break;
    case Model::none:
    case Model::threads:
    case Model::asyncio:
    case Model::free_threaded:
      o.memory_bytes = in.memory_total;
      break;
  }
}

void add_risks(OptionScore& o, const Verdict& v, const WorkloadWindow& w, const Inputs& in,
               Regime regime) {
  const auto& b = v.busy_shares;
  const bool more_concurrency = regime == Regime::concurrency && o.model != Model::none;
  if (more_concurrency) {
    o.risks.push_back(
        "the dependency must keep its latency at the higher concurrency: watch its p95 "
        "after the change");
  }
  switch (o.model) {
    case Model::none:
      if (o.speedup <= 1.0 && v.bottleneck != Bottleneck::idle) {
        o.risks.push_back(printf_string("the bottleneck (%s) stays",
                                        std::string(to_string(v.bottleneck)).c_str()));
      }
      break;
    case Model::threads:
      if (in.gil) {
        o.risks.push_back(
            printf_string("Python threads share one GIL (%.0f%% of busy time waits for it now)",
                          at(b, Reason::gil) * 100));
      }
      if (at(b, Reason::lock) > 0.05) {
        o.risks.push_back(
            printf_string("locks already hold %.0f%% of busy time", at(b, Reason::lock) * 100));
      }
      break;
    case Model::processes:
      if (in.memory_per_added_process > 0) {
        o.risks.push_back("memory: " + mib(in.memory_per_added_process) +
                          " per added worker process" +
                          (in.memory_per_added_process < in.memory_per_process
                               ? " (its private memory: forked workers share the rest)"
                               : ""));
      }
      // Only the time waiting on pipes and unix sockets is known: the net tool counts
      // TCP bytes, and nothing counts the bytes over pipes or unix sockets, so the
      // risk says so rather than put a figure on it (docs/CLASSIFIER.md, "Risks").
      if (at(b, Reason::ipc) > 0.05) {
        o.risks.push_back(printf_string(
            "%.0f%% of busy time already waits on pipes and local sockets: payloads crossing "
            "processes are pickled, which costs CPU (their bytes are not measured)",
            at(b, Reason::ipc) * 100));
      } else {
        o.risks.push_back(
            "arguments and results crossing processes are pickled (bytes over pipes and unix "
            "sockets are not measured)");
      }
      if (w.threads > w.processes && w.runtime.start_method != "spawn" &&
          w.runtime.start_method != "forkserver") {
        o.risks.push_back(printf_string(
            "%d threads in %d processes: forking with threads alive can deadlock children; "
            "use forkserver or spawn",
            w.threads, w.processes));
      }
      break;
    case Model::asyncio:
      if (at(b, Reason::on_cpu) + at(b, Reason::gil) > 0.2) {
        o.risks.push_back(printf_string(
            "computing holds %.0f%% of busy time and blocks the event loop while it runs",
            (at(b, Reason::on_cpu) + at(b, Reason::gil)) * 100));
      }
      o.risks.push_back("every blocking call must become an awaitable one (a rewrite)");
      break;
    case Model::free_threaded:
      if (!w.runtime.free_threaded) {
        o.risks.push_back(printf_string(
            "needs a free-threaded build (3.13t or later; this is %s): ~40%% single-thread "
            "cost on 3.13, and every C extension must support it",
            w.runtime.version.empty() ? "an unknown version" : w.runtime.version.c_str()));
      }
      break;
    case Model::scale_out:
      o.risks.push_back("doubles the cost; needs a load balancer and work that can be split");
      break;
  }
}

std::optional<double> money(const OptionScore& o, const Prices& prices) {
  if (!prices.set()) return std::nullopt;
  const double gib = static_cast<double>(o.memory_bytes) / (1024.0 * 1024.0 * 1024.0);
  return (o.cores * prices.cpu_core_hour + gib * prices.memory_gib_hour) * kHoursPerMonth;
}

}  // namespace

std::vector<OptionScore> score_options(const Verdict& v, const WorkloadWindow& w, Model chosen,
                                       int chosen_workers, const Prices& prices) {
  const Inputs in = inputs_of(v, w);
  const Regime regime = regime_of(v.bottleneck);
  std::vector<OptionScore> options;
  for (Model m : {Model::none, Model::threads, Model::processes, Model::asyncio,
                  Model::free_threaded, Model::scale_out}) {
    if (m == Model::free_threaded && !in.python) continue;
    OptionScore o;
    o.model = m;
    switch (regime) {
      case Regime::cpu:
        project_cpu(o, w, in);
        break;
      case Regime::concurrency:
        project_concurrency(o, v, w, in);
        break;
      case Regime::fixed:
        project_fixed(o, v);
        break;
    }
    if (m == chosen && chosen_workers > 0) o.workers = chosen_workers;
    o.speedup = std::isfinite(o.speedup) ? std::max(0.0, o.speedup) : 1.0;
    project_resources(o, in);
    add_risks(o, v, w, in, regime);
    o.cost_per_month = money(o, prices);
    options.push_back(std::move(o));
  }
  return options;
}

namespace {

// An option's latency over the objective's: the service time stays (the dependency's,
// the code's) except where the time waiting for a CPU or the GIL is part of it — a
// saturated or GIL-bound workload — which a faster option divides.
// Where requests wait to be accepted (inbound latency from arrival above the service
// time), an option with more workers than now that serves the whole demand at the
// target utilisation leaves them the service time: the queue is what it removes.
double projected_latency_ratio(const OptionScore& o, const ObjectiveStatus& now, const Verdict& v,
                               const WorkloadWindow& w) {
  const double ratio_now = *now.latency_ratio;
  const bool queues_for_cpu =
      v.bottleneck == Bottleneck::cpu_saturated || v.bottleneck == Bottleneck::gil_contended;
  if (queues_for_cpu && o.speedup > 1) return ratio_now / o.speedup;
  if (now.service_latency_ratio && o.model != Model::none &&
      regime_of(v.bottleneck) == Regime::concurrency) {
    const IoDemand d = io_demand(v, w, 1);
    const double needed = d.in_flight / std::max(d.served_in_flight, kMinCoresUsed);
    const bool more_workers = o.workers > d.workers_now || o.model == Model::scale_out;
    if (more_workers && o.speedup >= needed * 0.999) {
      return std::min(ratio_now, *now.service_latency_ratio);
    }
  }
  return ratio_now;
}

std::optional<bool> meets(const OptionScore& o, const Objective& objective,
                          const ObjectiveStatus& now, const Verdict& v, const WorkloadWindow& w) {
  std::optional<bool> ok;
  if (now.latency_ratio) ok = projected_latency_ratio(o, now, v, w) <= 1.0;
  if (objective.throughput_min_per_second && now.throughput_per_second) {
    ok = ok.value_or(true) &&
         *now.throughput_per_second * o.speedup >= *objective.throughput_min_per_second;
  }
  return ok;
}

// What adopting an option takes: 0 nothing (keep), 1 configuration (more threads,
// processes or replicas), 2 a rewrite to an event loop or a different interpreter build.
int effort(const OptionScore& o, const WorkloadWindow& w) {
  switch (o.model) {
    case Model::none:
      return 0;
    case Model::asyncio:
      return w.event_loop ? 1 : 2;
    case Model::free_threaded:
      return w.runtime.free_threaded ? 1 : 2;
    case Model::threads:
    case Model::processes:
    case Model::scale_out:
      return 1;
  }
  return 1;
}

// Cheaper first: money when priced, else cores, then memory.
bool cheaper(const OptionScore& a, const OptionScore& b) {
  if (a.cost_per_month && b.cost_per_month && *a.cost_per_month != *b.cost_per_month) {
    return *a.cost_per_month < *b.cost_per_month;
  }
  if (a.cores != b.cores) return a.cores < b.cores;
  return a.memory_bytes < b.memory_bytes;
}

std::string objective_text(const Objective& o) {
  std::string text;
  auto add = [&text](const std::string& part) { text += (text.empty() ? "" : ", ") + part; };
  if (o.latency_p95_seconds) add(printf_string("p95 ≤ %.3f s", *o.latency_p95_seconds));
  if (o.latency_p99_seconds) add(printf_string("p99 ≤ %.3f s", *o.latency_p99_seconds));
  if (o.throughput_min_per_second) {
    add(printf_string("≥ %.1f requests/s", *o.throughput_min_per_second));
  }
  return text;
}

}  // namespace

void align_with_objective(Recommendation& r, const Verdict& v, const WorkloadWindow& w) {
  if (!r.objective || !r.objective_status || !r.objective_status->met) return;
  const ObjectiveStatus& now = *r.objective_status;
  const OptionScore* table = nullptr;
  for (auto& o : r.options) {
    o.meets_objective = meets(o, *r.objective, now, v, w);
    if (o.model == r.model) table = &o;
  }
  // Among the options that meet it: the least effort, then the cheapest, then the
  // table's own choice.
  auto better = [&](const OptionScore& a, const OptionScore& b) {
    if (effort(a, w) != effort(b, w)) return effort(a, w) < effort(b, w);
    if (cheaper(a, b) != cheaper(b, a)) return cheaper(a, b);
    return &a == table;
  };
  const OptionScore* best = nullptr;
  for (const auto& o : r.options) {
    if (o.meets_objective == true && (best == nullptr || better(o, *best))) best = &o;
  }
  const std::string objective = objective_text(*r.objective);
  std::string clause;
  if (best != nullptr) {
    clause = *now.met ? printf_string("; the objective (%s) is met now", objective.c_str())
                      : printf_string("; the objective (%s) is missed now", objective.c_str());
    clause += printf_string(" and %s is the least change projected to meet it",
                            std::string(option_name(best->model)).c_str());
  } else {
    for (const auto& o : r.options) {
      if (best == nullptr || o.speedup > best->speedup) best = &o;
    }
    if (table != nullptr && best != nullptr && table->speedup >= best->speedup) best = table;
    clause = printf_string("; no option is projected to meet the objective (%s): %s is the fastest",
                           objective.c_str(), std::string(option_name(best->model)).c_str());
  }
  r.summary += clause;
  r.model = best->model;
  r.workers = best->model == Model::none ? 0 : best->workers;
}

namespace {

// The two largest busy shares, e.g. "net 82%, on_cpu 9%".
std::string top_shares(const Verdict& v) {
  std::vector<std::pair<double, Reason>> shares;
  shares.reserve(kAllReasons.size());
  for (Reason r : kAllReasons) shares.emplace_back(at(v.busy_shares, r), r);
  std::sort(shares.begin(), shares.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string text;
  for (std::size_t i = 0; i < 2 && i < shares.size() && shares[i].first > 0; ++i) {
    if (!text.empty()) text += ", ";
    text += printf_string("%s %.0f%%", std::string(to_string(shares[i].second)).c_str(),
                          shares[i].first * 100);
  }
  return text.empty() ? "no busy time" : text;
}

// What a class means for the choice of model (the "interpret" step of `steps`,
// docs/CLASSIFIER.md).
const char* meaning(Bottleneck b) {
  switch (b) {
    case Bottleneck::cpu_bound:
      return "one thread's worth of CPU work: throughput follows cores, not threads";
    case Bottleneck::gil_contended:
      return "threads queue for the GIL: only processes or a free-threaded build run Python "
             "in parallel";
    case Bottleneck::cpu_parallel:
      return "the code already runs on several cores at once: the model in use scales";
    case Bottleneck::io_network:
      return "threads wait on the network while cores idle: throughput follows concurrency";
    case Bottleneck::io_disk:
      return "threads wait on file or block I/O: concurrency helps until the device saturates";
    case Bottleneck::lock_contended:
      return "a lock serialises the threads: more of them add contention";
    case Bottleneck::cpu_saturated:
      return "no CPU is left to this workload: no local model helps";
    case Bottleneck::memory_bound:
      return "the work waits on paging: more workers need memory the node lacks";
    case Bottleneck::idle:
      return "the workload waits for work: the model does not limit it";
    case Bottleneck::mixed:
      return "no reason holds a majority of busy time: throughput follows concurrency";
  }
  return "";
}

}  // namespace

std::vector<std::string> decision_steps(const Verdict& v, const WorkloadWindow& w,
                                        const Recommendation& r, const Prices& prices) {
  std::vector<std::string> steps;
  std::string node;
  if (w.node.cores > 0) {
    node = printf_string(" of the node's %d (busy %.0f%%)", w.node.cores,
                         std::min(non_negative(w.node.cpu_busy_ratio), 1.0) * 100);
  }
  steps.push_back(printf_string("identify: busy thread time is %s; %.2f cores used%s",
                                top_shares(v).c_str(), non_negative(v.cpu_cores_used),
                                node.c_str()));
  steps.push_back(printf_string("interpret: %s — %s", std::string(to_string(v.bottleneck)).c_str(),
                                meaning(v.bottleneck)));
  steps.push_back(printf_string(
      "validate: confidence %.2f from %llu sampling rounds over %.0f s%s; store a baseline "
      "before a change (boundwise baseline %s before) and compare after it (boundwise compare "
      "%s before): throughput and latency should move as projected",
      v.confidence, static_cast<unsigned long long>(w.sample_rounds),
      non_negative(w.duration_seconds),
      w.inbound_latency || w.runqueue_latency ? ", latencies measured by eBPF" : "",
      w.workload.c_str(), w.workload.c_str()));
  const OptionScore* chosen = nullptr;
  const OptionScore* keep = nullptr;
  for (const auto& o : r.options) {
    if (o.model == r.model) chosen = &o;
    if (o.model == Model::none) keep = &o;
  }
  if (chosen == nullptr) return steps;
  const std::string workers =
      chosen->workers > 0 ? printf_string(" with %d workers", chosen->workers) : "";
  std::string align = printf_string("align: %s%s — %.2f× the throughput of now on %.2f cores",
                                    std::string(option_name(chosen->model)).c_str(),
                                    workers.c_str(), chosen->speedup, chosen->cores);
  if (chosen->memory_bytes > 0) align += ", " + mib(chosen->memory_bytes);
  if (chosen->cost_per_month && keep != nullptr && keep->cost_per_month) {
    align += printf_string(", %.2f %s/month (now %.2f)", *chosen->cost_per_month,
                           prices.currency.c_str(), *keep->cost_per_month);
  }
  if (r.objective_status && r.objective_status->met) {
    align += chosen->meets_objective == true ? "; meets the objective" : "; misses the objective";
    if (r.objective_status->latency_ratio) {
      align +=
          printf_string(" (latency now %.2f× the objective, %s)",
                        *r.objective_status->latency_ratio, r.objective_status->source.c_str());
    }
  }
  const OptionScore* fastest = chosen;
  for (const auto& o : r.options) {
    if (o.speedup > fastest->speedup * 1.05) fastest = &o;
  }
  if (fastest != chosen) {
    align += printf_string("; %s projects %.2f× but %s",
                           std::string(option_name(fastest->model)).c_str(), fastest->speedup,
                           fastest->risks.empty() ? "costs more" : fastest->risks.front().c_str());
  }
  steps.push_back(align);
  return steps;
}

}  // namespace boundwise
