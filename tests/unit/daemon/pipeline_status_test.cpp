// A collector that started but whose every sample fails for a window is published
// down with the reason, and up again once a sample succeeds; one that ran too few of
// its rounds is behind (Pipeline::update_status).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "daemon/pipeline.hpp"

namespace boundwise {
namespace {

// A collector that only has a period: update_status reads nothing else.
class Periodic final : public Collector {
 public:
  explicit Periodic(std::chrono::milliseconds period) : period_(period) {}
  std::string_view name() const override { return "procfs"; }
  Status start() override { return Ok{}; }
  std::chrono::nanoseconds period() const override { return period_; }
  void set_targets(const TargetSet&) override {}
  Status sample(SteadyTime) override { return Ok{}; }
  void contribute(SteadyTime, EvidenceSet&) override {}

 private:
  std::chrono::milliseconds period_;
};

Pipeline::Slot started_slot() {
  Pipeline::Slot slot;
  slot.started = true;
  slot.status.name = "procfs";
  slot.status.up = true;
  return slot;
}

TEST(PipelineStatus, DownForAWindowOfFailuresAndUpAgainAfterASuccess) {
  auto slot = started_slot();
  slot.window_rounds = 50;
  slot.window_failures = 50;
  slot.status.error = "cannot read /proc/self: No such file or directory";
  Pipeline::update_status(slot, 10);
  EXPECT_FALSE(slot.status.up);
  EXPECT_EQ(slot.status.error, "cannot read /proc/self: No such file or directory");
  EXPECT_EQ(slot.window_rounds, 0u);
  EXPECT_EQ(slot.window_failures, 0u);

  slot.window_rounds = 50;
  slot.window_failures = 49;  // one success is enough: the source is back
  Pipeline::update_status(slot, 10);
  EXPECT_TRUE(slot.status.up);
  EXPECT_EQ(slot.status.error, "");
}

TEST(PipelineStatus, SomeFailuresOrNoRoundsChangeNothing) {
  auto slot = started_slot();
  slot.window_rounds = 10;
  slot.window_failures = 3;  // a vanished target is not the collector failing
  Pipeline::update_status(slot, 10);
  EXPECT_TRUE(slot.status.up);
  // A collector that only contributes (no sampling rounds) keeps its state.
  slot.status.up = false;
  Pipeline::update_status(slot, 10);
  EXPECT_FALSE(slot.status.up);
}

TEST(PipelineStatus, BehindBelowFourFifthsOfTheSetRoundsWithOneRoundOfMargin) {
  auto slot = started_slot();
  slot.collector = std::make_unique<Periodic>(std::chrono::milliseconds(200));  // 5 per second
  slot.window_rounds = 49;  // a 10 s window: 50 set, one lost to the window's edge
  Pipeline::update_status(slot, 10);
  EXPECT_DOUBLE_EQ(slot.status.rounds_per_second, 5);
  EXPECT_DOUBLE_EQ(slot.status.achieved_rounds_per_second, 4.9);
  EXPECT_FALSE(slot.status.behind);
  EXPECT_EQ(slot.status.rounds, 49u);

  slot.window_rounds = 39;  // 39 + 1 = 40 = 80 % of 50: still not behind
  Pipeline::update_status(slot, 10);
  EXPECT_FALSE(slot.status.behind);
  slot.window_rounds = 21;  // a starved agent: 2.1 per second
  Pipeline::update_status(slot, 10);
  EXPECT_TRUE(slot.status.behind);
  EXPECT_DOUBLE_EQ(slot.status.achieved_rounds_per_second, 2.1);
  EXPECT_EQ(slot.status.rounds, 109u);  // every round since start
  EXPECT_TRUE(slot.status.up);          // behind is not down

  slot.window_rounds = 50;  // caught up
  Pipeline::update_status(slot, 10);
  EXPECT_FALSE(slot.status.behind);
}

TEST(PipelineStatus, TheLatenessOfAWindowsRoundsIsPublishedThenCountedAfresh) {
  auto slot = started_slot();
  slot.collector = std::make_unique<Periodic>(std::chrono::milliseconds(200));
  slot.window_lateness.add(0.001);
  slot.window_lateness.add(0.150);
  slot.window_rounds = 2;
  Pipeline::update_status(slot, 0.4);
  EXPECT_EQ(slot.status.lateness.count(), 2u);
  EXPECT_DOUBLE_EQ(slot.status.lateness.sum_seconds, 0.151);
  EXPECT_EQ(slot.window_lateness.count(), 0u);
  slot.window_lateness.add(0.002);
  slot.window_rounds = 1;
  Pipeline::update_status(slot, 0.2);
  EXPECT_EQ(slot.status.lateness.count(), 1u);  // the last window's, not every window's
}

TEST(PipelineStatus, ACollectorWithoutAPeriodHasNoRates) {
  auto slot = started_slot();
  slot.collector = std::make_unique<Periodic>(std::chrono::milliseconds(0));
  Pipeline::update_status(slot, 10);
  EXPECT_EQ(slot.status.rounds_per_second, 0);
  EXPECT_FALSE(slot.status.behind);
}

}  // namespace
}  // namespace boundwise
