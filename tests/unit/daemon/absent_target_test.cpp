// A configured target with no live process: listed as absent in /recommend, and on
// /metrics only as boundwise_target_up 0 — its other series leave with its process.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "daemon/http_handler.hpp"
#include "daemon/metrics.hpp"

namespace boundwise {
namespace {

Snapshot with(WorkloadReport report) {
  Snapshot s;
  s.host = "web-1";
  s.window_seconds = 10;
  s.workloads.push_back(std::move(report));
  return s;
}

WorkloadReport running_api() {
  WorkloadReport r;
  r.name = "api";
  r.pids = {42};
  r.threads = 8;
  return r;
}

WorkloadReport absent_api() {
  WorkloadReport r;
  r.name = "api";
  r.state = WorkloadState::absent;
  r.absent_since = std::chrono::system_clock::from_time_t(1'800'000'000);
  return r;
}

int count_lines_with(const std::string& text, const std::string& needle) {
  int n = 0;
  std::size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    ++n;
    ++pos;
  }
  return n;
}

TEST(AbsentTarget, MetricsKeepOnlyTargetUpAtZero) {
  MetricsPublisher metrics;
  metrics.publish(with(running_api()));
  std::string before = metrics.render();
  EXPECT_NE(before.find("boundwise_target_up{workload=\"api\"} 1"), std::string::npos) << before;
  EXPECT_NE(before.find("boundwise_workload_threads{workload=\"api\"} 8"), std::string::npos);

  metrics.publish(with(absent_api()));
  std::string after = metrics.render();
  EXPECT_NE(after.find("boundwise_target_up{workload=\"api\"} 0"), std::string::npos) << after;
  EXPECT_EQ(count_lines_with(after, "workload=\"api\""), 1) << after;

  // Back again: up, with its series.
  metrics.publish(with(running_api()));
  std::string again = metrics.render();
  EXPECT_NE(again.find("boundwise_target_up{workload=\"api\"} 1"), std::string::npos) << again;
  EXPECT_NE(again.find("boundwise_workload_threads{workload=\"api\"} 8"), std::string::npos);
}

TEST(AbsentTarget, RecommendSaysAbsentAndSince) {
  auto doc = nlohmann::json::parse(render_recommend(with(absent_api())));
  const auto& w = doc["workloads"].at(0);
  EXPECT_EQ(w["workload"], "api");
  EXPECT_EQ(w["state"], "absent");
  EXPECT_EQ(w["absent_since"], "2027-01-15T08:00:00Z");
  EXPECT_TRUE(w["verdict"].is_null());
  EXPECT_TRUE(w["recommendation"].is_null());
  EXPECT_TRUE(w["pids"].empty());

  auto running = nlohmann::json::parse(render_recommend(with(running_api())));
  EXPECT_EQ(running["workloads"].at(0)["state"], "running");
  EXPECT_TRUE(running["workloads"].at(0)["absent_since"].is_null());
}

TEST(AbsentTarget, StoppedIsSaidWithWhatToDoAndStaysUp) {
  WorkloadReport stopped = running_api();
  stopped.state = WorkloadState::stopped;
  stopped.state_detail = "stopped: its process is stopped; resume with SIGCONT";
  auto doc = nlohmann::json::parse(render_recommend(with(stopped)));
  EXPECT_EQ(doc["workloads"].at(0)["state"], "stopped");
  EXPECT_EQ(doc["workloads"].at(0)["state_detail"], stopped.state_detail);
  MetricsPublisher metrics;
  metrics.publish(with(stopped));
  std::string text = metrics.render();
  EXPECT_NE(text.find("boundwise_target_up{workload=\"api\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("boundwise_workload_stopped{workload=\"api\"} 1"), std::string::npos);
  WorkloadReport defunct = running_api();
  defunct.state = WorkloadState::defunct;
  metrics.publish(with(defunct));
  text = metrics.render();
  EXPECT_NE(text.find("boundwise_target_up{workload=\"api\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("boundwise_workload_stopped{workload=\"api\"} 0"), std::string::npos);
}

}  // namespace
}  // namespace boundwise
