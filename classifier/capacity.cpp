// Dependency capacity from the history (capacity.hpp).
#include "classifier/capacity.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "classifier/text.hpp"

namespace boundwise {

namespace {

double pearson(const std::vector<std::pair<double, double>>& points) {
  const double n = static_cast<double>(points.size());
  double mx = 0;
  double my = 0;
  for (const auto& [x, y] : points) {
    mx += x / n;
    my += y / n;
  }
  double sxy = 0;
  double sxx = 0;
  double syy = 0;
  for (const auto& [x, y] : points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
    syy += (y - my) * (y - my);
  }
  if (sxx <= 0 || syy <= 0) return 0;
  return sxy / std::sqrt(sxx * syy);
}

std::string ms(double seconds) { return printf_string("%.0f ms", seconds * 1000.0); }

}  // namespace

std::optional<CapacitySignal> dependency_capacity(std::span<const WindowResult> history,
                                                  std::string_view dependency) {
  std::vector<std::pair<double, double>> points;  // (in flight, p95)
  for (const WindowResult& w : history) {
    const WindowFigures& f = w.figures;
    if (f.dependency != dependency || !f.dependency_p95_seconds) continue;
    if (!std::isfinite(f.dependency_in_flight) || !std::isfinite(*f.dependency_p95_seconds)) {
      continue;
    }
    points.emplace_back(f.dependency_in_flight, *f.dependency_p95_seconds);
  }
  if (static_cast<int>(points.size()) < capacity::kMinWindows) return std::nullopt;
  std::vector<std::pair<double, double>> sorted = points;
  std::sort(sorted.begin(), sorted.end());
  const auto third = static_cast<std::ptrdiff_t>(sorted.size() / 3);
  auto mean = [](auto first, auto last) {
    double x = 0;
    double y = 0;
    const double n = static_cast<double>(std::distance(first, last));
    for (auto it = first; it != last; ++it) {
      x += it->first / n;
      y += it->second / n;
    }
    return std::make_pair(x, y);
  };
  const auto [low_x, low_y] = mean(sorted.begin(), sorted.begin() + third);
  const auto [high_x, high_y] = mean(sorted.end() - third, sorted.end());
  if (low_x <= 0 || high_x < low_x * capacity::kMinSpread) return std::nullopt;
  CapacitySignal s;
  s.dependency = std::string(dependency);
  s.windows = static_cast<int>(points.size());
  s.low_in_flight = low_x;
  s.high_in_flight = high_x;
  s.low_p95_seconds = low_y;
  s.high_p95_seconds = high_y;
  s.correlation = pearson(points);
  s.rising = low_y > 0 && high_y >= low_y * capacity::kRisingLatency &&
             s.correlation >= capacity::kMinCorrelation;
  return s;
}

std::string capacity_text(const CapacitySignal& s) {
  const std::string range =
      printf_string("threads waiting on it went from %.1f to %.1f (%d windows, correlation %.2f)",
                    s.low_in_flight, s.high_in_flight, s.windows, s.correlation);
  if (s.rising) {
    return s.dependency + "'s p95 rose from " + ms(s.low_p95_seconds) + " to " +
           ms(s.high_p95_seconds) + " as " + range;
  }
  return s.dependency + "'s p95 held (" + ms(s.low_p95_seconds) + " to " + ms(s.high_p95_seconds) +
         ") as " + range;
}

}  // namespace boundwise
