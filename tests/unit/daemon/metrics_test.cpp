// Prometheus publishing, what is published: every metric of docs/METRICS.md with
// values computed from the input windows, counters accumulating across publishes,
// pressure counters following the kernel's totals, non-finite inputs, UTF-8 label
// values. Series lifetime and the series cap: metrics_series_test.cpp; `promtool check
// metrics` on the exposition: tests/integration/native/daemon/promtool_test.cpp.
#include "daemon/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "daemon/build_info.hpp"
#include "tests/unit/daemon/metrics_samples.hpp"

namespace boundwise {
namespace {

using test::Labels;
using test::parse;
using test::report;
using test::snapshot_with;
using test::value;

TEST(PrometheusMetrics, EverySeriesWithItsValue) {
  auto api = report("api", 10, 50);
  MetricsPublisher m;
  m.publish(snapshot_with({api}));
  std::string text = m.render();
  const WorkloadWindow& w = *api.window;
  for (Reason r : kAllReasons) {
    EXPECT_EQ(value(text, "boundwise_thread_seconds_total",
                    {{"workload", "api"}, {"reason", std::string(to_string(r))}}),
              w.thread_seconds[index_of(r)])
        << to_string(r);
  }
  EXPECT_EQ(value(text, "boundwise_cpu_seconds_total", {{"workload", "api"}}), w.cpu_seconds);
  EXPECT_EQ(value(text, "boundwise_cpu_cores_used", {{"workload", "api"}}),
            api.verdict->cpu_cores_used);
  EXPECT_EQ(value(text, "boundwise_dependency_wait_seconds_total",
                  {{"workload", "api"}, {"dependency", "orders-db"}}),
            50);
  // A histogram on LatencyHistogram slot edges (procfs source here: blocked waits of
  // 0.1, 0.1 and 0.3 s): 0.131072 s = 2^17 µs is an edge, so the bucket is exact.
  const Labels dep{{"workload", "api"}, {"dependency", "orders-db"}};
  EXPECT_EQ(value(text, "boundwise_dependency_latency_seconds_count", dep), 3);
  EXPECT_NEAR(*value(text, "boundwise_dependency_latency_seconds_sum", dep), 0.5, 1e-9);
  Labels le = dep;
  le["le"] = "0.131072";
  EXPECT_EQ(value(text, "boundwise_dependency_latency_seconds_bucket", le), 2) << text;
  le["le"] = "+Inf";
  EXPECT_EQ(value(text, "boundwise_dependency_latency_seconds_bucket", le), 3);
  // Measured by eBPF: requests, bytes and connect latency appear beside it.
  auto measured = api;
  auto& d = measured.window->dependencies[0];
  d.request_latency = LatencyHistogram{};
  d.request_latency->add(0.2);
  d.requests = 1;
  d.bytes_sent = 10;
  d.bytes_received = 20;
  d.connect_latency = LatencyHistogram{};
  d.connect_latency->add(0.0001);
  measured.window->inbound_latency = LatencyHistogram{};
  measured.window->inbound_latency->add(0.2);
  measured.window->inbound_requests = 5;
  MetricsPublisher m2;
  m2.publish(snapshot_with({measured}));
  std::string t2 = m2.render();
  EXPECT_EQ(value(t2, "boundwise_dependency_latency_seconds_count", dep), 1);  // not the waits
  EXPECT_EQ(value(t2, "boundwise_dependency_requests_total", dep), 1);
  Labels sent = dep, received = dep;
  sent["direction"] = "sent";
  received["direction"] = "received";
  EXPECT_EQ(value(t2, "boundwise_dependency_bytes_total", sent), 10);
  EXPECT_EQ(value(t2, "boundwise_dependency_bytes_total", received), 20);
  EXPECT_EQ(value(t2, "boundwise_dependency_connect_latency_seconds_count", dep), 1);
  EXPECT_EQ(value(t2, "boundwise_inbound_latency_seconds_count", {{"workload", "api"}}), 1);
  EXPECT_EQ(value(t2, "boundwise_inbound_requests_total", {{"workload", "api"}}), 5);
  // No request waited to be accepted: from arrival is the service latency.
  EXPECT_EQ(value(t2, "boundwise_inbound_latency_from_arrival_seconds_sum", {{"workload", "api"}}),
            0.2);
  EXPECT_EQ(value(t2, "boundwise_inbound_arrivals_total", {{"workload", "api"}}), 0);
  EXPECT_EQ(value(text, "boundwise_recommended_workers", {{"workload", "api"}}),
            api.recommendation->workers);
  EXPECT_EQ(value(text, "boundwise_verdict_confidence", {{"workload", "api"}}),
            api.verdict->confidence);
  EXPECT_EQ(value(text, "boundwise_workload_threads", {{"workload", "api"}}), 7);
  EXPECT_EQ(value(text, "boundwise_workload_processes", {{"workload", "api"}}), 3);
  EXPECT_EQ(value(text, "boundwise_workload_memory_bytes", {{"workload", "api"}, {"kind", "rss"}}),
            300u << 20);
  EXPECT_EQ(value(text, "boundwise_workload_memory_bytes", {{"workload", "api"}, {"kind", "pss"}}),
            200u << 20);
  EXPECT_EQ(value(text, "boundwise_workload_memory_bytes", {{"workload", "api"}, {"kind", "uss"}}),
            150u << 20);
  EXPECT_EQ(value(text, "boundwise_node_cpu_busy_ratio"), 0.45);
  EXPECT_EQ(value(text, "boundwise_node_cpu_cores"), 2);
  EXPECT_EQ(value(text, "boundwise_node_load1"), 1.25);
  EXPECT_EQ(
      value(text, "boundwise_node_pressure_seconds_total", {{"resource", "io"}, {"kind", "full"}}),
      5);
  EXPECT_EQ(value(text, "boundwise_collector_up", {{"collector", "procfs"}}), 1);
  EXPECT_EQ(value(text, "boundwise_collector_up", {{"collector", "node"}}), 0);
  EXPECT_EQ(value(text, "boundwise_collector_duration_seconds", {{"collector", "node"}}), 0.5);
  EXPECT_EQ(value(text, "boundwise_windows_total"), 1);
  const BuildInfo& build = build_info();
  EXPECT_EQ(value(text, "boundwise_build_info",
                  {{"version", BOUNDWISE_VERSION},
                   {"commit", std::string(build.commit)},
                   {"build_type", std::string(build.build_type)},
                   {"compiler", std::string(build.compiler)}}),
            1);
  EXPECT_EQ(text.find("pid"), std::string::npos);
  EXPECT_EQ(text.find("tid="), std::string::npos);
}

TEST(PrometheusMetrics, OneHotClassAndModelOverTheirWholeVocabularies) {
  auto api = report("api", 60, 0);
  MetricsPublisher m;
  m.publish(snapshot_with({api}));
  std::string text = m.render();
  std::size_t ones = 0;
  for (std::size_t i = 0; i < kBottleneckCount; ++i) {
    auto cls = static_cast<Bottleneck>(i);
    auto v = value(text, "boundwise_bottleneck",
                   {{"workload", "api"}, {"class", std::string(to_string(cls))}});
    ASSERT_TRUE(v) << to_string(cls);
    EXPECT_EQ(*v, cls == api.verdict->bottleneck ? 1 : 0);
    ones += *v == 1 ? 1 : 0;
  }
  EXPECT_EQ(ones, 1u);
  ones = 0;
  for (std::size_t i = 0; i < kModelCount; ++i) {
    auto model = static_cast<Model>(i);
    auto v = value(text, "boundwise_recommendation",
                   {{"workload", "api"}, {"model", std::string(to_string(model))}});
    ASSERT_TRUE(v) << to_string(model);
    ones += *v == 1 ? 1 : 0;
    EXPECT_EQ(*v == 1, model == api.recommendation->model);
  }
  EXPECT_EQ(ones, 1u);
}

TEST(PrometheusMetrics, CountersAccumulateAcrossPublishes) {
  auto first = report("api", 10, 50);
  auto second = report("api", 20, 30);
  MetricsPublisher m;
  m.publish(snapshot_with({first}));
  m.publish(snapshot_with({second}));
  std::string text = m.render();
  for (Reason r : kAllReasons) {
    EXPECT_DOUBLE_EQ(
        *value(text, "boundwise_thread_seconds_total",
               {{"workload", "api"}, {"reason", std::string(to_string(r))}}),
        first.window->thread_seconds[index_of(r)] + second.window->thread_seconds[index_of(r)]);
  }
  EXPECT_EQ(value(text, "boundwise_cpu_seconds_total", {{"workload", "api"}}), 30);
  EXPECT_EQ(value(text, "boundwise_dependency_wait_seconds_total",
                  {{"workload", "api"}, {"dependency", "orders-db"}}),
            80);
  EXPECT_EQ(value(text, "boundwise_windows_total"), 2);
  // Gauges hold the last window.
  EXPECT_EQ(value(text, "boundwise_cpu_cores_used", {{"workload", "api"}}),
            second.verdict->cpu_cores_used);
}

// The published-class changes count up with the pipeline's total; a total that restarts
// (the workload left and came back) adds nothing, and the next change counts again.
TEST(PrometheusMetrics, VerdictChangesAndStableTime) {
  auto r = report("api", 10, 50);
  MetricsPublisher m;
  StabilityReport st;
  st.stable_for_seconds = 10;
  r.stability = st;
  m.publish(snapshot_with({r}));
  std::string text = m.render();
  EXPECT_EQ(value(text, "boundwise_verdict_changes_total", {{"workload", "api"}}), 0);
  EXPECT_EQ(value(text, "boundwise_verdict_stable_seconds", {{"workload", "api"}}), 10);
  r.stability->changes = 2;
  r.stability->stable_for_seconds = 20;
  m.publish(snapshot_with({r}));
  r.stability->changes = 0;
  m.publish(snapshot_with({r}));
  r.stability->changes = 1;
  m.publish(snapshot_with({r}));
  text = m.render();
  EXPECT_EQ(value(text, "boundwise_verdict_changes_total", {{"workload", "api"}}), 3);
  EXPECT_EQ(value(text, "boundwise_verdict_stable_seconds", {{"workload", "api"}}), 20);
}

// Objective series: only the quantiles configured, the ratio and met only with a
// measurement, all gone when the objective is.
TEST(PrometheusMetrics, ObjectiveSeries) {
  auto r = report("api", 10, 50);
  r.recommendation->objective = Objective{.latency_p95_seconds = 0.3};
  r.recommendation->objective_status = ObjectiveStatus{.latency_ratio = 1.5, .met = false};
  MetricsPublisher m;
  m.publish(snapshot_with({r}));
  std::string text = m.render();
  EXPECT_EQ(
      value(text, "boundwise_slo_objective_seconds", {{"workload", "api"}, {"quantile", "0.95"}}),
      0.3);
  EXPECT_FALSE(
      value(text, "boundwise_slo_objective_seconds", {{"workload", "api"}, {"quantile", "0.99"}}));
  EXPECT_EQ(value(text, "boundwise_slo_latency_ratio", {{"workload", "api"}}), 1.5);
  EXPECT_EQ(value(text, "boundwise_slo_met", {{"workload", "api"}}), 0);
  r.recommendation->objective.reset();
  r.recommendation->objective_status.reset();
  m.publish(snapshot_with({r}));
  text = m.render();
  EXPECT_EQ(text.find("boundwise_slo_objective_seconds{"), std::string::npos);
  EXPECT_EQ(text.find("boundwise_slo_met{"), std::string::npos);
}

TEST(PrometheusMetrics, AgentStageCountersFollowTheCumulativeCpuTime) {
  MetricsPublisher m;
  Snapshot s = snapshot_with({});
  s.stage_cpu_seconds = {{"sampling", 0.5}, {"publish", 0.25}};
  m.publish(s);
  s.stage_cpu_seconds = {{"sampling", 1.5}, {"publish", 0.25}};
  m.publish(s);
  const std::string text = m.render();
  EXPECT_EQ(value(text, "boundwise_agent_stage_seconds_total", {{"stage", "sampling"}}), 1.5);
  EXPECT_EQ(value(text, "boundwise_agent_stage_seconds_total", {{"stage", "publish"}}), 0.25);
}

TEST(PrometheusMetrics, SamplingRoundsCountAndBehindIsAGauge) {
  MetricsPublisher m;
  Snapshot s = snapshot_with({});
  s.collectors[0].rounds_per_second = 5;
  s.collectors[0].rounds = 50;
  s.collectors.push_back(CollectorStatus{"node", true, 0.001, ""});  // no period: no series
  m.publish(s);
  s.collectors[0].rounds = 71;
  s.collectors[0].behind = true;
  m.publish(s);
  const std::string text = m.render();
  EXPECT_EQ(value(text, "boundwise_collector_rounds_total", {{"collector", "procfs"}}), 71);
  EXPECT_EQ(value(text, "boundwise_collector_behind", {{"collector", "procfs"}}), 1);
  EXPECT_FALSE(value(text, "boundwise_collector_behind", {{"collector", "node"}}));
}

TEST(PrometheusMetrics, SamplingLatenessAccumulatesPerCollector) {
  MetricsPublisher m;
  Snapshot s = snapshot_with({});
  s.collectors[0].rounds_per_second = 5;
  s.collectors[0].lateness.add(0.0005);
  s.collectors[0].lateness.add(0.3);
  m.publish(s);
  s.collectors[0].lateness = {};
  s.collectors[0].lateness.add(0.0005);
  m.publish(s);
  const std::string text = m.render();
  const Labels procfs{{"collector", "procfs"}};
  EXPECT_EQ(value(text, "boundwise_sampling_lateness_seconds_count", procfs), 3);
  Labels fast = procfs, slow = procfs;
  fast["le"] = "0.001024";
  slow["le"] = "0.262144";
  EXPECT_EQ(value(text, "boundwise_sampling_lateness_seconds_bucket", fast), 2);
  EXPECT_EQ(value(text, "boundwise_sampling_lateness_seconds_bucket", slow), 2);  // 0.3 s above
}

TEST(PrometheusMetrics, PressureCountersFollowTheKernelTotalsMonotonically) {
  MetricsPublisher m;
  const Labels cpu_some{{"resource", "cpu"}, {"kind", "some"}};
  m.publish(snapshot_with({}, 10));
  EXPECT_EQ(value(m.render(), "boundwise_node_pressure_seconds_total", cpu_some), 10);
  m.publish(snapshot_with({}, 15.5));
  EXPECT_EQ(value(m.render(), "boundwise_node_pressure_seconds_total", cpu_some), 15.5);
  // A total that went backwards adds nothing (never a negative rate), and the next
  // publish counts from it (collectors/counter_delta.hpp).
  m.publish(snapshot_with({}, 12));
  EXPECT_EQ(value(m.render(), "boundwise_node_pressure_seconds_total", cpu_some), 15.5);
  m.publish(snapshot_with({}, 16));
  EXPECT_EQ(value(m.render(), "boundwise_node_pressure_seconds_total", cpu_some), 19.5);
  EXPECT_NE(m.render().find("# TYPE boundwise_node_pressure_seconds_total counter"),
            std::string::npos);
}

TEST(PrometheusMetrics, UnknownMemoryKindsAreAbsentNotZero) {
  auto api = report("api", 10, 0);
  api.window->memory.pss_bytes = 0;
  api.window->memory.uss_bytes = 0;
  MetricsPublisher m;
  m.publish(snapshot_with({report("api", 10, 0)}));
  m.publish(snapshot_with({api}));
  std::string text = m.render();
  EXPECT_TRUE(
      value(text, "boundwise_workload_memory_bytes", {{"workload", "api"}, {"kind", "rss"}}));
  EXPECT_FALSE(
      value(text, "boundwise_workload_memory_bytes", {{"workload", "api"}, {"kind", "pss"}}));
  EXPECT_FALSE(
      value(text, "boundwise_workload_memory_bytes", {{"workload", "api"}, {"kind", "uss"}}));
  // And the workload's later removal does not trip over the series already gone.
  m.publish(snapshot_with({}));
  EXPECT_EQ(m.render().find("workload=\"api\""), std::string::npos);
}

TEST(PrometheusMetrics, LatencyHistogramAccumulatesAcrossWindows) {
  MetricsPublisher m;
  m.publish(snapshot_with({report("api", 10, 50)}));
  m.publish(snapshot_with({report("api", 10, 50)}));
  const Labels dep{{"workload", "api"}, {"dependency", "orders-db"}};
  EXPECT_EQ(value(m.render(), "boundwise_dependency_latency_seconds_count", dep), 6);
  // A window with waits on it but none completed: the histogram stays as it was.
  auto no_complete = report("api", 10, 50);
  no_complete.window->dependencies[0].blocked_intervals_seconds.clear();
  no_complete.window->dependencies[0].latency.reset();
  m.publish(snapshot_with({no_complete}));
  EXPECT_EQ(value(m.render(), "boundwise_dependency_latency_seconds_count", dep), 6);
  // A window without the dependency at all: the same.
  m.publish(snapshot_with({report("api", 10, 50)}));
  m.publish(snapshot_with({report("api", 60, 0)}));
  EXPECT_EQ(value(m.render(), "boundwise_dependency_latency_seconds_count", dep), 9);
}

TEST(PrometheusMetrics, InboundArrivalsAndLatencyFromArrival) {
  const Labels api{{"workload", "api"}};
  // Two requests served, each after waiting to be accepted; three connections arrived.
  auto queued = report("api", 10, 50);
  queued.window->inbound_latency = LatencyHistogram{};
  queued.window->inbound_latency->add(0.1);
  queued.window->inbound_latency->add(0.1);
  queued.window->inbound_requests = 2;
  queued.window->inbound_total_latency = LatencyHistogram{};
  queued.window->inbound_total_latency->add(1.5);
  queued.window->inbound_total_latency->add(2.5);
  queued.window->inbound_arrivals = 3;
  MetricsPublisher m;
  m.publish(snapshot_with({queued}));
  std::string text = m.render();
  EXPECT_EQ(value(text, "boundwise_inbound_latency_seconds_sum", api), 0.2);
  EXPECT_EQ(value(text, "boundwise_inbound_latency_from_arrival_seconds_sum", api), 4);
  EXPECT_EQ(value(text, "boundwise_inbound_latency_from_arrival_seconds_count", api), 2);
  EXPECT_EQ(value(text, "boundwise_inbound_arrivals_total", api), 3);
  // Every worker stuck: connections arrive, none is served. The arrivals still count, and
  // the requests counter is there at zero growth for the ratio of the two.
  auto stuck = report("api", 10, 50);
  stuck.window->inbound_arrivals = 4;
  m.publish(snapshot_with({stuck}));
  text = m.render();
  EXPECT_EQ(value(text, "boundwise_inbound_arrivals_total", api), 7);
  EXPECT_EQ(value(text, "boundwise_inbound_requests_total", api), 2);
  EXPECT_EQ(value(text, "boundwise_inbound_latency_from_arrival_seconds_count", api), 2);
}

TEST(PrometheusMetrics, NonFiniteInputsAreNotPublished) {
  auto api = report("api", 10, 50);
  api.window->thread_seconds[0] = std::numeric_limits<double>::quiet_NaN();
  api.window->cpu_seconds = -std::numeric_limits<double>::infinity();
  api.verdict->confidence = std::numeric_limits<double>::infinity();
  Snapshot s = snapshot_with({api});
  s.node.cpu_busy_ratio = std::numeric_limits<double>::quiet_NaN();
  MetricsPublisher m;
  m.publish(s);
  std::string text = m.render();
  for (const auto& sample : parse(text)) {
    EXPECT_TRUE(std::isfinite(sample.value)) << sample.name;
  }
}

TEST(PrometheusMetrics, LabelValuesAreValidUtf8) {
  MetricsPublisher m;
  m.publish(snapshot_with({report(std::string("py\xFFth\xC3", 6), 10, 0)}));
  std::string text = m.render();
  EXPECT_NE(text.find("workload=\"py\xEF\xBF\xBDth\xEF\xBF\xBD\""), std::string::npos) << text;
}

TEST(PrometheusMetrics, EveryFamilyHasHelpAndType) {
  MetricsPublisher m;
  m.publish(snapshot_with({report("api", 10, 50)}));
  std::string text = m.render();
  const char* names[] = {"boundwise_thread_seconds_total",
                         "boundwise_cpu_cores_used",
                         "boundwise_cpu_seconds_total",
                         "boundwise_dependency_wait_seconds_total",
                         "boundwise_dependency_latency_seconds",
                         "boundwise_bottleneck",
                         "boundwise_recommendation",
                         "boundwise_recommended_workers",
                         "boundwise_verdict_confidence",
                         "boundwise_workload_threads",
                         "boundwise_workload_processes",
                         "boundwise_workload_memory_bytes",
                         "boundwise_node_cpu_busy_ratio",
                         "boundwise_node_cpu_cores",
                         "boundwise_node_load1",
                         "boundwise_node_pressure_seconds_total",
                         "boundwise_collector_up",
                         "boundwise_collector_duration_seconds",
                         "boundwise_windows_total",
                         "boundwise_build_info"};
  for (const char* name : names) {
    EXPECT_NE(text.find(std::string("# HELP ") + name + " "), std::string::npos) << name;
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
  }
}

TEST(PrometheusMetrics, SyscallAndDiskLatencyHistogramsAndToolAttachedTime) {
  auto api = report("api", 10, 50);
  LatencyHistogram sleep;
  for (int i = 0; i < 40; ++i) sleep.add(0.050);  // 50 ms: in the (16 ms, 64 ms] bucket
  LatencyHistogram read;
  read.add(3e-6);
  api.window->syscall_latency["sleep"] = sleep;
  api.window->syscall_latency["read"] = read;
  LatencyHistogram disk;
  disk.add(0.0005);
  disk.add(0.003);
  api.window->disk_latency = disk;
  auto snap = snapshot_with({api});
  snap.node.ebpf_duty = {{"syscalls", 0.25}, {"disk", 1.0}};
  MetricsPublisher m;
  m.publish(snap);
  m.publish(snap);
  std::string text = m.render();
  auto sleep_count = value(text, "boundwise_syscall_latency_seconds_count",
                           {{"workload", "api"}, {"class", "sleep"}});
  ASSERT_TRUE(sleep_count) << text;
  EXPECT_EQ(*sleep_count, 80);
  EXPECT_EQ(value(text, "boundwise_syscall_latency_seconds_bucket",
                  {{"workload", "api"}, {"class", "sleep"}, {"le", "0.016384"}}),
            0);
  EXPECT_EQ(value(text, "boundwise_syscall_latency_seconds_bucket",
                  {{"workload", "api"}, {"class", "sleep"}, {"le", "0.065536"}}),
            80);
  EXPECT_EQ(value(text, "boundwise_syscall_latency_seconds_bucket",
                  {{"workload", "api"}, {"class", "read"}, {"le", "4e-06"}}),
            2);
  EXPECT_FALSE(value(text, "boundwise_syscall_latency_seconds_count",
                     {{"workload", "api"}, {"class", "futex"}}));  // no calls: no series
  EXPECT_EQ(value(text, "boundwise_disk_latency_seconds_count", {{"workload", "api"}}), 4);
  EXPECT_EQ(value(text, "boundwise_disk_latency_seconds_bucket",
                  {{"workload", "api"}, {"le", "0.001024"}}),
            2);
  EXPECT_EQ(value(text, "boundwise_ebpf_tool_attached_seconds_total", {{"tool", "syscalls"}}), 5);
  EXPECT_EQ(value(text, "boundwise_ebpf_tool_attached_seconds_total", {{"tool", "disk"}}), 20);
  // The workload leaves: its histograms go with it.
  m.publish(snapshot_with({}));
  text = m.render();
  EXPECT_EQ(text.find("boundwise_syscall_latency_seconds_count{"), std::string::npos);
  EXPECT_EQ(text.find("boundwise_disk_latency_seconds_count{"), std::string::npos);
}

}  // namespace
}  // namespace boundwise
