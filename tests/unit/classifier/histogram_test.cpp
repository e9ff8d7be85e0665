// LatencyHistogram: slot edges, Prometheus bucket counts and quantiles.
#include "classifier/histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "classifier/window.hpp"

namespace boundwise {
namespace {

TEST(LatencySlot, LinearBelowEightMicrosecondsThenEightPerOctave) {
  EXPECT_EQ(latency_slot(0), 0u);
  EXPECT_EQ(latency_slot(999), 0u);
  EXPECT_EQ(latency_slot(1000), 1u);
  EXPECT_EQ(latency_slot(7999), 7u);
  EXPECT_EQ(latency_slot(8000), 8u);
  EXPECT_EQ(latency_slot(15999), 15u);
  EXPECT_EQ(latency_slot(16000), 16u);  // 16 µs: next octave, first eighth
  EXPECT_EQ(latency_slot(17999), 16u);  // 16..18 µs share a slot
  EXPECT_EQ(latency_slot(18000), 17u);
  EXPECT_EQ(latency_slot(~0ULL), kLatencySlots - 1);  // clamped
}

TEST(LatencySlot, EveryValueFallsInsideItsSlotsBounds) {
  for (std::uint64_t ns = 1; ns < 400'000'000'000ULL; ns = ns * 3 / 2 + 7) {
    const std::size_t slot = latency_slot(ns);
    const double seconds = static_cast<double>(ns / 1000) * 1e-6;  // slots are whole µs
    EXPECT_LE(slot_lower_seconds(slot), seconds + 1e-12) << ns;
    if (slot + 1 < kLatencySlots) {
      EXPECT_LT(seconds, slot_lower_seconds(slot + 1)) << ns;
    }
  }
  // Slots are contiguous and at most 12.5 % wide above 8 µs.
  for (std::size_t s = 8; s < kLatencySlots; ++s) {
    const double lo = slot_lower_seconds(s);
    const double hi = slot_lower_seconds(s + 1);
    EXPECT_GT(hi, lo);
    EXPECT_LE((hi - lo) / lo, 0.125 + 1e-12) << s;
  }
}

TEST(LatencyHistogram, BucketCountsAreExactOnPowerOfTwoBounds) {
  LatencyHistogram h;
  h.add(0.0009);  // 900 µs
  h.add(0.0011);  // 1.1 ms
  h.add(0.2);
  h.add(0.2);
  h.add(-1);         // ignored
  h.add(0.0 / 0.0);  // NaN: ignored
  EXPECT_EQ(h.count(), 4u);
  EXPECT_NEAR(h.sum_seconds, 0.402, 1e-12);
  EXPECT_EQ(h.count_at_or_below(1024e-6), 1u);    // 2^10 µs
  EXPECT_EQ(h.count_at_or_below(2048e-6), 2u);    // 2^11 µs
  EXPECT_EQ(h.count_at_or_below(131072e-6), 2u);  // 2^17 µs = 131 ms
  EXPECT_EQ(h.count_at_or_below(262144e-6), 4u);  // 2^18 µs = 262 ms
}

// The request-latency buckets of /metrics (daemon/metrics.cpp: 2^e and 1.5 × 2^e µs,
// e = 6..25) are slot edges: a value just below an edge is counted, one at it is not
// counted below the previous edge, so every bucket is exact.
TEST(LatencyHistogram, PowerAndHalfBoundsAreSlotEdges) {
  for (int e = 6; e <= 25; ++e) {
    for (double m : {1.0, 1.5}) {
      const double bound_us = std::ldexp(m, e);
      const auto bound_ns = static_cast<std::uint64_t>(bound_us * 1000);
      EXPECT_DOUBLE_EQ(slot_lower_seconds(latency_slot(bound_ns)), bound_us * 1e-6) << bound_us;
      LatencyHistogram h;
      h.add((bound_us - 1) * 1e-6);  // last µs below the edge
      h.add(bound_us * 1e-6);        // on the edge: the next bucket
      EXPECT_EQ(h.count_at_or_below(bound_us * 1e-6), 1u) << bound_us;
    }
  }
}

TEST(LatencyHistogram, QuantilesAreWithinASlotOfTheTruth) {
  LatencyHistogram h;
  for (int i = 0; i < 95; ++i) h.add(0.2);
  for (int i = 0; i < 5; ++i) h.add(1.0);
  auto q = histogram_quantiles(h);
  ASSERT_TRUE(q);
  EXPECT_NEAR(q->p50, 0.2, 0.2 * 0.07);
  EXPECT_NEAR(q->p95, 0.2, 0.2 * 0.07);
  EXPECT_NEAR(q->p99, 1.0, 1.0 * 0.07);
  EXPECT_FALSE(histogram_quantiles(LatencyHistogram{}));
}

TEST(LatencyHistogram, FinalizeWindowPrefersTheMeasuredHistogram) {
  WorkloadWindow w;
  DependencyWindow d;
  d.blocked_intervals_seconds = {0.05, 0.05};  // the procfs estimate
  d.request_latency = LatencyHistogram{};
  d.request_latency->add(0.1);
  w.dependencies.push_back(d);
  finalize_window(w);
  ASSERT_TRUE(w.dependencies[0].latency);
  EXPECT_NEAR(w.dependencies[0].latency->p50, 0.1, 0.1 * 0.07);
}

}  // namespace
}  // namespace boundwise
