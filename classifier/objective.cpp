// Objectives against a window (objective.hpp).
#include "classifier/objective.hpp"

#include <algorithm>

#include "classifier/histogram.hpp"
#include "classifier/numbers.hpp"

namespace boundwise {

namespace {

// The share of requests a p95 (p99) objective allows to be slower.
constexpr double kP95Allowed = 0.05;
constexpr double kP99Allowed = 0.01;

// The share of the events slower than `bound`, over `allowed`.
double budget(const LatencyHistogram& h, double bound, double allowed) {
  const auto n = h.count();
  if (n == 0) return 0;
  const double slower =
      static_cast<double>(n - h.count_at_or_below(bound)) / static_cast<double>(n);
  return slower / allowed;
}

double budget(const std::vector<double>& samples, double bound, double allowed) {
  if (samples.empty()) return 0;
  const auto slower =
      std::count_if(samples.begin(), samples.end(), [bound](double s) { return s > bound; });
  return static_cast<double>(slower) / static_cast<double>(samples.size()) / allowed;
}

}  // namespace

ObjectiveStatus measure_objective(const Objective& objective, const Verdict& v,
                                  const WorkloadWindow& w) {
  ObjectiveStatus s;
  if (objective.empty()) return s;
  const double duration = non_negative(w.duration_seconds);
  const LatencyHistogram* histogram = nullptr;
  const std::vector<double>* samples = nullptr;
  std::optional<LatencyQuantiles> service;
  if (w.inbound_latency && w.inbound_latency->count() > 0) {
    s.source = "inbound";
    histogram = &*w.inbound_latency;
    // From arrival when measured: the client waits while its connection is queued.
    if (w.inbound_total_latency && w.inbound_total_latency->count() > 0) {
      service = histogram_quantiles(*histogram);
      histogram = &*w.inbound_total_latency;
    }
    if (auto q = histogram_quantiles(*histogram)) {
      s.p95_seconds = q->p95;
      s.p99_seconds = q->p99;
    }
    if (duration > 0) s.throughput_per_second = non_negative(w.inbound_requests) / duration;
  } else if (!v.dependencies.empty() && v.dependencies.front().latency) {
    const auto& top = v.dependencies.front();
    s.source = "dependency " + top.name;
    s.p95_seconds = top.latency->p95;
    s.p99_seconds = top.latency->p99;
    if (top.requests_per_second > 0) s.throughput_per_second = top.requests_per_second;
    for (const auto& d : w.dependencies) {
      if (d.name != top.name) continue;
      if (d.request_latency && d.request_latency->count() > 0) {
        histogram = &*d.request_latency;
      } else {
        samples = &d.blocked_intervals_seconds;
      }
    }
  }
  std::optional<bool> met;
  auto judge = [&met](bool ok) { met = met.value_or(true) && ok; };
  auto latency = [&](const std::optional<double>& objective_seconds,
                     const std::optional<double>& current, double allowed) {
    if (!objective_seconds || !current || *objective_seconds <= 0) return;
    const double ratio = non_negative(*current) / *objective_seconds;
    s.latency_ratio = std::max(s.latency_ratio.value_or(0), ratio);
    if (service) {
      const double q = allowed == kP95Allowed ? service->p95 : service->p99;
      s.service_latency_ratio =
          std::max(s.service_latency_ratio.value_or(0), non_negative(q) / *objective_seconds);
    }
    judge(ratio <= 1.0);
    double used = 0;
    if (histogram != nullptr) {
      used = budget(*histogram, *objective_seconds, allowed);
    } else if (samples != nullptr) {
      used = budget(*samples, *objective_seconds, allowed);
    }
    s.budget_used = std::max(s.budget_used.value_or(0), used);
  };
  latency(objective.latency_p95_seconds, s.p95_seconds, kP95Allowed);
  latency(objective.latency_p99_seconds, s.p99_seconds, kP99Allowed);
  if (objective.throughput_min_per_second && s.throughput_per_second) {
    judge(*s.throughput_per_second >= *objective.throughput_min_per_second);
  }
  s.met = met;
  return s;
}

}  // namespace boundwise
