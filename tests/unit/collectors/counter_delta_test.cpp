// The one rule for cumulative counters (collectors/counter_delta.hpp): now − before,
// and a counter that went backwards gives no value for the window while the next window
// diffs from the new value. Pure: no processes, no clocks.
#include "collectors/counter_delta.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace boundwise {
namespace {

TEST(CounterDelta, IsNowMinusBefore) {
  EXPECT_EQ(counter_delta<std::uint64_t>(10, 4), std::optional<std::uint64_t>(6));
  EXPECT_EQ(counter_delta<std::uint64_t>(7, 7), std::optional<std::uint64_t>(0));
  EXPECT_EQ(counter_delta(2.5, 1.0), std::optional<double>(1.5));
}

TEST(CounterDelta, ACounterThatWentBackwardsGivesNoValue) {
  EXPECT_EQ(counter_delta<std::uint64_t>(3, 9), std::nullopt);
  EXPECT_EQ(counter_delta(0.5, 1.0), std::nullopt);
  // Not a wrapped huge number: unsigned subtraction would give 2^64 − 6.
  EXPECT_EQ(counter_delta<std::uint64_t>(0, UINT64_MAX), std::nullopt);
}

TEST(CounterDelta, NoBaselineGivesNoValue) {
  EXPECT_EQ(counter_delta<std::uint64_t>(5, std::optional<std::uint64_t>{}), std::nullopt);
  EXPECT_EQ(counter_delta<std::uint64_t>(5, std::optional<std::uint64_t>{2}),
            std::optional<std::uint64_t>(3));
  EXPECT_EQ(counter_delta<std::uint64_t>(1, std::optional<std::uint64_t>{2}), std::nullopt);
}

TEST(CounterDelta, CountersReadTogetherShareOneFate) {
  const std::array<std::uint64_t, 3> before{10, 20, 30};
  auto d = counter_delta(std::array<std::uint64_t, 3>{11, 25, 30}, before);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (std::array<std::uint64_t, 3>{1, 5, 0}));
  // One went backwards: the source was reset, and none of them gives a value.
  EXPECT_EQ(counter_delta(std::array<std::uint64_t, 3>{50, 19, 60}, before), std::nullopt);
}

// How a collector applies the rule over windows: the baseline always moves to the new
// reading, so the window after a reset diffs from the new value.
TEST(CounterDelta, TheWindowAfterAResetDiffsFromTheNewValue) {
  const std::vector<std::uint64_t> readings{100, 150, 20, 35, 35};
  std::optional<std::uint64_t> base;
  std::vector<std::optional<std::uint64_t>> windows;
  for (std::uint64_t now : readings) {
    windows.push_back(counter_delta(now, base));
    base = now;
  }
  const std::vector<std::optional<std::uint64_t>> expected{std::nullopt, 50, std::nullopt, 15, 0};
  EXPECT_EQ(windows, expected);
}

TEST(CounterDelta, IsConstexpr) {
  static_assert(counter_delta(5, 3) == 2);
  static_assert(!counter_delta(3, 5).has_value());
  SUCCEED();
}

}  // namespace
}  // namespace boundwise
