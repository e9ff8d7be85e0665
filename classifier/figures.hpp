// What one window measured of a workload's throughput, latency and resources: the
// figures its history keeps and baselines average (baseline.hpp). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "classifier/verdict.hpp"
#include "classifier/window.hpp"

namespace boundwise {

// What a workload's throughput is measured in, best first: requests it served
// (eBPF), requests to its top dependency (eBPF), else CPU-seconds of work per second.
// Two throughputs compare only when measured the same way.
enum class ThroughputBasis : std::uint8_t { inbound_requests, dependency_requests, cpu_seconds };
std::string_view to_string(ThroughputBasis basis);
std::optional<ThroughputBasis> throughput_basis_from_string(std::string_view name);

// The figures of one window a baseline averages.
struct WindowFigures {
  ThroughputBasis basis = ThroughputBasis::cpu_seconds;
  double throughput_per_second = 0;
  // Latency of the requests served (inbound), else of the top dependency's; absent
  // when neither was measured.
  std::optional<double> p50_seconds{};
  std::optional<double> p95_seconds{};
  std::optional<double> p99_seconds{};
  double cpu_cores_used = 0;
  double node_busy_ratio = 0;
  std::uint64_t memory_bytes = 0;              // the workload's PSS (else RSS)
  std::uint64_t memory_per_process_bytes = 0;  // that over the processes measured
  int processes = 0;
  int threads = 0;
  std::optional<double> cost_per_month{};  // of the resources in use, with prices
  // The top dependency (the one waited on most): its name, how many of the workload's
  // threads waited on it on average (its wait time over the window's length), and its
  // p95 latency — what the dependency's capacity signal (capacity.hpp) reads.
  std::string dependency{};
  double dependency_in_flight = 0;
  std::optional<double> dependency_p95_seconds{};
  std::string model_in_use;  // current_model(): "threads", "processes", …

  bool operator==(const WindowFigures&) const = default;
};

// The window's figures. `r` is the window's own recommendation (its `keep` option
// carries the cost of what is in use).
WindowFigures window_figures(const WorkloadWindow& w, const Verdict& v, const Recommendation& r);

}  // namespace boundwise
