// Before and after (docs/CLASSIFIER.md, "Validation"): a baseline is the mean of a
// workload's last windows' figures (figures.hpp); compare() weighs the one stored
// before a change against the one measured now. Pure: the daemon stores baselines
// (daemon/baselines.hpp) and serves them.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "classifier/figures.hpp"
#include "classifier/stability.hpp"
#include "classifier/verdict.hpp"

namespace boundwise {

// A workload's figures averaged over its last windows.
struct Baseline {
  std::string workload;
  std::string name;
  double created_seconds = 0;  // seconds since the Unix epoch
  int windows = 0;             // averaged over
  double first_window_end_seconds = 0;
  double last_window_end_seconds = 0;
  Bottleneck bottleneck = Bottleneck::idle;  // the last window's class
  Model model = Model::none;                 // the option recommended at the last window
  // Means over the windows (optional figures over the windows that had them); the
  // basis and model in use are the last window's, and only windows measured on that
  // basis count towards the throughput.
  WindowFigures figures;
  std::string currency;  // of figures.cost_per_month

  bool operator==(const Baseline&) const = default;
};

// The mean of the last `windows` entries of `history` (oldest first; fewer if it is
// shorter). nullopt when history is empty or windows < 1.
std::optional<Baseline> make_baseline(std::string workload, std::string name,
                                      std::span<const WindowResult> history, int windows,
                                      double now_seconds, std::string currency);

// A relative change below this is within a window's noise: "no clear change".
inline constexpr double kNoticeableChange = 0.05;

// Before against after.
struct Comparison {
  // after / before − 1; absent when either side lacks the figure, or the two
  // throughputs were measured on different bases.
  std::optional<double> throughput_change{};
  std::optional<double> p95_change{};
  std::optional<double> p99_change{};
  double cpu_cores_change = 0;     // after − before, cores
  double memory_change_bytes = 0;  // after − before (negative: less)
  std::optional<double> cost_change_per_month{};
  // "improved" (faster or more throughput, nothing noticeably worse), "regressed"
  // (something noticeably worse, nothing better), "mixed" (both), "unchanged" (no
  // change over kNoticeableChange), "not_comparable" (no throughput or latency on
  // both sides alike).
  std::string verdict;
  std::string summary;  // one sentence with the numbers, for a person
};

// `objective_met`: whether the workload meets its objective now (nullopt: none).
Comparison compare(const Baseline& before, const Baseline& after,
                   std::optional<bool> objective_met);

}  // namespace boundwise
