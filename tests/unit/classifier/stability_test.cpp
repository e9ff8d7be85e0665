// Verdict stability (classifier/stability.hpp): the first verdict at once, a change
// only when the new class holds or is judged with a large margin, a bounded history.
#include "classifier/stability.hpp"

#include <gtest/gtest.h>

namespace boundwise {
namespace {

Verdict verdict(Bottleneck b, double confidence) {
  Verdict v;
  v.bottleneck = b;
  v.confidence = confidence;
  v.busy_shares[index_of(Reason::net)] = 0.7;
  v.busy_shares[index_of(Reason::on_cpu)] = 0.3;
  return v;
}

struct Feed {
  VerdictStability s;
  StabilityRule rule;
  double t = 1000;
  Transition operator()(Bottleneck b, double confidence = 0.6) {
    t += 10;
    return s.observe(verdict(b, confidence), Recommendation{}, t, 10, rule);
  }
};

TEST(Stability, TheFirstVerdictIsPublishedAtOnce) {
  Feed feed;
  EXPECT_EQ(feed(Bottleneck::io_network, 0.1), Transition::first);
  EXPECT_EQ(feed.s.published(), Bottleneck::io_network);
  EXPECT_DOUBLE_EQ(feed.s.stable_seconds(), 10);
  EXPECT_EQ(feed.s.changes(), 0u);
  EXPECT_EQ(feed(Bottleneck::io_network), Transition::same);
  EXPECT_DOUBLE_EQ(feed.s.stable_seconds(), 20);
}

// A different class takes effect in its second consecutive window (the default), not
// its first; the time the old class held keeps counting while the new one is pending.
TEST(Stability, AChangeTakesEffectWhenItHolds) {
  Feed feed;
  feed(Bottleneck::io_network);
  feed(Bottleneck::io_network);
  EXPECT_EQ(feed(Bottleneck::cpu_bound), Transition::pending);
  EXPECT_EQ(feed.s.published(), Bottleneck::io_network);
  EXPECT_EQ(feed.s.pending(), Bottleneck::cpu_bound);
  EXPECT_EQ(feed.s.pending_windows(), 1);
  EXPECT_DOUBLE_EQ(feed.s.stable_seconds(), 30);
  EXPECT_FALSE(feed.s.history().back().published);
  EXPECT_EQ(feed(Bottleneck::cpu_bound), Transition::changed);
  EXPECT_EQ(feed.s.published(), Bottleneck::cpu_bound);
  EXPECT_EQ(feed.s.previous(), Bottleneck::io_network);
  EXPECT_FALSE(feed.s.pending());
  EXPECT_EQ(feed.s.changes(), 1u);
  EXPECT_DOUBLE_EQ(feed.s.stable_seconds(), 10);
}

// Flip-flopping between two classes below the margin never publishes the other one,
// and the count of a pending class restarts when another class interrupts it.
TEST(Stability, NoiseDoesNotFlip) {
  Feed feed;
  feed(Bottleneck::io_network);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(feed(Bottleneck::mixed), Transition::pending);
    EXPECT_EQ(feed(Bottleneck::io_network), Transition::same);
  }
  EXPECT_EQ(feed(Bottleneck::mixed), Transition::pending);
  EXPECT_EQ(feed(Bottleneck::cpu_bound), Transition::pending);
  EXPECT_EQ(feed.s.pending_windows(), 1);
  EXPECT_EQ(feed.s.changes(), 0u);
}

TEST(Stability, ALargeMarginChangesAtOnce) {
  Feed feed;
  feed(Bottleneck::io_network);
  EXPECT_EQ(feed(Bottleneck::cpu_saturated, 0.9), Transition::changed);
  EXPECT_EQ(feed.s.published(), Bottleneck::cpu_saturated);
  EXPECT_EQ(feed(Bottleneck::io_network, 0.89), Transition::pending);
}

TEST(Stability, OneWindowRuleChangesEveryWindow) {
  Feed feed;
  feed.rule.windows_to_change = 1;
  feed(Bottleneck::io_network);
  EXPECT_EQ(feed(Bottleneck::mixed, 0.1), Transition::changed);
  EXPECT_EQ(feed(Bottleneck::io_network, 0.1), Transition::changed);
  EXPECT_EQ(feed.s.changes(), 2u);
  feed.rule.windows_to_change = 0;  // out of range: treated as 1
  EXPECT_EQ(feed(Bottleneck::mixed, 0.1), Transition::changed);
}

TEST(Stability, TheHistoryIsBoundedAndKeepsTheNewest) {
  Feed feed;
  for (std::size_t i = 0; i < VerdictStability::kHistoryWindows + 15; ++i) {
    feed(Bottleneck::io_network);
  }
  const auto& h = feed.s.history();
  ASSERT_EQ(h.size(), VerdictStability::kHistoryWindows);
  EXPECT_DOUBLE_EQ(h.back().end_seconds, feed.t);
  EXPECT_DOUBLE_EQ(h.front().end_seconds, feed.t - 10.0 * (VerdictStability::kHistoryWindows - 1));
  EXPECT_EQ(h.back().top_reason, Reason::net);
  EXPECT_DOUBLE_EQ(h.back().top_share, 0.7);
}

}  // namespace
}  // namespace boundwise
