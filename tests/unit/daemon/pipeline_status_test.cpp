// A collector that started but whose every sample fails for a window is published
// down with the reason, and up again once a sample succeeds (Pipeline::update_status).
#include <gtest/gtest.h>

#include "daemon/pipeline.hpp"

namespace boundwise {
namespace {

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
  Pipeline::update_status(slot);
  EXPECT_FALSE(slot.status.up);
  EXPECT_EQ(slot.status.error, "cannot read /proc/self: No such file or directory");
  EXPECT_EQ(slot.window_rounds, 0u);
  EXPECT_EQ(slot.window_failures, 0u);

  slot.window_rounds = 50;
  slot.window_failures = 49;  // one success is enough: the source is back
  Pipeline::update_status(slot);
  EXPECT_TRUE(slot.status.up);
  EXPECT_EQ(slot.status.error, "");
}

TEST(PipelineStatus, SomeFailuresOrNoRoundsChangeNothing) {
  auto slot = started_slot();
  slot.window_rounds = 10;
  slot.window_failures = 3;  // a vanished target is not the collector failing
  Pipeline::update_status(slot);
  EXPECT_TRUE(slot.status.up);
  // A collector that only contributes (no sampling rounds) keeps its state.
  slot.status.up = false;
  Pipeline::update_status(slot);
  EXPECT_FALSE(slot.status.up);
}

}  // namespace
}  // namespace boundwise
