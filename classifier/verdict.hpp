// Verdicts and recommendations: what classify() and recommend() produce.
// Both are deterministic functions of a WorkloadWindow (docs/CLASSIFIER.md is the
// decision table).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classifier/reason.hpp"
#include "classifier/window.hpp"

namespace boundwise {

enum class Bottleneck : std::uint8_t {
  cpu_bound,       // one thread's worth of CPU work dominates; more threads won't help
  gil_contended,   // Python threads queue for the GIL
  cpu_parallel,    // several threads on CPU at once (native code releasing the GIL)
  io_network,      // waits on remote dependencies dominate
  io_disk,         // block / file I/O dominates
  lock_contended,  // waits on non-GIL locks dominate
  cpu_saturated,   // the node's CPUs are the limit: run-queue wait is high
  memory_bound,    // paging / memory pressure
  idle,            // nothing to do
  mixed,           // no single reason dominates
};
inline constexpr std::size_t kBottleneckCount = 10;
std::string_view to_string(Bottleneck b);
std::optional<Bottleneck> bottleneck_from_string(std::string_view name);

enum class Model : std::uint8_t { processes, threads, asyncio, free_threaded, scale_out, none };
inline constexpr std::size_t kModelCount = 6;
std::string_view to_string(Model m);
std::optional<Model> model_from_string(std::string_view name);

struct DependencyShare {
  std::string name;
  std::string endpoint;
  double wait_share = 0;  // of all thread time in the window
  std::optional<LatencyQuantiles> latency;
  // "ebpf" when latency is the measured request latency, "procfs" when it is the
  // sampled blocked-wait estimate.
  std::string latency_source = "procfs";
  double requests_per_second = 0;  // ebpf: requests that got a response
};

struct Verdict {
  Bottleneck bottleneck = Bottleneck::idle;
  double confidence = 0;            // [0,1]
  PerReason<double> shares{};       // of all thread time; sums to 1 (or all 0 if no time)
  PerReason<double> busy_shares{};  // of non-idle thread time; sums to 1 (or all 0)
  double cpu_cores_used = 0;
  std::vector<DependencyShare> dependencies;  // by wait_share, descending
  // Short machine-readable justifications, e.g. "net share 0.85 >= 0.5".
  std::vector<std::string> rationale;
};

// A service-level objective (config `slo:` per target; docs/CLASSIFIER.md,
// "Objectives"). Any subset; nothing set means no objective.
struct Objective {
  std::optional<double> latency_p95_seconds{};
  std::optional<double> latency_p99_seconds{};
  std::optional<double> throughput_min_per_second{};

  bool empty() const {
    return !latency_p95_seconds && !latency_p99_seconds && !throughput_min_per_second;
  }
  bool operator==(const Objective&) const = default;
};

struct ObjectiveStatus {
  // What the latency and throughput are of: "inbound" (requests the workload served,
  // eBPF) or "dependency NAME" (a client's top dependency, when it serves nothing
  // measured); empty when neither was measured.
  std::string source{};
  std::optional<double> p95_seconds{};  // current, from `source`
  std::optional<double> p99_seconds{};
  std::optional<double> throughput_per_second{};
  // Current over objective for the latency objectives set (the larger of p95's and
  // p99's); 1 is exactly at the objective.
  std::optional<double> latency_ratio{};
  // Inbound only, when the latency includes the time connections waited to be accepted
  // (all workers busy): the same ratio of the service time alone (first byte of the
  // request → first byte of the response), the latency left once enough workers take
  // every connection at once.
  std::optional<double> service_latency_ratio{};
  // The share of the error budget the window used: requests slower than an objective,
  // over the share allowed (5 % for p95, 1 % for p99); the larger of the two.
  std::optional<double> budget_used{};
  // Whether every objective with a current value is met; nullopt when none has one.
  std::optional<bool> met{};
};

// One concurrency model weighed for a workload (docs/CLASSIFIER.md, "Options"): what it
// would give (speed), take (cores, memory, money) and risk, projected from the window.
struct OptionScore {
  Model model = Model::none;             // none: keep the model in use
  double speedup = 1;                    // projected throughput relative to now
  std::string basis;                     // the formula with this workload's inputs
  int workers = 0;                       // threads, processes, tasks or replicas; 0 = as now
  double cores = 0;                      // projected cores used
  std::uint64_t memory_bytes = 0;        // projected; 0 when unknown
  std::optional<double> cost_per_month;  // with configured prices (Prices)
  std::vector<std::string> risks;
  // Whether it is projected to meet the workload's objective; nullopt without one (or
  // without a measurement to judge it by).
  std::optional<bool> meets_objective;
};

// The name an option is shown by: "keep" for Model::none, else the model's.
std::string_view option_name(Model m);

struct Recommendation {
  Model model = Model::none;  // the chosen option
  int workers =
      0;  // suggested worker count (threads, processes or concurrent tasks); 0 = no change
  std::string summary;                // one sentence with numbers, for a person mid-incident
  std::vector<std::string> evidence;  // sentences with numbers
  std::vector<std::string> risks;
  // Every option side by side, the chosen one (`model`) among them, and the four steps
  // of the decision (identify, interpret, validate, align) as sentences with numbers.
  std::vector<OptionScore> options;
  std::string currency;  // of the options' cost_per_month; empty without prices
  std::vector<std::string> steps;
  // The workload's objective and how the window measured up to it; absent without one.
  std::optional<Objective> objective;
  std::optional<ObjectiveStatus> objective_status;
};

}  // namespace boundwise
