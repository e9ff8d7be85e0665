// A window's figures (figures.hpp).
#include "classifier/figures.hpp"

#include <array>

#include "classifier/histogram.hpp"
#include "classifier/numbers.hpp"
#include "classifier/sizing.hpp"

namespace boundwise {

namespace {

constexpr std::array<std::string_view, 3> kBasisNames = {"inbound_requests", "dependency_requests",
                                                         "cpu_seconds"};

}  // namespace

std::string_view to_string(ThroughputBasis basis) {
  return kBasisNames[static_cast<std::size_t>(basis)];
}

std::optional<ThroughputBasis> throughput_basis_from_string(std::string_view name) {
  for (std::size_t i = 0; i < kBasisNames.size(); ++i) {
    if (kBasisNames[i] == name) return static_cast<ThroughputBasis>(i);
  }
  return std::nullopt;
}

WindowFigures window_figures(const WorkloadWindow& w, const Verdict& v, const Recommendation& r) {
  WindowFigures f;
  const double duration = non_negative(w.duration_seconds);
  std::optional<LatencyQuantiles> latency;
  if (w.inbound_latency && w.inbound_latency->count() > 0 && duration > 0) {
    f.basis = ThroughputBasis::inbound_requests;
    f.throughput_per_second = non_negative(w.inbound_requests) / duration;
    // From arrival when measured, as the objective is judged: what clients wait.
    latency = histogram_quantiles(w.inbound_total_latency && w.inbound_total_latency->count() > 0
                                      ? *w.inbound_total_latency
                                      : *w.inbound_latency);
  } else if (!v.dependencies.empty() && v.dependencies.front().requests_per_second > 0) {
    f.basis = ThroughputBasis::dependency_requests;
    f.throughput_per_second = v.dependencies.front().requests_per_second;
    latency = v.dependencies.front().latency;
  } else {
    f.basis = ThroughputBasis::cpu_seconds;
    f.throughput_per_second = duration > 0 ? non_negative(w.cpu_seconds) / duration : 0;
    if (!v.dependencies.empty()) latency = v.dependencies.front().latency;
  }
  if (latency) {
    f.p50_seconds = latency->p50;
    f.p95_seconds = latency->p95;
    f.p99_seconds = latency->p99;
  }
  f.cpu_cores_used = non_negative(v.cpu_cores_used);
  f.node_busy_ratio = non_negative(w.node.cpu_busy_ratio);
  f.memory_bytes = workload_memory_bytes(w);
  f.memory_per_process_bytes = memory_per_process(w);
  f.processes = w.processes;
  f.threads = w.threads;
  for (const auto& option : r.options) {
    if (option.model == Model::none) f.cost_per_month = option.cost_per_month;
  }
  f.model_in_use = current_model(w);
  if (!v.dependencies.empty() && duration > 0) {
    const DependencyShare& top = v.dependencies.front();
    f.dependency = top.name;
    f.dependency_in_flight = non_negative(top.wait_share) * w.total_thread_seconds() / duration;
    if (top.latency) f.dependency_p95_seconds = top.latency->p95;
  }
  return f;
}

}  // namespace boundwise
