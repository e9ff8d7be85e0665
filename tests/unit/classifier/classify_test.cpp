// The decision table of docs/CLASSIFIER.md: every class, the boundaries of each
// threshold (just above / just below), every model, and degenerate windows.
#include "classifier/classify.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace boundwise {
namespace {

using namespace thresholds;

// A recorded-looking window: `threads` threads over 10 s, thread time split by the
// given busy shares plus an idle share of all time.
WorkloadWindow window(std::initializer_list<std::pair<Reason, double>> shares, int threads = 4,
                      double cores_used = -1) {
  WorkloadWindow w;
  w.workload = "w";
  w.duration_seconds = 10;
  w.sample_rounds = 200;
  w.threads = threads;
  w.processes = 1;
  w.node.cores = 2;
  w.node.cpu_busy_ratio = 0.5;
  double total = threads * 10.0;
  for (const auto& [r, s] : shares) w.thread_seconds[index_of(r)] = s * total;
  double on_cpu = w.thread_seconds[index_of(Reason::on_cpu)];
  w.cpu_seconds = cores_used >= 0 ? cores_used * 10 : on_cpu;
  return w;
}

Bottleneck cls(const WorkloadWindow& w) { return classify(w).bottleneck; }

TEST(Classify, SharesSumToOneAndBusySharesExcludeIdle) {
  auto v = classify(window({{Reason::on_cpu, 0.3}, {Reason::net, 0.5}, {Reason::idle, 0.2}}));
  double sum = 0, busy = 0;
  for (Reason r : kAllReasons) {
    sum += v.shares[index_of(r)];
    busy += v.busy_shares[index_of(r)];
  }
  EXPECT_NEAR(sum, 1.0, 1e-9);
  EXPECT_NEAR(busy, 1.0, 1e-9);
  EXPECT_EQ(v.busy_shares[index_of(Reason::idle)], 0.0);
  EXPECT_NEAR(v.busy_shares[index_of(Reason::net)], 0.5 / 0.8, 1e-9);
}

TEST(Classify, CpuBoundVersusParallelAtTheCoreThreshold) {
  EXPECT_EQ(cls(window({{Reason::on_cpu, 1.0}}, 1, 1.0)), Bottleneck::cpu_bound);
  EXPECT_EQ(cls(window({{Reason::on_cpu, 1.0}}, 2, kParallelCores - 0.01)), Bottleneck::cpu_bound);
  EXPECT_EQ(cls(window({{Reason::on_cpu, 1.0}}, 2, kParallelCores)), Bottleneck::cpu_parallel);
}

TEST(Classify, GilContendedAtItsThreshold) {
  // 2 pure-Python threads: ~52% running, ~48% waiting for the GIL.
  EXPECT_EQ(cls(window({{Reason::on_cpu, 0.52}, {Reason::gil, 0.48}}, 2, 1.0)),
            Bottleneck::gil_contended);
  EXPECT_EQ(cls(window({{Reason::on_cpu, 0.5}, {Reason::gil, kGilShare}, {Reason::sleep, 0.2}})),
            Bottleneck::gil_contended);
  EXPECT_EQ(cls(window({{Reason::on_cpu, 0.71}, {Reason::gil, kGilShare - 0.01}}, 2, 1.4)),
            Bottleneck::cpu_bound);
  // GIL share above the floor but small next to running: native work dominates.
  EXPECT_EQ(
      cls(window({{Reason::on_cpu, 0.65}, {Reason::gil, 0.31}, {Reason::other, 0.04}}, 4, 2.0)),
      Bottleneck::cpu_parallel);
}

TEST(Classify, IoAndLockClassesAtTheMajority) {
  EXPECT_EQ(cls(window({{Reason::net, 0.85}, {Reason::on_cpu, 0.05}, {Reason::idle, 0.1}})),
            Bottleneck::io_network);
  EXPECT_EQ(cls(window({{Reason::ipc, 0.6}, {Reason::on_cpu, 0.4}})), Bottleneck::io_network);
  EXPECT_EQ(cls(window({{Reason::net, 0.51}, {Reason::on_cpu, 0.49}}, 1, 0.49)),
            Bottleneck::io_network);
  // An exact tie names no winner.
  EXPECT_EQ(cls(window({{Reason::net, 0.5}, {Reason::on_cpu, 0.5}}, 1, 0.5)), Bottleneck::mixed);
  EXPECT_EQ(cls(window({{Reason::net, 0.49}, {Reason::on_cpu, 0.3}, {Reason::disk, 0.21}})),
            Bottleneck::mixed);
  EXPECT_EQ(cls(window({{Reason::disk, 0.7}, {Reason::on_cpu, 0.3}})), Bottleneck::io_disk);
  EXPECT_EQ(cls(window({{Reason::lock, 0.8}, {Reason::on_cpu, 0.2}})), Bottleneck::lock_contended);
}

TEST(Classify, SaturationNeedsABusyNodeAndQueueing) {
  auto w = window({{Reason::on_cpu, 0.5}, {Reason::runqueue, 0.5}}, 4, 2.0);
  w.node.cpu_busy_ratio = kNodeBusy;
  EXPECT_EQ(cls(w), Bottleneck::cpu_saturated);
  w.node.cpu_busy_ratio = kNodeBusy - 0.01;  // the queueing is not the node's
  EXPECT_NE(cls(w), Bottleneck::cpu_saturated);
  auto light = window({{Reason::on_cpu, 0.75}, {Reason::runqueue, 0.25}}, 4, 3.0);
  light.node.cpu_busy_ratio = 1.0;  // busy node, but threads wait only 25% < 30%
  EXPECT_EQ(cls(light), Bottleneck::cpu_parallel);
  auto no_node = window({{Reason::on_cpu, 0.4}, {Reason::runqueue, 0.6}}, 4, 1.6);
  no_node.node.cores = 0;
  EXPECT_EQ(cls(no_node), Bottleneck::cpu_saturated);
}

TEST(Classify, MemoryBound) {
  EXPECT_EQ(cls(window({{Reason::paging, kPagingShare}, {Reason::on_cpu, 0.8}})),
            Bottleneck::memory_bound);
  auto w = window({{Reason::paging, 0.05}, {Reason::on_cpu, 0.95}}, 1, 0.95);
  EXPECT_EQ(cls(w), Bottleneck::cpu_bound);
  w.node.memory_pressure_full = kMemoryFullPressure;
  EXPECT_EQ(cls(w), Bottleneck::memory_bound);
}

TEST(Classify, IdleAndSleep) {
  EXPECT_EQ(cls(window({{Reason::idle, 1.0}})), Bottleneck::idle);
  // 0.04 active threads over 10 s: below 0.05.
  auto quiet = window({{Reason::idle, 0.99}, {Reason::on_cpu, 0.01}}, 4, 0.04);
  EXPECT_EQ(cls(quiet), Bottleneck::idle);
  auto awake = window({{Reason::idle, 0.98}, {Reason::on_cpu, 0.02}}, 4, 0.08);
  EXPECT_NE(cls(awake), Bottleneck::idle);
  EXPECT_EQ(cls(window({{Reason::sleep, 0.99}, {Reason::on_cpu, 0.01}}, 4, 0.04)),
            Bottleneck::idle);
}

TEST(Classify, DegenerateWindows) {
  WorkloadWindow empty;
  auto v = classify(empty);
  EXPECT_EQ(v.bottleneck, Bottleneck::idle);
  EXPECT_EQ(v.confidence, 0.0);
  EXPECT_FALSE(v.rationale.empty());
  auto r = recommend(v, empty);
  EXPECT_EQ(r.model, Model::none);
  EXPECT_FALSE(r.summary.empty());

  auto one = window({{Reason::on_cpu, 1.0}}, 1, 1.0);
  one.sample_rounds = 1;
  auto v1 = classify(one);
  EXPECT_EQ(v1.bottleneck, Bottleneck::cpu_bound);
  EXPECT_LT(v1.confidence, 0.1);  // one sample is little evidence

  WorkloadWindow nan = window({{Reason::on_cpu, 1.0}}, 1);
  nan.thread_seconds[index_of(Reason::net)] = std::nan("");
  nan.cpu_seconds = -5;
  auto vn = classify(nan);
  EXPECT_TRUE(std::isfinite(vn.confidence));
  for (double s : vn.shares) EXPECT_TRUE(std::isfinite(s));

  WorkloadWindow exited;  // all threads exited: time but no threads at the end
  exited.duration_seconds = 10;
  exited.thread_seconds[index_of(Reason::on_cpu)] = 3;
  auto ve = classify(exited);
  EXPECT_TRUE(std::isfinite(ve.confidence));
  EXPECT_FALSE(recommend(ve, exited).summary.empty());
}

TEST(Classify, ConfidenceGrowsWithMargin) {
  auto clear = classify(window({{Reason::net, 0.95}, {Reason::on_cpu, 0.05}}));
  auto narrow = classify(window({{Reason::net, 0.55}, {Reason::on_cpu, 0.45}}));
  EXPECT_GT(clear.confidence, narrow.confidence);
  EXPECT_LE(clear.confidence, 1.0);
  EXPECT_GE(narrow.confidence, 0.0);
}

TEST(Recommend, ModelForEveryClass) {
  struct Case {
    WorkloadWindow w;
    Model model;
  };
  auto gil = window({{Reason::on_cpu, 0.3}, {Reason::gil, 0.7}}, 4, 1.0);
  auto ft = gil;
  ft.runtime.kind = "python";
  ft.runtime.free_threaded = true;
  auto parallel_threads = window({{Reason::on_cpu, 1.0}}, 2, 1.9);
  auto parallel_procs = parallel_threads;
  parallel_procs.processes = 3;
  auto net = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}, 8, 0.8);
  auto loop = net;
  loop.event_loop = true;
  auto many = net;
  many.established_connections = kAsyncioConnections;
  auto sat = window({{Reason::on_cpu, 0.5}, {Reason::runqueue, 0.5}}, 4, 2.0);
  sat.node.cpu_busy_ratio = 1.0;
  Case cases[] = {
      {window({{Reason::on_cpu, 1.0}}, 1, 1.0), Model::processes},
      {gil, Model::processes},
      {ft, Model::free_threaded},
      {parallel_threads, Model::threads},
      {parallel_procs, Model::processes},
      {net, Model::threads},
      {loop, Model::asyncio},
      {many, Model::asyncio},
      {window({{Reason::disk, 0.8}, {Reason::on_cpu, 0.2}}), Model::threads},
      {window({{Reason::lock, 0.8}, {Reason::on_cpu, 0.2}}), Model::none},
      {sat, Model::scale_out},
      {window({{Reason::paging, 0.5}, {Reason::on_cpu, 0.5}}), Model::scale_out},
      {window({{Reason::idle, 1.0}}), Model::none},
      {window({{Reason::net, 0.4}, {Reason::on_cpu, 0.3}, {Reason::disk, 0.3}}), Model::none},
  };
  for (const auto& c : cases) {
    auto v = classify(c.w);
    auto r = recommend(v, c.w);
    EXPECT_EQ(r.model, c.model) << to_string(v.bottleneck) << ": " << r.summary;
    EXPECT_FALSE(r.summary.empty());
    EXPECT_FALSE(r.evidence.empty());
  }
}

TEST(Recommend, IoWorkersFollowWaitOverCompute) {
  // 90% waiting, 10% computing: cores × (1 + 9) = 20 workers on 2 cores.
  auto w = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}, 8, 0.8);
  auto r = recommend(classify(w), w);
  EXPECT_EQ(r.workers, 20);
  auto heavy = window({{Reason::net, 0.999}, {Reason::on_cpu, 0.001}}, 8, 0.01);
  heavy.node.cores = 4;  // 4 × (1 + 0.999 / 0.01 floor) > 256
  EXPECT_EQ(recommend(classify(heavy), heavy).workers, kMaxIoWorkers);
}

TEST(Recommend, SummaryNamesTheTopDependencyWithItsP95) {
  auto w = window({{Reason::net, 0.85}, {Reason::on_cpu, 0.05}, {Reason::idle, 0.1}});
  DependencyWindow d;
  d.name = "orders-db";
  d.endpoint = "10.0.0.5:5432";
  d.wait_seconds = 0.8 * 40;
  d.blocked_intervals_seconds = {0.2, 0.2, 0.21, 0.19, 0.2};
  w.dependencies.push_back(d);
  finalize_window(w);
  auto v = classify(w);
  ASSERT_EQ(v.dependencies.size(), 1u);
  EXPECT_NEAR(v.dependencies[0].wait_share, 0.8, 1e-9);
  auto r = recommend(v, w);
  EXPECT_NE(r.summary.find("orders-db"), std::string::npos) << r.summary;
  EXPECT_NE(r.summary.find("p95 210 ms"), std::string::npos) << r.summary;
  EXPECT_NE(r.summary.find("94%"), std::string::npos) << r.summary;  // 0.85 / 0.9 busy
}

TEST(Recommend, ProcessRisksCarryMemoryPerWorker) {
  auto w = window({{Reason::on_cpu, 1.0}}, 3, 1.0);
  w.memory.pss_bytes = 300ull << 20;
  w.memory.processes_measured = 1;
  auto r = recommend(classify(w), w);
  ASSERT_EQ(r.model, Model::processes);
  bool memory = false, fork = false;
  for (const auto& risk : r.risks) {
    memory |= risk.find("300 MiB per worker") != std::string::npos;
    fork |= risk.find("fork") != std::string::npos;
  }
  EXPECT_TRUE(memory);
  EXPECT_TRUE(fork);  // threads alive in the parent
}

}  // namespace
}  // namespace boundwise
