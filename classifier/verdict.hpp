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
};

}  // namespace boundwise
