// Discovery and grouping on fixture process tables and fixture /proc trees. Against a
// real process tree: tests/integration/native/daemon/discovery_test.cpp.
#include "daemon/discovery.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace boundwise {
namespace {

ProcessInfo proc(int pid, int ppid, const std::string& comm, std::uint64_t cpu = 0,
                 const std::string& cmdline = "", std::uint64_t start = 0) {
  ProcessInfo p;
  p.key = ProcessKey{pid, start ? start : static_cast<std::uint64_t>(pid) * 10};
  p.ppid = ppid;
  p.comm = comm;
  p.cmdline = cmdline.empty() ? comm : cmdline;
  p.cpu_ticks = cpu;
  p.threads = 1;
  return p;
}

std::vector<int> pids(const TargetWorkload& w) {
  std::vector<int> out;
  for (const auto& k : w.processes) out.push_back(k.pid);
  return out;
}

const TargetWorkload* find(const TargetSet& s, const std::string& name) {
  for (const auto& w : s.workloads) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

Config with_targets(std::vector<TargetSelector> targets) {
  Config c;
  c.targets = std::move(targets);
  return c;
}

TargetSelector by_comm(const std::string& name, const std::string& re) {
  TargetSelector t;
  t.name = name;
  t.comm_regex = re;
  return t;
}

TEST(Discovery, CommSelectorTakesRootsAndDescendants) {
  Discovery d(with_targets({by_comm("web", "^gunicorn")}), 999);
  auto set = d.group({proc(1, 0, "init"), proc(100, 1, "gunicorn"), proc(101, 100, "gunicorn"),
                      proc(102, 100, "gunicorn"), proc(103, 102, "sh"), proc(200, 1, "redis")});
  ASSERT_EQ(set.workloads.size(), 1u);
  EXPECT_EQ(pids(set.workloads[0]), (std::vector<int>{100, 101, 102, 103}));
  EXPECT_EQ(d.facts().at("web").threads, 4);
}

TEST(Discovery, CmdlineSelectorGroupsAMultiprocessingTree) {
  TargetSelector t;
  t.name = "jobs";
  t.cmdline_regex = "app\\.py";
  Discovery d(with_targets({t}), 999);
  auto set = d.group(
      {proc(1, 0, "init"), proc(50, 1, "python3", 0, "python3 app.py"),
       proc(51, 50, "python3", 0,
            "python3 -c from multiprocessing.resource_tracker import main;main(5)"),
       proc(52, 50, "python3", 0, "python3 -c from multiprocessing.forkserver import main; main()"),
       proc(53, 52, "python3", 0, "python3 -c from multiprocessing.forkserver import main; main()"),
       proc(60, 1, "python3", 0, "python3 other.py")});
  ASSERT_EQ(set.workloads.size(), 1u);
  EXPECT_EQ(pids(set.workloads[0]), (std::vector<int>{50, 51, 52, 53}));
}

TEST(Discovery, FirstSelectorWinsAndSelfIsExcluded) {
  Discovery d(with_targets({by_comm("a", "^python"), by_comm("b", "python3")}), 11);
  auto set = d.group({proc(1, 0, "init"), proc(10, 1, "python3"), proc(11, 10, "python3")});
  ASSERT_EQ(set.workloads.size(), 1u);
  EXPECT_EQ(set.workloads[0].name, "a");
  EXPECT_EQ(pids(set.workloads[0]), (std::vector<int>{10}));  // 11 is the agent
}

TEST(Discovery, PidSelectorIsPinnedToItsStartTime) {
  TargetSelector t;
  t.name = "api";
  t.pid = 42;
  Discovery d(with_targets({t}), 999);
  auto first = d.group({proc(1, 0, "init"), proc(42, 1, "api", 0, "", 1000)});
  ASSERT_EQ(first.workloads.size(), 1u);
  // The process exits and an unrelated one gets PID 42: another start time.
  auto reused = d.group({proc(1, 0, "init"), proc(42, 1, "bash", 0, "", 5000)});
  EXPECT_TRUE(reused.workloads.empty());
}

TEST(Discovery, PidSelectorForAnAbsentPidNeverAdoptsALaterProcess) {
  TargetSelector t;
  t.name = "api";
  t.pid = 42;
  Discovery d(with_targets({t}), 999);
  EXPECT_TRUE(d.group({proc(1, 0, "init")}).workloads.empty());
  EXPECT_TRUE(d.group({proc(1, 0, "init"), proc(42, 1, "new")}).workloads.empty());
}

TEST(Discovery, AutoGroupsTreesBelowLaunchersAndRanksByCpu) {
  Config c;
  c.max_workloads = 2;
  Discovery d(c, 999);
  std::vector<ProcessInfo> t0 = {proc(1, 0, "init"),         proc(5, 1, "bash"),
                                 proc(10, 5, "python3", 0),  proc(11, 10, "python3", 0),
                                 proc(20, 1, "postgres", 0), proc(21, 20, "postgres", 0),
                                 proc(30, 5, "python3", 0),  proc(40, 1, "cron", 0)};
  EXPECT_TRUE(d.group(t0).workloads.empty());  // no CPU used yet
  std::vector<ProcessInfo> t1 = {proc(1, 0, "init"),          proc(5, 1, "bash"),
                                 proc(10, 5, "python3", 50),  proc(11, 10, "python3", 50),
                                 proc(20, 1, "postgres", 10), proc(21, 20, "postgres", 30),
                                 proc(30, 5, "python3", 5),   proc(40, 1, "cron", 0)};
  auto set = d.group(t1);
  ASSERT_EQ(set.workloads.size(), 2u);  // capped: the two busiest trees
  auto* py = find(set, "python3");
  auto* pg = find(set, "postgres");
  ASSERT_NE(py, nullptr);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pids(*py), (std::vector<int>{10, 11}));
  EXPECT_EQ(pids(*pg), (std::vector<int>{20, 21}));
  // Later the second python tree becomes the busiest: it gets a distinct name, and the
  // known trees keep theirs.
  std::vector<ProcessInfo> t2 = t1;
  t2[6].cpu_ticks = 500;
  t2[2].cpu_ticks = 51;
  auto next = d.group(t2);
  ASSERT_NE(find(next, "python3#2"), nullptr);
  EXPECT_EQ(pids(*find(next, "python3#2")), (std::vector<int>{30}));
}

TEST(Discovery, AutoDropsTreesThatExit) {
  Discovery d(Config{}, 999);
  d.group({proc(1, 0, "init"), proc(10, 1, "java", 0)});
  auto busy = d.group({proc(1, 0, "init"), proc(10, 1, "java", 100)});
  ASSERT_EQ(busy.workloads.size(), 1u);
  auto gone = d.group({proc(1, 0, "init")});
  EXPECT_TRUE(gone.workloads.empty());
}

TEST(Discovery, ReadsAFixtureProcTree) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("boundwise-proc-" + std::to_string(::getpid()));
  fs::remove_all(root);
  // flags (field 9) as the kernel sets them: PF_KTHREAD (0x00200000) on kernel threads.
  auto add = [&](int pid, int ppid, const std::string& comm, unsigned flags = 4194560) {
    fs::create_directories(root / std::to_string(pid));
    std::ofstream(root / std::to_string(pid) / "stat")
        << pid << " (" << comm << ") S " << ppid << " 1 1 0 -1 " << flags
        << " 0 0 0 0 7 3 0 0 20 0 2 0 " << pid * 100 << " 1 1 0 0 0 0 0\n";
    std::ofstream(root / std::to_string(pid) / "cmdline") << comm << '\0' << "--flag" << '\0';
  };
  add(1, 0, "init");
  add(2, 0, "kthreadd", 2129984);
  add(3, 2, "kworker/0:1", 69238880);
  add(70, 1, "my server");
  add(71, 70, "my server");
  fs::create_directories(root / "self");
  auto table = read_process_table(root.string(), true);
  ASSERT_EQ(table.size(), 3u);  // kernel threads skipped
  EXPECT_EQ(table[1].comm, "my server");
  EXPECT_EQ(table[1].cmdline, "my server --flag");
  EXPECT_EQ(table[1].cpu_ticks, 10u);
  EXPECT_EQ(table[1].threads, 2);
  Config c;
  c.proc_root = root.string();
  c.targets = {by_comm("srv", "^my ")};
  Discovery d(c, 999);
  auto set = d.scan();
  ASSERT_EQ(set.workloads.size(), 1u);
  EXPECT_EQ(pids(set.workloads[0]), (std::vector<int>{70, 71}));
  fs::remove_all(root);
}

TEST(Discovery, PidTwoOfAPidNamespaceIsAnOrdinaryProcess) {
  // In a PID namespace PID 2 is whatever its init started second, and its children
  // are no kernel threads: only the PF_KTHREAD flag says that.
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("boundwise-pidns-" + std::to_string(::getpid()));
  fs::remove_all(root);
  auto add = [&](int pid, int ppid, const std::string& comm) {
    fs::create_directories(root / std::to_string(pid));
    std::ofstream(root / std::to_string(pid) / "stat")
        << pid << " (" << comm << ") S " << ppid << " 1 1 0 -1 4194560 0 0 0 0 7 3 0 0 20 0 1 0 "
        << pid * 100 << " 1 1 0 0 0 0 0\n";
  };
  add(1, 0, "python3");
  add(2, 1, "python3");
  add(3, 2, "python3");
  auto table = read_process_table(root.string(), false);
  fs::remove_all(root);
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table[1].key.pid, 2);
  EXPECT_EQ(table[2].ppid, 2);
}

// A fixture /proc with stat (start time pid * 10, as proc() above) and cgroup files.
class PodFixture {
 public:
  PodFixture() {
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  ~PodFixture() { std::filesystem::remove_all(root_); }
  void add(int pid, const std::string& comm, const std::string& cgroup_path) {
    auto dir = root_ / std::to_string(pid);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "stat") << pid << " (" << comm
                                << ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " << pid * 10
                                << " 1 1 0 0 0 0 0\n";
    std::ofstream(dir / "cgroup") << "0::" << cgroup_path << "\n";
  }
  Config config(std::vector<TargetSelector> targets = {}) const {
    Config c;
    c.proc_root = root_.string();
    c.targets = std::move(targets);
    return c;
  }

 private:
  std::filesystem::path root_ =
      std::filesystem::temp_directory_path() / ("boundwise-pods-" + std::to_string(::getpid()));
};

const std::string kPodA = "3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91";
const std::string kPodB = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d";
const std::string kCidX = "8d2c5e1f4a7b9c3e6d0f2a5b8c1e4d7f0a3b6c9e2d5f8a1b4c7e0d3f6a9b2c5e";
const std::string kCidY = "f00dfeedcafe0123456789abcdef0123456789abcdef0123456789abcdef0123";

std::string systemd_path(const std::string& uid, const std::string& cid) {
  std::string slice = uid;
  std::replace(slice.begin(), slice.end(), '-', '_');
  return "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + slice +
         ".slice/cri-containerd-" + cid + ".scope";
}

TEST(Discovery, AutoNamesWorkloadsInPodsByPodAndContainer) {
  PodFixture f;
  f.add(10, "python3", systemd_path(kPodA, kCidX));
  f.add(20, "python3", "/kubepods/besteffort/pod" + kPodB + "/" + kCidY);  // cgroupfs
  f.add(30, "python3", "/system.slice/app.service");
  Discovery d(f.config(), 999);
  std::vector<ProcessInfo> t0 = {proc(1, 0, "init"),        proc(5, 1, "containerd-shim"),
                                 proc(10, 5, "python3", 0), proc(11, 10, "python3", 0),
                                 proc(20, 5, "python3", 0), proc(30, 1, "python3", 0)};
  d.group(t0);
  auto t1 = t0;
  t1[2].cpu_ticks = 50;
  t1[4].cpu_ticks = 40;
  t1[5].cpu_ticks = 30;
  auto set = d.group(t1);
  ASSERT_EQ(set.workloads.size(), 3u);
  auto* a = find(set, "python3@pod-3f1c8a2e/8d2c5e1f4a7b");
  auto* b = find(set, "python3@pod-a0b1c2d3/f00dfeedcafe");
  auto* host = find(set, "python3");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(pids(*a), (std::vector<int>{10, 11}));
  ASSERT_TRUE(a->pod);
  EXPECT_EQ(a->pod->pod_uid, kPodA);
  EXPECT_EQ(a->pod->container_id, kCidX);
  EXPECT_EQ(a->pod->runtime, "containerd");
  EXPECT_EQ(a->pod->qos_class, "Burstable");
  ASSERT_TRUE(b->pod);
  EXPECT_EQ(b->pod->qos_class, "BestEffort");
  EXPECT_FALSE(host->pod);
}

TEST(Discovery, AReusedPidDoesNotInheritThePodOfTheProcessBefore) {
  PodFixture f;
  f.add(10, "python3", systemd_path(kPodA, kCidX));  // start time 100
  Discovery d(f.config(), 999);
  // The table saw PID 10 with another start time: the fixture's PID 10 is a new process.
  d.group({proc(1, 0, "init"), proc(10, 1, "python3", 0, "", 777)});
  auto set = d.group({proc(1, 0, "init"), proc(10, 1, "python3", 50, "", 777)});
  ASSERT_EQ(set.workloads.size(), 1u);
  EXPECT_EQ(set.workloads[0].name, "python3");
  EXPECT_FALSE(set.workloads[0].pod);
}

TEST(Discovery, AConfiguredWorkloadKeepsItsNameAndCarriesTheSharedPod) {
  PodFixture f;
  f.add(10, "gunicorn", systemd_path(kPodA, kCidX));
  f.add(20, "gunicorn", systemd_path(kPodA, kCidY));  // same pod, another container
  f.add(30, "worker", systemd_path(kPodA, kCidX));
  f.add(40, "worker", systemd_path(kPodB, kCidY));  // another pod
  Discovery d(f.config({by_comm("web", "^gunicorn"), by_comm("jobs", "^worker")}), 999);
  auto set = d.group({proc(1, 0, "init"), proc(10, 1, "gunicorn"), proc(20, 1, "gunicorn"),
                      proc(30, 1, "worker"), proc(40, 1, "worker")});
  auto* web = find(set, "web");
  ASSERT_NE(web, nullptr);
  ASSERT_TRUE(web->pod);
  EXPECT_EQ(web->pod->pod_uid, kPodA);
  EXPECT_EQ(web->pod->container_id, "");  // two containers of one pod
  EXPECT_EQ(web->pod->runtime, "");
  auto* jobs = find(set, "jobs");
  ASSERT_NE(jobs, nullptr);
  EXPECT_FALSE(jobs->pod);  // two pods
}

TEST(Discovery, AConfiguredWorkloadInOneContainer) {
  PodFixture f;
  f.add(10, "gunicorn", systemd_path(kPodA, kCidX));
  f.add(11, "gunicorn", systemd_path(kPodA, kCidX));
  Discovery d(f.config({by_comm("web", "^gunicorn")}), 999);
  auto set = d.group({proc(1, 0, "init"), proc(10, 1, "gunicorn"), proc(11, 10, "gunicorn")});
  ASSERT_EQ(set.workloads.size(), 1u);
  EXPECT_EQ(set.workloads[0].name, "web");
  ASSERT_TRUE(set.workloads[0].pod);
  EXPECT_EQ(set.workloads[0].pod->container_id, kCidX);
}

}  // namespace
}  // namespace boundwise
