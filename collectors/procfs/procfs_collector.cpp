// The procfs collector. Per sample: one pread of task/TID/schedstat per thread, plus
// stat and syscall for threads whose wait changed, through fds kept open in a bounded
// LRU (fd_cache.hpp; files beyond it are opened at each read). Per window: schedstat,
// status, io and smaps_rollup for exact counters.
// Attribution rules live in attribution.cpp; docs/COLLECTORS.md explains the method.
#include "collectors/procfs/procfs_collector.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "collectors/counter_delta.hpp"
#include "collectors/process/process_images.hpp"
#include "collectors/procfs/attribution.hpp"
#include "collectors/procfs/fd_cache.hpp"
#include "collectors/procfs/parse.hpp"
#include "collectors/procfs/proc_io.hpp"
#include "collectors/procfs/process_sockets.hpp"

namespace boundwise {

namespace {

using procfs::Attribution;
using procfs::Fd;
using procfs::FdInfo;
using procfs::list_numeric;
using procfs::pread_text;
using procfs::read_at;

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
  std::optional<procfs::SchedStat> base_sched;
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
  std::optional<procfs::SchedStat> last_sched;
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
  std::optional<process::GilLocation> gil;
  std::unique_ptr<procfs::ProcessSockets> sockets;  // what its fds are
  // Process-level counter baselines.
  std::optional<std::uint64_t> base_cpu_ticks;
  std::optional<std::uint64_t> base_major_faults;
  std::optional<procfs::IoCounters> base_io;
};

struct WorkloadAcc {
  std::map<Endpoint, std::vector<double>> intervals;
  int busy_threads_max = 0;
  bool event_loop = false;
};

std::string errno_text() { return std::strerror(errno); }

// One counter of an optional baseline record (no record: no baseline).
template <typename Record, typename T>
std::optional<T> base_field(const std::optional<Record>& base, T Record::*field) {
  if (!base) return std::nullopt;
  return (*base).*field;
}

class ProcfsCollector final : public Collector {
 public:
  explicit ProcfsCollector(const CollectorSettings& settings)
      : settings_(process::with_process_images(settings)),
        period_(std::chrono::nanoseconds(1'000'000'000LL / std::max(1, settings.sample_rate_hz))),
        ticks_per_second_(static_cast<double>(::sysconf(_SC_CLK_TCK))),
        log_(spdlog::get("procfs") ? spdlog::get("procfs") : spdlog::default_logger()) {}

  std::string_view name() const override { return "procfs"; }
  std::chrono::nanoseconds period() const override { return period_; }

  Status start() override {
    root_ = Fd(::open(settings_.proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root_.ok()) return Error{"open " + settings_.proc_root + ": " + errno_text()};
    struct stat st {};
    if (::fstatat(root_.get(), "self/stat", &st, 0) != 0) {
      return Error{settings_.proc_root + " does not look like procfs (no self/stat)"};
    }
    files_ = std::make_unique<procfs::FdCache>(kept_files_bound());
    log_->info("keeping at most {} procfs files open", files_->capacity());
    return Ok{};
  }

  void set_targets(const TargetSet& targets) override {
    settings_.process_images->retain(targets);
    std::map<ProcessKey, std::string> wanted;
    for (const auto& w : targets.workloads) {
      for (const auto& key : w.processes) wanted.emplace(key, w.name);
    }
    for (auto it = processes_.begin(); it != processes_.end();) {
      auto found = wanted.find(it->first);
      if (found == wanted.end()) {
        retire(it->second);
        it = processes_.erase(it);
      } else {
        it->second.workload = found->second;
        ++it;
      }
    }
    for (const auto& [key, workload] : wanted) {
      if (processes_.count(key) != 0) continue;
      ProcessState p;
      p.key = key;
      p.workload = workload;
      int dir = open_process_dir(key);
      if (dir < 0) continue;  // already gone, or its PID reused
      p.sockets =
          std::make_unique<procfs::ProcessSockets>(key.pid, [this, k = key] { return dir_of(k); });
      auto stat_text = read_at(dir, "stat");
      auto stat = stat_text ? procfs::parse_stat(*stat_text) : Result<procfs::TaskStat>(Error{""});
      if (!stat || stat->start_time_ticks != key.start_time_ticks) {
        ::close(dir);
        continue;
      }
      p.base_cpu_ticks = stat->utime_ticks + stat->stime_ticks;
      p.base_major_faults = stat->major_faults;
      if (auto io = read_at(dir, "io")) {
        if (auto parsed = procfs::parse_io(*io)) p.base_io = *parsed;
      }
      ::close(dir);
      auto gil = settings_.process_images->gil(key);
      if (gil) {
        p.gil = *gil;
      } else {
        log_->debug("pid {}: GIL not located: {}", key.pid, gil.error().message);
      }
      // The thread baselines start now, after the GIL lookup: its ELF reads must not count
      // as this process's off-CPU time.
      refresh_threads(p, std::chrono::steady_clock::now(), false);
      processes_.emplace(key, std::move(p));
    }
  }

  Status sample(SteadyTime now) override {
    // The one round-level failure: proc_root itself is gone (or was never opened).
    // One fstatat per round; vanished targets are skipped below, never an error.
    struct stat st {};
    if (!root_.ok() || ::fstatat(root_.get(), "self", &st, 0) != 0) {
      return Error{"cannot read " + settings_.proc_root + "/self: " + errno_text()};
    }
    ++round_;
    std::map<std::string, int> busy_now;
    for (auto& [key, p] : processes_) {
      if (!p.alive) continue;
      if (round_ % kRelistEvery == 0) refresh_threads(p, now, true);
      if (!p.alive) continue;
      int& busy = busy_now[p.workload];
      futex_waiters_.clear();
      for (auto& [tid, t] : p.threads) {
        if (!t.alive) continue;
        if (round_ < t.next_read_round && t.last_attribution && t.last_sched) {
          // Backed off: a thread long unchanged is read less often (below).
          record_blocked(p, t, *t.last_attribution, t.last_sched->timeslices);
          continue;
        }
        sample_thread(p, tid, t, busy);
      }
      settle_futex_waits();
    }
    for (const auto& [workload, busy] : busy_now) {
      auto& acc = acc_[workload];
      acc.busy_threads_max = std::max(acc.busy_threads_max, busy);
    }
    ++rounds_in_window_;
    return Ok{};
  }

  void contribute(SteadyTime now, EvidenceSet& evidence) override {
    for (auto& [name, e] : evidence.workloads) e.sampled.emplace();
    for (auto& [key, p] : processes_) {
      if (p.alive) refresh_threads(p, now, true);
    }
    for (auto& [key, p] : processes_) account_process(p, now, evidence);
    for (auto& p : retired_) {
      account_process(p, now, evidence);
      forget_process(p);
    }
    retired_.clear();
    for (auto& [name, e] : evidence.workloads) {
      SampledEvidence& w = *e.sampled;
      auto acc = acc_.find(name);
      w.sample_rounds = rounds_in_window_;
      if (acc != acc_.end()) {
        w.busy_threads_max = std::max(w.busy_threads_max, acc->second.busy_threads_max);
        w.event_loop = w.event_loop || acc->second.event_loop;
      }
      add_dependencies(name, w, acc != acc_.end() ? &acc->second : nullptr);
    }
    acc_.clear();
    dependency_seconds_.clear();
    rounds_in_window_ = 0;
    for (auto it = processes_.begin(); it != processes_.end();) {
      if (it->second.alive) {
        ++it;
      } else {
        forget_process(it->second);
        it = processes_.erase(it);
      }
    }
  }

 private:
  static constexpr std::uint64_t kRelistEvery = 4;

  std::uint32_t max_backoff_rounds() const {
    return static_cast<std::uint32_t>(std::max(1, settings_.sample_rate_hz));
  }

  void retire(ProcessState& p) {
    p.alive = false;
    retired_.push_back(std::move(p));
  }

  // Opens fds for threads not yet known and marks vanished ones. Also detects a
  // process that has exited (its task dir is gone).
  void refresh_threads(ProcessState& p, SteadyTime now, bool mid_window) {
    auto tids = list_numeric(dir_of(p.key), "task");
    if (tids.empty()) {
      p.alive = false;
      for (auto& [tid, t] : p.threads) t.alive = false;
      return;
    }
    std::set<int> present(tids.begin(), tids.end());
    for (auto& [tid, t] : p.threads) {
      if (present.count(tid) == 0) t.alive = false;
    }
    for (int tid : tids) {
      if (p.threads.count(tid) != 0) continue;
      ThreadState t;
      t.base_time = now;
      t.full_window = !mid_window;
      if (!read_baselines(p, tid, t)) continue;  // already gone
      p.threads.emplace(tid, std::move(t));
    }
  }

  // false when the thread's stat cannot be read (it has exited).
  bool read_baselines(ProcessState& p, int tid, ThreadState& t) {
    auto stat = read_task(p, tid, kTaskStat);
    if (!stat) return false;
    if (auto s = procfs::parse_stat(*stat)) t.last_major_faults = s->major_faults;
    if (auto text = read_task(p, tid, kTaskSchedstat)) {
      if (auto s = procfs::parse_schedstat(*text)) t.base_sched = *s;
    }
    t.base_switches = thread_switches(p, tid);
    return true;
  }

  // The upper bound of kept-open files: max_open_files when configured, else half of
  // the open-files limit (the rest is for the HTTP server, the other collectors and
  // the files this collector opens for one read).
  std::size_t kept_files_bound() const {
    rlimit limit{};
    std::uint64_t soft = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 1024;
    std::uint64_t automatic = std::max<std::uint64_t>(16, soft / 2);
    if (settings_.max_open_files == 0) return automatic;
    if (static_cast<std::uint64_t>(settings_.max_open_files) > automatic) {
      log_->warn(
          "max_open_files {} is more than half the open-files limit ({}); keeping {} "
          "(hint: raise LimitNOFILE)",
          settings_.max_open_files, soft, automatic);
      return automatic;
    }
    return static_cast<std::size_t>(settings_.max_open_files);
  }

  // Opens /proc/PID for `key` and checks that it is still that process (start time);
  // -1 when it is gone or its PID now belongs to another process.
  int open_process_dir(const ProcessKey& key) {
    int fd =
        ::openat(root_.get(), std::to_string(key.pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    auto text = read_at(fd, "stat");
    auto stat = text ? procfs::parse_stat(*text) : Result<procfs::TaskStat>(Error{""});
    if (!stat || stat->start_time_ticks != key.start_time_ticks) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // /proc/PID of a target, kept open while the cache has room.
  int dir_of(const ProcessKey& key) {
    return files_->get({key.pid, 0, kProcessDir}, [&] { return open_process_dir(key); });
  }

  // One of a thread's task files, read whole into buf_; nullopt when it cannot be
  // opened or read (the thread has exited, or the read was refused).
  std::optional<std::string_view> read_task(ProcessState& p, int tid, FileKind kind) {
    static constexpr const char* kNames[] = {"", "stat", "syscall", "schedstat"};
    int fd = files_->get({p.key.pid, tid, kind}, [&] {
      int dir = dir_of(p.key);
      if (dir < 0) return -1;
      std::string path = "task/" + std::to_string(tid) + "/" + kNames[kind];
      int opened = ::openat(dir, path.c_str(), O_RDONLY | O_CLOEXEC);
      if (opened < 0 && kind == kTaskSyscall && errno == EACCES && !syscall_warned_) {
        syscall_warned_ = true;
        log_->warn(
            "cannot open {}/{}/{}: {}; blocked threads are attributed from their state "
            "only (hint: run as root or grant CAP_SYS_PTRACE)",
            settings_.proc_root, p.key.pid, path, errno_text());
      }
      return opened;
    });
    return pread_text(fd, buf_);
  }

  void forget_thread(const ProcessState& p, int tid) {
    for (FileKind kind : {kTaskStat, kTaskSyscall, kTaskSchedstat}) {
      files_->forget({p.key.pid, tid, kind});
    }
  }

  void forget_process(const ProcessState& p) {
    for (const auto& [tid, t] : p.threads) forget_thread(p, tid);
    files_->forget({p.key.pid, 0, kProcessDir});
  }

  std::optional<Switches> thread_switches(ProcessState& p, int tid) {
    auto text = read_at(dir_of(p.key), ("task/" + std::to_string(tid) + "/status").c_str());
    if (!text) return std::nullopt;
    auto s = procfs::parse_status(*text);
    if (!s) return std::nullopt;
    return Switches{s->voluntary_ctxt_switches, s->nonvoluntary_ctxt_switches};
  }

  // One sample of one thread. schedstat is read first: a thread that was blocked at the
  // previous sample and has not run since (run time, queue time and timeslice count all
  // unchanged) is still in the same wait, so its previous attribution is reused without
  // reading stat or syscall. Parked and idle pool threads — most threads of most
  // services — then cost one pread.
  void sample_thread(ProcessState& p, int tid, ThreadState& t, int& busy) {
    std::optional<procfs::SchedStat> sched;
    if (auto text = read_task(p, tid, kTaskSchedstat)) {
      if (auto parsed = procfs::parse_schedstat(*text)) sched = *parsed;
    }
    bool unchanged =
        sched && t.last_sched && t.last_attribution && sched->run_ns == t.last_sched->run_ns &&
        sched->wait_ns == t.last_sched->wait_ns && sched->timeslices == t.last_sched->timeslices;
    if (sched) t.last_sched = sched;
    std::uint64_t slices = sched ? sched->timeslices : 0;
    if (unchanged) {
      // The longer a thread stays in one wait without running, the less often it is
      // read: after n unchanged reads, the next is n rounds later (at most one second).
      // The skipped rounds count as samples of the same wait; a wake-up is seen at the
      // next read, and exact run and queue time come from schedstat at the window
      // close regardless.
      t.unchanged_reads = std::min<std::uint32_t>(t.unchanged_reads + 1, max_backoff_rounds());
      t.next_read_round = round_ + t.unchanged_reads;
      record_blocked(p, t, *t.last_attribution, slices);
      return;
    }
    t.unchanged_reads = 0;
    t.next_read_round = 0;
    auto text = read_task(p, tid, kTaskStat);
    if (!text) {
      t.alive = false;
      return;
    }
    auto stat = procfs::parse_stat(*text);
    if (!stat) return;
    bool fault_rose = stat->major_faults > t.last_major_faults;
    t.last_major_faults = stat->major_faults;
    if (stat->state == 'Z' || stat->state == 'X') {
      t.alive = false;
      return;
    }
    procfs::SyscallState sys;
    if (stat->state != 'R') {
      if (auto sys_text = read_task(p, tid, kTaskSyscall)) {
        if (auto parsed = procfs::parse_syscall(*sys_text)) sys = *parsed;
      }
    }
    if (stat->state == 'R' || sys.running) {  // running (or woke between the two reads)
      ++busy;
      ++t.running_samples;
      t.last_attribution.reset();
      close_interval(p, t);
      return;
    }
    Attribution a = procfs::attribute(stat->state, sys, fault_rose, p.gil,
                                      [&](int fd) { return p.sockets->resolve(fd, round_); });
    if (a.multiplexed && !a.event_loop) narrow_poll(p, sys, a);
    // Paging is a per-sample fact (the fault count rose), not a property of the wait.
    if (a.reason == Reason::paging) {
      t.last_attribution.reset();
    } else {
      t.last_attribution = a;
    }
    record_blocked(p, t, a, slices);
  }

  void record_blocked(ProcessState& p, ThreadState& t, Attribution a, std::uint64_t slices) {
    ++t.blocked_samples;
    if (a.event_loop) acc_[p.workload].event_loop = true;
    if (a.multiplexed) {
      const auto& outbound = p.sockets->outbound(round_, max_backoff_rounds());
      if (!outbound.empty()) {
        a.reason = Reason::net;
        double each = 1.0 / static_cast<double>(outbound.size());
        for (const auto& e : outbound) t.endpoint_samples[e] += each;
      }
    } else if (a.reason == Reason::net && a.endpoint) {
      t.endpoint_samples[*a.endpoint] += 1.0;
    }
    if (a.reason == Reason::lock && a.futex_address != 0) {
      futex_waiters_.emplace_back(&t, a.futex_address);  // lock or idle: see settle_futex_waits
    } else {
      ++t.reason_samples[index_of(a.reason)];
    }
    track_interval(p, t, a, slices);
  }

  // Futex waits of one process in one round: two or more threads on the same word form
  // a queue (lock contention); a lone waiter waits for a signal (idle).
  void settle_futex_waits() {
    std::sort(futex_waiters_.begin(), futex_waiters_.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    for (std::size_t i = 0; i < futex_waiters_.size();) {
      std::size_t j = i;
      while (j < futex_waiters_.size() && futex_waiters_[j].second == futex_waiters_[i].second) ++j;
      Reason r = j - i >= 2 ? Reason::lock : Reason::idle;
      for (std::size_t k = i; k < j; ++k) ++futex_waiters_[k].first->reason_samples[index_of(r)];
      i = j;
    }
    futex_waiters_.clear();
  }

  void narrow_poll(ProcessState& p, const procfs::SyscallState& sys, Attribution& a) {
    auto only = p.sockets->poll_target(sys, round_);
    if (!only) return;
    procfs::SyscallState as_recv;
    as_recv.number = 45;  // recvfrom
    Attribution narrowed =
        procfs::attribute('S', as_recv, false, std::nullopt, [&](int) { return *only; });
    narrowed.event_loop = a.event_loop;
    a = narrowed;
  }

  // Consecutive samples of one wait on one socket form an interval; a wake-up in
  // between (the schedstat timeslice count moved) starts a new one.
  void track_interval(ProcessState& p, ThreadState& t, const Attribution& a, std::uint64_t slices) {
    if (a.wait_object == 0 || !a.endpoint) {
      close_interval(p, t);
      return;
    }
    if (t.interval_object == a.wait_object && t.interval_timeslices == slices) {
      ++t.interval_samples;
      return;
    }
    close_interval(p, t);
    t.interval_object = a.wait_object;
    t.interval_endpoint = a.endpoint;
    t.interval_samples = 1;
    t.interval_timeslices = slices;
  }

  void close_interval(ProcessState& p, ThreadState& t) {
    if (t.interval_samples > 0 && t.interval_endpoint) {
      double seconds =
          static_cast<double>(t.interval_samples) * std::chrono::duration<double>(period_).count();
      acc_[p.workload].intervals[*t.interval_endpoint].push_back(seconds);
    }
    t.interval_object = 0;
    t.interval_endpoint.reset();
    t.interval_samples = 0;
  }

  void account_process(ProcessState& p, SteadyTime now, EvidenceSet& evidence) {
    auto wit = evidence.workloads.find(p.workload);
    if (wit == evidence.workloads.end()) return;
    SampledEvidence& w = *wit->second.sampled;
    const double period = std::chrono::duration<double>(period_).count();
    int threads_alive = 0;
    for (auto it = p.threads.begin(); it != p.threads.end();) {
      ThreadState& t = it->second;
      close_interval(p, t);
      account_thread(p, it->first, t, now, period, w);
      if (t.alive) {
        ++threads_alive;
        ++it;
      } else {
        forget_thread(p, it->first);
        it = p.threads.erase(it);
      }
    }
    if (p.alive) {
      w.threads += threads_alive;
      w.processes += 1;
      w.pids.insert(std::lower_bound(w.pids.begin(), w.pids.end(), p.key.pid), p.key.pid);
      account_counters(p, w);
    }
  }

  void account_thread(ProcessState& p, int tid, ThreadState& t, SteadyTime now, double period,
                      SampledEvidence& w) {
    procfs::ThreadWindow in;
    in.lifetime_seconds = std::chrono::duration<double>(now - t.base_time).count();
    in.running_samples = t.running_samples;
    in.blocked_samples = t.blocked_samples;
    in.reason_samples = t.reason_samples;
    in.period_seconds = period;
    std::optional<procfs::SchedStat> sched;
    if (t.alive) {
      if (auto text = read_task(p, tid, kTaskSchedstat)) {
        if (auto s = procfs::parse_schedstat(*text)) sched = *s;
      }
    }
    if (sched) {
      // Exact run and run-queue time; without them (the thread exited, schedstat is
      // unreadable or went backwards) the samples are all we have.
      auto run_ns =
          counter_delta(sched->run_ns, base_field(t.base_sched, &procfs::SchedStat::run_ns));
      auto wait_ns =
          counter_delta(sched->wait_ns, base_field(t.base_sched, &procfs::SchedStat::wait_ns));
      auto switches = thread_switches(p, tid);
      if (run_ns && wait_ns) {
        in.run_seconds = static_cast<double>(*run_ns) / 1e9;
        in.queue_seconds = static_cast<double>(*wait_ns) / 1e9;
        w.runqueue_seconds += *in.queue_seconds;
        in.parked = t.full_window && t.running_samples == 0 && t.blocked_samples > 0 && switches &&
                    t.base_switches && *switches == *t.base_switches;
        if (in.parked) ++w.parked_threads;
        if (switches) {
          auto voluntary =
              counter_delta(switches->voluntary, base_field(t.base_switches, &Switches::voluntary));
          auto involuntary = counter_delta(switches->involuntary,
                                           base_field(t.base_switches, &Switches::involuntary));
          if (voluntary && involuntary) {
            w.voluntary_switches += *voluntary;
            w.involuntary_switches += *involuntary;
          }
        }
      }
      t.base_sched = sched;
      t.base_switches = switches;
    }
    const procfs::ThreadSeconds out = procfs::split_thread_time(in);
    for (std::size_t i = 0; i < kReasonCount; ++i) w.thread_seconds[i] += out.seconds[i];
    if (t.blocked_samples > 0 && out.off_cpu > 0) {
      auto& deps = dependency_seconds_[p.workload];
      for (const auto& [endpoint, n] : t.endpoint_samples) {
        deps[endpoint] += out.off_cpu * n / t.blocked_samples;
      }
    }
    t.running_samples = 0;
    t.blocked_samples = 0;
    t.reason_samples = {};
    t.endpoint_samples.clear();
    t.base_time = now;
    t.full_window = true;
  }

  void account_counters(ProcessState& p, SampledEvidence& w) {
    const int dir = dir_of(p.key);
    if (auto text = read_at(dir, "stat")) {
      if (auto s = procfs::parse_stat(*text)) {
        const std::uint64_t cpu = s->utime_ticks + s->stime_ticks;
        auto cpu_ticks = counter_delta(cpu, p.base_cpu_ticks);
        auto major_faults = counter_delta(s->major_faults, p.base_major_faults);
        if (cpu_ticks && major_faults) {  // one file: all or none
          w.cpu_seconds += static_cast<double>(*cpu_ticks) / ticks_per_second_;
          w.major_faults += *major_faults;
        }
        p.base_cpu_ticks = cpu;
        p.base_major_faults = s->major_faults;
      }
    }
    if (auto text = read_at(dir, "io")) {
      if (auto io = procfs::parse_io(*text)) {
        auto read_bytes =
            counter_delta(io->read_bytes, base_field(p.base_io, &procfs::IoCounters::read_bytes));
        auto write_bytes =
            counter_delta(io->write_bytes, base_field(p.base_io, &procfs::IoCounters::write_bytes));
        if (read_bytes && write_bytes) {
          w.read_bytes += *read_bytes;
          w.write_bytes += *write_bytes;
        }
        p.base_io = *io;
      }
    }
    if (auto text = read_at(dir, "smaps_rollup")) {
      if (auto m = procfs::parse_smaps_rollup(*text)) {
        w.memory.rss_bytes += m->rss;
        w.memory.pss_bytes += m->pss;
        w.memory.uss_bytes += m->private_clean + m->private_dirty;
        w.memory.shared_bytes += m->shared_clean + m->shared_dirty;
        w.memory.processes_measured += 1;
      }
    }
    w.established_connections += p.sockets->established(round_);
  }

  // Waits per remote endpoint, unnamed: assemble() names and caps them.
  void add_dependencies(const std::string& workload, SampledEvidence& w, const WorkloadAcc* acc) {
    if (auto deps = dependency_seconds_.find(workload); deps != dependency_seconds_.end()) {
      for (const auto& [endpoint, seconds] : deps->second) {
        w.dependencies[endpoint].wait_seconds += seconds;
      }
    }
    if (acc == nullptr) return;
    for (const auto& [endpoint, intervals] : acc->intervals) {
      auto& d = w.dependencies[endpoint].blocked_intervals_seconds;
      d.insert(d.end(), intervals.begin(), intervals.end());
    }
  }

  CollectorSettings settings_;
  std::chrono::nanoseconds period_;
  double ticks_per_second_;
  std::shared_ptr<spdlog::logger> log_;
  Fd root_;
  std::unique_ptr<procfs::FdCache> files_;  // created in start()
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

}  // namespace

std::unique_ptr<Collector> make_procfs_collector(const CollectorSettings& settings) {
  return std::make_unique<ProcfsCollector>(settings);
}

}  // namespace boundwise
