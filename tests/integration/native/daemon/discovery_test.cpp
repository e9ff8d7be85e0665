// Discovery against a real process tree of this test: a pid selector takes the forked
// parent and its children. The fixture-table and fixture-/proc tests are unit tests
// (tests/unit/daemon/discovery_test.cpp).
#include "daemon/discovery.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "tests/lib/child_process.hpp"
#include "tests/lib/wait_until.hpp"

namespace boundwise {
namespace {

using namespace std::chrono_literals;

TEST(Discovery, RealProcessTree) {
  // A parent with two children, all in their own process group so the test kills the
  // whole tree.
  test::Child parent(
      [] {
        for (int i = 0; i < 2; ++i) {
          if (::fork() == 0) {
            ::pause();
            ::_exit(0);
          }
        }
        ::pause();
      },
      /*own_group=*/true);
  const pid_t pid = parent.pid();
  ASSERT_GT(pid, 0);
  Config config;
  TargetSelector t;
  t.name = "tree";
  t.pid = pid;
  config.targets = {t};
  Discovery d(config, ::getpid());
  TargetSet set;
  // The children exist once the parent has forked them: scan until they are seen.
  bool whole_tree = test::wait_until(
      [&] {
        set = d.scan();
        return set.workloads.size() == 1 && set.workloads[0].processes.size() == 3;
      },
      5s, 10ms);
  parent.stop();
  ASSERT_EQ(set.workloads.size(), 1u);
  EXPECT_TRUE(whole_tree) << set.workloads[0].processes.size() << " processes";
  EXPECT_EQ(set.workloads[0].processes.size(), 3u);
  EXPECT_EQ(set.workloads[0].processes[0].pid, pid);
}

}  // namespace
}  // namespace boundwise
