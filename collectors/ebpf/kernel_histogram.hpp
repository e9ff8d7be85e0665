// A latency histogram as a BPF tool keeps it in the kernel (latency_slots.h slots of
// cumulative counts and a sum in ns, summed over CPUs), and the window delta of two
// reads of it as the classifier's LatencyHistogram. Pure; header-only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "classifier/histogram.hpp"
#include "collectors/counter_delta.hpp"
#include "collectors/ebpf/latency_slots.h"

namespace boundwise::ebpf {

static_assert(BW_LATENCY_SLOTS == kLatencySlots, "latency_slots.h and histogram.hpp disagree");

using LatencySlots = std::array<std::uint64_t, kLatencySlots>;

struct KernelHistogram {
  LatencySlots slots{};
  std::uint64_t sum_ns = 0;

  // Adds one CPU's copy of a map value with the same layout (slots[], sum_ns).
  template <typename Value>
  void add(const Value& v) {
    for (std::size_t i = 0; i < kLatencySlots; ++i) slots[i] += v.slots[i];
    sum_ns += v.sum_ns;
  }
  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (auto c : slots) n += c;
    return n;
  }
};

// (now − before) of cumulative slots and sum in ns as a window's histogram;
// std::nullopt when any counter went backwards (the map entry was recreated: a workload
// id reused, an entry zeroed), by the rule of collectors/counter_delta.hpp. The caller
// keeps `now` as its baseline either way.
inline std::optional<LatencyHistogram> histogram_delta(const LatencySlots& now,
                                                       const LatencySlots& before,
                                                       std::uint64_t now_sum_ns,
                                                       std::uint64_t before_sum_ns) {
  auto slots = counter_delta(now, before);
  auto sum_ns = counter_delta(now_sum_ns, before_sum_ns);
  if (!slots || !sum_ns) return std::nullopt;
  LatencyHistogram out;
  out.slots.assign(slots->begin(), slots->end());
  out.sum_seconds = static_cast<double>(*sum_ns) / 1e9;
  return out;
}

inline std::optional<LatencyHistogram> window_delta(const KernelHistogram& now,
                                                    const KernelHistogram& before) {
  return histogram_delta(now.slots, before.slots, now.sum_ns, before.sum_ns);
}

}  // namespace boundwise::ebpf
