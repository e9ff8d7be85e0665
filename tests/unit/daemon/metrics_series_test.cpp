// Prometheus publishing, which series exist: a workload's series before its first
// window and after it vanishes, stale dependencies, the series cap and what it drops
// (counted in boundwise_dropped_total), and pod metadata. What the series hold:
// metrics_test.cpp.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "daemon/metrics.hpp"
#include "tests/unit/daemon/metrics_samples.hpp"

namespace boundwise {
namespace {

using test::count_series;
using test::Labels;
using test::parse;
using test::report;
using test::snapshot_with;
using test::value;

TEST(PrometheusMetrics, AVanishedWorkloadLosesEverySeries) {
  MetricsPublisher m;
  m.publish(snapshot_with({report("api", 10, 50), report("batch", 50, 5)}));
  ASSERT_GT(count_series(m.render(), "boundwise_thread_seconds_total", "workload", "batch"), 0u);
  m.publish(snapshot_with({report("api", 10, 50)}));
  std::string text = m.render();
  EXPECT_EQ(text.find("workload=\"batch\""), std::string::npos) << text;
  EXPECT_EQ(count_series(text, "boundwise_thread_seconds_total", "workload", "api"), kReasonCount);
  // Back again: its counters start from its new window.
  m.publish(snapshot_with({report("api", 10, 50), report("batch", 50, 5)}));
  EXPECT_EQ(value(m.render(), "boundwise_cpu_seconds_total", {{"workload", "batch"}}), 50);
}

TEST(PrometheusMetrics, AWorkloadBeforeItsFirstWindowHasOnlyItsSize) {
  WorkloadReport fresh;
  fresh.name = "new";
  fresh.pids = {1, 2};
  fresh.threads = 3;
  MetricsPublisher m;
  m.publish(snapshot_with({fresh}));
  std::string text = m.render();
  EXPECT_EQ(value(text, "boundwise_workload_threads", {{"workload", "new"}}), 3);
  EXPECT_EQ(value(text, "boundwise_workload_processes", {{"workload", "new"}}), 2);
  EXPECT_EQ(count_series(text, "boundwise_thread_seconds_total", "workload", "new"), 0u);
  EXPECT_EQ(count_series(text, "boundwise_bottleneck", "workload", "new"), 0u);
}

TEST(PrometheusMetrics, AStaleDependencyLeavesAfterThirtyWindows) {
  MetricsPublisher m;
  m.publish(snapshot_with({report("api", 10, 50)}));
  const Labels dep{{"workload", "api"}, {"dependency", "orders-db"}};
  for (int i = 0; i < 29; ++i) m.publish(snapshot_with({report("api", 60, 0)}));
  EXPECT_TRUE(value(m.render(), "boundwise_dependency_wait_seconds_total", dep));
  m.publish(snapshot_with({report("api", 60, 0)}));
  std::string text = m.render();
  EXPECT_FALSE(value(text, "boundwise_dependency_wait_seconds_total", dep));
  EXPECT_EQ(text.find("orders-db"), std::string::npos);
  EXPECT_TRUE(value(text, "boundwise_cpu_seconds_total", {{"workload", "api"}}));
}

// Series of one workload as a scraper counts them: every sample line that carries it.
std::size_t series_of(const std::string& text, const std::string& workload) {
  std::size_t n = 0;
  for (const auto& s : parse(text)) {
    auto it = s.labels.find("workload");
    if (it != s.labels.end() && it->second == workload) ++n;
  }
  return n;
}

std::size_t series_of_one(const WorkloadReport& r) {
  MetricsPublisher alone;
  alone.publish(snapshot_with({r}));
  return series_of(alone.render(), r.name);
}

// A workload with every series the default collectors export (the ebpf sched, net and
// disk tools on; `syscalls` adds its classes when asked): off-CPU by state, run-queue,
// disk and inbound latency, memory of every kind, a Python runtime with its GIL, a CPU
// limit, and `dependencies` dependencies each with request and connect latency.
WorkloadReport full(const std::string& name, int dependencies, bool syscalls = false) {
  WorkloadReport r = report(name, 10, 50);
  WorkloadWindow& w = *r.window;
  LatencyHistogram spread;
  for (double v = 2e-6; v < 60; v *= 1.3) spread.add(v);  // a count in every bucket
  for (const char* state : {"interruptible", "uninterruptible", "preempted", "woken", "other"}) {
    w.offcpu_seconds_by_state[state] = 1;
  }
  w.runqueue_latency = spread;
  w.disk_latency = spread;
  w.inbound_latency = spread;
  w.inbound_requests = 100;
  w.inbound_total_latency = spread;
  w.inbound_arrivals = 110;
  if (syscalls) {
    for (const char* cls : {"read", "write", "recv", "send", "poll", "futex", "fsync", "connect",
                            "accept", "sleep", "other"}) {
      w.syscall_latency[cls] = spread;
    }
  }
  w.memory.shared_bytes = 50u << 20;
  w.runtime.kind = "python";
  w.runtime.version = "3.11.2";
  w.gil.measured = true;
  w.gil.held_seconds = 5;
  w.cpu_limit = CpuLimit{.cores = 2, .cgroup = "/kubepods", .counters_valid = true};
  w.dependencies.clear();
  for (int i = 0; i < dependencies; ++i) {
    DependencyWindow d;
    d.name = "dep-" + std::to_string(i);
    d.endpoint = "10.0.0." + std::to_string(i) + ":5432";
    d.wait_seconds = 1;
    d.request_latency = spread;
    d.connect_latency = spread;
    d.requests = 10;
    d.bytes_sent = 100;
    d.bytes_received = 1000;
    w.dependencies.push_back(d);
  }
  return r;
}

// Series of every workload, and those of the dependency latency histograms.
std::size_t workload_series(const std::string& text) {
  std::size_t n = 0;
  for (const auto& s : parse(text)) n += s.labels.count("workload");
  return n;
}
std::size_t dependency_histogram_series(const std::string& text) {
  std::size_t n = 0;
  for (const auto& s : parse(text)) {
    n += s.name.rfind("boundwise_dependency_latency_seconds", 0) == 0 ||
         s.name.rfind("boundwise_dependency_connect_latency_seconds", 0) == 0;
  }
  return n;
}

TEST(PrometheusMetrics, TheSeriesCapDropsDependencyHistogramsFirst) {
  const auto snap = snapshot_with({full("a", 3), full("b", 3), full("c", 3)});
  MetricsPublisher all;
  all.publish(snap);
  const std::string everything = all.render();
  const std::size_t total = workload_series(everything);
  const std::size_t histograms = dependency_histogram_series(everything);
  ASSERT_GT(histograms, 100u);
  // A cap that holds everything but the dependencies' histograms: exactly those go,
  // for every workload, and each of their series is counted.
  MetricsPublisher m;
  m.set_max_series(total - histograms);
  m.publish(snap);
  const std::string text = m.render();
  EXPECT_EQ(dependency_histogram_series(text), 0u);
  EXPECT_EQ(workload_series(text), total - histograms);
  for (const char* w : {"a", "b", "c"}) {
    EXPECT_EQ(count_series(text, "boundwise_dependency_wait_seconds_total", "workload", w), 3u);
    EXPECT_GT(count_series(text, "boundwise_inbound_latency_seconds_bucket", "workload", w), 10u);
  }
  EXPECT_EQ(value(text, "boundwise_dropped_total", {{"what", "series"}}),
            static_cast<double>(histograms));
}

TEST(PrometheusMetrics, TheSeriesCapNeverDropsAWorkloadsVerdict) {
  MetricsPublisher m;
  m.set_max_series(1);  // full before anything
  m.publish(snapshot_with({full("a", 10), full("b", 10), full("c", 10)}));
  const std::string text = m.render();
  for (const char* w : {"a", "b", "c"}) {
    EXPECT_EQ(count_series(text, "boundwise_bottleneck", "workload", w), kBottleneckCount) << w;
    EXPECT_EQ(count_series(text, "boundwise_recommendation", "workload", w), kModelCount) << w;
    EXPECT_EQ(count_series(text, "boundwise_target_up", "workload", w), 1u) << w;
    EXPECT_EQ(count_series(text, "boundwise_verdict_confidence", "workload", w), 1u) << w;
    // Everything else of it waits for room.
    EXPECT_EQ(count_series(text, "boundwise_thread_seconds_total", "workload", w), 0u) << w;
    EXPECT_EQ(count_series(text, "boundwise_dependency_wait_seconds_total", "workload", w), 0u);
  }
  EXPECT_GT(*value(text, "boundwise_dropped_total", {{"what", "series"}}), 1000);
}

TEST(PrometheusMetrics, TheSeriesCapDropsDetailOfLaterWorkloadsAndKeepsWhatIsExported) {
  const std::size_t per_workload = series_of_one(report("a", 10, 50));
  ASSERT_GT(per_workload, 2u);
  MetricsPublisher m;
  // A cap just above one workload's series: every verdict is in; "a"'s detail fills
  // the cap before "b" and "c" have theirs.
  m.set_max_series(per_workload + 1);
  m.publish(snapshot_with({report("a", 10, 50), report("b", 10, 50), report("c", 10, 50)}));
  std::string text = m.render();
  EXPECT_GT(count_series(text, "boundwise_thread_seconds_total", "workload", "a"), 0u);
  EXPECT_EQ(count_series(text, "boundwise_thread_seconds_total", "workload", "c"), 0u);
  EXPECT_EQ(count_series(text, "boundwise_bottleneck", "workload", "c"), kBottleneckCount);
  EXPECT_GT(*value(text, "boundwise_dropped_total", {{"what", "series"}}), 0);
  // Exported groups keep their series while the cap holds; "a" leaving makes room.
  m.publish(snapshot_with({report("b", 10, 50), report("c", 10, 50)}));
  text = m.render();
  EXPECT_EQ(count_series(text, "boundwise_thread_seconds_total", "workload", "a"), 0u);
  EXPECT_GT(count_series(text, "boundwise_thread_seconds_total", "workload", "c"), 0u);
}

TEST(PrometheusMetrics, TheDefaultCapHoldsTheDefaultLimitsWithEveryTool) {
  // max_workloads (20) workloads of max_dependencies_per_workload (10) dependencies,
  // every histogram the collectors can export (syscalls included): nothing dropped.
  const Config defaults;
  std::vector<WorkloadReport> workloads;
  for (int i = 0; i < defaults.max_workloads; ++i) {
    workloads.push_back(
        full("w" + std::to_string(i), defaults.max_dependencies_per_workload, true));
  }
  MetricsPublisher m;  // the default cap
  m.publish(snapshot_with(workloads));
  const std::string text = m.render();
  const std::size_t n = workload_series(text);
  EXPECT_LE(n, static_cast<std::size_t>(defaults.max_series)) << n << " series";
  EXPECT_EQ(value(text, "boundwise_dropped_total", {{"what", "series"}}), 0) << n << " series";
  EXPECT_EQ(count_series(text, "boundwise_dependency_connect_latency_seconds_count", "dependency",
                         "dep-9"),
            static_cast<std::size_t>(defaults.max_workloads));
}

TEST(PrometheusMetrics, DroppedCountersExistFromTheStart) {
  MetricsPublisher m;
  m.count_dropped("dependencies", 3);
  m.count_dropped("dependencies", 0);
  std::string text = m.render();
  EXPECT_EQ(value(text, "boundwise_dropped_total", {{"what", "workloads"}}), 0);
  EXPECT_EQ(value(text, "boundwise_dropped_total", {{"what", "dependencies"}}), 3);
  EXPECT_EQ(value(text, "boundwise_dropped_total", {{"what", "series"}}), 0);
}

WorkloadReport in_pod(WorkloadReport r, const std::string& uid, const std::string& container) {
  r.pod = PodContainer{uid, container, container.empty() ? "" : "containerd", "Burstable"};
  return r;
}

TEST(PrometheusMetrics, APodWorkloadHasOnePodInfoSeries) {
  const std::string uid = "3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91";
  const std::string cid(64, 'a');
  MetricsPublisher m;
  WorkloadReport fresh;  // published from discovery, before its first window
  fresh.name = "worker@pod-3f1c8a2e";
  fresh.pod = PodContainer{uid, "", "", ""};
  m.publish(snapshot_with({in_pod(report("python3@pod-3f1c8a2e/aaaaaaaaaaaa", 10, 0), uid, cid),
                           report("host", 10, 0), fresh}));
  std::string text = m.render();
  EXPECT_EQ(value(text, "boundwise_workload_pod_info",
                  {{"workload", "python3@pod-3f1c8a2e/aaaaaaaaaaaa"},
                   {"pod_uid", uid},
                   {"container_id", cid},
                   {"qos_class", "Burstable"}}),
            1)
      << text;
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "workload", "host"), 0u);
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "workload", "worker@pod-3f1c8a2e"),
            1u);
  // A configured workload whose pod was replaced: the old pod's series goes.
  const std::string uid2 = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d";
  m.publish(snapshot_with({in_pod(report("python3@pod-3f1c8a2e/aaaaaaaaaaaa", 10, 0), uid2, cid),
                           report("host", 10, 0)}));
  text = m.render();
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "pod_uid", uid), 0u) << text;
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "pod_uid", uid2), 1u);
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "workload", "worker@pod-3f1c8a2e"),
            0u);
  // And a workload that leaves takes it along.
  m.publish(snapshot_with({report("host", 10, 0)}));
  EXPECT_EQ(m.render().find("boundwise_workload_pod_info{"), std::string::npos);
}

TEST(PrometheusMetrics, TheSeriesCapKeepsThePodInfoSeries) {
  // Pod workloads add one series each, counted by the cap, never left out.
  const std::string uid = "3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91";
  MetricsPublisher m;
  m.set_max_series(series_of_one(in_pod(report("a", 10, 50), uid, std::string(64, 'a'))) + 1);
  m.publish(snapshot_with({in_pod(report("a", 10, 50), uid, std::string(64, 'a')),
                           in_pod(report("b", 10, 50), uid, std::string(64, 'b')),
                           in_pod(report("c", 10, 50), uid, std::string(64, 'c'))}));
  std::string text = m.render();
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "workload", "a"), 1u);
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "workload", "b"), 1u);
  // Pod info is the workload's identity: never left out, like its verdict.
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "workload", "c"), 1u);
  EXPECT_EQ(count_series(text, "boundwise_thread_seconds_total", "workload", "c"), 0u);
}

}  // namespace
}  // namespace boundwise
