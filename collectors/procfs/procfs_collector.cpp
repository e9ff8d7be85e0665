// The procfs collector's targets and the procfs files it reads them through: opening
// /proc/PID checked against the process's start time, a thread's task files through a
// bounded FdCache, and the baselines of a new process or thread. Per sample: one pread
// of task/TID/schedstat per thread, plus stat and syscall for threads whose wait
// changed (procfs_sampling.cpp); per window: schedstat, status, io and smaps_rollup for
// exact counters (procfs_window.cpp). Attribution rules live in attribution.cpp;
// docs/COLLECTORS.md explains the method.
#include "collectors/procfs/procfs_collector.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "collectors/cgroup/memory_limit.hpp"
#include "collectors/process/process_images.hpp"
#include "collectors/procfs/procfs_collector_internal.hpp"

namespace boundwise {

std::unique_ptr<Collector> make_procfs_collector(const CollectorSettings& settings) {
  return std::make_unique<procfs::ProcfsCollector>(settings);
}

namespace procfs {

std::string errno_text() { return std::strerror(errno); }

ProcfsCollector::ProcfsCollector(const CollectorSettings& settings)
    : settings_(process::with_process_images(settings)),
      period_(std::chrono::nanoseconds(1'000'000'000LL / std::max(1, settings.sample_rate_hz))),
      ticks_per_second_(static_cast<double>(::sysconf(_SC_CLK_TCK))),
      log_(spdlog::get("procfs") ? spdlog::get("procfs") : spdlog::default_logger()) {}

Status ProcfsCollector::start() {
  root_ = Fd(::open(settings_.proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_.ok()) return Error{"open " + settings_.proc_root + ": " + errno_text()};
  struct stat st {};
  if (::fstatat(root_.get(), "self/stat", &st, 0) != 0) {
    return Error{settings_.proc_root + " does not look like procfs (no self/stat)"};
  }
  files_ = std::make_unique<FdCache>(kept_files_bound());
  return Ok{};
}

void ProcfsCollector::set_targets(const TargetSet& targets) {
  settings_.process_images->retain(targets);
  follow_targets(
      processes_, targets,
      [this](const ProcessKey& key, const std::string& workload) { return track(key, workload); },
      [this](ProcessState& p) { retire(p); });
}

// A new target process's state with its counters' baselines; nullopt if it is already
// gone or its PID was reused.
std::optional<ProcessState> ProcfsCollector::track(const ProcessKey& key,
                                                   const std::string& workload) {
  ProcessState p;
  p.key = key;
  p.workload = workload;
  int dir = open_process_dir(key);
  if (dir < 0) return std::nullopt;  // already gone, or its PID reused
  p.sockets = std::make_unique<ProcessSockets>(
      key.pid, [this, k = key] { return dir_of(k); }, &net_tables_);
  auto stat_text = read_at(dir, "stat");
  auto stat = stat_text ? parse_stat(*stat_text) : Result<TaskStat>(Error{""});
  if (!stat || stat->start_time_ticks != key.start_time_ticks) {
    ::close(dir);
    return std::nullopt;
  }
  p.base_cpu_ticks = stat->utime_ticks + stat->stime_ticks;
  p.base_major_faults = stat->major_faults;
  if (auto io = read_at(dir, "io")) {
    if (auto parsed = parse_io(*io)) p.base_io = *parsed;
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
  return p;
}

void ProcfsCollector::retire(ProcessState& p) {
  p.alive = false;
  retired_.push_back(std::move(p));
}

// Opens fds for threads not yet known and marks vanished ones. Also detects a
// process that has exited (its task dir is gone). The list is read only when the
// kernel's thread count differs from the threads known alive (thread_list_stale): a
// process of 1 000 threads, or 2 000 processes of one, cost one fstatat each then.
void ProcfsCollector::refresh_threads(ProcessState& p, SteadyTime now, bool mid_window) {
  p.ran_since_listing = false;
  const int dir = dir_of(p.key);
  const auto alive = static_cast<std::size_t>(std::count_if(
      p.threads.begin(), p.threads.end(), [](const auto& entry) { return entry.second.alive; }));
  if (!thread_list_stale(task_links(dir), alive)) return;
  auto tids = list_numeric(dir, "task");
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

// The link count of /proc/PID/task (2 + threads), or nullopt when the process is gone.
std::optional<std::uint64_t> ProcfsCollector::task_links(int dir) const {
  struct stat st {};
  if (dir < 0 || ::fstatat(dir, "task", &st, 0) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_nlink);
}

// false when the thread's stat cannot be read (it has exited).
bool ProcfsCollector::read_baselines(ProcessState& p, int tid, ThreadState& t) {
  auto stat = read_task(p, tid, kTaskStat);
  if (!stat) return false;
  if (auto s = parse_stat(*stat)) t.last_major_faults = s->major_faults;
  if (auto text = read_task(p, tid, kTaskSchedstat)) {
    if (auto s = parse_schedstat(*text)) t.base_sched = *s;
  }
  t.base_switches = thread_switches(p, tid);
  return true;
}

// The upper bound of kept-open files (kept_files_capacity): max_open_files or the
// default memory budget, lowered to half the open-files limit and to a quarter of the
// agent's own cgroup memory limit.
std::size_t ProcfsCollector::kept_files_bound() const {
  KeptFilesLimits limits;
  rlimit fds{};
  if (::getrlimit(RLIMIT_NOFILE, &fds) != 0) {
    limits.open_files = 1024;
  } else if (fds.rlim_cur != RLIM_INFINITY) {
    limits.open_files = fds.rlim_cur;
  }
  const auto memory = cgroup::own_memory_limit(settings_.proc_root);
  if (memory) limits.memory_bytes = memory->bytes;
  limits.configured = static_cast<std::uint64_t>(std::max(0, settings_.max_open_files));
  const auto capacity = kept_files_capacity(limits);
  std::string why = "max_open_files";
  if (capacity.by == KeptFilesBoundBy::default_memory) why = "the default memory budget";
  if (capacity.by == KeptFilesBoundBy::open_files && limits.open_files) {
    why = fmt::format("half the open-files limit of {}", *limits.open_files);
  }
  if (capacity.by == KeptFilesBoundBy::memory_limit && memory) {
    why = fmt::format("a quarter of the memory limit of {} MiB at {}", memory->bytes >> 20,
                      memory->dir);
  }
  if (capacity.lowered) {
    log_->warn(
        "max_open_files {} is more than {} allows; keeping {} (hint: raise LimitNOFILE or "
        "the memory limit)",
        settings_.max_open_files, why, capacity.files);
  }
  log_->info("keeping at most {} procfs files open, about {} MiB of kernel memory (bound: {})",
             capacity.files, (capacity.files * kKernelBytesPerKeptFile) >> 20, why);
  return capacity.files;
}

// Opens /proc/PID for `key` and checks that it is still that process (start time);
// -1 when it is gone or its PID now belongs to another process.
int ProcfsCollector::open_process_dir(const ProcessKey& key) {
  int fd =
      ::openat(root_.get(), std::to_string(key.pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  auto text = read_at(fd, "stat");
  auto stat = text ? parse_stat(*text) : Result<TaskStat>(Error{""});
  if (!stat || stat->start_time_ticks != key.start_time_ticks) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// /proc/PID of a target, kept open while the cache has room.
int ProcfsCollector::dir_of(const ProcessKey& key) {
  return files_->get({key.pid, 0, kProcessDir, key.start_time_ticks},
                     [&] { return open_process_dir(key); });
}

// One of a thread's task files, read whole into buf_; nullopt when it cannot be
// opened or read (the thread has exited, or the read was refused).
std::optional<std::string_view> ProcfsCollector::read_task(ProcessState& p, int tid,
                                                           FileKind kind) {
  static constexpr const char* kNames[] = {"", "stat", "syscall", "schedstat"};
  int fd = files_->get({p.key.pid, tid, kind, p.key.start_time_ticks}, [&] {
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

void ProcfsCollector::forget_thread(const ProcessState& p, int tid) {
  for (FileKind kind : {kTaskStat, kTaskSyscall, kTaskSchedstat}) {
    files_->forget({p.key.pid, tid, kind, p.key.start_time_ticks});
  }
}

void ProcfsCollector::forget_process(const ProcessState& p) {
  for (const auto& [tid, t] : p.threads) forget_thread(p, tid);
  files_->forget({p.key.pid, 0, kProcessDir, p.key.start_time_ticks});
}

std::optional<Switches> ProcfsCollector::thread_switches(ProcessState& p, int tid) {
  auto text = read_at(dir_of(p.key), ("task/" + std::to_string(tid) + "/status").c_str());
  if (!text) return std::nullopt;
  auto s = parse_status(*text);
  if (!s) return std::nullopt;
  return Switches{s->voluntary_ctxt_switches, s->nonvoluntary_ctxt_switches};
}

}  // namespace procfs
}  // namespace boundwise
