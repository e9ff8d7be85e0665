// Start method and workers from command lines and parentage, with the command lines
// CPython 3.11's multiprocessing and gunicorn 20 actually use.
#include "collectors/python/topology.hpp"

#include <gtest/gtest.h>

namespace boundwise::python {
namespace {

ProcessFacts proc(int pid, int ppid, std::vector<std::string> argv, int threads = 1) {
  return ProcessFacts{pid, ppid, std::move(argv), threads, true};
}

const std::vector<std::string> kParent = {"/usr/bin/python3", "pool.py", "2"};
const std::vector<std::string> kTracker = {
    "/usr/bin/python3", "-c", "from multiprocessing.resource_tracker import main;main(7)"};

TEST(Topology, Fork) {
  auto t = detect_topology({proc(10, 1, kParent, 4), proc(11, 10, kParent), proc(12, 10, kParent)});
  EXPECT_EQ(t.start_method, "fork");
  EXPECT_EQ(t.server, "multiprocessing");
  EXPECT_EQ(t.workers, 2);
  EXPECT_EQ(t.max_worker_threads, 1);
}

TEST(Topology, Spawn) {
  std::vector<std::string> worker = {
      "/usr/bin/python3", "-c",
      "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=5, pipe_handle=7)",
      "--multiprocessing-fork"};
  auto t = detect_topology({proc(10, 1, kParent, 4), proc(11, 10, kTracker), proc(12, 10, worker),
                            proc(13, 10, worker)});
  EXPECT_EQ(t.start_method, "spawn");
  EXPECT_EQ(t.workers, 2);  // the resource tracker is a helper, not a worker
}

TEST(Topology, ForkserverWorkersAreTheServersChildrenWithItsCommandLine) {
  std::vector<std::string> server = {
      "/usr/bin/python3", "-c",
      "from multiprocessing.forkserver import main; main(8, 9, ['__main__'], **{'sys_path': []})"};
  auto t = detect_topology({proc(10, 1, kParent, 4), proc(11, 10, kTracker), proc(12, 10, server),
                            proc(13, 12, server), proc(14, 12, server), proc(15, 12, server)});
  EXPECT_EQ(t.start_method, "forkserver");
  EXPECT_EQ(t.workers, 3);
}

TEST(Topology, GunicornMasterAndSyncWorkers) {
  std::vector<std::string> cmd = {"/usr/bin/python3", "/usr/bin/gunicorn", "-w", "3", "app:app"};
  auto t = detect_topology(
      {proc(10, 1, cmd), proc(11, 10, cmd), proc(12, 10, cmd), proc(13, 10, cmd, 5)});
  EXPECT_EQ(t.server, "gunicorn");
  EXPECT_EQ(t.start_method, "fork");
  EXPECT_EQ(t.workers, 3);
  EXPECT_EQ(t.max_worker_threads, 5);  // a gthread worker
}

TEST(Topology, OneProcessHasNoWorkersAndNoStartMethod) {
  auto t = detect_topology({proc(10, 1, kParent, 5)});
  EXPECT_EQ(t.workers, 0);
  EXPECT_EQ(t.start_method, "");
  EXPECT_EQ(t.server, "");
  EXPECT_EQ(detect_topology({}).workers, 0);
}

}  // namespace
}  // namespace boundwise::python
