// Slot arithmetic of LatencyHistogram. Keep latency_slot() in step with
// bw_latency_slot() in collectors/ebpf/latency_slots.h (tests/unit/collectors checks).
#include "classifier/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "classifier/window.hpp"

namespace boundwise {

std::size_t latency_slot(std::uint64_t ns) {
  const std::uint64_t us = ns / 1000;
  if (us < 8) return static_cast<std::size_t>(us);
  const auto k = static_cast<unsigned>(std::bit_width(us) - 1);  // floor(log2), >= 3
  const std::size_t slot =
      static_cast<std::size_t>(k - 2) * 8 + static_cast<std::size_t>((us >> (k - 3)) & 7);
  return std::min(slot, kLatencySlots - 1);
}

double slot_lower_seconds(std::size_t slot) {
  if (slot < 8) return static_cast<double>(slot) * 1e-6;
  const std::uint64_t us = (8 + slot % 8) << (slot / 8 - 1);
  return static_cast<double>(us) * 1e-6;
}

std::uint64_t LatencyHistogram::count() const {
  std::uint64_t n = 0;
  for (auto c : slots) n += c;
  return n;
}

void LatencyHistogram::add(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return;
  const double ns = std::min(seconds * 1e9, 1e18);
  slots[latency_slot(static_cast<std::uint64_t>(ns))] += 1;
  sum_seconds += seconds;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kLatencySlots && i < other.slots.size(); ++i) {
    slots[i] += other.slots[i];
  }
  sum_seconds += other.sum_seconds;
}

std::uint64_t LatencyHistogram::count_at_or_below(double bound_seconds) const {
  std::uint64_t n = 0;
  // A slot [lo, hi) is wholly at or below the bound when hi <= bound (with a little
  // slack for the float bound).
  for (std::size_t i = 0; i < kLatencySlots && i < slots.size(); ++i) {
    if (slot_lower_seconds(i + 1) > bound_seconds * (1 + 1e-9)) break;
    n += slots[i];
  }
  return n;
}

std::optional<double> histogram_quantile(const LatencyHistogram& h, double q) {
  const std::uint64_t total = h.count();
  if (total == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < h.slots.size(); ++i) {
    if (h.slots[i] == 0) continue;
    if (seen + h.slots[i] >= rank) {
      // The (rank - seen)-th of the slot's events, spread evenly over the slot.
      const double lo = slot_lower_seconds(i);
      const double hi = slot_lower_seconds(i + 1);
      const double within =
          (static_cast<double>(rank - seen) - 0.5) / static_cast<double>(h.slots[i]);
      return lo + (hi - lo) * within;
    }
    seen += h.slots[i];
  }
  return std::nullopt;
}

std::optional<LatencyQuantiles> histogram_quantiles(const LatencyHistogram& h) {
  auto p50 = histogram_quantile(h, 0.50);
  if (!p50) return std::nullopt;
  return LatencyQuantiles{*p50, *histogram_quantile(h, 0.95), *histogram_quantile(h, 0.99)};
}

}  // namespace boundwise
