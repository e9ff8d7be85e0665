// `promtool check metrics`, Prometheus's own parser and linter, on expositions the
// publisher renders: before the first window, after windows with every kind of series
// (a dependency histogram, syscall and disk latency histograms, eBPF tool time, pod
// info) and with label values that need escaping or are not valid UTF-8. promtool runs
// as a child process, hence this tier; what the text says is checked by the unit tests
// (tests/unit/daemon/metrics_test.cpp, endpoints_test.cpp). Skipped with the reason
// when promtool is not installed.
#include "tests/lib/promtool.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "classifier/classify.hpp"
#include "daemon/metrics.hpp"
#include "tests/unit/daemon/report_samples.hpp"

namespace boundwise {
namespace {

using test::report;
using test::snapshot_with;

std::string metrics_text(const std::vector<Snapshot>& snapshots) {
  MetricsPublisher m;
  for (const auto& s : snapshots) m.publish(s);
  return m.render();
}

// Every test lints with promtool, so each is skipped, with the reason, without it.
class Metrics : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!promtool::installed()) {
      GTEST_SKIP() << "promtool is not installed (apt-get install prometheus)";
    }
  }
};

// Moved from tests/unit/daemon/endpoints_test.cpp.
TEST_F(Metrics, PromtoolAcceptsTheExposition) {
  WorkloadReport fresh;
  fresh.name = "new";
  auto text = metrics_text({snapshot_with({report("api", 0.85), report("b", 0.1), fresh})});
  EXPECT_EQ(promtool::check(text), "");
}

TEST_F(Metrics, PromtoolAcceptsTheExpositionBeforeTheFirstWindow) {
  const std::string text = MetricsPublisher().render();
  // The agent's own process_* series are linted with the rest (promtool knows their
  // conventional names and types).
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_open_fds", "process_start_time_seconds"}) {
    EXPECT_NE(text.find(std::string("\n") + name + " "), std::string::npos) << name;
  }
  EXPECT_EQ(promtool::check(text), "");
}

TEST_F(Metrics, PromtoolAcceptsEscapedAndInvalidUtf8LabelValues) {
  auto weird = report(std::string("we\"ird\\na\nme\xFF", 13), 0.5);
  // Two windows, the second without "b": removed series leave valid text behind.
  EXPECT_EQ(
      promtool::check(metrics_text({snapshot_with({report("api", 0.85), report("b", 0.1), weird}),
                                    snapshot_with({report("api", 0.85), weird})})),
      "");
}

TEST_F(Metrics, PromtoolAcceptsLatencyHistogramsToolTimeAndPodInfo) {
  auto api = report("api", 0.85);
  LatencyHistogram sleep;
  for (int i = 0; i < 40; ++i) sleep.add(0.050);
  LatencyHistogram read;
  read.add(3e-6);
  api.window->syscall_latency["sleep"] = sleep;
  api.window->syscall_latency["read"] = read;
  LatencyHistogram disk;
  disk.add(0.0005);
  disk.add(0.003);
  api.window->disk_latency = disk;
  auto in_pod = report("python3@pod-3f1c8a2e/aaaaaaaaaaaa", 0.1);
  in_pod.pod = PodContainer{"3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91", std::string(64, 'a'),
                            "containerd", "Burstable"};
  auto snap = snapshot_with({api, in_pod});
  snap.node.ebpf_duty = {{"syscalls", 0.25}, {"disk", 1.0}};
  EXPECT_EQ(promtool::check(metrics_text({snap, snap})), "");
}

TEST_F(Metrics, PromtoolAcceptsTheStacksSeries) {
  auto api = report("api", 0.85);
  api.cpu_profile = std::make_shared<const FoldedStacks>(FoldedStacks{{{"main;f", 3}}, 3});
  api.cpu_profile_window_samples = 3;
  api.offcpu_profile =
      std::make_shared<const FoldedStacks>(FoldedStacks{{{"[ipc];main;read", 400}}, 400, 2});
  api.offcpu_profile_window_stacks = 2;
  api.offcpu_profile_window_ms = 400;
  api.gil_profile = std::make_shared<const FoldedStacks>(FoldedStacks{{{"f (a.py:1)", 5}}, 5, 5});
  api.gil_profile_window_probes = 5;
  auto snap = snapshot_with({api});
  snap.collectors.push_back(CollectorStatus{"stacks", true, 0.001, ""});
  snap.node.unwind_seconds = 0.01;
  snap.node.unwind_failures = {{"no_unwind_info", 2}, {"process_gone", 1}};
  const std::string text = metrics_text({snap, snap});
  EXPECT_EQ(promtool::check(text), "");
  EXPECT_NE(text.find("boundwise_profile_offcpu_seconds_total{workload=\"api\"}"),
            std::string::npos);
  EXPECT_NE(text.find("boundwise_profile_samples_total{type=\"gil\",workload=\"api\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace boundwise
