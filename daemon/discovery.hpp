// Workload discovery: scans /proc, builds the process tree, and groups processes into
// workloads — the processes a configured selector matches plus all their
// descendants, or, with no selectors, the busiest process trees (docs/DISCOVERY.md).
// Processes are identified by (pid, start time), so a reused PID is a new process.
// A workload whose roots run in a Kubernetes pod carries the pod and container ids its
// cgroup path gives, and an auto-discovered one is named after them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "collectors/targets.hpp"
#include "config/config.hpp"

namespace boundwise {

// One row of the process table.
struct ProcessInfo {
  ProcessKey key;
  int ppid = 0;
  std::string comm;
  std::string cmdline;          // arguments joined by spaces; empty unless a selector needs it
  std::uint64_t cpu_ticks = 0;  // utime + stime
  int threads = 0;
  char state = 'R';  // of its main thread: 'T'/'t' stopped, 'Z' zombie (stat field 3)
};

// What the last scan saw of a workload's processes as a whole.
struct WorkloadFacts {
  int threads = 0;
  int processes = 0;
  int stopped = 0;  // stopped by a signal (SIGSTOP, SIGTSTP) or a tracer (a debugger)
  int zombie = 0;   // exited, not yet reaped by their parent: no thread left
};

// Reads the process table under proc_root (kernel threads excluded). Processes that
// vanish mid-scan are skipped.
std::vector<ProcessInfo> read_process_table(const std::string& proc_root, bool with_cmdline);

class Discovery {
 public:
  // self_pid is never part of a workload.
  Discovery(const Config& config, int self_pid);

  // One scan of config.proc_root.
  TargetSet scan();

  // The grouping step alone, on a given table (tests call it with fixture tables).
  TargetSet group(const std::vector<ProcessInfo>& table);

  // Thread counts and process states per workload from the last scan.
  const std::map<std::string, WorkloadFacts>& facts() const { return facts_; }

  // Busy process trees the last auto-discovery scan left out (over max_workloads).
  int over_limit() const { return over_limit_; }

 private:
  struct Selector {
    TargetSelector config;
    std::optional<std::regex> regex;
    std::optional<ProcessKey> pinned;  // pid selectors: the process seen at the first scan
    bool pin_checked = false;
  };
  struct AutoTree {
    std::string name;
    double score = 0;  // CPU ticks, halved every scan (recent use weighs most)
  };

  TargetSet group_selected(const std::vector<ProcessInfo>& table);
  TargetSet group_auto(const std::vector<ProcessInfo>& table);
  // The trees auto mode follows after a scan, from the CPU ticks each tree used since
  // the last one (`tree_delta`, by root): known trees' scores decay, trees rank by
  // score and the first max_workloads_ stay (over_limit_ counts the rest); a tree keeps
  // the name it had, a new one is named after its root's comm (and pod).
  std::map<ProcessKey, AutoTree> choose_trees(
      const std::map<ProcessKey, std::uint64_t>& tree_delta,
      const std::map<ProcessKey, const ProcessInfo*>& roots);
  // The pod of a process, from proc_root/PID/cgroup, read once per process (roots
  // only: a few per scan) and cached until the process leaves the table.
  const std::optional<PodContainer>& pod_of(const ProcessKey& key);
  // The pod (and container) all of these roots share, if any.
  std::optional<PodContainer> common_pod(const std::vector<ProcessKey>& roots);

  std::string proc_root_;
  int self_pid_;
  int max_workloads_;
  std::vector<Selector> selectors_;
  std::map<ProcessKey, std::uint64_t> last_cpu_;
  std::map<ProcessKey, AutoTree> auto_trees_;  // by root
  std::map<ProcessKey, std::optional<PodContainer>> pods_;
  std::map<std::string, WorkloadFacts> facts_;
  int over_limit_ = 0;
};

}  // namespace boundwise
