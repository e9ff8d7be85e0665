// Before and after (classifier/figures.hpp, classifier/baseline.hpp): a window's
// figures, the mean a baseline keeps, and the comparison's verdict and sentence.
#include "classifier/baseline.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "classifier/classify.hpp"
#include "classifier/histogram.hpp"

namespace boundwise {
namespace {

WindowResult window(double end, double throughput, std::optional<double> p95, std::uint64_t memory,
                    const std::string& model = "threads",
                    ThroughputBasis basis = ThroughputBasis::cpu_seconds) {
  WindowResult w;
  w.end_seconds = end;
  w.bottleneck = Bottleneck::gil_contended;
  w.figures.basis = basis;
  w.figures.throughput_per_second = throughput;
  if (p95) {
    w.figures.p50_seconds = *p95 / 2;
    w.figures.p95_seconds = p95;
    w.figures.p99_seconds = *p95 * 2;
  }
  w.figures.cpu_cores_used = throughput;
  w.figures.memory_bytes = memory;
  w.figures.memory_per_process_bytes = memory;
  w.figures.processes = 1;
  w.figures.threads = 5;
  w.figures.model_in_use = model;
  return w;
}

TEST(WindowFigures, ThroughputIsServedRequestsThenDependencyRequestsThenCpuSeconds) {
  WorkloadWindow w;
  w.duration_seconds = 10;
  w.threads = 8;
  w.processes = 1;
  w.cpu_seconds = 2;
  w.node.cores = 2;
  w.node.cpu_busy_ratio = 0.25;
  w.memory.pss_bytes = 100 << 20;
  w.memory.processes_measured = 1;
  w.thread_seconds[index_of(Reason::net)] = 70;
  w.thread_seconds[index_of(Reason::on_cpu)] = 2;
  w.thread_seconds[index_of(Reason::idle)] = 8;
  DependencyWindow d;
  d.name = "orders-db";
  d.wait_seconds = 70;
  d.requests = 400;
  d.request_latency = LatencyHistogram{};
  for (int i = 0; i < 400; ++i) d.request_latency->add(0.2);
  w.dependencies.push_back(d);
  finalize_window(w);
  Verdict v = classify(w);
  Recommendation r = recommend(v, w, DecisionInputs{.prices = {.cpu_core_hour = 0.04}});

  WindowFigures f = window_figures(w, v, r);
  EXPECT_EQ(f.basis, ThroughputBasis::dependency_requests);
  EXPECT_NEAR(f.throughput_per_second, 40, 1e-9);
  ASSERT_TRUE(f.p95_seconds);
  EXPECT_NEAR(*f.p95_seconds, 0.2, 0.02);
  EXPECT_NEAR(f.cpu_cores_used, 0.2, 1e-9);
  EXPECT_NEAR(f.node_busy_ratio, 0.25, 1e-9);
  EXPECT_EQ(f.memory_bytes, 100u << 20);
  EXPECT_EQ(f.model_in_use, "threads");
  ASSERT_TRUE(f.cost_per_month);  // the `keep` option's: what is in use costs
  EXPECT_GT(*f.cost_per_month, 0);

  // Served requests come first...
  w.inbound_latency = LatencyHistogram{};
  for (int i = 0; i < 50; ++i) w.inbound_latency->add(0.25);
  w.inbound_requests = 50;
  f = window_figures(w, v, r);
  EXPECT_EQ(f.basis, ThroughputBasis::inbound_requests);
  EXPECT_NEAR(f.throughput_per_second, 5, 1e-9);
  EXPECT_NEAR(*f.p95_seconds, 0.25, 0.03);

  // ...and without request counts the work done is CPU time.
  WorkloadWindow cpu;
  cpu.duration_seconds = 10;
  cpu.threads = 1;
  cpu.processes = 1;
  cpu.cpu_seconds = 9.5;
  cpu.thread_seconds[index_of(Reason::on_cpu)] = 9.5;
  cpu.thread_seconds[index_of(Reason::idle)] = 0.5;
  finalize_window(cpu);
  Verdict cv = classify(cpu);
  f = window_figures(cpu, cv, recommend(cv, cpu));
  EXPECT_EQ(f.basis, ThroughputBasis::cpu_seconds);
  EXPECT_NEAR(f.throughput_per_second, 0.95, 1e-9);
  EXPECT_FALSE(f.p95_seconds);
  EXPECT_FALSE(f.cost_per_month);  // no prices
}

TEST(Baseline, IsTheMeanOfTheLastWindows) {
  std::vector<WindowResult> history = {window(10, 9.0, 9.0, 900), window(20, 1.0, 0.1, 100),
                                       window(30, 2.0, std::nullopt, 200),
                                       window(40, 3.0, 0.3, 300)};
  auto b = make_baseline("api", "before", history, 3, 50, "EUR");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->workload, "api");
  EXPECT_EQ(b->name, "before");
  EXPECT_EQ(b->windows, 3);
  EXPECT_DOUBLE_EQ(b->created_seconds, 50);
  EXPECT_DOUBLE_EQ(b->first_window_end_seconds, 20);
  EXPECT_DOUBLE_EQ(b->last_window_end_seconds, 40);
  EXPECT_DOUBLE_EQ(b->figures.throughput_per_second, 2.0);
  EXPECT_DOUBLE_EQ(b->figures.cpu_cores_used, 2.0);
  EXPECT_EQ(b->figures.memory_bytes, 200u);
  // Latency over the windows that measured it.
  ASSERT_TRUE(b->figures.p95_seconds);
  EXPECT_DOUBLE_EQ(*b->figures.p95_seconds, 0.2);
  EXPECT_EQ(b->currency, "EUR");

  // More windows asked than kept: all of them.
  EXPECT_EQ(make_baseline("api", "all", history, 60, 50, "")->windows, 4);
  EXPECT_FALSE(make_baseline("api", "none", {}, 3, 50, ""));
  EXPECT_FALSE(make_baseline("api", "zero", history, 0, 50, ""));
}

// Throughput measured two ways is not averaged together: the last window's basis.
TEST(Baseline, AveragesThroughputOfTheLastWindowsBasisOnly) {
  std::vector<WindowResult> history = {
      window(10, 0.9, std::nullopt, 100, "threads", ThroughputBasis::cpu_seconds),
      window(20, 40, 0.2, 100, "threads", ThroughputBasis::dependency_requests),
      window(30, 44, 0.2, 100, "threads", ThroughputBasis::dependency_requests)};
  auto b = make_baseline("api", "b", history, 3, 40, "");
  EXPECT_EQ(b->figures.basis, ThroughputBasis::dependency_requests);
  EXPECT_DOUBLE_EQ(b->figures.throughput_per_second, 42);
}

Baseline baseline_of(double throughput, std::optional<double> p95, std::uint64_t memory,
                     const std::string& model,
                     ThroughputBasis basis = ThroughputBasis::cpu_seconds) {
  std::vector<WindowResult> h = {window(10, throughput, p95, memory, model, basis)};
  return *make_baseline("api", "before", h, 1, 20, "USD");
}

TEST(Compare, ThreadsToProcessesOnACpuBoundJobIsAnImprovement) {
  Baseline before = baseline_of(1.0, std::nullopt, 20 << 20, "threads");
  Baseline after = baseline_of(1.9, std::nullopt, 80 << 20, "processes");
  before.figures.cost_per_month = 10;
  after.figures.cost_per_month = 14;
  Comparison c = compare(before, after, std::nullopt);
  ASSERT_TRUE(c.throughput_change);
  EXPECT_NEAR(*c.throughput_change, 0.9, 1e-9);
  EXPECT_FALSE(c.p95_change);
  EXPECT_DOUBLE_EQ(c.memory_change_bytes, 60 << 20);
  EXPECT_NEAR(*c.cost_change_per_month, 4, 1e-9);
  EXPECT_EQ(c.verdict, "improved");
  EXPECT_NE(c.summary.find("improved: processes (was threads)"), std::string::npos) << c.summary;
  EXPECT_NE(c.summary.find("throughput +90 %"), std::string::npos) << c.summary;
  EXPECT_NE(c.summary.find("memory +60 MiB"), std::string::npos) << c.summary;
  EXPECT_NE(c.summary.find("cost +4.00 USD/month"), std::string::npos) << c.summary;
  EXPECT_EQ(c.summary.find("objective"), std::string::npos) << c.summary;
}

TEST(Compare, VerdictFollowsThroughputAndLatency) {
  const auto deps = ThroughputBasis::dependency_requests;
  auto verdict = [&](double t0, double p0, double t1, double p1) {
    return compare(baseline_of(t0, p0, 1, "threads", deps), baseline_of(t1, p1, 1, "threads", deps),
                   std::nullopt)
        .verdict;
  };
  EXPECT_EQ(verdict(40, 0.2, 41, 0.2), "unchanged");  // +2.5 %: noise
  EXPECT_EQ(verdict(40, 0.2, 40, 0.1), "improved");   // faster
  EXPECT_EQ(verdict(40, 0.2, 30, 0.2), "regressed");  // less done
  EXPECT_EQ(verdict(40, 0.2, 40, 0.3), "regressed");  // slower
  EXPECT_EQ(verdict(40, 0.2, 80, 0.4), "mixed");      // more done, but slower
  EXPECT_EQ(verdict(40, 0.2, 38.5, 0.195), "unchanged");
}

TEST(Compare, ThroughputsMeasuredDifferentlyAreNotCompared) {
  Baseline before = baseline_of(1.0, std::nullopt, 1, "threads", ThroughputBasis::cpu_seconds);
  Baseline after = baseline_of(50, std::nullopt, 1, "asyncio", ThroughputBasis::inbound_requests);
  Comparison c = compare(before, after, false);
  EXPECT_FALSE(c.throughput_change);
  EXPECT_EQ(c.verdict, "not_comparable");
  EXPECT_NE(c.summary.find("throughput measured differently"), std::string::npos) << c.summary;
  EXPECT_NE(c.summary.find("objective missed"), std::string::npos) << c.summary;
}

TEST(Compare, SaysWhetherTheObjectiveIsMet) {
  Baseline b = baseline_of(40, 0.3, 1, "threads", ThroughputBasis::inbound_requests);
  Baseline a = baseline_of(40, 0.15, 1, "processes", ThroughputBasis::inbound_requests);
  Comparison c = compare(b, a, true);
  EXPECT_EQ(c.verdict, "improved");
  ASSERT_TRUE(c.p95_change);
  EXPECT_NEAR(*c.p95_change, -0.5, 1e-9);
  EXPECT_NE(c.summary.find("p95 -50 % (300 ms → 150 ms)"), std::string::npos) << c.summary;
  EXPECT_NE(c.summary.find("; objective met"), std::string::npos) << c.summary;
}

}  // namespace
}  // namespace boundwise
