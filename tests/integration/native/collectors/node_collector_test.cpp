// The node collector on the real /proc: a window of 200 ms of this machine's CPU
// counters gives its core count and a busy ratio between 0 and 1. The fixture tests of
// its arithmetic are unit tests (tests/unit/collectors/node_collector_test.cpp).
#include "collectors/node/node_collector.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace boundwise {
namespace {

TEST(NodeCollector, RealProc) {
  auto c = make_node_collector(CollectorSettings{});
  ASSERT_TRUE(c->start().ok());
  // The measured interval: /proc/stat moves in clock ticks (10 ms).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EvidenceSet windows;
  c->contribute(std::chrono::steady_clock::now(), windows);
  EXPECT_EQ(windows.node.cores, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_GE(windows.node.cpu_busy_ratio, 0.0);
  EXPECT_LE(windows.node.cpu_busy_ratio, 1.0);
}

}  // namespace
}  // namespace boundwise
