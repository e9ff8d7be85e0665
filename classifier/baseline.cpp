// Baselines and their comparison (baseline.hpp).
#include "classifier/baseline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "classifier/numbers.hpp"
#include "classifier/text.hpp"

namespace boundwise {

namespace {

// A running mean of an optional figure: over the windows that have it.
struct OptionalMean {
  double sum = 0;
  int n = 0;
  void add(const std::optional<double>& v) {
    if (v) {
      sum += non_negative(*v);
      ++n;
    }
  }
  std::optional<double> mean() const {
    return n > 0 ? std::optional<double>(sum / n) : std::nullopt;
  }
};

std::optional<double> relative_change(const std::optional<double>& before,
                                      const std::optional<double>& after) {
  if (!before || !after || *before <= 0) return std::nullopt;
  return *after / *before - 1.0;
}

std::string percent(double change) { return printf_string("%+.0f %%", change * 100.0); }

std::string throughput_text(double per_second, ThroughputBasis basis) {
  switch (basis) {
    case ThroughputBasis::inbound_requests:
      return printf_string("%.1f requests/s", per_second);
    case ThroughputBasis::dependency_requests:
      return printf_string("%.1f dependency requests/s", per_second);
    case ThroughputBasis::cpu_seconds:
      return printf_string("%.2f CPU-seconds/s", per_second);
  }
  return "";
}

std::string milliseconds(double seconds) { return printf_string("%.0f ms", seconds * 1000.0); }

std::string signed_mib(double bytes) {
  const std::string size = mib(static_cast<std::uint64_t>(std::fabs(bytes)));
  return (bytes < 0 ? "-" : "+") + size;
}

}  // namespace

std::optional<Baseline> make_baseline(std::string workload, std::string name,
                                      std::span<const WindowResult> history, int windows,
                                      double now_seconds, std::string currency) {
  if (history.empty() || windows < 1) return std::nullopt;
  const std::size_t n = std::min(history.size(), static_cast<std::size_t>(windows));
  const auto used = history.subspan(history.size() - n);
  const WindowResult& last = used.back();

  Baseline b;
  b.workload = std::move(workload);
  b.name = std::move(name);
  b.created_seconds = now_seconds;
  b.windows = static_cast<int>(n);
  b.first_window_end_seconds = used.front().end_seconds;
  b.last_window_end_seconds = last.end_seconds;
  b.bottleneck = last.bottleneck;
  b.model = last.model;
  b.currency = std::move(currency);

  WindowFigures& f = b.figures;
  f.basis = last.figures.basis;
  f.model_in_use = last.figures.model_in_use;
  f.processes = last.figures.processes;
  f.threads = last.figures.threads;
  f.dependency = last.figures.dependency;
  OptionalMean throughput;
  OptionalMean p50;
  OptionalMean p95;
  OptionalMean p99;
  OptionalMean cost;
  OptionalMean dependency_in_flight;
  OptionalMean dependency_p95;
  double cores = 0;
  double busy = 0;
  double memory = 0;
  double per_process = 0;
  for (const WindowResult& w : used) {
    const WindowFigures& x = w.figures;
    if (x.basis == f.basis) throughput.add(x.throughput_per_second);
    p50.add(x.p50_seconds);
    p95.add(x.p95_seconds);
    p99.add(x.p99_seconds);
    cost.add(x.cost_per_month);
    if (!f.dependency.empty() && x.dependency == f.dependency) {
      dependency_in_flight.add(x.dependency_in_flight);
      dependency_p95.add(x.dependency_p95_seconds);
    }
    cores += non_negative(x.cpu_cores_used);
    busy += non_negative(x.node_busy_ratio);
    memory += static_cast<double>(x.memory_bytes);
    per_process += static_cast<double>(x.memory_per_process_bytes);
  }
  const double count = static_cast<double>(n);
  f.throughput_per_second = throughput.mean().value_or(0);
  f.p50_seconds = p50.mean();
  f.p95_seconds = p95.mean();
  f.p99_seconds = p99.mean();
  f.cost_per_month = cost.mean();
  f.dependency_in_flight = dependency_in_flight.mean().value_or(0);
  f.dependency_p95_seconds = dependency_p95.mean();
  f.cpu_cores_used = cores / count;
  f.node_busy_ratio = busy / count;
  f.memory_bytes = static_cast<std::uint64_t>(std::llround(memory / count));
  f.memory_per_process_bytes = static_cast<std::uint64_t>(std::llround(per_process / count));
  return b;
}

Comparison compare(const Baseline& before, const Baseline& after,
                   std::optional<bool> objective_met) {
  const WindowFigures& b = before.figures;
  const WindowFigures& a = after.figures;
  Comparison c;
  if (a.basis == b.basis) {
    c.throughput_change = relative_change(b.throughput_per_second, a.throughput_per_second);
  }
  c.p95_change = relative_change(b.p95_seconds, a.p95_seconds);
  c.p99_change = relative_change(b.p99_seconds, a.p99_seconds);
  c.cpu_cores_change = a.cpu_cores_used - b.cpu_cores_used;
  c.memory_change_bytes = static_cast<double>(a.memory_bytes) - static_cast<double>(b.memory_bytes);
  if (a.cost_per_month && b.cost_per_month) {
    c.cost_change_per_month = *a.cost_per_month - *b.cost_per_month;
  }

  const bool throughput_up = c.throughput_change && *c.throughput_change >= kNoticeableChange;
  const bool throughput_down = c.throughput_change && *c.throughput_change <= -kNoticeableChange;
  const bool latency_down = c.p95_change && *c.p95_change <= -kNoticeableChange;
  const bool latency_up = c.p95_change && *c.p95_change >= kNoticeableChange;
  const bool better = throughput_up || latency_down;
  const bool worse = throughput_down || latency_up;
  if (!c.throughput_change && !c.p95_change) {
    c.verdict = "not_comparable";
  } else if (better && worse) {
    c.verdict = "mixed";
  } else if (better) {
    c.verdict = "improved";
  } else if (worse) {
    c.verdict = "regressed";
  } else {
    c.verdict = "unchanged";
  }

  std::string s = c.verdict == "not_comparable" ? "not comparable" : c.verdict;
  s += ": " + (a.model_in_use.empty() ? std::string("model unknown") : a.model_in_use);
  if (a.model_in_use != b.model_in_use) s += " (was " + b.model_in_use + ")";
  s += printf_string(" since baseline \"%s\"; ", before.name.c_str());
  if (c.throughput_change) {
    s += "throughput " + percent(*c.throughput_change) + " (" +
         throughput_text(b.throughput_per_second, b.basis) + " → " +
         throughput_text(a.throughput_per_second, a.basis) + ")";
  } else if (a.basis != b.basis) {
    s += "throughput measured differently (" + std::string(to_string(b.basis)) + " before, " +
         std::string(to_string(a.basis)) + " now)";
  } else {
    s += "no throughput before";
  }
  if (c.p95_change) {
    s += ", p95 " + percent(*c.p95_change) + " (" + milliseconds(*b.p95_seconds) + " → " +
         milliseconds(*a.p95_seconds) + ")";
  }
  s += printf_string(", %.2f → %.2f cores", b.cpu_cores_used, a.cpu_cores_used);
  s += ", memory " + signed_mib(c.memory_change_bytes) + " (" + mib(a.memory_bytes) + " now)";
  if (c.cost_change_per_month) {
    s += printf_string(", cost %+.2f %s/month", *c.cost_change_per_month, after.currency.c_str());
  }
  if (objective_met) s += *objective_met ? "; objective met" : "; objective missed";
  c.summary = std::move(s);
  return c;
}

}  // namespace boundwise
