// Prometheus publishing: every metric of docs/METRICS.md with values computed from
// the input windows, counters accumulating across publishes, monotonic pressure
// counters, removal of vanished workloads and stale dependencies, UTF-8 label values,
// and `promtool check metrics` on the rendered text.
#include "daemon/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "classifier/classify.hpp"
#include "tests/unit/daemon/promtool.hpp"

namespace boundwise {
namespace {

using Labels = std::map<std::string, std::string>;

// One parsed exposition line.
struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

std::vector<Sample> parse(const std::string& text) {
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        std::size_t eq = line.find('=', i);
        std::string key = line.substr(i, eq - i);
        std::string value;
        i = eq + 2;  // skip ="
        while (line[i] != '"') {
          if (line[i] == '\\') ++i;
          value += line[i++];
        }
        s.labels[key] = value;
        ++i;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    s.value = std::stod(line.substr(i + 1));
    out.push_back(s);
  }
  return out;
}

std::optional<double> value(const std::string& text, const std::string& name,
                            const Labels& labels = {}) {
  for (const auto& s : parse(text)) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

std::size_t count_series(const std::string& text, const std::string& name, const std::string& label,
                         const std::string& label_value) {
  std::size_t n = 0;
  for (const auto& s : parse(text)) {
    auto it = s.labels.find(label);
    if (s.name == name && it != s.labels.end() && it->second == label_value) ++n;
  }
  return n;
}

WorkloadReport report(const std::string& name, double on_cpu, double net) {
  WorkloadReport r;
  r.name = name;
  r.pids = {10, 11, 12};
  r.threads = 7;
  WorkloadWindow w;
  w.workload = name;
  w.duration_seconds = 10;
  w.threads = 7;
  w.processes = 3;
  w.node.cores = 2;
  w.thread_seconds[index_of(Reason::on_cpu)] = on_cpu;
  w.thread_seconds[index_of(Reason::net)] = net;
  w.thread_seconds[index_of(Reason::idle)] = 70 - on_cpu - net;
  w.cpu_seconds = on_cpu;
  w.memory.rss_bytes = 300u << 20;
  w.memory.pss_bytes = 200u << 20;
  w.memory.uss_bytes = 150u << 20;
  if (net > 0) {
    DependencyWindow d;
    d.name = "orders-db";
    d.endpoint = "10.0.0.5:5432";
    d.wait_seconds = net;
    d.blocked_intervals_seconds = {0.1, 0.1, 0.3};
    w.dependencies.push_back(d);
  }
  finalize_window(w);
  r.verdict = classify(w);
  r.recommendation = recommend(*r.verdict, w);
  r.window = w;
  return r;
}

Snapshot snapshot_with(std::vector<WorkloadReport> workloads, double pressure_some = 5) {
  Snapshot s;
  s.host = "h";
  s.window_seconds = 10;
  s.node.cores = 2;
  s.node.cpu_busy_ratio = 0.45;
  s.node.load1 = 1.25;
  s.node.pressure_totals["cpu"] = PressureTotals{pressure_some, 0};
  s.node.pressure_totals["io"] = PressureTotals{pressure_some * 2, pressure_some};
  s.collectors = {CollectorStatus{"procfs", true, 0.004, ""},
                  CollectorStatus{"node", false, 0.5, "no /proc/pressure"}};
  s.workloads = std::move(workloads);
  return s;
}

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
  EXPECT_EQ(value(text, "boundwise_build_info", {{"version", BOUNDWISE_VERSION}}), 1);
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

TEST(PrometheusMetrics, PromtoolFindsNothingToSay) {
  if (!promtool::installed()) {
    GTEST_SKIP() << "promtool is not installed (apt-get install prometheus)";
  }
  WorkloadReport fresh;
  fresh.name = "new";
  MetricsPublisher m;
  EXPECT_EQ(promtool::check(m.render()), "");  // before the first publish
  m.publish(snapshot_with({report("api", 10, 50), report("batch", 60, 0), fresh,
                           report(std::string("we\"ird\\na\nme\xFF", 13), 5, 5)}));
  m.publish(snapshot_with({report("api", 10, 50), fresh}));
  EXPECT_EQ(promtool::check(m.render()), "");
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
  if (promtool::installed()) {
    m.publish(snap);
    EXPECT_EQ(promtool::check(m.render()), "");
  }
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
  if (promtool::installed()) {
    m.publish(snapshot_with({in_pod(report("a@pod-3f1c8a2e", 10, 0), uid, "")}));
    EXPECT_EQ(promtool::check(m.render()), "");
  }
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
