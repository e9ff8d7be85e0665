// What the procfs collector reuses instead of reading again (collectors/procfs/
// unchanged.hpp): the pure rules, then the collector itself on a fixture /proc tree
// whose files the test rewrites between rounds. A file rewritten while the kernel's
// counters say nothing ran is not read (the previous state holds); one rewritten with
// the counters moved is. A reused PID is a new process: nothing of the old one's state
// or kept files carries over.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "classifier/reason.hpp"
#include "collectors/procfs/procfs_collector.hpp"
#include "collectors/procfs/unchanged.hpp"

namespace boundwise {
namespace {

namespace fs = std::filesystem;
using procfs::SchedStat;

TEST(NotRunSince, OnlyTheSameRunTimeQueueTimeAndRunCountMeanNotRun) {
  const SchedStat before{1000, 200, 7};
  EXPECT_TRUE(procfs::not_run_since(before, SchedStat{1000, 200, 7}));
  EXPECT_FALSE(procfs::not_run_since(before, SchedStat{1001, 200, 7}));  // ran
  EXPECT_FALSE(procfs::not_run_since(before, SchedStat{1000, 201, 7}));  // queued
  EXPECT_FALSE(procfs::not_run_since(before, SchedStat{1000, 200, 8}));  // scheduled in
  // A reused TID's counters start again: lower is "changed", never "the same thread".
  EXPECT_FALSE(procfs::not_run_since(before, SchedStat{10, 2, 1}));
  EXPECT_FALSE(procfs::not_run_since(std::nullopt, before));  // nothing to compare with
  EXPECT_FALSE(procfs::not_run_since(before, std::nullopt));  // unreadable now (gone)
}

TEST(ThreadListStale, ListedOnlyWhenTheKernelsCountDiffers) {
  EXPECT_FALSE(procfs::thread_list_stale(2 + 1000, 1000));
  EXPECT_TRUE(procfs::thread_list_stale(2 + 1001, 1000));   // one started
  EXPECT_TRUE(procfs::thread_list_stale(2 + 999, 1000));    // one ended
  EXPECT_TRUE(procfs::thread_list_stale(std::nullopt, 1));  // the process has gone
  EXPECT_TRUE(procfs::thread_list_stale(1, 0));             // not a count (some filesystems)
}

constexpr int kPid = 4100;
constexpr long kClockNanosleep = 230;
constexpr long kRead = 0;

// A /proc tree with one single-threaded process, whose files the test rewrites in
// place (the collector's kept fds then read the new text, as on procfs).
class FixtureProc {
 public:
  FixtureProc()
      : root_(fs::temp_directory_path() / ("procfs-reuse-" + std::to_string(::getpid()))) {
    fs::remove_all(root_);
    fs::create_directories(root_ / "self");
    write("self/stat", stat_line(1, 1, 0));
  }
  ~FixtureProc() { fs::remove_all(root_); }
  FixtureProc(const FixtureProc&) = delete;
  FixtureProc& operator=(const FixtureProc&) = delete;

  std::string root() const { return root_.string(); }

  // The process kPid started at `start`, its one thread asleep in clock_nanosleep, fd 3
  // a pipe.
  void start_process(std::uint64_t start, const SchedStat& sched) {
    fs::create_directories(task_dir());
    fs::create_directories(root_ / pid() / "fd");
    fs::create_symlink("pipe:[777]", root_ / pid() / "fd" / "3");
    set_cpu_ticks(start, 0);
    write(pid() + "/task/" + pid() + "/stat", stat_line(kPid, start, 0));
    write(pid() + "/task/" + pid() + "/status",
          "Name:\tx\nvoluntary_ctxt_switches:\t5\nnonvoluntary_ctxt_switches:\t1\n");
    set_sched(sched);
    set_syscall(kClockNanosleep);
  }
  // The process has exited: its directory is gone (fds kept on it no longer open
  // anything under it, as on procfs).
  void end_process() { fs::remove_all(root_ / pid()); }

  void set_sched(const SchedStat& s) {
    write(pid() + "/task/" + pid() + "/schedstat", std::to_string(s.run_ns) + " " +
                                                       std::to_string(s.wait_ns) + " " +
                                                       std::to_string(s.timeslices) + "\n");
  }
  void set_syscall(long nr) {
    // nr fd=3 ... sp pc, as /proc/TID/syscall prints them.
    write(pid() + "/task/" + pid() + "/syscall",
          std::to_string(nr) + " 0x3 0x7ffd0000 0x1000 0x0 0x0 0x0 0x7ffd1000 0x7f0000001000\n");
  }
  void set_cpu_ticks(std::uint64_t start, std::uint64_t utime) {
    write(pid() + "/stat", stat_line(kPid, start, utime));
  }

 private:
  static std::string pid() { return std::to_string(kPid); }
  fs::path task_dir() const { return root_ / pid() / "task" / pid(); }
  static std::string stat_line(int pid, std::uint64_t start, std::uint64_t utime) {
    return std::to_string(pid) + " (x) S 1 " + std::to_string(pid) + " " + std::to_string(pid) +
           " 0 -1 4194304 10 0 0 0 " + std::to_string(utime) + " 0 0 0 20 0 1 0 " +
           std::to_string(start) +
           " 3133440 418 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 "
           "0 0 0 0 0 0\n";
  }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ / rel, std::ios::trunc) << text;  // same inode: kept fds see it
  }

  fs::path root_;
};

struct Rounds {
  std::unique_ptr<Collector> collector;

  explicit Rounds(const std::string& root) {
    CollectorSettings settings;
    settings.proc_root = root;
    collector = make_procfs_collector(settings);
  }
  void sample(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(collector->sample(std::chrono::steady_clock::now()).ok());
    }
  }
  // Windows that close 10 s apart (the first 10 s after the thread was first seen):
  // the thread's off-CPU time is ~10 s, split over its samples' reasons.
  SampledEvidence close(const std::string& workload) {
    EvidenceSet e;
    e.workloads[workload].workload = workload;
    collector->contribute(start + std::chrono::seconds(10 * ++windows), e);
    return *e.workloads[workload].sampled;
  }
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  int windows = 0;
};

double seconds(const SampledEvidence& w, Reason r) { return w.thread_seconds[index_of(r)]; }

TEST(ProcfsReuse, AThreadThatHasNotRunKeepsItsWaitAndOneThatRanIsReadAgain) {
  FixtureProc proc;
  proc.start_process(5000, SchedStat{1'000'000, 50'000, 10});
  Rounds rounds(proc.root());
  ASSERT_TRUE(rounds.collector->start().ok());
  rounds.collector->set_targets(TargetSet{{TargetWorkload{"w", {ProcessKey{kPid, 5000}}, {}}}});
  rounds.sample(2);  // read once: asleep
  // Its syscall and CPU ticks rewritten while schedstat says it has not run: neither is
  // read again, so the window holds only the sleep it was seen in.
  proc.set_syscall(kRead);
  proc.set_cpu_ticks(5000, 100);
  rounds.sample(10);
  SampledEvidence first = rounds.close("w");
  EXPECT_EQ(first.threads, 1);
  EXPECT_GT(seconds(first, Reason::sleep), 5.0);
  EXPECT_EQ(seconds(first, Reason::ipc), 0.0);
  EXPECT_EQ(first.cpu_seconds, 0.0);
  // It ran (one more time slice): read again within a second of rounds (the backoff's
  // bound at 5 samples/s), now blocked reading a pipe, and its CPU ticks are counted.
  proc.set_sched(SchedStat{1'200'000, 60'000, 11});
  rounds.sample(10);
  SampledEvidence second = rounds.close("w");
  EXPECT_GT(seconds(second, Reason::ipc), 1.0);
  EXPECT_NEAR(second.cpu_seconds, 100.0 / static_cast<double>(::sysconf(_SC_CLK_TCK)), 1e-9);
}

TEST(ProcfsReuse, AReusedPidIsANewProcessWithNothingCarriedOver) {
  FixtureProc proc;
  const SchedStat counters{1'000'000, 50'000, 10};
  proc.start_process(5000, counters);
  Rounds rounds(proc.root());
  ASSERT_TRUE(rounds.collector->start().ok());
  rounds.collector->set_targets(TargetSet{{TargetWorkload{"old", {ProcessKey{kPid, 5000}}, {}}}});
  rounds.sample(3);  // asleep, its files kept open
  // The process exits and its PID comes back as another process — with, to make reuse
  // tempting, the very same schedstat counters — blocked reading a pipe.
  proc.end_process();
  proc.start_process(6000, counters);
  proc.set_syscall(kRead);
  rounds.collector->set_targets(TargetSet{{TargetWorkload{"new", {ProcessKey{kPid, 6000}}, {}}}});
  rounds.sample(3);
  SampledEvidence fresh = rounds.close("new");
  EXPECT_EQ(fresh.processes, 1);
  EXPECT_EQ(fresh.threads, 1);
  EXPECT_GT(seconds(fresh, Reason::ipc), 5.0);
  EXPECT_EQ(seconds(fresh, Reason::sleep), 0.0);  // the old process's wait is not its
}

}  // namespace
}  // namespace boundwise
