// Prometheus publishing, which series exist: a workload's series before its first
// window and after it vanishes, stale dependencies, the series cap and what it drops
// (counted in boundwise_dropped_total), and pod metadata. What the series hold:
// metrics_test.cpp.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

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

TEST(PrometheusMetrics, TheSeriesCapLeavesNewWorkloadsOutAndCountsThem) {
  const std::size_t per_workload = series_of_one(report("a", 10, 50));
  ASSERT_GT(per_workload, 2u);
  MetricsPublisher m;
  // A cap just above one workload's series admits "a" and "b" (the second starts
  // under the cap) and leaves "c" out.
  m.set_max_series(per_workload + 1);
  m.publish(snapshot_with({report("a", 10, 50), report("b", 10, 50), report("c", 10, 50)}));
  std::string text = m.render();
  EXPECT_GT(count_series(text, "boundwise_thread_seconds_total", "workload", "a"), 0u);
  EXPECT_GT(count_series(text, "boundwise_thread_seconds_total", "workload", "b"), 0u);
  EXPECT_EQ(count_series(text, "boundwise_thread_seconds_total", "workload", "c"), 0u);
  EXPECT_EQ(value(text, "boundwise_dropped_total", {{"what", "series"}}), 1);
  // Exported workloads keep their series while the cap holds; "a" leaving makes room.
  m.publish(snapshot_with({report("b", 10, 50), report("c", 10, 50)}));
  text = m.render();
  EXPECT_EQ(count_series(text, "boundwise_thread_seconds_total", "workload", "a"), 0u);
  EXPECT_GT(count_series(text, "boundwise_thread_seconds_total", "workload", "c"), 0u);
  EXPECT_EQ(value(text, "boundwise_dropped_total", {{"what", "series"}}), 1);
}

TEST(PrometheusMetrics, TheSeriesCapCountsEveryBucketOfAHistogram) {
  // A dependency's latency histogram is dozens of series (one per bucket, _sum,
  // _count): a cap of exactly one workload's series, bucket lines included, is full
  // once that workload is in.
  const WorkloadReport r = report("a", 10, 50);
  ASSERT_FALSE(r.window->dependencies.empty());
  const std::size_t per_workload = series_of_one(r);
  MetricsPublisher m;
  m.set_max_series(per_workload);
  m.publish(snapshot_with({r, report("b", 10, 50)}));
  std::string text = m.render();
  EXPECT_GT(count_series(text, "boundwise_dependency_latency_seconds_bucket", "workload", "a"),
            10u);
  EXPECT_EQ(series_of(text, "b"), 0u) << text;
  EXPECT_EQ(value(text, "boundwise_dropped_total", {{"what", "series"}}), 1);
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

TEST(PrometheusMetrics, TheSeriesCapCountsThePodInfoSeries) {
  // Pod workloads add one series each; the cap still bounds the total.
  const std::string uid = "3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91";
  MetricsPublisher m;
  m.set_max_series(series_of_one(in_pod(report("a", 10, 50), uid, std::string(64, 'a'))) + 1);
  m.publish(snapshot_with({in_pod(report("a", 10, 50), uid, std::string(64, 'a')),
                           in_pod(report("b", 10, 50), uid, std::string(64, 'b')),
                           in_pod(report("c", 10, 50), uid, std::string(64, 'c'))}));
  std::string text = m.render();
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "workload", "a"), 1u);
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "workload", "b"), 1u);
  EXPECT_EQ(count_series(text, "boundwise_workload_pod_info", "workload", "c"), 0u);
  EXPECT_EQ(value(text, "boundwise_dropped_total", {{"what", "series"}}), 1);
}

}  // namespace
}  // namespace boundwise
