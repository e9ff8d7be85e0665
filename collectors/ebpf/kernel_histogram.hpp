// A latency histogram as a BPF tool keeps it in the kernel (latency_slots.h slots of
// cumulative counts and a sum in ns, summed over CPUs), and the window delta of two
// reads of it as the classifier's LatencyHistogram. Pure; header-only.
#pragma once

#include <array>
#include <cstdint>

#include "classifier/histogram.hpp"
#include "collectors/ebpf/latency_slots.h"

namespace boundwise::ebpf {

static_assert(BW_LATENCY_SLOTS == kLatencySlots, "latency_slots.h and histogram.hpp disagree");

struct KernelHistogram {
  std::array<std::uint64_t, kLatencySlots> slots{};
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

// (now − before) as a window's histogram. If any counter went backwards the map entry
// was recreated (a workload id reused, an entry zeroed): the window gets `now` whole,
// never a negative or wrapped count.
inline LatencyHistogram window_delta(const KernelHistogram& now, const KernelHistogram& before) {
  bool restarted = now.sum_ns < before.sum_ns;
  for (std::size_t i = 0; i < kLatencySlots && !restarted; ++i)
    restarted = now.slots[i] < before.slots[i];
  LatencyHistogram out;
  for (std::size_t i = 0; i < kLatencySlots; ++i)
    out.slots[i] = restarted ? now.slots[i] : now.slots[i] - before.slots[i];
  out.sum_seconds = static_cast<double>(restarted ? now.sum_ns : now.sum_ns - before.sum_ns) / 1e9;
  return out;
}

}  // namespace boundwise::ebpf
