// The options of a decision: every concurrency model weighed side by side for one
// workload — projected speed, cost and risk — and the four steps that lead to the
// chosen one (docs/CLASSIFIER.md, "Options"). Pure: a verdict, its window and the
// configured prices in; OptionScores and sentences out.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "classifier/stability.hpp"
#include "classifier/verdict.hpp"
#include "classifier/window.hpp"

namespace boundwise {

// What a core and a GiB of memory cost per hour (config `cost:`); money is shown only
// when at least one price is set.
struct Prices {
  double cpu_core_hour = 0;
  double memory_gib_hour = 0;
  std::string currency = "USD";

  bool set() const { return cpu_core_hour > 0 || memory_gib_hour > 0; }
  bool operator==(const Prices&) const = default;
};

// What a decision weighs besides the window: prices, the workload's objective, and its
// earlier windows (oldest first; for the dependency's capacity signal, capacity.hpp).
struct DecisionInputs {
  Prices prices{};
  Objective objective{};
  std::span<const WindowResult> history{};
};

// Hours in a month as cloud price lists count them (365 × 24 / 12).
inline constexpr double kHoursPerMonth = 730;

// Every model weighed for this workload: keep (the model in use), threads, processes,
// asyncio, free_threaded (Python only) and scale_out, in that order. `chosen` is the
// decision table's model; its option carries the table's worker count.
std::vector<OptionScore> score_options(const Verdict& v, const WorkloadWindow& w, Model chosen,
                                       int chosen_workers, const Prices& prices);

// With an objective (r.objective_status measured): marks each option's
// meets_objective and re-chooses among those projected to meet it — the least effort
// (keep; then more threads, processes or replicas; then a rewrite to asyncio or a
// free-threaded build), then the cheapest (money, else cores, then memory) — or the
// fastest when none does, saying so in the summary.
void align_with_objective(Recommendation& r, const Verdict& v, const WorkloadWindow& w);

// The four decision steps as sentences with this workload's numbers: identify,
// interpret, validate, align (the last names the chosen option and its projection).
std::vector<std::string> decision_steps(const Verdict& v, const WorkloadWindow& w,
                                        const Recommendation& r, const Prices& prices);

}  // namespace boundwise
