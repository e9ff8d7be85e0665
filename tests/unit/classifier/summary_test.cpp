// The summary sentence against the numbers it stands on, for every class and every
// model recommend() can choose for it: each number in the summary appears in the
// evidence (a person checks the sentence against the lines below it), and the summary
// never says what the shares contradict (sleep is not "waits for work", a workload
// with no idle time does not wait for work).
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "classifier/classify.hpp"
#include "tests/unit/classifier/windows.hpp"

namespace boundwise {
namespace {

using test::window;

struct Case {
  std::string name;
  WorkloadWindow w;
};

// Every class, and within a class every model it can lead to (and the variants whose
// summary differs: a CPU limit, a node with no free core, idle that sleeps).
std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&out](std::string name, WorkloadWindow w) { out.push_back({std::move(name), w}); };

  add("cpu_bound processes", window({{Reason::on_cpu, 0.9}, {Reason::runqueue, 0.1}}, 1, 1.0));
  auto one_core = window({{Reason::on_cpu, 1.0}}, 1, 1.0);
  one_core.node.cores = 1;
  one_core.node.cpu_busy_ratio = 0.6;
  add("cpu_bound scale_out (one core)", one_core);
  auto python_cpu = window({{Reason::on_cpu, 1.0}}, 1, 1.0);
  python_cpu.runtime.kind = "python";
  add("cpu_bound processes (python)", python_cpu);

  auto gil = window({{Reason::on_cpu, 0.3}, {Reason::gil, 0.7}}, 4, 1.0);
  gil.runtime.kind = "python";
  add("gil_contended processes", gil);
  auto ft = gil;
  ft.runtime.free_threaded = true;
  add("gil_contended free_threaded", ft);

  auto parallel_threads = window({{Reason::on_cpu, 1.0}}, 2, 1.9);
  parallel_threads.busy_threads_max = 2;
  add("cpu_parallel threads", parallel_threads);
  auto parallel_procs = parallel_threads;
  parallel_procs.processes = 3;
  add("cpu_parallel processes", parallel_procs);

  auto net = window({{Reason::net, 0.9}, {Reason::on_cpu, 0.1}}, 8, 0.8);
  DependencyWindow db;
  db.name = "orders-db";
  db.endpoint = "10.0.0.5:5432";
  db.wait_seconds = 0.9 * 80;
  db.blocked_intervals_seconds = {0.2, 0.21, 0.19, 0.2};
  net.dependencies.push_back(db);
  finalize_window(net);
  add("io_network threads", net);
  auto loop = net;
  loop.event_loop = true;
  add("io_network asyncio", loop);
  add("io_network threads (no dependency named)",
      window({{Reason::net, 0.7}, {Reason::ipc, 0.2}, {Reason::on_cpu, 0.1}}, 8, 0.8));

  add("io_disk threads", window({{Reason::disk, 0.8}, {Reason::on_cpu, 0.2}}));
  add("lock_contended none", window({{Reason::lock, 0.8}, {Reason::on_cpu, 0.2}}));

  auto sat = window({{Reason::on_cpu, 0.5}, {Reason::runqueue, 0.5}}, 4, 2.0);
  sat.node.cpu_busy_ratio = 1.0;
  add("cpu_saturated scale_out (run queue)", sat);
  auto no_free_core = window({{Reason::on_cpu, 0.95}, {Reason::runqueue, 0.05}}, 1, 0.5);
  no_free_core.node.cpu_busy_ratio = 0.98;
  add("cpu_saturated scale_out (no free core)", no_free_core);
  auto limited = window({{Reason::on_cpu, 0.8}, {Reason::runqueue, 0.2}}, 2, 0.5);
  limited.cpu_limit = CpuLimit{.cores = 0.5,
                               .cgroup = "/kubepods/burstable/pod1/c1",
                               .counters_valid = true,
                               .periods = 100,
                               .throttled_periods = 76,
                               .throttled_seconds = 1.62};
  add("cpu_saturated scale_out (CPU limit)", limited);

  auto paging = window({{Reason::paging, 0.5}, {Reason::on_cpu, 0.5}});
  paging.major_faults = 5000;
  add("memory_bound scale_out", paging);

  add("idle none (waits for work)", window({{Reason::idle, 1.0}}));
  add("idle none (sleeps)", window({{Reason::sleep, 1.0}}, 1, 0.0));
  add("idle none (sleeps and waits)", window({{Reason::sleep, 0.4}, {Reason::idle, 0.6}}, 2, 0.0));

  add("mixed none", window({{Reason::net, 0.4}, {Reason::on_cpu, 0.3}, {Reason::disk, 0.3}}));
  return out;
}

// The numbers of a text: "92%" → "92", "0.12 cores" → "0.12", "p95" → "95".
std::multiset<std::string> numbers(const std::string& text) {
  static const std::regex number(R"(\d+(?:\.\d+)?)");
  std::multiset<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number);
       it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  return out;
}

TEST(Summary, TheCasesCoverEveryClassAndModel) {
  std::set<Bottleneck> classes;
  std::set<std::pair<Bottleneck, Model>> pairs;
  for (const auto& c : cases()) {
    const auto v = classify(c.w);
    const auto r = recommend(v, c.w);
    classes.insert(v.bottleneck);
    pairs.insert({v.bottleneck, r.model});
    // The case's name says the class and model it means to reach.
    const std::string want =
        std::string(to_string(v.bottleneck)) + " " + std::string(to_string(r.model));
    EXPECT_EQ(c.name.rfind(want, 0), 0u) << c.name << " gave " << want << ": " << r.summary;
  }
  EXPECT_EQ(classes.size(), kBottleneckCount);
  EXPECT_EQ(pairs.size(), 14u);  // the decision table's class × model pairs
}

TEST(Summary, EveryNumberInTheSummaryIsInTheEvidence) {
  for (const auto& c : cases()) {
    const auto v = classify(c.w);
    const auto r = recommend(v, c.w);
    std::string evidence;
    for (const auto& e : r.evidence) evidence += e + "\n";
    const auto in_evidence = numbers(evidence);
    for (const auto& n : numbers(r.summary)) {
      EXPECT_TRUE(in_evidence.count(n) > 0)
          << c.name << ": " << n
          << " of the summary is not in the evidence\n  summary: " << r.summary << "\n  evidence:\n"
          << evidence;
    }
  }
}

TEST(Summary, NeverContradictsTheShares) {
  for (const auto& c : cases()) {
    const auto v = classify(c.w);
    const auto r = recommend(v, c.w);
    const double idle = v.shares[index_of(Reason::idle)];
    const double sleep = v.shares[index_of(Reason::sleep)];
    const auto says = [&r](const char* what) { return r.summary.find(what) != std::string::npos; };
    // Waiting for work is idle time, nothing else; timed sleeps are said as sleep.
    if (idle == 0) {
      EXPECT_FALSE(says("waits for work")) << c.name << ": " << r.summary;
    }
    if (v.bottleneck == Bottleneck::idle && sleep > 0) {
      EXPECT_TRUE(says("sleep")) << c.name << ": " << r.summary;
    }
    // The class's own name leads the sentence, so the reader knows which rule fired.
    EXPECT_FALSE(r.summary.empty()) << c.name;
  }
}

}  // namespace
}  // namespace boundwise
