// Pure parts of the ebpf collector: the BPF side's slot function agrees with the
// classifier's; the overhead budget's plan.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "classifier/histogram.hpp"
#include "collectors/ebpf/budget.hpp"
#include "collectors/ebpf/latency_slots.h"
#include "collectors/ebpf/tool.hpp"

namespace boundwise::ebpf {
namespace {

TEST(EbpfLatencySlots, BpfAndClassifierAgree) {
  static_assert(BW_LATENCY_SLOTS == kLatencySlots);
  for (std::uint64_t ns = 0; ns < 1'000'000'000'000ULL; ns = ns * 5 / 4 + 1) {
    ASSERT_EQ(bw_latency_slot(ns), latency_slot(ns)) << ns;
  }
  for (unsigned k = 0; k < 64; ++k) {
    ASSERT_EQ(bw_log2(1ULL << k), k);
    if (k > 1) {
      ASSERT_EQ(bw_log2((1ULL << k) - 1), k - 1);
    }
  }
}

}  // namespace
}  // namespace boundwise::ebpf

namespace boundwise::ebpf {
namespace {

// The budget: shed order, floors, detaching, unmeasured tools.
TEST(DutyPlan, WithinBudgetEveryToolStaysAttached) {
  auto plan = plan_duty({{"syscalls", 0.002}, {"sched", 0.003}}, 0.01);
  EXPECT_DOUBLE_EQ(plan.duty.at("syscalls"), 1.0);
  EXPECT_DOUBLE_EQ(plan.duty.at("sched"), 1.0);
}

TEST(DutyPlan, TheFirstToolInShedOrderIsDutyCycledFirstAndOnlyAsFarAsNeeded) {
  // 0.02 + 0.005 = 0.025 cores against 0.01: syscalls must give up 0.015 of its 0.02.
  auto plan = plan_duty({{"syscalls", 0.02}, {"net", 0.004}, {"sched", 0.001}}, 0.01);
  EXPECT_NEAR(plan.duty.at("syscalls"), 0.25, 1e-9);
  EXPECT_DOUBLE_EQ(plan.duty.at("net"), 1.0);
  EXPECT_DOUBLE_EQ(plan.duty.at("sched"), 1.0);
}

TEST(DutyPlan, AToolAtItsFloorPassesTheRestToTheNext) {
  // syscalls at its 0.05 floor still costs 0.05 cores, leaving 0.01 of the 0.06 for
  // net (0.1 when attached) and sched (0.001): net is cycled to fit, sched untouched.
  auto plan = plan_duty({{"syscalls", 1.0}, {"net", 0.1}, {"sched", 0.001}}, 0.06, 0.05);
  EXPECT_DOUBLE_EQ(plan.duty.at("syscalls"), 0.05);
  EXPECT_NEAR(plan.duty.at("net"), (0.06 - 0.05 - 0.001) / 0.1, 1e-9);
  EXPECT_DOUBLE_EQ(plan.duty.at("sched"), 1.0);
}

TEST(DutyPlan, WhenFloorsDoNotFitToolsAreDetachedInShedOrder) {
  auto plan = plan_duty({{"syscalls", 1.0}, {"sched", 0.004}}, 0.01, 0.05);
  EXPECT_DOUBLE_EQ(plan.duty.at("syscalls"), 0.0);
  EXPECT_DOUBLE_EQ(plan.duty.at("sched"), 1.0);
  auto hopeless = plan_duty({{"sched", 1.0}}, 0.01, 0.05);
  EXPECT_DOUBLE_EQ(hopeless.duty.at("sched"), 0.0);
}

TEST(DutyPlan, UnmeasuredToolsKeepFullDutyAndCostNothingInThePlan) {
  auto plan = plan_duty({{"syscalls", -1}, {"sched", 0.02}}, 0.01);
  EXPECT_DOUBLE_EQ(plan.duty.at("syscalls"), 1.0);
  EXPECT_NEAR(plan.duty.at("sched"), 0.5, 1e-9);
}

TEST(DutyPlan, AToolThatFitsByDutyCyclingIsNeverDetachedByRounding) {
  // Found live: sched at 0.01448 cores with a near-free net tool against 0.01 — the
  // duty that fits exactly left the total a rounding error over the budget, and the
  // plan fell through to detaching every tool.
  for (double sched = 0.0101; sched < 0.19; sched += 0.00007) {
    for (double net : {0.0, 0.00001, 0.0003}) {
      auto plan = plan_duty({{"disk", 0.0}, {"net", net}, {"sched", sched}}, 0.01);
      ASSERT_GT(plan.duty.at("sched"), 0.0) << "sched " << sched << ", net " << net;
      const double spent = net * plan.duty.at("net") + sched * plan.duty.at("sched");
      ASSERT_LE(spent, 0.01 * (1 + 1e-9)) << "sched " << sched << ", net " << net;
    }
  }
}

TEST(DutyPlan, ANegligibleToolIsNotShedForNothing) {
  // net costs 0.1 % of the budget: cycling it would save nothing; sched pays instead.
  auto plan = plan_duty({{"net", 0.00001}, {"sched", 0.02}}, 0.01);
  EXPECT_DOUBLE_EQ(plan.duty.at("net"), 1.0);
  EXPECT_NEAR(plan.duty.at("sched"), 1.0 - 0.01001 / 0.02, 1e-9);
}

TEST(DutyPlan, ThePerRunSurchargeIsChargedOnTopOfTheTimedRunTime) {
  // A context-switch storm as measured in docs/BENCHMARKS.md: 144 k runs of 130 ns in
  // one attached second. Timed alone it costs 0.019 cores; with 200 ns per run, 0.048.
  const double timed = cores_when_attached(144'000 * 130.0, 144'000, 1e9, 0);
  const double charged = cores_when_attached(144'000 * 130.0, 144'000, 1e9, 200);
  EXPECT_NEAR(timed, 0.01872, 1e-6);
  EXPECT_NEAR(charged, 0.04752, 1e-6);
  // So the budget keeps the sched tool attached less than half as long as the timed
  // cost alone would let it, and what it charges is exactly the budget.
  const double duty_timed = plan_duty({{"sched", timed}}, 0.01).duty.at("sched");
  const double duty_charged = plan_duty({{"sched", charged}}, 0.01).duty.at("sched");
  EXPECT_NEAR(duty_charged * charged, 0.01, 1e-9);
  EXPECT_LT(duty_charged, duty_timed / 2);
  // A quiet service (2 k switches per second) stays far inside the budget either way.
  EXPECT_LT(cores_when_attached(2'000 * 130.0, 2'000, 1e9, 200), 0.001);
  // Never attached in the window: not measured (the plan keeps such a tool at duty 1).
  EXPECT_EQ(cores_when_attached(0, 0, 0, 200), -1);
}

TEST(DutyPlan, AttachedTicksRoundDownButNeverStarveANonZeroDuty) {
  EXPECT_EQ(attached_ticks(0.0, 20), 0);
  EXPECT_EQ(attached_ticks(0.001, 20), 1);
  EXPECT_EQ(attached_ticks(0.25, 20), 5);
  EXPECT_EQ(attached_ticks(0.2499, 20), 4);  // never more than planned: within budget
  EXPECT_EQ(attached_ticks(0.99, 20), 19);
  EXPECT_EQ(attached_ticks(std::numeric_limits<double>::infinity(), 20), 20);
  EXPECT_EQ(attached_ticks(1.0, 20), 20);
  EXPECT_EQ(attached_ticks(7.0, 20), 20);
  EXPECT_EQ(attached_ticks(std::nan(""), 20), 0);
}

// The rule is counter_delta's (counter_delta_test.cpp): a counter that went backwards
// gives no value, so it adds nothing to the window's sum.
TEST(EbpfDelta, ACounterThatWentBackwardsAddsNothing) {
  EXPECT_EQ(delta(10, 4), 6u);
  EXPECT_EQ(delta(3, 9), 0u);
}

}  // namespace
}  // namespace boundwise::ebpf
