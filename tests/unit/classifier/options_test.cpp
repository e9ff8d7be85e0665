// Option scoring (classifier/options.hpp, sizing.hpp): Amdahl for CPU work, Little's
// law for I/O work, the cores available, cost arithmetic, and the decision steps.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "classifier/classify.hpp"
#include "classifier/sizing.hpp"
#include "tests/unit/classifier/windows.hpp"

namespace boundwise {
namespace {

using test::window;

const OptionScore& option(const Recommendation& r, Model m) {
  for (const auto& o : r.options) {
    if (o.model == m) return o;
  }
  ADD_FAILURE() << "no option " << option_name(m);
  return r.options.front();
}

std::string joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  return all;
}

// The README's example: 8 threads calling a 200 ms service, computing 0.01 cores.
WorkloadWindow eight_callers() {
  auto w = window({{Reason::net, 0.999}, {Reason::on_cpu, 0.001}}, 8, 0.01);
  DependencyWindow d;
  d.name = "orders";
  d.endpoint = "10.0.0.5:8080";
  d.wait_seconds = 0.999 * 80;
  w.dependencies.push_back(d);
  return w;
}

TEST(Sizing, AmdahlAtItsBounds) {
  EXPECT_DOUBLE_EQ(amdahl(0, 4), 4);
  EXPECT_DOUBLE_EQ(amdahl(1, 4), 1);
  EXPECT_NEAR(amdahl(0.5, 2), 4.0 / 3, 1e-12);
  // Out-of-range inputs are clamped, not propagated.
  EXPECT_DOUBLE_EQ(amdahl(-1, 4), 4);
  EXPECT_DOUBLE_EQ(amdahl(2, 4), 1);
  EXPECT_DOUBLE_EQ(amdahl(0, 0.5), 1);
  EXPECT_DOUBLE_EQ(amdahl(NAN, 2), 2);
}

// 8 requests in flight at 0.2 s: the count follows the demand (8 busy workers and 20 %
// headroom), not cores × (1 + W/C) = 2 × (1 + 0.999 / 0.001) which the cores alone
// would sustain.
TEST(Sizing, TheReadmeExampleFollowsDemandNotTheCores) {
  auto w = eight_callers();
  auto r = recommend(classify(w), w);
  EXPECT_EQ(r.model, Model::threads);
  EXPECT_EQ(r.workers, 10);
  const std::string evidence = joined(r.evidence);
  EXPECT_NE(evidence.find("sampled, no request counts"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("8.0 threads active on average on 8 workers (100% busy: saturated"),
            std::string::npos)
      << evidence;
  // Measured by eBPF: each thread loops on 0.2 s calls and 1.25 ms of computing, 39.8
  // requests/s: 7.96 in calls plus 0.01 computing in flight, the same count.
  w.dependencies[0].request_latency = LatencyHistogram{};
  for (int i = 0; i < 398; ++i) w.dependencies[0].request_latency->add(0.2);
  w.dependencies[0].requests = 398;
  r = recommend(classify(w), w);
  EXPECT_EQ(r.workers, 10);
  EXPECT_NE(joined(r.evidence).find("Little's law: 39.8 requests/s"), std::string::npos)
      << joined(r.evidence);
  // Saturated workers: more of them raise throughput by their ratio.
  EXPECT_NEAR(option(r, Model::threads).speedup, 10.0 / 8, 0.01);
}

// A server whose workers are mostly idle: the demand (20 requests/s × 0.1 s = 2 in
// flight on 8 threads) is met, so no option projects more throughput than now.
TEST(Sizing, MetDemandProjectsNoSpeedup) {
  auto w = window({{Reason::net, 0.2}, {Reason::on_cpu, 0.05}, {Reason::idle, 0.75}}, 8, 0.4);
  w.inbound_latency = LatencyHistogram{};
  for (int i = 0; i < 200; ++i) w.inbound_latency->add(0.1);
  w.inbound_requests = 200;
  auto v = classify(w);
  ASSERT_EQ(v.bottleneck, Bottleneck::io_network);
  auto r = recommend(v, w);
  EXPECT_EQ(r.workers, 3);  // ceil(2 / 0.8)
  for (const auto& o : r.options) {
    EXPECT_LE(o.speedup, 1.0 + 1e-9) << option_name(o.model) << ": " << o.basis;
  }
  EXPECT_NE(option(r, Model::threads).basis.find("the demand is met already"), std::string::npos);
}

// Python threads compute under one GIL: when computing is half their active time, two
// threads fill the one core they can use, whatever the waits ask for.
TEST(Sizing, PythonThreadsAreCappedWhereComputingFillsOneCore) {
  auto w = window({{Reason::net, 0.5}, {Reason::on_cpu, 0.3}, {Reason::gil, 0.2}}, 16, 0.3);
  w.runtime.kind = "python";
  auto v = classify(w);
  auto d = io_demand(v, w, 1);
  EXPECT_NEAR(d.cpu_share, 0.5, 1e-9);
  EXPECT_TRUE(d.capped_by_cpu);
  EXPECT_EQ(d.workers, 2);
  EXPECT_NE(io_demand_text(d).find("capped where computing (50% of active time)"),
            std::string::npos);
  // Processes compute on every available core: four sustain twice as many.
  EXPECT_EQ(io_demand(v, w, 2).workers, 4);
}

// A CPU-bound thread on a node whose other work fills every core: no local option
// gains, a second replica does.
TEST(Options, NoFreeCoreMeansNoProcessSpeedup) {
  auto w = window({{Reason::on_cpu, 0.97}, {Reason::runqueue, 0.03}}, 1, 1.0);
  w.node.cpu_busy_ratio = 1.0;
  auto r = recommend(classify(w), w);
  ASSERT_EQ(r.model, Model::scale_out);
  EXPECT_NEAR(option(r, Model::processes).speedup, 1.0, 1e-9);
  EXPECT_NEAR(option(r, Model::threads).speedup, 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(option(r, Model::scale_out).speedup, 2);
  // With a free core the same thread gains it as a second process.
  w.node.cpu_busy_ratio = 0.5;
  r = recommend(classify(w), w);
  EXPECT_EQ(r.model, Model::processes);
  EXPECT_NEAR(option(r, Model::processes).speedup, 2.0, 1e-9);
  EXPECT_EQ(option(r, Model::processes).workers, 2);
}

// Four Python threads held by the GIL (read from memory: held all of the CPU time) on
// a node with a free core: threads gain nothing, processes the free core, and a
// free-threaded build the same cores less its single-thread cost.
TEST(Options, GilBoundThreadsByAmdahl) {
  auto w = window({{Reason::on_cpu, 0.25}, {Reason::gil, 0.75}}, 4, 1.0);
  w.runtime.kind = "python";
  w.runtime.version = "3.12.1";
  w.gil.measured = true;
  w.gil.held_seconds = 10;
  auto r = recommend(classify(w), w);
  ASSERT_EQ(r.model, Model::processes);
  EXPECT_NEAR(option(r, Model::threads).speedup, 1.0, 1e-9);
  EXPECT_NEAR(option(r, Model::processes).speedup, 2.0, 1e-9);
  EXPECT_NEAR(option(r, Model::free_threaded).speedup, 2.0 / 1.4, 1e-9);
  EXPECT_NEAR(option(r, Model::asyncio).speedup, 1.0, 1e-9);
  EXPECT_NE(joined(option(r, Model::free_threaded).risks).find("this is 3.12.1"),
            std::string::npos);
  EXPECT_NE(option(r, Model::threads).basis.find("GIL held for 100% of the CPU time"),
            std::string::npos);
  // Native code that releases the GIL (held 20 % of the CPU time): threads scale too.
  w.gil.held_seconds = 2;
  EXPECT_NEAR(option(recommend(classify(w), w), Model::threads).speedup, amdahl(0.2, 2), 1e-9);
}

TEST(Options, FreeThreadedOnlyForPython) {
  auto w = window({{Reason::on_cpu, 1.0}}, 1, 1.0);
  auto r = recommend(classify(w), w);
  for (const auto& o : r.options) EXPECT_NE(o.model, Model::free_threaded);
  EXPECT_EQ(r.options.front().model, Model::none);
  EXPECT_EQ(option_name(r.options.front().model), "keep");
}

// Money: (cores × core-hour + GiB × GiB-hour) × 730 hours; none without prices.
TEST(Options, CostPerMonth) {
  auto w = window({{Reason::on_cpu, 1.0}}, 1, 1.0);
  w.memory.pss_bytes = 1ull << 30;
  w.memory.processes_measured = 1;
  auto v = classify(w);
  auto r = recommend(v, w);
  EXPECT_FALSE(option(r, Model::none).cost_per_month);
  EXPECT_TRUE(r.currency.empty());
  Prices prices{.cpu_core_hour = 0.04, .memory_gib_hour = 0.005, .currency = "EUR"};
  r = recommend(v, w, {.prices = prices});
  ASSERT_TRUE(option(r, Model::none).cost_per_month);
  EXPECT_NEAR(*option(r, Model::none).cost_per_month, (0.04 + 0.005) * 730, 1e-9);
  // Two processes: two cores, two copies of the 1 GiB process.
  EXPECT_NEAR(*option(r, Model::processes).cost_per_month, (2 * 0.04 + 2 * 0.005) * 730, 1e-9);
  EXPECT_EQ(option(r, Model::processes).memory_bytes, 2ull << 30);
  EXPECT_EQ(r.currency, "EUR");
  EXPECT_NE(r.steps.back().find("EUR/month (now 32.85)"), std::string::npos) << r.steps.back();
}

// Forked workers share most of their memory: one more costs its private memory (USS),
// not its PSS share, and fewer cost their share each.
TEST(Options, AnAddedForkedWorkerCostsItsPrivateMemory) {
  auto w = window({{Reason::on_cpu, 1.0}}, 4, 4.0);
  w.node.cores = 16;
  w.processes = 4;
  w.memory.processes_measured = 4;
  w.memory.pss_bytes = 400ull << 20;  // 100 MiB each...
  w.memory.uss_bytes = 40ull << 20;   // ...of which 10 MiB their own
  auto v = classify(w);
  auto r = recommend(v, w);
  const OptionScore& p = option(r, Model::processes);
  ASSERT_GT(p.workers, 4);
  EXPECT_EQ(p.memory_bytes,
            (400ull << 20) + static_cast<std::uint64_t>(p.workers - 4) * (10ull << 20));
  bool said = false;
  for (const auto& risk : p.risks) {
    said = said || risk ==
                       "memory: 10 MiB per added worker process (its private memory: "
                       "forked workers share the rest)";
  }
  EXPECT_TRUE(said);
  EXPECT_EQ(memory_per_added_process(w), 10ull << 20);
  w.memory.uss_bytes = 0;  // unreadable: the PSS share
  EXPECT_EQ(memory_per_added_process(w), 100ull << 20);
}

// Every class: the options are finite, the chosen model is among them, and the four
// steps are there in order, the last naming the choice.
TEST(Options, EveryClassHasFiniteOptionsAndFourSteps) {
  std::vector<WorkloadWindow> windows = {
      window({{Reason::idle, 1.0}}),
      window({{Reason::on_cpu, 1.0}}, 1, 1.0),
      window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}),
      window({{Reason::disk, 0.9}, {Reason::on_cpu, 0.1}}),
      window({{Reason::lock, 0.8}, {Reason::on_cpu, 0.2}}),
      window({{Reason::paging, 0.8}, {Reason::on_cpu, 0.2}}),
      window({{Reason::net, 0.4}, {Reason::on_cpu, 0.3}, {Reason::disk, 0.3}}),
      window({}, 0, 0),
  };
  for (auto& w : windows) {
    auto v = classify(w);
    auto r = recommend(v, w);
    SCOPED_TRACE(std::string(to_string(v.bottleneck)));
    bool chosen_listed = false;
    for (const auto& o : r.options) {
      EXPECT_TRUE(std::isfinite(o.speedup) && o.speedup >= 0) << o.basis;
      EXPECT_TRUE(std::isfinite(o.cores) && o.cores >= 0) << o.basis;
      EXPECT_FALSE(o.basis.empty());
      chosen_listed |= o.model == r.model;
    }
    EXPECT_TRUE(chosen_listed);
    ASSERT_EQ(r.steps.size(), 4u);
    EXPECT_EQ(r.steps[0].rfind("identify: ", 0), 0u);
    EXPECT_EQ(r.steps[1].rfind("interpret: " + std::string(to_string(v.bottleneck)), 0), 0u);
    EXPECT_EQ(r.steps[2].rfind("validate: ", 0), 0u);
    EXPECT_EQ(r.steps[3].rfind("align: " + std::string(option_name(r.model)), 0), 0u);
  }
}

}  // namespace
}  // namespace boundwise
