// Window helpers: quantiles and the derived fields finalize_window() fills.
#include "classifier/window.hpp"

#include <algorithm>
#include <cmath>

namespace boundwise {

std::optional<LatencyQuantiles> quantiles_of(std::vector<double> samples) {
  samples.erase(std::remove_if(samples.begin(), samples.end(),
                               [](double v) { return !std::isfinite(v) || v < 0; }),
                samples.end());
  if (samples.empty()) return std::nullopt;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    // Nearest rank: the smallest value with at least q of the samples at or below it.
    auto n = static_cast<double>(samples.size());
    auto index = static_cast<std::size_t>(std::ceil(q * n));
    return samples[std::clamp<std::size_t>(index, 1, samples.size()) - 1];
  };
  return LatencyQuantiles{rank(0.50), rank(0.95), rank(0.99)};
}

double WorkloadWindow::total_thread_seconds() const {
  double total = 0;
  for (double s : thread_seconds) total += s;
  return total;
}

void finalize_window(WorkloadWindow& w) {
  for (auto& d : w.dependencies) {
    if (d.latency) continue;
    d.latency = d.request_latency ? histogram_quantiles(*d.request_latency)
                                  : quantiles_of(d.blocked_intervals_seconds);
  }
}

double native_cpu_seconds(const WorkloadWindow& w) {
  if (!w.gil.measured) return 0;
  return std::max(0.0, w.cpu_seconds - w.gil.held_seconds);
}

std::string current_model(const WorkloadWindow& w) {
  const int workers =
      w.runtime.kind == "python" ? w.runtime.worker_processes : std::max(0, w.processes - 1);
  // The workload-wide event_loop flag does not say which process polls (the
  // forkserver and gunicorn's master do too): uvicorn's workers are event loops.
  if (workers >= 1) {
    return w.runtime.max_worker_threads > 1 || w.runtime.server == "uvicorn" ? "mixed"
                                                                             : "processes";
  }
  if (w.event_loop) return "asyncio";
  if (w.threads > 1) return "threads";
  return "single";
}

}  // namespace boundwise
