// The procfs collector's state and its class, shared by its three source files, each
// one stage of the collector's life: procfs_collector.cpp (targets, and the procfs
// files it keeps open), procfs_sampling.cpp (each sampling round: every thread's wait,
// attributed) and procfs_window.cpp (each window close: the samples and the exact
// counters become the window's SampledEvidence). Private to those files; the public
// entry point is make_procfs_collector() in procfs_collector.hpp.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "classifier/assemble/evidence.hpp"
#include "collectors/collector.hpp"
#include "collectors/process/gil_locator.hpp"
#include "collectors/procfs/attribution.hpp"
#include "collectors/procfs/fd_cache.hpp"
#include "collectors/procfs/parse.hpp"
#include "collectors/procfs/proc_io.hpp"
#include "collectors/procfs/process_sockets.hpp"
#include "collectors/procfs/unchanged.hpp"

namespace boundwise::procfs {

struct Switches {
  std::uint64_t voluntary = 0;
  std::uint64_t involuntary = 0;
  bool operator==(const Switches&) const = default;
};

// The files the collector reads through the FdCache (FileKey::kind).
enum FileKind : int { kProcessDir, kTaskStat, kTaskSyscall, kTaskSchedstat };

struct ThreadState {
  bool alive = true;
  std::uint64_t last_major_faults = 0;
  // Baselines at the start of this thread's part of the window.
  SteadyTime base_time{};
  bool full_window = false;  // existed at the window's start
  std::optional<SchedStat> base_sched;
  std::optional<Switches> base_switches;
  // Samples in this window.
  std::uint32_t running_samples = 0;
  std::uint32_t blocked_samples = 0;
  PerReason<std::uint32_t> reason_samples{};
  std::map<Endpoint, double> endpoint_samples;  // fractional for multiplexed waits
  // The wait in progress on one socket, for blocked-interval lengths.
  std::uint64_t interval_object = 0;
  std::optional<Endpoint> interval_endpoint;
  std::uint32_t interval_samples = 0;
  std::uint64_t interval_timeslices = 0;
  // The previous sample, for the unchanged-wait shortcut in sample_thread().
  std::optional<SchedStat> last_sched;
  std::optional<Attribution> last_attribution;  // empty unless blocked at the last sample
  std::uint32_t unchanged_reads = 0;            // consecutive reads that found it unchanged
  std::uint64_t next_read_round = 0;            // backoff: skip reads before this round
};

struct ProcessState {
  ProcessKey key;
  std::string workload;
  // /proc/PID is opened through the FdCache, its start time checked at each open;
  // lookups through a dead process's dir fail, so a reused PID is never read.
  bool alive = true;
  std::map<int, ThreadState> threads;
  // A thread was seen to run (or to go) since its threads were last counted: only then
  // can one have started, so only then is the list checked in a sampling round.
  bool ran_since_listing = true;
  std::optional<process::GilLocation> gil;
  std::unique_ptr<ProcessSockets> sockets;  // what its fds are
  // Process-level counter baselines.
  std::optional<std::uint64_t> base_cpu_ticks;
  std::optional<std::uint64_t> base_major_faults;
  std::optional<IoCounters> base_io;
};

struct WorkloadAcc {
  std::map<Endpoint, std::vector<double>> intervals;
  int busy_threads_max = 0;
  bool event_loop = false;
};

// errno as text, for error messages.
std::string errno_text();

class ProcfsCollector final : public Collector {
 public:
  explicit ProcfsCollector(const CollectorSettings& settings);

  std::string_view name() const override { return "procfs"; }
  std::chrono::nanoseconds period() const override { return period_; }
  Status start() override;
  void set_targets(const TargetSet& targets) override;
  Status sample(SteadyTime now) override;                           // procfs_sampling.cpp
  void contribute(SteadyTime now, EvidenceSet& evidence) override;  // procfs_window.cpp

 private:
  static constexpr std::uint64_t kRelistEvery = 4;

  // Targets and files (procfs_collector.cpp).
  void retire(ProcessState& p);
  std::optional<ProcessState> track(const ProcessKey& key, const std::string& workload);
  void refresh_threads(ProcessState& p, SteadyTime now, bool mid_window);
  std::optional<std::uint64_t> task_links(int dir) const;
  bool read_baselines(ProcessState& p, int tid, ThreadState& t);
  std::size_t kept_files_bound() const;
  int open_process_dir(const ProcessKey& key);
  int dir_of(const ProcessKey& key);
  std::optional<std::string_view> read_task(ProcessState& p, int tid, FileKind kind);
  void forget_thread(const ProcessState& p, int tid);
  void forget_process(const ProcessState& p);
  std::optional<Switches> thread_switches(ProcessState& p, int tid);

  // Sampling (procfs_sampling.cpp).
  std::uint32_t max_backoff_rounds() const;
  void sample_thread(ProcessState& p, int tid, ThreadState& t, int& busy);
  void record_blocked(ProcessState& p, ThreadState& t, Attribution a, std::uint64_t slices);
  void settle_futex_waits();
  void narrow_poll(ProcessState& p, const SyscallState& sys, Attribution& a);
  void track_interval(ProcessState& p, ThreadState& t, const Attribution& a, std::uint64_t slices);
  void close_interval(ProcessState& p, ThreadState& t);

  // The window close (procfs_window.cpp).
  void account_process(ProcessState& p, SteadyTime now, EvidenceSet& evidence);
  bool account_thread(ProcessState& p, int tid, ThreadState& t, SteadyTime now, double period,
                      SampledEvidence& w);
  void account_counters(ProcessState& p, bool ran, SampledEvidence& w);
  void add_dependencies(const std::string& workload, SampledEvidence& w, const WorkloadAcc* acc);

  CollectorSettings settings_;
  std::chrono::nanoseconds period_;
  double ticks_per_second_;
  std::shared_ptr<spdlog::logger> log_;
  Fd root_;
  std::unique_ptr<FdCache> files_;  // created in start()
  NetTables net_tables_;            // shared by the processes' ProcessSockets (declared first)
  std::map<ProcessKey, ProcessState> processes_;
  std::vector<ProcessState> retired_;
  std::map<std::string, WorkloadAcc> acc_;
  std::map<std::string, std::map<Endpoint, double>> dependency_seconds_;
  std::uint64_t round_ = 0;
  std::uint64_t rounds_in_window_ = 0;
  std::string buf_;
  bool syscall_warned_ = false;
  std::vector<std::pair<ThreadState*, std::uint64_t>> futex_waiters_;
};

}  // namespace boundwise::procfs
