// The procfs collector's window close: each thread's samples and its exact counters
// (schedstat run and queue time, context switches) become thread time by reason
// (split_thread_time in attribution.cpp); each process's stat, io and smaps_rollup
// become its CPU, faults, I/O bytes and memory; waits per endpoint become the window's
// dependencies. Counters become deltas by the rule of collectors/counter_delta.hpp.
#include <algorithm>
#include <optional>
#include <string>

#include "collectors/counter_delta.hpp"
#include "collectors/procfs/procfs_collector_internal.hpp"

namespace boundwise::procfs {

namespace {

// One counter of an optional baseline record (no record: no baseline).
template <typename Record, typename T>
std::optional<T> base_field(const std::optional<Record>& base, T Record::*field) {
  if (!base) return std::nullopt;
  return (*base).*field;
}

}  // namespace

void ProcfsCollector::contribute(SteadyTime now, EvidenceSet& evidence) {
  for (auto& [name, e] : evidence.workloads) e.sampled.emplace();
  for (auto& [key, p] : processes_) {
    if (p.alive) refresh_threads(p, now, true);
  }
  // Connection counts below come from tables read now, once per network namespace.
  net_tables_.expire();
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

void ProcfsCollector::account_process(ProcessState& p, SteadyTime now, EvidenceSet& evidence) {
  auto wit = evidence.workloads.find(p.workload);
  if (wit == evidence.workloads.end()) return;
  SampledEvidence& w = *wit->second.sampled;
  const double period = std::chrono::duration<double>(period_).count();
  int threads_alive = 0;
  bool ran = false;  // a thread of it ran in the window, started or ended
  for (auto it = p.threads.begin(); it != p.threads.end();) {
    ThreadState& t = it->second;
    close_interval(p, t);
    ran = account_thread(p, it->first, t, now, period, w) || ran;
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
    account_counters(p, ran, w);
  }
}

// true unless the thread existed the whole window and did not run in it.
bool ProcfsCollector::account_thread(ProcessState& p, int tid, ThreadState& t, SteadyTime now,
                                     double period, SampledEvidence& w) {
  ThreadWindow in;
  in.lifetime_seconds = std::chrono::duration<double>(now - t.base_time).count();
  in.running_samples = t.running_samples;
  in.blocked_samples = t.blocked_samples;
  in.reason_samples = t.reason_samples;
  in.period_seconds = period;
  std::optional<SchedStat> sched;
  if (t.alive) {
    if (auto text = read_task(p, tid, kTaskSchedstat)) {
      if (auto s = parse_schedstat(*text)) sched = *s;
    }
  }
  const bool idle = t.alive && t.full_window && not_run_since(t.base_sched, sched);
  if (sched) {
    // Exact run and run-queue time; without them (the thread exited, schedstat is
    // unreadable or went backwards) the samples are all we have.
    auto run_ns = counter_delta(sched->run_ns, base_field(t.base_sched, &SchedStat::run_ns));
    auto wait_ns = counter_delta(sched->wait_ns, base_field(t.base_sched, &SchedStat::wait_ns));
    // A thread that has not run has not been switched either.
    auto switches = idle && t.base_switches ? t.base_switches : thread_switches(p, tid);
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
  const ThreadSeconds out = split_thread_time(in);
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
  return !idle;
}

// CPU, faults and I/O bytes change only when the process runs: when none of its
// threads ran (`ran` false), stat and io are not read and their deltas are zero.
// Memory is read regardless: reclaim, swap and other processes' exits (PSS) change
// it while the process sleeps; connection states too (the peer closes).
void ProcfsCollector::account_counters(ProcessState& p, bool ran, SampledEvidence& w) {
  const int dir = dir_of(p.key);
  if (!ran && p.base_cpu_ticks && p.base_major_faults) {
    // Unchanged: nothing to add.
  } else if (auto text = read_at(dir, "stat")) {
    if (auto s = parse_stat(*text)) {
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
  if (!ran && p.base_io) {
    // Unchanged: nothing to add.
  } else if (auto text = read_at(dir, "io")) {
    if (auto io = parse_io(*text)) {
      auto read_bytes =
          counter_delta(io->read_bytes, base_field(p.base_io, &IoCounters::read_bytes));
      auto write_bytes =
          counter_delta(io->write_bytes, base_field(p.base_io, &IoCounters::write_bytes));
      if (read_bytes && write_bytes) {
        w.read_bytes += *read_bytes;
        w.write_bytes += *write_bytes;
      }
      p.base_io = *io;
    }
  }
  if (auto text = read_at(dir, "smaps_rollup")) {
    if (auto m = parse_smaps_rollup(*text)) {
      w.memory.rss_bytes += m->rss;
      w.memory.pss_bytes += m->pss;
      w.memory.uss_bytes += m->private_clean + m->private_dirty;
      w.memory.shared_bytes += m->shared_clean + m->shared_dirty;
      w.memory.processes_measured += 1;
    }
  }
  w.established_connections += p.sockets->established(round_, ran);
}

// Waits per remote endpoint, unnamed: assemble() names and caps them.
void ProcfsCollector::add_dependencies(const std::string& workload, SampledEvidence& w,
                                       const WorkloadAcc* acc) {
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

}  // namespace boundwise::procfs
