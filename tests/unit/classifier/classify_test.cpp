// The decision table of docs/CLASSIFIER.md: every class, the boundaries of each
// threshold (just above / just below), every model, and degenerate windows.
#include "classifier/classify.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "tests/unit/classifier/windows.hpp"

namespace boundwise {
namespace {

using namespace thresholds;
using test::cls;
using test::window;

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

TEST(Classify, GilWaitAboveRunningWithAMajority) {
  // Below kGilShare, but threads wait for the GIL longer than they run and the two
  // hold a majority of busy time.
  EXPECT_EQ(cls(window({{Reason::gil, 0.27}, {Reason::on_cpu, 0.25}, {Reason::net, 0.48}})),
            Bottleneck::gil_contended);
  // Same GIL wait, but running and waiting for it are a minority: network dominates.
  EXPECT_EQ(cls(window({{Reason::gil, 0.27}, {Reason::on_cpu, 0.2}, {Reason::net, 0.53}})),
            Bottleneck::io_network);
  // GIL wait just under running: not contention, and nothing holds a majority.
  EXPECT_EQ(cls(window({{Reason::gil, 0.27}, {Reason::on_cpu, 0.28}, {Reason::net, 0.45}})),
            Bottleneck::mixed);
}

TEST(Classify, ParallelFromBusyThreadsAboveOnePointTwoCores) {
  auto w = window({{Reason::on_cpu, 1.0}}, 4, kParallelCoresWithThreads + 0.01);
  w.busy_threads_max = 2;
  EXPECT_EQ(cls(w), Bottleneck::cpu_parallel);
  w.busy_threads_max = 1;  // one thread on CPU at a time: the extra is helpers
  EXPECT_EQ(cls(w), Bottleneck::cpu_bound);
  auto near_one = window({{Reason::on_cpu, 1.0}}, 4, kParallelCoresWithThreads - 0.01);
  near_one.busy_threads_max = 3;
  EXPECT_EQ(cls(near_one), Bottleneck::cpu_bound);
}

TEST(Classify, RunQueueAtTheRatioBoundary) {
  // queue / (on_cpu + queue) just above and just below 0.3 on a busy node.
  auto above = window({{Reason::on_cpu, 0.69}, {Reason::runqueue, 0.31}}, 4, 2.0);
  above.node.cpu_busy_ratio = 0.95;
  EXPECT_EQ(cls(above), Bottleneck::cpu_saturated);
  auto below = window({{Reason::on_cpu, 0.71}, {Reason::runqueue, 0.29}}, 4, 2.0);
  below.node.cpu_busy_ratio = 0.95;
  EXPECT_EQ(cls(below), Bottleneck::cpu_parallel);
  // Queueing on a busy node, but runnable time is a minority: not the node's CPUs.
  auto minority = window({{Reason::on_cpu, 0.2}, {Reason::runqueue, 0.2}, {Reason::net, 0.6}});
  minority.node.cpu_busy_ratio = 1.0;
  EXPECT_EQ(cls(minority), Bottleneck::io_network);
}

TEST(Classify, PressureSupportsOrWeakensSaturation) {
  auto w = window({{Reason::on_cpu, 0.5}, {Reason::runqueue, 0.5}}, 4, 2.0);
  w.node.cpu_busy_ratio = 1.0;
  w.node.pressure_available = true;
  w.node.cpu_pressure_some = 0.6;
  auto supported = classify(w);
  w.node.cpu_pressure_some = 0.02;  // the node says nothing waited: contradicting
  auto contradicted = classify(w);
  EXPECT_EQ(supported.bottleneck, Bottleneck::cpu_saturated);
  EXPECT_EQ(contradicted.bottleneck, Bottleneck::cpu_saturated);
  EXPECT_LT(contradicted.confidence, supported.confidence);
  EXPECT_NE(supported.rationale.back().find("PSI cpu some 60%"), std::string::npos);
}

TEST(Classify, SleepDominatedWorkIsTimerPaced) {
  auto v = classify(window({{Reason::sleep, 0.6}, {Reason::on_cpu, 0.4}}, 4, 1.0));
  EXPECT_EQ(v.bottleneck, Bottleneck::idle);
  EXPECT_NE(v.rationale.back().find("timer-paced"), std::string::npos);
  // Sleep short of a majority: whatever else happens decides.
  EXPECT_EQ(cls(window({{Reason::sleep, 0.45}, {Reason::net, 0.55}})), Bottleneck::io_network);
}

TEST(Classify, DependenciesSortedByShareOfAllThreadTime) {
  auto w = window({{Reason::net, 0.8}, {Reason::on_cpu, 0.2}});
  DependencyWindow small, big;
  small.name = "cache";
  small.wait_seconds = 4;  // of 40 thread-seconds
  big.name = "db";
  big.wait_seconds = 28;
  w.dependencies = {small, big};
  auto v = classify(w);
  ASSERT_EQ(v.dependencies.size(), 2u);
  EXPECT_EQ(v.dependencies[0].name, "db");
  EXPECT_NEAR(v.dependencies[0].wait_share, 0.7, 1e-9);
  EXPECT_NEAR(v.dependencies[1].wait_share, 0.1, 1e-9);
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

TEST(Classify, NonFiniteInputsNeverReachTheText) {
  const double inf = std::numeric_limits<double>::infinity();
  auto huge = window({{Reason::net, 0.5}, {Reason::on_cpu, 0.5}});
  huge.thread_seconds[index_of(Reason::net)] = 1e308;
  huge.thread_seconds[index_of(Reason::disk)] = 1e308;  // the sum overflows
  auto v = classify(huge);
  EXPECT_EQ(v.bottleneck, Bottleneck::idle);
  EXPECT_EQ(v.confidence, 0.0);
  for (double s : v.shares) EXPECT_TRUE(std::isfinite(s));

  auto bad_node = window({{Reason::paging, 0.05}, {Reason::on_cpu, 0.95}}, 1, 0.95);
  bad_node.node.memory_pressure_full = inf;  // not a ratio: ignored
  bad_node.node.cpu_busy_ratio = std::nan("");
  bad_node.duration_seconds = 10;
  auto vb = classify(bad_node);
  EXPECT_EQ(vb.bottleneck, Bottleneck::cpu_bound);
  auto net = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}});
  DependencyWindow d;
  d.name = "db";
  d.wait_seconds = 30;
  d.latency = LatencyQuantiles{1e308, 1e308, 1e308};  // ×1000 overflows to inf ms
  net.dependencies.push_back(d);
  for (const auto& w : {bad_node, net}) {
    auto r = recommend(classify(w), w);
    std::string all = r.summary;
    for (const auto& e : r.evidence) all += "\n" + e;
    EXPECT_EQ(all.find("nan"), std::string::npos) << all;
    EXPECT_EQ(all.find("inf"), std::string::npos) << all;
  }
}

TEST(Classify, ConfidenceFallsWithThinEvidence) {
  auto full = classify(window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}));
  auto few_rounds = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}});
  few_rounds.sample_rounds = 5;  // a quarter of kFullEvidenceRounds
  auto little_time = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}, 1);
  little_time.duration_seconds = 0.5;  // half a thread-second observed
  for (double& s : little_time.thread_seconds) s /= 20;
  EXPECT_EQ(classify(few_rounds).bottleneck, Bottleneck::io_network);
  EXPECT_NEAR(classify(few_rounds).confidence, full.confidence / 4, 1e-9);
  EXPECT_NEAR(classify(little_time).confidence, full.confidence / 2, 1e-9);
  // No sampling (an exact collector): thread time alone decides.
  auto exact = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}});
  exact.sample_rounds = 0;
  EXPECT_NEAR(classify(exact).confidence, full.confidence, 1e-9);
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

TEST(Recommend, EveryClassGivesFiniteNumberedText) {
  std::vector<WorkloadWindow> windows = {
      WorkloadWindow{},
      window({{Reason::on_cpu, 1.0}}, 1, 1.0),
      window({{Reason::on_cpu, 0.3}, {Reason::gil, 0.7}}, 4, 1.0),
      window({{Reason::on_cpu, 1.0}}, 2, 1.9),
      window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}, 8, 0.8),
      window({{Reason::disk, 0.8}, {Reason::on_cpu, 0.2}}),
      window({{Reason::lock, 0.8}, {Reason::on_cpu, 0.2}}),
      window({{Reason::paging, 0.5}, {Reason::on_cpu, 0.5}}),
      window({{Reason::net, 0.4}, {Reason::on_cpu, 0.3}, {Reason::disk, 0.3}}),
  };
  auto sat = window({{Reason::on_cpu, 0.5}, {Reason::runqueue, 0.5}}, 4, 2.0);
  sat.node.cpu_busy_ratio = 1.0;
  windows.push_back(sat);
  WorkloadWindow exited;  // threads exited before the end: no threads, no processes
  exited.duration_seconds = 5;
  exited.sample_rounds = 25;
  exited.thread_seconds[index_of(Reason::net)] = 2;
  windows.push_back(exited);
  std::set<Bottleneck> seen;
  for (const auto& w : windows) {
    auto v = classify(w);
    seen.insert(v.bottleneck);
    EXPECT_GE(v.confidence, 0.0);
    EXPECT_LE(v.confidence, 1.0);
    EXPECT_TRUE(std::isfinite(v.cpu_cores_used));
    auto r = recommend(v, w);
    EXPECT_GE(r.workers, 0);
    std::string all = r.summary;
    for (const auto& e : r.evidence) all += "\n" + e;
    for (const auto& e : r.risks) all += "\n" + e;
    for (const char* bad : {"nan", "inf"}) {  // printf of a non-finite number
      EXPECT_EQ(all.find(bad), std::string::npos) << to_string(v.bottleneck) << ": " << all;
    }
    EXPECT_NE(r.summary.find_first_of("0123456789"), std::string::npos)
        << "summary carries a number: " << r.summary;
  }
  EXPECT_EQ(seen.size(), kBottleneckCount);  // the list covers every class
}

TEST(Recommend, MixedNamesTheTopTwo) {
  auto w = window({{Reason::net, 0.4}, {Reason::disk, 0.35}, {Reason::on_cpu, 0.25}});
  auto r = recommend(classify(w), w);
  EXPECT_EQ(r.model, Model::none);
  EXPECT_NE(r.summary.find("net 40%"), std::string::npos) << r.summary;
  EXPECT_NE(r.summary.find("disk 35%"), std::string::npos) << r.summary;
}

TEST(Recommend, GilRiskOnlyForPythonThreads) {
  auto has = [](const Recommendation& r, const char* text) {
    for (const auto& risk : r.risks) {
      if (risk.find(text) != std::string::npos) return true;
    }
    return false;
  };
  auto native = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}, 8, 0.8);
  native.runtime.kind = "native";
  EXPECT_FALSE(has(recommend(classify(native), native), "GIL"));
  auto python = native;
  python.runtime.kind = "python";
  python.thread_seconds[index_of(Reason::gil)] = 2;
  auto r = recommend(classify(python), python);
  EXPECT_EQ(r.model, Model::threads);
  EXPECT_TRUE(has(r, "share one GIL (GIL wait 2% of busy time"));  // 2 of 82 thread-s
  EXPECT_TRUE(has(r, "capacity"));                                 // the dependency's own limits
  // Native threads in parallel: no GIL talk; a full node says where the ceiling is.
  auto par = window({{Reason::on_cpu, 1.0}}, 2, 1.95);
  par.runtime.kind = "native";
  auto rp = recommend(classify(par), par);
  EXPECT_EQ(rp.model, Model::threads);
  EXPECT_EQ(rp.summary.find("GIL"), std::string::npos) << rp.summary;
  EXPECT_TRUE(has(rp, "1.95 of 2 cores"));
}

TEST(Recommend, ForkRiskFollowsTheStartMethodAndGilEvidenceItsSource) {
  auto contains = [](const std::vector<std::string>& list, const char* text) {
    for (const auto& s : list) {
      if (s.find(text) != std::string::npos) return true;
    }
    return false;
  };
  // 4 pure-Python threads: GIL-bound, processes recommended.
  auto w = window({{Reason::gil, 0.65}, {Reason::on_cpu, 0.35}}, 5, 1.0);
  w.runtime.kind = "python";
  ASSERT_EQ(cls(w), Bottleneck::gil_contended);
  auto r = recommend(classify(w), w);
  EXPECT_TRUE(contains(r.risks, "3.14 defaults to forkserver")) << "no start method seen yet";
  EXPECT_TRUE(contains(r.evidence, "inferred from futex waits"));
  EXPECT_FALSE(contains(r.evidence, "measured by eBPF"));
  w.gil.wait_measured_in_kernel = true;
  EXPECT_TRUE(contains(recommend(classify(w), w).evidence,
                       "GIL wait measured by eBPF at every context switch"));
  w.gil.wait_measured_in_kernel = false;
  w.runtime.start_method = "fork";
  w.processes = 3;
  r = recommend(classify(w), w);
  EXPECT_TRUE(contains(r.risks, "fork start method is in use with 5 threads in 3 processes"));
  w.runtime.start_method = "forkserver";
  r = recommend(classify(w), w);
  EXPECT_FALSE(contains(r.risks, "fork start method"));
  w.gil.measured = true;
  w.gil.held_seconds = 9.5;
  w.gil.holder_threads = 4;
  w.gil.waiters_mean = 2.5;
  w.gil.switches = 2000;
  r = recommend(classify(w), w);
  EXPECT_TRUE(contains(r.evidence,
                       "GIL read from memory: held 95% of the window by 4 thread(s), "
                       "2.5 waiters on average, 200 hand-overs/s"));
}

TEST(Recommend, EvidenceCarriesTheNumbers) {
  auto w = window({{Reason::on_cpu, 1.0}}, 1, 1.0);
  w.node.cpu_busy_ratio = 0.5;
  auto r = recommend(classify(w), w);
  std::string all;
  for (const auto& e : r.evidence) all += e + "\n";
  EXPECT_NE(all.find("on CPU 100%"), std::string::npos) << all;
  EXPECT_NE(all.find("1.00 cores used of 2; node CPU busy 50%"), std::string::npos) << all;
  EXPECT_NE(all.find("1 thread in 1 process over a 10 s window"), std::string::npos) << all;
  auto mem = window({{Reason::paging, 0.5}, {Reason::on_cpu, 0.5}});
  mem.major_faults = 12345;
  mem.node.pressure_available = true;
  mem.node.memory_pressure_full = 0.25;
  auto rm = recommend(classify(mem), mem);
  all.clear();
  for (const auto& e : rm.evidence) all += e + "\n";
  EXPECT_NE(all.find("12345 major faults"), std::string::npos) << all;
  EXPECT_NE(all.find("full 25%"), std::string::npos) << all;
}

TEST(Verdict, NamesRoundTrip) {
  for (std::size_t i = 0; i < kBottleneckCount; ++i) {
    auto b = static_cast<Bottleneck>(i);
    EXPECT_EQ(bottleneck_from_string(to_string(b)), b);
  }
  for (std::size_t i = 0; i < kModelCount; ++i) {
    auto m = static_cast<Model>(i);
    EXPECT_EQ(model_from_string(to_string(m)), m);
  }
  EXPECT_EQ(to_string(Bottleneck::gil_contended), "gil_contended");
  EXPECT_EQ(to_string(Model::free_threaded), "free_threaded");
  EXPECT_FALSE(bottleneck_from_string("CPU_BOUND"));
  EXPECT_FALSE(bottleneck_from_string(""));
  EXPECT_FALSE(model_from_string("thread"));
}

// Workers follow the threads the demand keeps active (Little's law; options_test.cpp
// has the measured-rate cases), capped where computing fills the cores: cores × (1 +
// W/C), Goetz's rule, is a cap and no longer the count.
TEST(Recommend, IoWorkersFollowDemandCappedByTheCores) {
  // 8 threads always active, 90 % waiting: 8 in flight → 10 at 80 % utilisation.
  auto w = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}, 8, 0.8);
  EXPECT_EQ(recommend(classify(w), w).workers, 10);
  // 40 threads computing 45 % of their active time on the 1.8 cores available (the
  // node has no idle core): they sustain 1.8 / 0.45 = 4.
  auto heavy = window({{Reason::net, 0.55}, {Reason::on_cpu, 0.45}}, 40, 1.8);
  heavy.node.cpu_busy_ratio = 1.0;
  auto v = classify(heavy);
  ASSERT_EQ(v.bottleneck, Bottleneck::io_network);
  EXPECT_EQ(recommend(v, heavy).workers, 4);
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

bool has_evidence(const Recommendation& r, const std::string& needle) {
  for (const auto& e : r.evidence) {
    if (e.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(Recommend, DiskBoundEvidenceCitesMeasuredDiskAndFsyncLatency) {
  auto w = window({{Reason::disk, 0.8}, {Reason::on_cpu, 0.2}}, 1, 0.2);
  LatencyHistogram disk;
  for (int i = 0; i < 20; ++i) disk.add(0.002);  // 2 ms block requests
  w.disk_latency = disk;
  LatencyHistogram fsync;
  for (int i = 0; i < 10; ++i) fsync.add(0.004);
  w.syscall_latency["fsync"] = fsync;
  w.node.ebpf_duty = {{"sched", 1.0}, {"syscalls", 0.2}, {"disk", 1.0}};
  auto r = recommend(classify(w), w);
  ASSERT_EQ(classify(w).bottleneck, Bottleneck::io_disk);
  EXPECT_TRUE(has_evidence(r, "disk request latency (eBPF, 20 requests): p50 "));
  EXPECT_TRUE(has_evidence(r, "fsync latency (eBPF, 10 calls): p50 "));
  EXPECT_TRUE(has_evidence(r, "syscall latency sampled 20% of the time"));
  EXPECT_FALSE(has_evidence(r, "disk latency sampled"));  // attached all the window
  w.node.ebpf_duty["syscalls"] = 0.004;
  r = recommend(classify(w), w);
  EXPECT_TRUE(has_evidence(r, "syscall latency sampled less than 1% of the time"));

  // Measured, but nothing of its own reached the device: said, not hidden.
  w.disk_latency = LatencyHistogram{};
  w.syscall_latency.clear();
  r = recommend(classify(w), w);
  EXPECT_TRUE(has_evidence(r, "kernel writeback"));
  EXPECT_FALSE(has_evidence(r, "fsync latency"));
  // Without the ebpf collector: neither.
  w.disk_latency.reset();
  r = recommend(classify(w), w);
  EXPECT_FALSE(has_evidence(r, "eBPF"));
}

}  // namespace
}  // namespace boundwise
