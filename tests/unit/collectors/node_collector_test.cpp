// The node collector on a fixture proc root whose files change between windows. On the
// real /proc: tests/integration/native/collectors/node_collector_test.cpp.
#include "collectors/node/node_collector.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace boundwise {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(NodeCollector, RatiosFromDeltasOnAFixtureRoot) {
  fs::path root = fs::temp_directory_path() / ("boundwise-node-" + std::to_string(::getpid()));
  fs::remove_all(root);
  write(root / "stat",
        "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 "
        "0\n");
  write(root / "loadavg", "1.50 1.00 0.50 3/200 4242\n");
  write(root / "pressure" / "cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n");
  CollectorSettings settings;
  settings.proc_root = root.string();
  auto c = make_node_collector(settings);
  ASSERT_TRUE(c->start().ok());
  // 300 more busy ticks out of 400: 75% busy.
  write(root / "stat",
        "cpu  250 0 250 900 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n");
  write(root / "pressure" / "cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\n");
  EvidenceSet windows;
  c->contribute(std::chrono::steady_clock::now() + std::chrono::seconds(1), windows);
  EXPECT_EQ(windows.node.cores, 2);
  EXPECT_NEAR(windows.node.cpu_busy_ratio, 0.75, 1e-9);
  EXPECT_DOUBLE_EQ(windows.node.load1, 1.5);
  EXPECT_EQ(windows.node.runnable_tasks, 3);
  EXPECT_TRUE(windows.node.pressure_available);
  EXPECT_GT(windows.node.cpu_pressure_some, 0.3);  // 0.5 s stalled in ~1 s
  EXPECT_LE(windows.node.cpu_pressure_some, 1.0);
  EXPECT_DOUBLE_EQ(windows.node.pressure_totals["cpu"].some_seconds, 1.5);

  // A counter going backwards (a reset) gives no ratio, not a negative one.
  write(root / "stat", "cpu  10 0 10 10 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n");
  EvidenceSet again;
  c->contribute(std::chrono::steady_clock::now() + std::chrono::seconds(2), again);
  EXPECT_EQ(again.node.cpu_busy_ratio, 0.0);
  fs::remove_all(root);
}

TEST(NodeCollector, MissingProcRootIsDown) {
  CollectorSettings settings;
  settings.proc_root = "/nonexistent-proc";
  auto c = make_node_collector(settings);
  auto st = c->start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("/nonexistent-proc/stat"), std::string::npos);
}

}  // namespace
}  // namespace boundwise
