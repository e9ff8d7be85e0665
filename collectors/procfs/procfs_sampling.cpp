// Each sampling round of the procfs collector: every target thread's state, and for a
// blocked thread its wait attributed to a reason (attribution.cpp) and, for a socket,
// an endpoint; consecutive samples of one wait on one socket form a blocked interval.
// A thread long blocked in one unchanged wait is read less often (backoff).
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <string>

#include "collectors/procfs/procfs_collector_internal.hpp"

namespace boundwise::procfs {

Status ProcfsCollector::sample(SteadyTime now) {
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
    if (round_ % kRelistEvery == 0 && p.ran_since_listing) refresh_threads(p, now, true);
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

std::uint32_t ProcfsCollector::max_backoff_rounds() const {
  return static_cast<std::uint32_t>(std::max(1, settings_.sample_rate_hz));
}

// One sample of one thread. schedstat is read first: a thread that was blocked at the
// previous sample and has not run since (run time, queue time and timeslice count all
// unchanged) is still in the same wait, so its previous attribution is reused without
// reading stat or syscall. Parked and idle pool threads — most threads of most
// services — then cost one pread.
void ProcfsCollector::sample_thread(ProcessState& p, int tid, ThreadState& t, int& busy) {
  std::optional<SchedStat> sched;
  if (auto text = read_task(p, tid, kTaskSchedstat)) {
    if (auto parsed = parse_schedstat(*text)) sched = *parsed;
  }
  const bool unchanged = t.last_attribution && not_run_since(t.last_sched, sched);
  if (sched) t.last_sched = sched;
  if (!unchanged) p.ran_since_listing = true;
  std::uint64_t slices = sched ? sched->timeslices : 0;
  if (unchanged) {
    // The longer a thread stays in one wait without running, the less often it is
    // read: after n unchanged reads, the next is n rounds later (at most one second).
    // The skipped rounds count as samples of the same wait; a wake-up is seen at the
    // next read, and exact run and queue time come from schedstat at the window
    // close regardless.
    if (t.unchanged_reads == 0) {
      // Its stat and syscall are not read again until it runs: their kept files would
      // only hold kernel memory (a seq_file page each), so they are closed now and
      // reopened when it has run.
      files_->forget({p.key.pid, tid, kTaskStat, p.key.start_time_ticks});
      files_->forget({p.key.pid, tid, kTaskSyscall, p.key.start_time_ticks});
    }
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
  auto stat = parse_stat(*text);
  if (!stat) return;
  bool fault_rose = stat->major_faults > t.last_major_faults;
  t.last_major_faults = stat->major_faults;
  if (stat->state == 'Z' || stat->state == 'X') {
    t.alive = false;
    return;
  }
  SyscallState sys;
  if (stat->state != 'R') {
    if (auto sys_text = read_task(p, tid, kTaskSyscall)) {
      if (auto parsed = parse_syscall(*sys_text)) sys = *parsed;
    }
  }
  if (stat->state == 'R' || sys.running) {  // running (or woke between the two reads)
    ++busy;
    ++t.running_samples;
    t.last_attribution.reset();
    close_interval(p, t);
    return;
  }
  Attribution a = attribute(stat->state, sys, fault_rose, p.gil,
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

void ProcfsCollector::record_blocked(ProcessState& p, ThreadState& t, Attribution a,
                                     std::uint64_t slices) {
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
void ProcfsCollector::settle_futex_waits() {
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

void ProcfsCollector::narrow_poll(ProcessState& p, const SyscallState& sys, Attribution& a) {
  auto only = p.sockets->poll_target(sys, round_);
  if (!only) return;
  SyscallState as_recv;
  as_recv.number = 45;  // recvfrom
  Attribution narrowed = attribute('S', as_recv, false, std::nullopt, [&](int) { return *only; });
  narrowed.event_loop = a.event_loop;
  a = narrowed;
}

// Consecutive samples of one wait on one socket form an interval; a wake-up in
// between (the schedstat timeslice count moved) starts a new one.
void ProcfsCollector::track_interval(ProcessState& p, ThreadState& t, const Attribution& a,
                                     std::uint64_t slices) {
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

void ProcfsCollector::close_interval(ProcessState& p, ThreadState& t) {
  if (t.interval_samples > 0 && t.interval_endpoint) {
    double seconds =
        static_cast<double>(t.interval_samples) * std::chrono::duration<double>(period_).count();
    acc_[p.workload].intervals[*t.interval_endpoint].push_back(seconds);
  }
  t.interval_object = 0;
  t.interval_endpoint.reset();
  t.interval_samples = 0;
}

}  // namespace boundwise::procfs
