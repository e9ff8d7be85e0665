// The assemble stage: measured beats sampled field by field, dependencies from both
// sources are named and capped once, numbers are sanitised, and the result does not
// depend on the order in which collectors wrote their parts.
#include "classifier/assemble/assemble.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>

namespace boundwise {
namespace {

double at(const WorkloadWindow& w, Reason r) { return w.thread_seconds[index_of(r)]; }

TEST(OffCpuMerge, RescalesDReasonsToTheMeasuredShareKeepingTheTotal) {
  WorkloadWindow w;
  w.thread_seconds[index_of(Reason::on_cpu)] = 3;
  w.thread_seconds[index_of(Reason::runqueue)] = 1;
  w.thread_seconds[index_of(Reason::disk)] = 2;  // procfs sampled: 2 s disk, 6 s net/sleep
  w.thread_seconds[index_of(Reason::net)] = 4;
  w.thread_seconds[index_of(Reason::sleep)] = 2;
  DependencyWindow d;
  d.wait_seconds = 4;
  w.dependencies.push_back(d);
  MeasuredOffCpu m;
  m.uninterruptible = 1;  // the kernel says: 1/4 of the sleep was D (procfs said 2/8)...
  m.interruptible = 3;
  merge_offcpu(m, w);
  EXPECT_DOUBLE_EQ(at(w, Reason::on_cpu), 3);
  EXPECT_DOUBLE_EQ(at(w, Reason::runqueue), 1);
  EXPECT_DOUBLE_EQ(at(w, Reason::disk), 2);  // ...so nothing moves
  EXPECT_DOUBLE_EQ(at(w, Reason::net), 4);

  m.uninterruptible = 0.5;  // now D is 1/8 of the sleep: 1 s of the 8
  m.interruptible = 3.5;
  merge_offcpu(m, w);
  EXPECT_DOUBLE_EQ(at(w, Reason::disk), 1);
  EXPECT_DOUBLE_EQ(at(w, Reason::net) + at(w, Reason::sleep), 7);
  EXPECT_DOUBLE_EQ(at(w, Reason::net) / at(w, Reason::sleep), 2);  // procfs's why, kept
  EXPECT_DOUBLE_EQ(w.dependencies[0].wait_seconds, at(w, Reason::net));
  EXPECT_DOUBLE_EQ(w.total_thread_seconds(), 12);
  EXPECT_DOUBLE_EQ(w.offcpu_seconds_by_state.at("uninterruptible"), 0.5);
}

TEST(OffCpuMerge, DTimeProcfsMissedBecomesDiskAndNothingMeasuredChangesNothing) {
  WorkloadWindow w;
  w.thread_seconds[index_of(Reason::sleep)] = 10;
  MeasuredOffCpu none;
  merge_offcpu(none, w);
  EXPECT_DOUBLE_EQ(at(w, Reason::sleep), 10);

  MeasuredOffCpu m;
  m.uninterruptible = 3;
  m.interruptible = 7;
  merge_offcpu(m, w);
  EXPECT_DOUBLE_EQ(at(w, Reason::disk), 3);
  EXPECT_DOUBLE_EQ(at(w, Reason::sleep), 7);
}

TEST(OffCpuMerge, AMeasuredGilWaitReplacesTheSampledOneAndTheRestKeepsProcfsWhy) {
  WorkloadWindow w;
  w.thread_seconds[index_of(Reason::on_cpu)] = 2;
  w.thread_seconds[index_of(Reason::gil)] = 3;  // sampled: 3 of 8 off-CPU seconds
  w.thread_seconds[index_of(Reason::idle)] = 4;
  w.thread_seconds[index_of(Reason::lock)] = 1;
  MeasuredOffCpu m;
  m.gil = 6;  // the kernel: 6 of the 8 measured sleeping seconds were on the GIL
  m.interruptible = 2;
  m.gil_exact = true;
  merge_offcpu(m, w);
  EXPECT_DOUBLE_EQ(at(w, Reason::gil), 6);
  EXPECT_DOUBLE_EQ(at(w, Reason::idle) + at(w, Reason::lock), 2);
  EXPECT_DOUBLE_EQ(at(w, Reason::idle) / at(w, Reason::lock), 4);  // procfs's why, kept
  EXPECT_DOUBLE_EQ(at(w, Reason::on_cpu), 2);
  EXPECT_DOUBLE_EQ(w.total_thread_seconds(), 10);
  EXPECT_TRUE(w.gil.wait_measured_in_kernel);
  EXPECT_DOUBLE_EQ(w.offcpu_seconds_by_state.at("gil"), 6);
}

TEST(OffCpuMerge, GilWaitsTheSamplerMissedAreAddedAndNoRangeKeepsTheSampledOnes) {
  WorkloadWindow w;
  w.thread_seconds[index_of(Reason::idle)] = 10;  // procfs saw no GIL wait at all
  MeasuredOffCpu m;
  m.gil = 1;
  m.interruptible = 9;
  m.gil_exact = true;
  merge_offcpu(m, w);
  EXPECT_DOUBLE_EQ(at(w, Reason::gil), 1);
  EXPECT_DOUBLE_EQ(at(w, Reason::idle), 9);

  // No GIL range in the kernel for any process (not Python, or a layout not known):
  // the sampled gil seconds are procfs's and scale with the other sleeps.
  WorkloadWindow sampled;
  sampled.thread_seconds[index_of(Reason::gil)] = 5;
  sampled.thread_seconds[index_of(Reason::idle)] = 5;
  MeasuredOffCpu none_exact;
  none_exact.interruptible = 10;
  merge_offcpu(none_exact, sampled);
  EXPECT_DOUBLE_EQ(at(sampled, Reason::gil), 5);
  EXPECT_FALSE(sampled.gil.wait_measured_in_kernel);
  EXPECT_EQ(sampled.offcpu_seconds_by_state.count("gil"), 0u);
}

Endpoint ep(const char* text) { return *Endpoint::parse(text); }

std::map<Endpoint, SampledEvidence::Dependency> waits(
    const std::vector<std::pair<const char*, double>>& list) {
  std::map<Endpoint, SampledEvidence::Dependency> out;
  for (const auto& [text, seconds] : list) {
    auto& d = out[ep(text)];
    d.wait_seconds = seconds;
    d.blocked_intervals_seconds = {seconds / 2};
  }
  return out;
}

MeasuredDependency one_request(double seconds) {
  MeasuredDependency d;
  d.request_latency.add(seconds);
  d.requests = 1;
  d.bytes_sent = 10;
  return d;
}

AssembleRules cap(int n, std::vector<DependencyRule> rules = {}) {
  return AssembleRules{std::move(rules), n};
}

TEST(NameDependencies, KeepsTheLargestAndSumsTheRestIntoOther) {
  auto list = name_dependencies(
      waits({{"10.0.0.1:7000", 0.5}, {"10.0.0.2:7000", 3.0}, {"10.0.0.3:7000", 1.0}}), {}, cap(2));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "10.0.0.2:7000");
  EXPECT_EQ(list[0].endpoint, "10.0.0.2:7000");
  EXPECT_EQ(list[1].name, "10.0.0.3:7000");
  EXPECT_EQ(list[2].name, "other");
  EXPECT_EQ(list[2].endpoint, "");
  EXPECT_DOUBLE_EQ(list[2].wait_seconds, 0.5);
  EXPECT_EQ(list[2].blocked_intervals_seconds.size(), 1u);
  EXPECT_EQ(list[2].folded, 1);  // counted in boundwise_dropped_total{what="dependencies"}
  EXPECT_EQ(list[0].folded, 0);
}

TEST(NameDependencies, RulesMergeEndpointsUnderOneName) {
  auto rule = DependencyRule::parse("orders-db", "10.0.0.0/24:5432");
  ASSERT_TRUE(rule);
  auto list = name_dependencies(
      waits({{"10.0.0.5:5432", 1.0}, {"10.0.0.6:5432", 2.0}, {"10.0.1.5:5432", 0.25}}), {},
      cap(10, {*rule}));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "orders-db");
  EXPECT_DOUBLE_EQ(list[0].wait_seconds, 3.0);
  EXPECT_EQ(list[0].blocked_intervals_seconds.size(), 2u);
  EXPECT_EQ(list[1].name, "postgres 10.0.1.5:5432");  // well-known port, no rule
}

TEST(NameDependencies, CapBelowOneKeepsOne) {
  auto list =
      name_dependencies(waits({{"10.0.0.1:7000", 1.0}, {"10.0.0.2:7000", 2.0}}), {}, cap(0));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "10.0.0.2:7000");
  EXPECT_EQ(list[1].name, "other");
  EXPECT_TRUE(name_dependencies({}, {}, cap(5)).empty());
}

TEST(NameDependencies, MeasuredLandsInTheEntryTheSampledWaitsHave) {
  std::map<Endpoint, MeasuredDependency> measured{{ep("127.0.0.1:5432"), one_request(0.2)}};
  auto list = name_dependencies(waits({{"127.0.0.1:5432", 3.0}}), measured, cap(10));
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].name, "postgres 127.0.0.1:5432");
  EXPECT_DOUBLE_EQ(list[0].wait_seconds, 3.0);
  ASSERT_TRUE(list[0].request_latency);
  EXPECT_EQ(list[0].request_latency->count(), 1u);
  EXPECT_EQ(list[0].requests, 1u);
  EXPECT_EQ(list[0].bytes_sent, 10u);
  EXPECT_FALSE(list[0].connect_latency);  // nothing measured: stays unset
}

TEST(NameDependencies, MeasuredOnlyEndpointsShareTheCapWithSampledOnes) {
  std::map<Endpoint, MeasuredDependency> measured;
  for (const char* e : {"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"}) {
    measured[ep(e)] = one_request(0.1);
  }
  measured[ep("10.0.0.4:7000")] = MeasuredDependency{};  // nothing happened: no entry
  auto list = name_dependencies(waits({{"10.0.0.9:7000", 1.0}}), measured, cap(2));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "10.0.0.9:7000");  // the one threads waited on comes first
  EXPECT_EQ(list[2].name, "other");
  EXPECT_EQ(list[2].folded, 2);
  EXPECT_EQ(list[2].requests, 2u);
}

// Each "collector" writes only its own part of the evidence.
void write_sampled(EvidenceSet& e) {
  SampledEvidence s;
  s.thread_seconds[index_of(Reason::on_cpu)] = 1;
  s.thread_seconds[index_of(Reason::net)] = 6;
  s.thread_seconds[index_of(Reason::disk)] = 3;
  s.cpu_seconds = 1;
  s.threads = 1;
  s.processes = 1;
  s.pids = {42};
  s.dependencies = waits({{"127.0.0.1:8080", 6.0}});
  s.dependencies.begin()->second.blocked_intervals_seconds = {1.0, 1.0, 1.0};  // coarse
  e.workloads["api"].sampled = s;
}
void write_offcpu(EvidenceSet& e) {
  MeasuredOffCpu m;
  m.interruptible = 8;  // the kernel: only 1/9 of the sleep was D
  m.uninterruptible = 1;
  m.runqueue_latency.emplace();
  m.runqueue_latency->add(0.001);
  e.workloads["api"].offcpu = m;
}
void write_net(EvidenceSet& e) {
  MeasuredNet n;
  for (int i = 0; i < 20; ++i) n.dependencies[ep("127.0.0.1:8080")].request_latency.add(0.2);
  n.dependencies[ep("127.0.0.1:8080")].requests = 20;
  e.workloads["api"].net = n;
}
void write_runtime(EvidenceSet& e) {
  RuntimeEvidence r;
  r.runtime.kind = "python";
  r.gil.wait_measured_in_kernel = true;  // not the python collector's to say
  e.workloads["api"].runtime = r;
}
void write_node(EvidenceSet& e) {
  e.node.cores = 2;
  e.node.cpu_busy_ratio = 0.5;
}

TEST(Assemble, MeasuredBeatsSampledWhateverOrderTheCollectorsWroteIn) {
  std::vector<std::function<void(EvidenceSet&)>> writers = {write_sampled, write_offcpu, write_net,
                                                            write_runtime, write_node};
  std::vector<int> order = {0, 1, 2, 3, 4};
  std::optional<WorkloadWindow> first;
  do {
    EvidenceSet e;
    e.workloads["api"].workload = "api";
    e.workloads["api"].duration_seconds = 10;
    for (int i : order) writers[static_cast<std::size_t>(i)](e);
    auto windows = assemble(e, cap(10));
    ASSERT_EQ(windows.size(), 1u);
    const WorkloadWindow& w = windows.at("api");
    // D share measured (1/9 of 9 off-CPU seconds), procfs's why kept for the rest.
    EXPECT_NEAR(at(w, Reason::disk), 1.0, 1e-9);
    EXPECT_NEAR(at(w, Reason::net), 8.0, 1e-9);
    EXPECT_NEAR(at(w, Reason::on_cpu), 1.0, 1e-9);
    ASSERT_EQ(w.dependencies.size(), 1u);
    EXPECT_NEAR(w.dependencies[0].wait_seconds, 8.0, 1e-9);  // rescaled with net
    ASSERT_TRUE(w.dependencies[0].latency);  // measured latency, not the 1 s intervals
    EXPECT_NEAR(w.dependencies[0].latency->p95, 0.2, 0.02);
    EXPECT_EQ(w.dependencies[0].requests, 20u);
    ASSERT_TRUE(w.runqueue_latency);
    EXPECT_EQ(w.runtime.kind, "python");
    EXPECT_FALSE(w.gil.wait_measured_in_kernel);  // the sched tool knew no GIL range
    EXPECT_EQ(w.node.cores, 2);
    EXPECT_DOUBLE_EQ(w.duration_seconds, 10);
    if (!first) {
      first = w;
    } else {
      for (std::size_t i = 0; i < kReasonCount; ++i) {
        EXPECT_DOUBLE_EQ(w.thread_seconds[i], first->thread_seconds[i]);
      }
    }
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(Assemble, WithoutMeasurementsTheSampledSplitStandsAndBadNumbersCountAsZero) {
  EvidenceSet e;
  auto& api = e.workloads["api"];
  api.workload = "api";
  api.duration_seconds = std::numeric_limits<double>::quiet_NaN();
  write_sampled(e);
  api.sampled->thread_seconds[index_of(Reason::sleep)] = -5;
  api.sampled->cpu_seconds = std::numeric_limits<double>::infinity();
  auto windows = assemble(e, cap(10));
  const WorkloadWindow& w = windows.at("api");
  EXPECT_DOUBLE_EQ(at(w, Reason::net), 6);
  EXPECT_DOUBLE_EQ(at(w, Reason::disk), 3);
  EXPECT_DOUBLE_EQ(at(w, Reason::sleep), 0);
  EXPECT_DOUBLE_EQ(w.cpu_seconds, 0);
  EXPECT_DOUBLE_EQ(w.duration_seconds, 0);
  EXPECT_TRUE(w.offcpu_seconds_by_state.empty());
  ASSERT_EQ(w.dependencies.size(), 1u);
  ASSERT_TRUE(w.dependencies[0].latency);  // the procfs estimate from its intervals
  EXPECT_DOUBLE_EQ(w.dependencies[0].latency->p95, 1.0);
}

TEST(Assemble, AWorkloadWithNoEvidenceIsAnEmptyWindow) {
  EvidenceSet e;
  e.workloads["quiet"].workload = "quiet";
  auto windows = assemble(e, cap(10));
  const WorkloadWindow& w = windows.at("quiet");
  EXPECT_EQ(w.workload, "quiet");
  EXPECT_DOUBLE_EQ(w.total_thread_seconds(), 0);
  EXPECT_TRUE(w.dependencies.empty());
  EXPECT_EQ(w.processes, 0);
}

}  // namespace
}  // namespace boundwise
