// Objectives (classifier/objective.hpp, align_with_objective in options.hpp): the
// window measured against an objective, and the cheapest option meeting it chosen.
#include "classifier/objective.hpp"

#include <gtest/gtest.h>

#include <string>

#include "classifier/classify.hpp"
#include "classifier/sizing.hpp"
#include "tests/unit/classifier/windows.hpp"

namespace boundwise {
namespace {

using test::window;

// A server whose inbound requests took 0.2 s (90 of them) and 0.5 s (10): p95 0.5 s.
WorkloadWindow server() {
  auto w = window({{Reason::net, 0.6}, {Reason::on_cpu, 0.1}, {Reason::idle, 0.3}}, 8, 0.4);
  w.inbound_latency = LatencyHistogram{};
  for (int i = 0; i < 90; ++i) w.inbound_latency->add(0.2);
  for (int i = 0; i < 10; ++i) w.inbound_latency->add(0.5);
  w.inbound_requests = 100;
  return w;
}

TEST(Objective, InboundLatencyAgainstTheObjective) {
  auto w = server();
  auto v = classify(w);
  auto s = measure_objective({.latency_p95_seconds = 0.3}, v, w);
  EXPECT_EQ(s.source, "inbound");
  ASSERT_TRUE(s.p95_seconds && s.latency_ratio && s.met && s.budget_used);
  EXPECT_GT(*s.p95_seconds, 0.45);
  EXPECT_NEAR(*s.latency_ratio, *s.p95_seconds / 0.3, 1e-9);
  EXPECT_FALSE(*s.met);
  // 10 % of the requests were slower than 0.3 s against the 5 % a p95 allows.
  EXPECT_NEAR(*s.budget_used, 2.0, 1e-9);
  EXPECT_NEAR(*s.throughput_per_second, 10, 1e-9);
  s = measure_objective({.latency_p95_seconds = 1.0, .throughput_min_per_second = 5}, v, w);
  EXPECT_TRUE(*s.met);
  EXPECT_DOUBLE_EQ(*s.budget_used, 0);
  s = measure_objective({.throughput_min_per_second = 50}, v, w);
  EXPECT_FALSE(*s.met);
  EXPECT_FALSE(s.latency_ratio);
  // Nothing configured, nothing judged.
  EXPECT_FALSE(measure_objective({}, v, w).met);
}

// A client serves nothing measured: its top dependency's latency stands in, and says so.
TEST(Objective, ClientsAreJudgedByTheirTopDependency) {
  auto w = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}, 8, 0.8);
  DependencyWindow d;
  d.name = "orders-db";
  d.endpoint = "10.0.0.5:5432";
  d.wait_seconds = 72;
  d.blocked_intervals_seconds = {0.2, 0.2, 0.2, 0.9};
  w.dependencies.push_back(d);
  finalize_window(w);
  auto v = classify(w);
  auto s = measure_objective({.latency_p99_seconds = 0.5}, v, w);
  EXPECT_EQ(s.source, "dependency orders-db");
  ASSERT_TRUE(s.met);
  EXPECT_FALSE(*s.met);
  EXPECT_NEAR(*s.budget_used, 0.25 / 0.01, 1e-9);  // one wait in four over 0.5 s
  // No latency anywhere: nothing to judge by.
  auto bare = window({{Reason::on_cpu, 1.0}}, 1, 1.0);
  EXPECT_FALSE(measure_objective({.latency_p95_seconds = 0.1}, classify(bare), bare).met);
}

// GIL-bound threads whose requests wait for the GIL: the objective is missed now, and
// processes (2× on the free core) are projected to bring p95 under it. A free-threaded
// build would too, on fewer cores, but needs another interpreter: processes are
// chosen. With a loose objective keeping the model is cheapest.
TEST(Objective, TheCheapestOptionMeetingTheObjectiveIsChosen) {
  auto w = window({{Reason::on_cpu, 0.25}, {Reason::gil, 0.75}}, 4, 1.0);
  w.runtime.kind = "python";
  w.inbound_latency = LatencyHistogram{};
  for (int i = 0; i < 100; ++i) w.inbound_latency->add(0.4);
  w.inbound_requests = 100;
  auto v = classify(w);
  ASSERT_EQ(v.bottleneck, Bottleneck::gil_contended);
  auto r = recommend(v, w, {.objective = {.latency_p95_seconds = 0.3}});
  ASSERT_TRUE(r.objective_status && r.objective_status->met);
  EXPECT_FALSE(*r.objective_status->met);
  EXPECT_EQ(r.model, Model::processes);
  for (const auto& o : r.options) {
    ASSERT_TRUE(o.meets_objective) << option_name(o.model);
    if (o.model == Model::none || o.model == Model::threads) {
      EXPECT_FALSE(*o.meets_objective) << option_name(o.model);
    }
  }
  EXPECT_NE(r.summary.find("missed now and processes is the least change projected to meet"),
            std::string::npos)
      << r.summary;
  EXPECT_NE(r.steps.back().find("meets the objective"), std::string::npos) << r.steps.back();

  r = recommend(v, w, {.objective = {.latency_p95_seconds = 1.0}});
  EXPECT_EQ(r.model, Model::none);
  EXPECT_EQ(r.workers, 0);
  EXPECT_NE(r.summary.find("met now and keep is the least change"), std::string::npos) << r.summary;

  // Nothing gets p95 from 0.4 s to 0.1 s: the fastest option (processes and scale_out
  // both 2×: the table's), said so.
  r = recommend(v, w, {.objective = {.latency_p95_seconds = 0.1}});
  EXPECT_NE(r.summary.find("no option is projected to meet the objective"), std::string::npos)
      << r.summary;
  EXPECT_EQ(r.model, Model::processes);
}

// I/O-bound: the service time is the dependency's; no model changes the latency, but a
// throughput objective is met by the option whose concurrency serves the demand.
TEST(Objective, ThroughputObjectiveFollowsTheProjectedSpeedup) {
  auto w = window({{Reason::net, 0.999}, {Reason::on_cpu, 0.001}}, 8, 0.01);
  DependencyWindow d;
  d.name = "orders";
  d.endpoint = "10.0.0.5:8080";
  d.wait_seconds = 79.9;
  d.request_latency = LatencyHistogram{};
  for (int i = 0; i < 398; ++i) d.request_latency->add(0.2);
  d.requests = 398;
  w.dependencies.push_back(d);
  finalize_window(w);
  auto v = classify(w);
  // 39.8 requests/s now; 10 workers project 1.25× = 49.75/s.
  auto r = recommend(v, w, {.objective = {.throughput_min_per_second = 45}});
  EXPECT_EQ(r.model, Model::threads) << r.summary;
  EXPECT_EQ(r.workers, 10);
  r = recommend(v, w, {.objective = {.throughput_min_per_second = 30}});
  EXPECT_EQ(r.model, Model::none) << r.summary;
}

// gunicorn with 2 sync workers (3 processes: the master idle), each request 0.1 s on
// the database, 50 connections/s arriving: 20/s are served and the rest wait in the
// accept queue, 2 s on average by the time they are served.
WorkloadWindow two_sync_workers(double arrivals_per_second) {
  auto w = window({{Reason::net, 0.6}, {Reason::on_cpu, 0.02}, {Reason::idle, 0.38}}, 3, 0.02);
  w.processes = 3;
  w.runtime.kind = "python";
  w.runtime.server = "gunicorn";
  w.runtime.worker_processes = 2;
  w.runtime.max_worker_threads = 1;
  DependencyWindow d;
  d.name = "orders-db";
  d.endpoint = "127.0.0.1:5432";
  d.wait_seconds = 18;
  w.dependencies.push_back(d);
  w.inbound_latency = LatencyHistogram{};
  w.inbound_total_latency = LatencyHistogram{};
  for (int i = 0; i < 200; ++i) {
    w.inbound_latency->add(0.1);
    w.inbound_total_latency->add(2.1);
  }
  w.inbound_requests = 200;
  w.inbound_arrivals = arrivals_per_second * w.duration_seconds;
  finalize_window(w);
  return w;
}

// The demand is what arrived (50/s × 0.1 s = 5 in flight, not the 2 served): 7 workers
// at 80 %; the objective is judged from arrival (missed), and an option with those
// workers leaves the service time (0.1 s), which meets it: threads, the least change
// and cheapest, chosen; keeping 2 workers does not meet it.
TEST(Objective, TooFewWorkersQueueForAcceptAndTheCountFollowsWhatArrived) {
  auto w = two_sync_workers(50);
  auto v = classify(w);
  ASSERT_EQ(v.bottleneck, Bottleneck::io_network);
  const IoDemand d = io_demand(v, w, 1);
  EXPECT_TRUE(d.backlog);
  EXPECT_NEAR(d.rate_per_second, 50, 1e-9);
  EXPECT_NEAR(d.served_rate_per_second, 20, 1e-9);
  EXPECT_NEAR(d.in_flight, 5, 0.01);
  EXPECT_NEAR(d.served_in_flight, 2, 0.01);
  EXPECT_EQ(d.workers, 7);
  EXPECT_NE(io_demand_text(d).find("50.0 requests/s (eBPF, arrived)"), std::string::npos)
      << io_demand_text(d);

  auto r = recommend(v, w, {.objective = {.latency_p95_seconds = 0.3}});
  ASSERT_TRUE(r.objective_status && r.objective_status->met);
  EXPECT_FALSE(*r.objective_status->met);
  EXPECT_GT(*r.objective_status->p95_seconds, 2.0);  // from arrival, not the service's 0.1
  // p95 of the service time (0.1 s) over 0.3 s, to the histogram slot (≤ 12.5 % wide).
  EXPECT_NEAR(*r.objective_status->service_latency_ratio, 0.1 / 0.3, 0.1 / 0.3 * 0.125);
  EXPECT_EQ(r.model, Model::threads) << r.summary;
  EXPECT_EQ(r.workers, 7);
  for (const auto& o : r.options) {
    ASSERT_TRUE(o.meets_objective) << option_name(o.model);
    // 2 replicas of 2 workers serve 4 of the 5: the queue stays.
    if (o.model == Model::none || o.model == Model::scale_out) {
      EXPECT_FALSE(*o.meets_objective) << option_name(o.model) << ": " << o.basis;
    }
    if (o.model == Model::threads) {
      EXPECT_TRUE(*o.meets_objective) << o.basis;
      EXPECT_NEAR(o.speedup, 2.5, 0.01) << o.basis;  // 5 in flight served of 2 now
    }
  }

  // As many arrived as were served: no backlog, the served rate is the demand.
  auto balanced = two_sync_workers(20);
  const IoDemand b = io_demand(classify(balanced), balanced, 1);
  EXPECT_FALSE(b.backlog);
  EXPECT_NEAR(b.rate_per_second, 20, 1e-9);
  EXPECT_NEAR(b.in_flight, b.served_in_flight, 1e-9);
}

}  // namespace
}  // namespace boundwise
