// The pipeline stage: the collectors, and targets + their evidence → an immutable
// Snapshot per window (collect → assemble → classify and recommend). It owns no timer
// and no thread: the agent's scheduler calls it on the collection thread (daemon/
// agent.cpp), and the publisher hands what it produced to the HTTP thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "classifier/assemble/assemble.hpp"
#include "classifier/profile.hpp"
#include "collectors/collector.hpp"
#include "config/config.hpp"
#include "daemon/discovery.hpp"
#include "daemon/snapshot.hpp"
#include "daemon/stage_clock.hpp"

namespace boundwise {

class Pipeline {
 public:
  using Clock = std::chrono::steady_clock;

  struct Slot {
    std::unique_ptr<Collector> collector;
    bool started = false;    // start() succeeded: it samples and contributes
    CollectorStatus status;  // as published: down also when every sample of the window failed
    std::uint64_t failures = 0;
    // This window's sampling rounds and how many failed (the last failure's reason in
    // status.error).
    std::uint64_t window_rounds = 0;
    std::uint64_t window_failures = 0;
    LatencyHistogram window_lateness;  // how late this window's rounds started
  };

  // What closing a window produced.
  struct Closed {
    std::shared_ptr<Snapshot> snapshot;  // complete but for stage_cpu_seconds
    EvidenceSet evidence;                // what assemble read (for the recorder)
    AssembleRules rules;
    double folded_dependencies = 0;  // dependencies summed into "other" by the caps
  };

  // Builds and starts every collector the configuration enables (collectors/
  // registry.hpp), logging which are up, down and disabled. `stage_cpu` is the
  // agent's account, charged with "sampling", "assembly" and "classify".
  Pipeline(const Config& config, StageCpu& stage_cpu);

  std::vector<Slot>& slots() { return slots_; }

  // A discovery scan's result: logs workloads that appeared or went, and tells the
  // collectors that are up.
  void set_targets(TargetSet targets, std::map<std::string, WorkloadFacts> facts,
                   Clock::time_point now);

  // One sampling round of a collector that started, `lateness_seconds` after it was due.
  void sample(Slot& slot, double lateness_seconds = 0);

  // At a window close: a started collector whose every sampling round of the window
  // failed is published down, with the last failure as the reason; up again from the
  // first window with a success. A collector with a period gets its set and achieved
  // rounds per second, `behind` (CollectorStatus), logged when it changes, and its
  // rounds' lateness. Then counts the next window from zero.
  static void update_status(Slot& slot, double duration);

  // Closes the window [window start, now): every collector's evidence, assembled,
  // each workload judged. `duration` is the window's length in seconds; the snapshot
  // is `base` (host, time, window number) with the workloads, node and collectors.
  Closed close(Clock::time_point now, double duration, const Snapshot& base);

 private:
  EvidenceSet collect_evidence(Clock::time_point now, double duration);
  std::shared_ptr<Snapshot> judge(std::map<std::string, WorkloadWindow>& windows,
                                  const NodeWindow& node, Clock::time_point now, double duration,
                                  const Snapshot& base);
  WorkloadReport make_report(const TargetWorkload& w, const WorkloadWindow& win,
                             Clock::time_point now, double duration, double end_seconds);
  // Publishes the window's verdict or, while a class change is pending, the last
  // published one; logs changes once.
  void stabilise(const std::string& workload, WorkloadReport& out, double end_seconds,
                 double duration);
  // Adds the window's stacks to each workload's rolling profile; forgets workloads
  // that are no longer targets.
  void keep_profiles(EvidenceSet& evidence);

  const Config& config_;
  StageCpu& stage_cpu_;
  std::vector<Slot> slots_;
  TargetSet targets_;
  std::map<std::string, WorkloadFacts> facts_;  // per workload, as of the last scan
  std::map<std::string, Clock::time_point> first_seen_;
  // Per workload: the class in effect and its history, and the last published verdict.
  struct Published {
    VerdictStability stability;
    std::optional<Verdict> verdict;
    std::optional<Recommendation> recommendation;
  };
  std::map<std::string, Published> published_;
  std::map<std::string, WorkloadState> last_state_;  // to log changes of state only
  // Each workload's on-CPU stacks of the last windows (WorkloadReport::cpu_profile),
  // and how many windows those are (the stacks collector's profile_seconds).
  std::map<std::string, RollingProfile> profiles_;
  std::map<std::string, RollingProfile> offcpu_profiles_;  // the same, off-CPU stacks
  std::map<std::string, RollingProfile> gil_profiles_;     // the same, GIL holders' stacks
  std::size_t profile_windows_ = 1;
  // Configured targets without a live process, since when (see WorkloadReport).
  std::map<std::string, std::chrono::system_clock::time_point> absent_since_;
};

}  // namespace boundwise
