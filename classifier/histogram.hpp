// Latency histograms with the slot layout of the eBPF collector
// (collectors/ebpf/latency_slots.h): log-linear over microseconds, one slot per µs
// below 8 µs, then eight slots per power of two (each at most 12.5 % wide). The
// kernel fills them; the procfs collector's intervals can be added to them too; the
// publisher reads them as cumulative Prometheus buckets and the classifier reads
// quantiles from them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace boundwise {

struct LatencyQuantiles;

inline constexpr std::size_t kLatencySlots = 208;

// The slot of a latency in nanoseconds (identical to bw_latency_slot() in BPF).
std::size_t latency_slot(std::uint64_t ns);
// Lower bound of a slot in seconds; slot_lower_seconds(kLatencySlots) is the upper
// bound of the last slot.
double slot_lower_seconds(std::size_t slot);

struct LatencyHistogram {
  std::vector<std::uint64_t> slots = std::vector<std::uint64_t>(kLatencySlots, 0);
  double sum_seconds = 0;

  bool operator==(const LatencyHistogram&) const = default;
  std::uint64_t count() const;
  void add(double seconds);  // negative or non-finite values are ignored
  void merge(const LatencyHistogram& other);
  // Events at or below `bound_seconds`, counting a slot only when it lies wholly at or
  // below the bound: exact for bounds on slot edges (powers of two in µs, and the
  // 1.5x points from 8 µs up).
  std::uint64_t count_at_or_below(double bound_seconds) const;
};

// Quantile q in (0,1] by nearest rank, interpolated linearly inside the slot;
// nullopt when empty.
std::optional<double> histogram_quantile(const LatencyHistogram& h, double q);

// p50/p95/p99 of a histogram; nullopt when empty.
std::optional<LatencyQuantiles> histogram_quantiles(const LatencyHistogram& h);

}  // namespace boundwise
