// The CPU a workload can have: its cgroup CPU limit (throttling, rule 2a), a node whose
// other work leaves no free core (rule 2b), and processes sized to the cores available.
#include <gtest/gtest.h>

#include <string>

#include "classifier/classify.hpp"
#include "tests/unit/classifier/windows.hpp"

namespace boundwise {
namespace {

using namespace thresholds;
using test::cls;
using test::window;

// A single CPU-bound thread on a node whose other work fills every core: its own thread
// hardly queues (per-group fairness shields it), but there is no free core for a second
// process. The boundary is half a core idle and half a core of other work.
TEST(Classify, NoFreeCoreIsSaturationWithoutQueueing) {
  auto w = window({{Reason::on_cpu, 0.97}, {Reason::runqueue, 0.03}}, 1, 1.0);
  w.node.cpu_busy_ratio = 1.0;  // 2 cores busy: 1.0 of them by other work
  auto v = classify(w);
  EXPECT_EQ(v.bottleneck, Bottleneck::cpu_saturated);
  EXPECT_NE(v.rationale.back().find("no free core"), std::string::npos) << v.rationale.back();
  auto r = recommend(v, w);
  EXPECT_EQ(r.model, Model::scale_out);
  EXPECT_NE(r.summary.find("1.00 of them by other work"), std::string::npos) << r.summary;
  w.node.cpu_busy_ratio = 0.74;  // 0.52 cores idle: a second process gains half a core
  EXPECT_EQ(cls(w), Bottleneck::cpu_bound);
  // The workload itself fills the node (no other work): not "no free core".
  auto alone = window({{Reason::on_cpu, 1.0}}, 2, 1.9);
  alone.node.cpu_busy_ratio = 1.0;
  alone.busy_threads_max = 2;
  EXPECT_EQ(cls(alone), Bottleneck::cpu_parallel);
}

// Processes are sized to the cores available to the workload: its own plus the node's
// idle ones, capped by its CPU limit — not the node's core count.
TEST(Classify, ProcessCountFollowsTheCoresAvailable) {
  auto w = window({{Reason::on_cpu, 1.0}}, 1, 1.0);
  w.node.cores = 8;
  w.node.cpu_busy_ratio = 0.5;  // 4 idle cores: 1 own + 4 = 5 available
  auto r = recommend(classify(w), w);
  EXPECT_EQ(r.model, Model::processes);
  EXPECT_EQ(r.workers, 5);
  EXPECT_NE(r.summary.find("5 processes use the 5.00 cores available"), std::string::npos)
      << r.summary;
  w.cpu_limit = CpuLimit{3.0, "/svc", true, 100, 0, 0};  // a quota of 3 cores, not throttled
  r = recommend(classify(w), w);
  EXPECT_EQ(r.workers, 3);
  bool capped = false;
  for (const auto& e : r.evidence)
    capped |= e.find("capped by the cgroup CPU limit") != std::string::npos;
  EXPECT_TRUE(capped);
}

// A workload held back by its own cgroup CPU quota: the limit is the bottleneck
// whatever the node's state, from kThrottledShare of periods throttled.
TEST(Classify, ThrottledByItsCpuLimit) {
  auto w = window({{Reason::on_cpu, 0.5}, {Reason::runqueue, 0.5}}, 2, 0.5);
  w.node.cpu_busy_ratio = 0.3;  // the node is idle: not the node's CPUs
  w.cpu_limit = CpuLimit{0.5, "/kubepods/pod1/api", true, 100, 25, 2.5};
  auto v = classify(w);
  EXPECT_EQ(v.bottleneck, Bottleneck::cpu_saturated);
  EXPECT_NE(
      v.rationale.back().find("CPU limit 0.50 cores (cgroup /kubepods/pod1/api) throttled 25%"),
      std::string::npos)
      << v.rationale.back();
  auto r = recommend(v, w);
  EXPECT_EQ(r.model, Model::scale_out);
  EXPECT_NE(r.summary.find("CPU limit: throttled in 25% of scheduler periods at its 0.50-core "
                           "limit (cgroup /kubepods/pod1/api); raise the limit or scale out"),
            std::string::npos)
      << r.summary;
  w.cpu_limit->throttled_periods = 24;  // below the share
  EXPECT_NE(cls(w), Bottleneck::cpu_saturated);
  w.cpu_limit->throttled_periods = 90;
  w.cpu_limit->counters_valid = false;  // the first window: no counters, no claim
  EXPECT_NE(cls(w), Bottleneck::cpu_saturated);
}

}  // namespace
}  // namespace boundwise
