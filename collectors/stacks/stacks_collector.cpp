// The stacks collector (what it does: stacks_collector.hpp). Per-thread events rather
// than one inherited event per process: the kernel refuses to mmap an inherited
// per-task event (cpu = -1) and refuses PERF_EVENT_IOC_SET_OUTPUT across threads' cpu
// = -1 events (EINVAL), so each thread has its own small ring.
#include "collectors/stacks/stacks_collector.hpp"

#include <dirent.h>
#include <linux/perf_event.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "classifier/profile.hpp"
#include "collectors/process/process_images.hpp"
#include "collectors/stacks/kernel_symbols.hpp"
#include "collectors/stacks/offcpu_sampler.hpp"
#include "collectors/stacks/perf_sample.hpp"
#include "collectors/stacks/unwind_worker.hpp"

namespace boundwise {

namespace stacks {

std::string fold_stack(const std::vector<std::string>& user_leaf_first,
                       const std::vector<std::string>& kernel_leaf_first) {
  std::string out;
  for (auto it = user_leaf_first.rbegin(); it != user_leaf_first.rend(); ++it) {
    if (!out.empty()) out += ';';
    out += sanitize_frame(*it);
  }
  for (auto it = kernel_leaf_first.rbegin(); it != kernel_leaf_first.rend(); ++it) {
    if (!out.empty()) out += ';';
    out += sanitize_frame(*it);
    out += "_[k]";
  }
  return out;
}

namespace {

// Sample records waiting for the unwinding thread at most (~9 MiB at the default
// stack_bytes; ~70 ms of its work at ~70 µs a sample).
constexpr std::size_t kMaxQueuedSamples = 1024;
// How often threads and mappings are looked for between discovery scans.
constexpr auto kRescanInterval = std::chrono::seconds(1);
// Records a ring holds at least before the kernel drops samples (PERF_RECORD_LOST),
// with sample() draining every 100 ms: 6 records is 300 ms at 19 Hz.
constexpr std::size_t kRingRecords = 6;

long perf_event_open(perf_event_attr* attr, int pid, int cpu, int group, unsigned long flags) {
  return ::syscall(SYS_perf_event_open, attr, pid, cpu, group, flags);
}

// One thread's event and its mmap'ed ring.
class Ring {
 public:
  Ring(int fd, void* base, std::size_t data_bytes)
      : fd_(fd), base_(base), data_bytes_(data_bytes) {}
  ~Ring() {
    ::munmap(base_, data_bytes_ + page_size());
    ::close(fd_);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  static std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

  // Calls on_record(type, body) for every complete record the kernel has written, then
  // hands the space back. `scratch` holds a record that wraps around the ring's end.
  template <class F>
  void drain(std::vector<std::byte>& scratch, F on_record) {
    auto* meta = static_cast<perf_event_mmap_page*>(base_);
    const std::uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    std::uint64_t tail = meta->data_tail;
    const auto* data = static_cast<const std::byte*>(base_) + page_size();
    const std::uint64_t mask = data_bytes_ - 1;
    while (tail < head) {
      perf_event_header header{};
      copy_out(data, tail, mask, &header, sizeof header);
      if (header.size < sizeof header || header.size > head - tail) break;  // corrupt: skip all
      scratch.resize(header.size - sizeof header);
      copy_out(data, tail + sizeof header, mask, scratch.data(), scratch.size());
      on_record(header.type, std::span<const std::byte>(scratch));
      tail += header.size;
    }
    __atomic_store_n(&meta->data_tail, head, __ATOMIC_RELEASE);
  }

 private:
  void copy_out(const std::byte* data, std::uint64_t at, std::uint64_t mask, void* out,
                std::size_t n) const {
    auto* dst = static_cast<std::byte*>(out);
    const std::size_t start = static_cast<std::size_t>(at & mask);
    const std::size_t first = std::min(n, data_bytes_ - start);
    std::memcpy(dst, data + start, first);
    std::memcpy(dst + first, data, n - first);
  }

  int fd_;
  void* base_;
  std::size_t data_bytes_;
};

struct Process {
  std::string workload;
  std::map<int, std::unique_ptr<Ring>> threads;
  std::vector<int> tids;  // every live thread (sampled or not), for off-CPU rounds
  bool python = false;    // CPython: GIL probes each round
};

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

class StacksCollector final : public Collector {
 public:
  explicit StacksCollector(const CollectorSettings& settings)
      : settings_(process::with_process_images(settings)),
        frequency_hz_(settings.options_for(stacks_descriptor()).integer("frequency_hz")),
        stack_bytes_(settings.options_for(stacks_descriptor()).integer("stack_bytes") & ~7LL),
        max_threads_(static_cast<std::size_t>(
            settings.options_for(stacks_descriptor()).integer("max_threads"))),
        offcpu_hz_(settings.options_for(stacks_descriptor()).integer("offcpu_hz")),
        log_(spdlog::get("stacks") ? spdlog::get("stacks") : spdlog::default_logger()) {}

  std::string_view name() const override { return "stacks"; }
  std::chrono::nanoseconds period() const override { return std::chrono::milliseconds(100); }

  Status start() override {
    attr_.size = sizeof attr_;
    attr_.type = PERF_TYPE_SOFTWARE;
    attr_.config = PERF_COUNT_SW_CPU_CLOCK;
    attr_.sample_period = 1'000'000'000ULL / static_cast<std::uint64_t>(frequency_hz_);  // ns
    attr_.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN |
                        PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
    attr_.sample_regs_user = stacks::kSampleRegsMask;
    attr_.sample_stack_user = static_cast<std::uint32_t>(stack_bytes_);
    attr_.exclude_callchain_user = 1;
    attr_.exclude_hv = 1;
    attr_.disabled = 0;
    // Probe on the agent's own thread: kernel frames need CAP_PERFMON (or
    // perf_event_paranoid <= 1); without them, user stacks only.
    long fd = perf_event_open(&attr_, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EPERM)) {
      attr_.exclude_kernel = 1;
      fd = perf_event_open(&attr_, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    }
    if (fd < 0) {
      return Error{std::string("perf_event_open(cpu-clock, user regs and stack): ") +
                   std::strerror(errno) +
                   " (grant CAP_PERFMON, or lower kernel.perf_event_paranoid)"};
    }
    ::close(static_cast<int>(fd));
    stacks::KernelSymbols kernel;
    if (attr_.exclude_kernel == 0) {
      std::ifstream in("/proc/kallsyms");
      std::stringstream text;
      text << in.rdbuf();
      kernel = stacks::KernelSymbols::parse(text.str());
    }
    worker_ = std::make_unique<stacks::UnwindWorker>(settings_.proc_root, std::move(kernel),
                                                     kMaxQueuedSamples);
    if (offcpu_hz_ > 0) {
      offcpu_ = std::make_unique<OffCpuSampler>(
          settings_.proc_root, static_cast<std::size_t>(stack_bytes_),
          static_cast<std::size_t>(
              settings_.options_for(stacks_descriptor()).integer("offcpu_max_threads")),
          settings_.process_images, settings_.dependencies);
    }
    if (attr_.exclude_kernel != 0) {
      log_->warn(
          "stacks: kernel frames not sampled (perf_event_open refused them; grant "
          "CAP_PERFMON)");
    }
    // A ring of a power of two pages holding kRingRecords full samples.
    const std::size_t record = static_cast<std::size_t>(stack_bytes_) + 1024;
    std::size_t pages = 1;
    while (pages * Ring::page_size() < record * kRingRecords) pages *= 2;
    data_bytes_ = pages * Ring::page_size();
    return Ok{};
  }

  void set_targets(const TargetSet& targets) override {
    follow_targets(
        processes_, targets,
        [&](const ProcessKey& key, const std::string& workload) -> std::optional<Process> {
          Process p;
          p.workload = workload;
          // CPython (the ELF says so, read once per process for every collector): its
          // samples get Python frames, and the GIL's holder is probed.
          if (auto gil = settings_.process_images->gil(key);
              gil.ok() && gil->has_value() && (*gil)->runtime_address != 0) {
            const auto& where = **gil;
            worker_->post_python(key, where.runtime_address, where.major, where.minor);
            p.python = true;
          }
          return p;
        },
        // Its rings close with it; samples not yet drained are dropped.
        [&](Process& p) { threads_open_ -= p.threads.size(); });
    std::set<ProcessKey> kept;
    for (auto& [key, p] : processes_) {
      open_threads(key, p);
      kept.insert(key);
    }
    for (const auto& key : posted_) {
      if (kept.count(key) == 0) worker_->post_retire(key);
    }
    posted_ = std::move(kept);
    last_scan_ = std::chrono::steady_clock::now();
  }

  Status sample(SteadyTime now) override {
    const double t0 = thread_cpu_seconds();
    for (auto& entry : processes_) {
      const ProcessKey& key = entry.first;
      Process& p = entry.second;  // a structured binding cannot be captured (clang 14)
      for (auto& [tid, ring] : p.threads) {
        ring->drain(scratch_, [&](std::uint32_t type, std::span<const std::byte> body) {
          on_record(key, p, type, body);
        });
      }
    }
    // Who holds each CPython process's GIL, once per round (10 Hz).
    for (const auto& [key, p] : processes_) {
      if (p.python && !worker_->post_gil_probe(key, p.workload)) ++failures_["overloaded"];
    }
    if (offcpu_ && now - last_offcpu_ >= std::chrono::nanoseconds(1'000'000'000 / offcpu_hz_)) {
      offcpu_round(now);
    }
    drain_seconds_ += thread_cpu_seconds() - t0;
    if (now - last_scan_ >= kRescanInterval) {
      last_scan_ = now;
      for (auto& [key, p] : processes_) {
        worker_->post_refresh(key);
        open_threads(key, p);
      }
    }
    return Ok{};
  }

  void contribute(SteadyTime, EvidenceSet& evidence) override {
    auto results = worker_->take();
    for (auto& [name, e] : evidence.workloads) {
      auto it = results.stacks.find(name);
      e.cpu_stacks = it != results.stacks.end() ? std::move(it->second) : FoldedStacks{};
      auto gil = results.gil.find(name);
      e.gil_stacks = gil != results.gil.end() ? std::move(gil->second) : FoldedStacks{};
      if (offcpu_) {
        auto off = results.offcpu.find(name);
        e.offcpu_stacks = off != results.offcpu.end() ? std::move(off->second) : FoldedStacks{};
      }
    }
    evidence.node.unwind_seconds = drain_seconds_ + results.seconds;
    evidence.node.unwind_failures = std::move(results.failures);
    for (const auto& [cause, n] : failures_) evidence.node.unwind_failures[cause] += n;
  }

 private:
  // One round of off-CPU stacks (offcpu_sampler.hpp), handed to the unwinding thread.
  void offcpu_round(SteadyTime now) {
    const double nominal = 1.0 / static_cast<double>(offcpu_hz_);
    // The time since the previous round (a late round stands for more blocked time),
    // at most two nominal intervals (the first round, a stalled collection thread).
    const double interval =
        last_offcpu_ == SteadyTime{}
            ? nominal
            : std::min(2 * nominal, std::chrono::duration<double>(now - last_offcpu_).count());
    last_offcpu_ = now;
    std::map<ProcessKey, OffCpuSampler::Target> targets;
    for (const auto& [key, p] : processes_) targets[key] = {p.workload, p.tids};
    offcpu_->round(
        targets, interval,
        [&](OffCpuStack stack) {
          if (!worker_->post_offcpu(stack.key, stack.workload, std::move(stack.reason_frame),
                                    stack.weight_ms, std::move(stack.record))) {
            ++failures_["overloaded"];
          }
        },
        failures_);
  }

  // Opens an event for each thread of `p` not sampled yet (within max_threads) and
  // closes those of threads that ended.
  void open_threads(const ProcessKey& key, Process& p) {
    const std::string task_dir = settings_.proc_root + "/" + std::to_string(key.pid) + "/task";
    std::set<int> alive;
    if (DIR* d = ::opendir(task_dir.c_str())) {
      while (dirent* e = ::readdir(d)) {
        int tid = 0;
        auto [end, ec] = std::from_chars(e->d_name, e->d_name + std::strlen(e->d_name), tid);
        if (ec == std::errc{} && *end == '\0' && tid > 0) alive.insert(tid);
      }
      ::closedir(d);
    }
    p.tids.assign(alive.begin(), alive.end());
    for (auto it = p.threads.begin(); it != p.threads.end();) {
      if (alive.count(it->first) == 0) {
        it->second->drain(scratch_, [&](std::uint32_t type, std::span<const std::byte> body) {
          on_record(key, p, type, body);
        });
        it = p.threads.erase(it);
        --threads_open_;
      } else {
        ++it;
      }
    }
    for (int tid : alive) {
      if (p.threads.count(tid) != 0) continue;
      if (threads_open_ >= max_threads_) {
        if (!warned_max_threads_) {
          log_->warn(
              "stacks: more than max_threads ({}) target threads; the others are not "
              "sampled",
              max_threads_);
          warned_max_threads_ = true;
        }
        return;
      }
      long fd = perf_event_open(&attr_, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
      if (fd < 0) {
        if (errno != ESRCH) log_once(std::string("perf_event_open: ") + std::strerror(errno));
        continue;
      }
      void* base = ::mmap(nullptr, data_bytes_ + Ring::page_size(), PROT_READ | PROT_WRITE,
                          MAP_SHARED, static_cast<int>(fd), 0);
      if (base == MAP_FAILED) {
        log_once(std::string("mmap of a perf ring: ") + std::strerror(errno));
        ::close(static_cast<int>(fd));
        continue;
      }
      p.threads.emplace(tid, std::make_unique<Ring>(static_cast<int>(fd), base, data_bytes_));
      ++threads_open_;
    }
  }

  void log_once(const std::string& message) {
    if (logged_.insert(message).second) log_->warn("stacks: {}", message);
  }

  // On the collection thread: a lost-records note is counted, a sample handed over.
  void on_record(const ProcessKey& key, const Process& p, std::uint32_t type,
                 std::span<const std::byte> body) {
    if (type == PERF_RECORD_LOST) {
      std::uint64_t ids[2] = {0, 0};  // id, lost
      if (body.size() >= sizeof ids) std::memcpy(ids, body.data(), sizeof ids);
      failures_["lost"] += ids[1];
      return;
    }
    if (type != PERF_RECORD_SAMPLE) return;
    if (!worker_->post_sample(key, p.workload, body)) ++failures_["overloaded"];
  }

  CollectorSettings settings_;
  long long frequency_hz_;
  long long stack_bytes_;
  std::size_t max_threads_;
  long long offcpu_hz_;
  perf_event_attr attr_{};
  std::size_t data_bytes_ = 0;
  std::map<ProcessKey, Process> processes_;
  std::size_t threads_open_ = 0;
  bool warned_max_threads_ = false;
  std::set<std::string> logged_;
  std::chrono::steady_clock::time_point last_scan_{};
  std::set<ProcessKey> posted_;            // processes the worker may know
  std::unique_ptr<OffCpuSampler> offcpu_;  // null when offcpu_hz is 0
  SteadyTime last_offcpu_{};
  std::vector<std::byte> scratch_;
  double drain_seconds_ = 0;                       // the collection thread's share of the cost
  std::map<std::string, std::uint64_t> failures_;  // counted here: lost, overloaded
  // Declared last: destroyed (its thread stopped) first.
  std::unique_ptr<stacks::UnwindWorker> worker_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace

}  // namespace stacks

std::unique_ptr<Collector> make_stacks_collector(const CollectorSettings& settings) {
  return std::make_unique<stacks::StacksCollector>(settings);
}

}  // namespace boundwise
