// Folded stacks and the rolling profile (classifier/profile.hpp): counts, the bound on
// distinct stacks, the folded text and the window count.
#include "classifier/profile.hpp"

#include <gtest/gtest.h>

namespace boundwise {
namespace {

TEST(Profile, StacksAreCountedAndRenderedRootFirstOnePerLine) {
  FoldedStacks f;
  add_stack(f, "main;a;b", 2, 10);
  add_stack(f, "main;a", 1, 10);
  add_stack(f, "main;a;b", 3, 10);
  EXPECT_EQ(f.samples, 6u);
  EXPECT_EQ(f.counts.at("main;a;b"), 5u);
  EXPECT_EQ(render_folded(f), "main;a 1\nmain;a;b 5\n");
  EXPECT_EQ(render_folded(FoldedStacks{}), "");
  add_stack(f, "main;c", 0, 10);  // nothing to add
  EXPECT_EQ(f.counts.count("main;c"), 0u);
}

TEST(Profile, StacksBeyondTheBoundAreCountedAsOther) {
  FoldedStacks f;
  add_stack(f, "a", 1, 2);
  add_stack(f, "b", 1, 2);
  add_stack(f, "c", 4, 2);  // a third distinct stack: over the bound
  add_stack(f, "a", 1, 2);  // known stacks still count as themselves
  EXPECT_EQ(f.counts.count("c"), 0u);
  EXPECT_EQ(f.counts.at(std::string(kOtherStacks)), 4u);
  EXPECT_EQ(f.counts.at("a"), 2u);
  EXPECT_EQ(f.samples, 7u);
  EXPECT_LE(f.counts.size(), 3u);
}

TEST(Profile, FrameNamesCannotBreakTheFormat) {
  EXPECT_EQ(sanitize_frame("ns::f<a;b>\n(x)"), "ns::f<a_b>_(x)");
  EXPECT_EQ(sanitize_frame(std::string(2000, 'x')).size(), 512u);
}

TEST(Profile, RollingProfileKeepsTheLastWindowsOnly) {
  RollingProfile rolling(2, 100);
  EXPECT_EQ(rolling.last_samples(), 0u);
  rolling.push(FoldedStacks{{{"old", 5}}, 5});
  rolling.push(FoldedStacks{{{"mid", 1}}, 1});
  rolling.push(FoldedStacks{{{"new", 2}, {"mid", 1}}, 3});
  EXPECT_EQ(rolling.windows(), 2u);
  EXPECT_EQ(rolling.last_samples(), 3u);
  FoldedStacks total = rolling.total();
  EXPECT_EQ(total.counts.count("old"), 0u);
  EXPECT_EQ(total.counts.at("mid"), 2u);
  EXPECT_EQ(total.counts.at("new"), 2u);
  EXPECT_EQ(total.samples, 4u);
  // Off-CPU windows: counts in milliseconds, and the stacks taken beside them.
  RollingProfile offcpu(2, 100);
  EXPECT_EQ(offcpu.last_taken(), 0u);
  offcpu.push(FoldedStacks{{{"[ipc];main;read", 1500}}, 1500, 3});
  offcpu.push(FoldedStacks{{{"[ipc];main;read", 500}, {"[sleep];main", 500}}, 1000, 2});
  EXPECT_EQ(offcpu.last_taken(), 2u);
  EXPECT_EQ(offcpu.last_samples(), 1000u);
  EXPECT_EQ(offcpu.total().taken, 5u);
  EXPECT_EQ(offcpu.total().samples, 2500u);
  // The bound holds for the sum of windows too.
  RollingProfile small(3, 1);
  small.push(FoldedStacks{{{"a", 1}}, 1});
  small.push(FoldedStacks{{{"b", 1}}, 1});
  EXPECT_EQ(small.total().counts.at(std::string(kOtherStacks)), 1u);
}

// Off-CPU stacks carry their reason as the root frame; reason= filters on it.
TEST(Profile, ReasonFramesNameTheWaitAndFilterByIt) {
  EXPECT_EQ(reason_frame(Reason::ipc), "[ipc]");
  EXPECT_EQ(reason_frame(Reason::net, "postgres 10.0.0.5:5432"), "[net postgres 10.0.0.5:5432]");
  EXPECT_EQ(reason_frame(Reason::net, "a;b"), "[net a_b]");  // cannot split the stack
  EXPECT_EQ(reason_of_stack("[ipc];main;read"), Reason::ipc);
  EXPECT_EQ(reason_of_stack("[net postgres 10.0.0.5:5432];main;recv"), Reason::net);
  EXPECT_EQ(reason_of_stack("[lock]"), Reason::lock);
  EXPECT_EQ(reason_of_stack("main;read"), std::nullopt);
  EXPECT_EQ(reason_of_stack("[libc.so.6];read"), std::nullopt);  // not a reason
  EXPECT_EQ(reason_of_stack("[]"), std::nullopt);
  EXPECT_EQ(reason_of_stack(""), std::nullopt);
  FoldedStacks f;
  add_stack(f, "[ipc];main;read", 200, 10);
  add_stack(f, "[sleep];main;nanosleep", 500, 10);
  add_stack(f, "[ipc];main;other", 100, 10);
  FoldedStacks ipc = only_reason(f, Reason::ipc);
  EXPECT_EQ(ipc.samples, 300u);
  EXPECT_EQ(ipc.counts.size(), 2u);
  EXPECT_EQ(only_reason(f, Reason::disk).samples, 0u);
}

}  // namespace
}  // namespace boundwise
