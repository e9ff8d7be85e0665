// The python collector's series: runtime_info (one per workload, replaced when the
// version changes), GIL wait/held/native-CPU counters (held and native only when the
// GIL was read), shared memory; and the same facts in /recommend.
#include <gtest/gtest.h>

#include <sstream>

#include "classifier/classify.hpp"
#include "daemon/metrics.hpp"
#include "daemon/recommend_json.hpp"

namespace boundwise {
namespace {

WorkloadReport python_report(const std::string& version, bool measured) {
  WorkloadReport r;
  r.name = "py";
  r.pids = {10};
  r.threads = 5;
  WorkloadWindow w;
  w.workload = "py";
  w.duration_seconds = 10;
  w.threads = 5;
  w.processes = 1;
  w.node.cores = 2;
  w.thread_seconds[index_of(Reason::on_cpu)] = 10;
  w.thread_seconds[index_of(Reason::gil)] = 26;
  w.thread_seconds[index_of(Reason::idle)] = 14;
  w.cpu_seconds = 10;
  w.memory.rss_bytes = 30u << 20;
  w.memory.pss_bytes = 20u << 20;
  w.memory.uss_bytes = 15u << 20;
  w.memory.shared_bytes = 12u << 20;
  w.runtime = {"python", version, false, measured, "", "", 0, 0};
  w.gil.measured = measured;
  w.gil.held_seconds = measured ? 9.5 : 0;
  w.gil.holder_threads = 4;
  finalize_window(w);
  r.verdict = classify(w);
  r.recommendation = recommend(*r.verdict, w);
  r.window = w;
  return r;
}

Snapshot snapshot_of(WorkloadReport r) {
  Snapshot s;
  s.host = "h";
  s.window_seconds = 10;
  s.node.cores = 2;
  s.workloads = {std::move(r)};
  return s;
}

// The value of the one line that starts with `series` (name and labels, exactly).
std::optional<double> line_value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

TEST(PythonMetrics, RuntimeInfoGilCountersAndSharedMemory) {
  MetricsPublisher m;
  m.publish(snapshot_of(python_report("3.12.1", true)));
  m.publish(snapshot_of(python_report("3.12.1", true)));
  std::string text = m.render();
  EXPECT_EQ(
      line_value(
          text,
          R"(boundwise_runtime_info{free_threaded="false",kind="python",version="3.12.1",workload="py"})"),
      1.0)
      << text;
  EXPECT_EQ(line_value(text, R"(boundwise_python_gil_wait_seconds_total{workload="py"})"), 52.0);
  EXPECT_EQ(line_value(text, R"(boundwise_python_gil_held_seconds_total{workload="py"})"), 19.0);
  EXPECT_EQ(line_value(text, R"(boundwise_python_native_cpu_seconds_total{workload="py"})"), 1.0);
  EXPECT_EQ(line_value(text, R"(boundwise_workload_memory_bytes{kind="shared",workload="py"})"),
            double(12u << 20));
  // A redeploy on another version: the old info series goes.
  m.publish(snapshot_of(python_report("3.13.0", true)));
  text = m.render();
  EXPECT_FALSE(line_value(
      text,
      R"(boundwise_runtime_info{free_threaded="false",kind="python",version="3.12.1",workload="py"})"));
  EXPECT_TRUE(line_value(
      text,
      R"(boundwise_runtime_info{free_threaded="false",kind="python",version="3.13.0",workload="py"})"));
}

TEST(PythonMetrics, UnreadableGilPublishesWaitOnly) {
  MetricsPublisher m;
  m.publish(snapshot_of(python_report("3.8.18", false)));
  std::string text = m.render();
  EXPECT_EQ(line_value(text, R"(boundwise_python_gil_wait_seconds_total{workload="py"})"), 26.0);
  EXPECT_EQ(text.find("boundwise_python_gil_held_seconds_total{"), std::string::npos);
  EXPECT_EQ(text.find("boundwise_python_native_cpu_seconds_total{"), std::string::npos);
}

TEST(PythonJson, RuntimeGilAndModel) {
  auto doc = recommend_document(snapshot_of(python_report("3.12.1", true)), std::nullopt);
  const auto& w = doc["workloads"][0];
  EXPECT_EQ(w["runtime"]["version"], "3.12.1");
  EXPECT_EQ(w["runtime"]["gil_readable"], true);
  EXPECT_EQ(w["gil"]["source"], "memory");
  EXPECT_EQ(w["gil"]["wait_source"], "sampled");
  EXPECT_DOUBLE_EQ(w["gil"]["held_seconds"].get<double>(), 9.5);
  EXPECT_DOUBLE_EQ(w["gil"]["native_cpu_seconds"].get<double>(), 0.5);
  EXPECT_EQ(w["current_model"], "threads");
  EXPECT_TRUE(w["start_method"].is_null());
  EXPECT_EQ(w["memory_bytes"]["shared"], 12u << 20);
  auto inferred = recommend_document(snapshot_of(python_report("3.8.18", false)), std::nullopt);
  const auto& g = inferred["workloads"][0]["gil"];
  EXPECT_EQ(g["source"], "futex signature");
  EXPECT_EQ(g["wait_source"], "sampled");
  EXPECT_TRUE(g["held_seconds"].is_null());
  EXPECT_DOUBLE_EQ(g["wait_seconds"].get<double>(), 26.0);
}

TEST(PythonJson, GilWaitMeasuredInTheKernelSaysSo) {
  auto report = python_report("3.12.1", true);
  report.window->gil.wait_measured_in_kernel = true;
  auto doc = recommend_document(snapshot_of(report), std::nullopt);
  EXPECT_EQ(doc["workloads"][0]["gil"]["wait_source"], "ebpf");
}

}  // namespace
}  // namespace boundwise
