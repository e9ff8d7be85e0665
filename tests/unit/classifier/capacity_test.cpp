// A dependency's capacity signal (classifier/capacity.hpp) and what recommend() does
// with it: latency rising with the concurrency put on a dependency holds the worker
// count at the most concurrency seen; flat latency is capacity to spare.
#include "classifier/capacity.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "classifier/classify.hpp"
#include "classifier/histogram.hpp"

namespace boundwise {
namespace {

WindowResult window(const std::string& dependency, double in_flight, double p95) {
  WindowResult w;
  w.figures.dependency = dependency;
  w.figures.dependency_in_flight = in_flight;
  w.figures.dependency_p95_seconds = p95;
  return w;
}

// A dependency that queues: p95 = 0.04 s per waiting thread.
std::vector<WindowResult> queueing(const std::string& name = "orders-db") {
  std::vector<WindowResult> h;
  for (double n : {4.0, 4.5, 8.0, 8.5, 12.0, 12.5}) h.push_back(window(name, n, 0.04 * n));
  return h;
}

TEST(Capacity, LatencyRisingWithConcurrencyIsQueueing) {
  auto s = dependency_capacity(queueing(), "orders-db");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->rising);
  EXPECT_EQ(s->windows, 6);
  EXPECT_DOUBLE_EQ(s->low_in_flight, 4.25);
  EXPECT_DOUBLE_EQ(s->high_in_flight, 12.25);
  EXPECT_NEAR(s->low_p95_seconds, 0.17, 1e-12);
  EXPECT_NEAR(s->high_p95_seconds, 0.49, 1e-12);
  EXPECT_NEAR(s->correlation, 1.0, 1e-9);
  EXPECT_EQ(capacity_text(*s),
            "orders-db's p95 rose from 170 ms to 490 ms as threads waiting on it went from 4.2 "
            "to 12.2 (6 windows, correlation 1.00)");
}

TEST(Capacity, FlatLatencyIsCapacityToSpare) {
  std::vector<WindowResult> h;
  for (double n : {4.0, 4.5, 8.0, 8.5, 12.0, 12.5}) h.push_back(window("api", n, 0.2 + n * 1e-4));
  auto s = dependency_capacity(h, "api");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->rising);
  EXPECT_NE(capacity_text(*s).find("api's p95 held"), std::string::npos);
}

// Latency that rose over time while the concurrency went up and down is not the
// dependency answering to the load: no correlation, no signal.
TEST(Capacity, ARiseThatDoesNotFollowConcurrencyIsNotQueueing) {
  std::vector<WindowResult> h;
  const double in_flight[] = {12, 4, 8, 4, 12, 8, 4, 12, 8};
  for (int i = 0; i < 9; ++i) h.push_back(window("db", in_flight[i], 0.1 + 0.05 * i));
  auto s = dependency_capacity(h, "db");
  ASSERT_TRUE(s);
  EXPECT_LT(s->correlation, capacity::kMinCorrelation);
  EXPECT_FALSE(s->rising);
}

TEST(Capacity, NothingIsSaidWithoutEnoughWindowsOrSpread) {
  auto h = queueing();
  EXPECT_FALSE(dependency_capacity({h.data(), 5}, "orders-db"));  // 5 windows
  EXPECT_FALSE(dependency_capacity(h, "another-db"));             // not this dependency
  std::vector<WindowResult> steady;
  for (double n : {8.0, 8.2, 8.4, 8.6, 8.8, 9.0}) steady.push_back(window("db", n, 0.05 * n));
  EXPECT_FALSE(dependency_capacity(steady, "db"));  // 1.1x spread: nothing to learn
  // Windows without a latency do not count.
  for (auto& w : h) w.figures.dependency_p95_seconds.reset();
  EXPECT_FALSE(dependency_capacity(h, "orders-db"));
}

// 16 threads waiting on a dependency whose latency has been rising with concurrency:
// the count is held at the most concurrency seen, and the risk says why.
TEST(Capacity, RecommendHoldsWorkersAtTheConcurrencySeen) {
  WorkloadWindow w;
  w.duration_seconds = 10;
  w.threads = 16;
  w.processes = 1;
  w.node.cores = 8;
  w.cpu_seconds = 0.5;
  w.thread_seconds[index_of(Reason::net)] = 155;
  w.thread_seconds[index_of(Reason::on_cpu)] = 0.5;
  w.thread_seconds[index_of(Reason::idle)] = 4.5;
  DependencyWindow d;
  d.name = "orders-db";
  d.wait_seconds = 155;
  for (int i = 0; i < 200; ++i) d.blocked_intervals_seconds.push_back(0.6);
  w.dependencies.push_back(d);
  finalize_window(w);
  Verdict v = classify(w);
  ASSERT_EQ(v.bottleneck, Bottleneck::io_network);

  Recommendation free = recommend(v, w);
  const auto history = queueing();
  Recommendation held = recommend(v, w, DecisionInputs{.history = history});
  EXPECT_GT(free.workers, 13);
  EXPECT_EQ(held.workers, 13);  // ⌈12.25⌉
  auto has = [](const std::vector<std::string>& lines, const std::string& text) {
    for (const auto& l : lines) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(held.risks, "orders-db's p95 rose from 170 ms to 490 ms")) << held.risks[0];
  EXPECT_TRUE(has(held.evidence, "workers held at 13")) << held.evidence[0];
  EXPECT_FALSE(has(free.evidence, "workers held"));
}

}  // namespace
}  // namespace boundwise
