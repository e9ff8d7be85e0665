// follow_targets: the one way collectors keep per-process state in step with discovery.
#include "collectors/targets.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace boundwise {
namespace {

struct State {
  std::string workload;
  int made_at_scan = 0;
};

TEST(FollowTargets, NewTrackedGoneRetiredRenamedFollowedReusedPidIsNew) {
  std::map<ProcessKey, State> tracked;
  std::vector<int> retired;
  int scan = 0;
  auto track = [&](const ProcessKey& key, const std::string& workload) -> std::optional<State> {
    if (key.pid == 99) return std::nullopt;  // gone before it could be read
    return State{workload, scan};
  };
  auto retire = [&](State& s) { retired.push_back(s.made_at_scan); };

  scan = 1;
  follow_targets(tracked, TargetSet{{{"api", {{10, 100}, {11, 110}, {99, 990}}, {}}}}, track,
                 retire);
  ASSERT_EQ(tracked.size(), 2u);  // 99 skipped
  EXPECT_EQ(tracked.at({10, 100}).workload, "api");

  // 11 exits; 10 stays but its workload is renamed; pid 11 is reused (another start
  // time): a new process, tracked afresh.
  scan = 2;
  follow_targets(tracked, TargetSet{{{"api-v2", {{10, 100}, {11, 555}}, {}}}}, track, retire);
  ASSERT_EQ(tracked.size(), 2u);
  EXPECT_EQ(tracked.at({10, 100}).workload, "api-v2");
  EXPECT_EQ(tracked.at({10, 100}).made_at_scan, 1);  // kept, not re-made
  EXPECT_EQ(tracked.at({11, 555}).made_at_scan, 2);
  EXPECT_EQ(tracked.count({11, 110}), 0u);
  EXPECT_EQ(retired, std::vector<int>{1});

  scan = 3;
  follow_targets(tracked, TargetSet{}, track, retire);
  EXPECT_TRUE(tracked.empty());
  EXPECT_EQ(retired.size(), 3u);
}

TEST(FollowTargets, WorkloadByProcess) {
  auto by = workload_by_process(TargetSet{{{"a", {{1, 1}}, {}}, {"b", {{2, 2}, {3, 3}}, {}}}});
  ASSERT_EQ(by.size(), 3u);
  EXPECT_EQ(by.at({3, 3}), "b");
}

}  // namespace
}  // namespace boundwise
