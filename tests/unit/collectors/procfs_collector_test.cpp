// The procfs collector without a target process: a round fails only when its proc root
// is gone, and a target missing from the tree is skipped. Its attribution of real
// child processes (each blocked in one known way) is tested in the integration tier:
// tests/integration/native/collectors/procfs_collector_test.cpp.
#include "collectors/procfs/procfs_collector.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace boundwise {
namespace {

// An evidence set with one entry per workload, as the daemon makes at a window close.
EvidenceSet evidence_for(const std::vector<std::string>& names) {
  EvidenceSet e;
  for (const auto& name : names) e.workloads[name].workload = name;
  return e;
}

TEST(ProcfsCollector, RoundFailsOnlyWhenProcRootIsGone) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("procfs-root-" + std::to_string(::getpid()));
  fs::create_directories(root / "self");
  std::ofstream(root / "self" / "stat") << "1 (x) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1\n";
  CollectorSettings settings;
  settings.proc_root = root.string();
  auto collector = make_procfs_collector(settings);
  EXPECT_FALSE(collector->sample(std::chrono::steady_clock::now()).ok());  // not started
  ASSERT_TRUE(collector->start().ok());
  // A target that is not in the tree is skipped, not an error.
  collector->set_targets(TargetSet{{TargetWorkload{"w", {ProcessKey{4242, 1}}, {}}}});
  EXPECT_TRUE(collector->sample(std::chrono::steady_clock::now()).ok());
  fs::remove_all(root);
  EXPECT_FALSE(collector->sample(std::chrono::steady_clock::now()).ok());
  EvidenceSet evidence = evidence_for({"w"});
  collector->contribute(std::chrono::steady_clock::now(), evidence);
  ASSERT_TRUE(evidence.workloads["w"].sampled);
  EXPECT_EQ(evidence.workloads["w"].sampled->processes, 0);
}

}  // namespace
}  // namespace boundwise
