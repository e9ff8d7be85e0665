// The unwinding thread (contract in unwind_worker.hpp).
#include "collectors/stacks/unwind_worker.hpp"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>
#include <tuple>

#include "collectors/python/remote_memory.hpp"
#include "collectors/python/thread_stacks.hpp"
#include "collectors/stacks/object_cache.hpp"
#include "collectors/stacks/perf_sample.hpp"
#include "collectors/stacks/python_splice.hpp"
#include "collectors/stacks/stacks_collector.hpp"
#include "collectors/stacks/unwinder.hpp"

namespace boundwise::stacks {

namespace {

constexpr std::size_t kMaxFrames = 128;
// The ELF images (call-frame tables and symbols) kept for all targets together.
constexpr std::size_t kImageCacheBytes = std::size_t{256} << 20;
// Demangled names kept; the cache is emptied when it grows past this.
constexpr std::size_t kMaxNames = 100'000;
// A process's maps are read again on a miss at most this often.
constexpr auto kMinRefreshInterval = std::chrono::milliseconds(100);
// A CPython process's thread list is read again on an unknown thread at most this often.
constexpr auto kTidsRefreshInterval = std::chrono::milliseconds(100);
// A thread without Python frames (a native thread, one that has not run Python yet) is
// looked at again after this long, rather than walking the thread states per sample.
constexpr auto kNoPythonRetry = std::chrono::seconds(1);
// Opening a CPython process's stacks (the interpreter may still be starting) is retried
// this often, this many times.
constexpr auto kPythonOpenRetry = std::chrono::seconds(1);
constexpr int kPythonOpenAttempts = 10;

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

using SteadyClock = std::chrono::steady_clock;

// A CPython process: its Python stacks and GIL, read through its memory.
struct PythonProcess {
  std::uint64_t runtime = 0;
  int major = 0, minor = -1;
  std::unique_ptr<python::ProcessMemory> memory;
  std::optional<python::ThreadStacks> stacks;  // once opened
  int attempts = 0;                            // to open it
  SteadyClock::time_point last_attempt{};
  bool given_up = false;
  std::set<int> tids;
  SteadyClock::time_point tids_read{};
  std::map<int, SteadyClock::time_point> without_python;  // tid → when it had no frames
};

std::set<int> task_ids(const std::string& dir) {
  std::set<int> out;
  if (DIR* d = ::opendir((dir + "/task").c_str())) {
    while (dirent* e = ::readdir(d)) {
      int tid = 0;
      auto [end, ec] = std::from_chars(e->d_name, e->d_name + std::strlen(e->d_name), tid);
      if (ec == std::errc{} && *end == '\0' && tid > 0) out.insert(tid);
    }
    ::closedir(d);
  }
  return out;
}

struct Process {
  std::unique_ptr<ProcessView> view;
  bool gone = false;  // its maps could not be read again
  std::chrono::steady_clock::time_point refreshed{};
  std::unique_ptr<PythonProcess> python;  // CPython processes only
};

}  // namespace

struct UnwindWorker::State {
  std::string proc_root;
  KernelSymbols kernel;
  ObjectCache cache{kImageCacheBytes};
  Unwinder unwinder{kMaxFrames};
  std::map<ProcessKey, Process> processes;
  std::map<std::tuple<std::uint64_t, std::uint64_t, std::uint32_t>, std::string> names;

  Process& process(const ProcessKey& key) {
    auto it = processes.find(key);
    if (it != processes.end()) return it->second;
    const std::string dir = proc_root + "/" + std::to_string(key.pid);
    char exe[4096];
    ssize_t n = ::readlink((dir + "/exe").c_str(), exe, sizeof exe - 1);
    Process p;
    p.view = std::make_unique<ProcessView>(
        dir, n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : std::string());
    p.gone = !p.view->refresh();
    p.refreshed = std::chrono::steady_clock::now();
    return processes.emplace(key, std::move(p)).first->second;
  }

  std::string frame_name(ProcessView& view, std::uint64_t address) {
    const auto* region = view.find(address, cache);
    if (region == nullptr) return "[unknown]";
    if (!region->image) return "[" + basename_of(region->mapping.path) + "]";
    const auto* symbol = region->image->symbol_at(address - region->bias);
    if (symbol == nullptr) return "[" + basename_of(region->mapping.path) + "]";
    const auto key =
        std::make_tuple(static_cast<std::uint64_t>(region->mapping.device),
                        static_cast<std::uint64_t>(region->mapping.inode), symbol->name);
    auto it = names.find(key);
    if (it != names.end()) return it->second;
    if (names.size() >= kMaxNames) names.clear();
    return names.emplace(key, process::demangle(region->image->name_of(*symbol))).first->second;
  }

  // The Python stacks of process `key` (pid `pid`), opened on first use; null when it is
  // not CPython or cannot be read. `tid`: a thread that must be in the thread list.
  PythonProcess* python_of(const ProcessKey& key, int tid, std::string& cause) {
    auto it = processes.find(key);
    if (it == processes.end() || !it->second.python || it->second.python->given_up) {
      return nullptr;
    }
    PythonProcess& py = *it->second.python;
    const auto now = SteadyClock::now();
    const std::string dir = proc_root + "/" + std::to_string(key.pid);
    if (py.tids.empty() ||
        (py.tids.count(tid) == 0 && now - py.tids_read >= kTidsRefreshInterval)) {
      py.tids = task_ids(dir);
      py.tids_read = now;
    }
    if (py.stacks) return &py;
    if (now - py.last_attempt < kPythonOpenRetry) return nullptr;
    py.last_attempt = now;
    if (!py.memory) py.memory = std::make_unique<python::ProcessMemory>(key.pid);
    auto opened = python::ThreadStacks::open(*py.memory, py.runtime, py.major, py.minor, py.tids);
    if (opened) {
      py.stacks = std::move(*opened);
      return &py;
    }
    if (++py.attempts >= kPythonOpenAttempts) {
      py.given_up = true;
      cause = "python_unreadable";
    }
    return nullptr;
  }

  // The Python frames of thread `tid` of process `key`, leaf first; empty when it has
  // none or they cannot be read (`cause` set when a read failed).
  std::vector<python::PyFrame> python_frames(const ProcessKey& key, int tid, std::string& cause) {
    std::vector<python::PyFrame> frames;
    PythonProcess* py = python_of(key, tid, cause);
    if (py == nullptr) return frames;
    const auto now = SteadyClock::now();
    if (auto w = py->without_python.find(tid);
        w != py->without_python.end() && now - w->second < kNoPythonRetry) {
      return frames;
    }
    switch (py->stacks->frames(*py->memory, tid, py->tids, frames)) {
      case python::FrameReader::Outcome::ok:
        if (frames.empty()) {
          if (py->without_python.size() > py->tids.size() + 64) py->without_python.clear();
          py->without_python[tid] = now;
        }
        break;
      case python::FrameReader::Outcome::gone:
        frames.clear();
        break;
      case python::FrameReader::Outcome::failed:
        cause = "python_read_failed";  // the frames read before the failure are kept
        break;
    }
    return frames;
  }

  // Who holds process `key`'s GIL: the holder's Python frames, folded root first;
  // "[GIL holder unknown]" when the holder is not mapped to a thread, "[no Python
  // frames]" when it runs none; "" when the GIL is free or cannot be read.
  std::string gil_holder(const ProcessKey& key, std::string& cause) {
    PythonProcess* py = python_of(key, 0, cause);
    if (py == nullptr) return {};
    python::GilSample sample;
    if (py->stacks->gil(*py->memory, py->tids, sample) != python::SampleOutcome::ok ||
        !sample.locked) {
      return {};
    }
    if (!sample.holder_tid) return "[GIL holder unknown]";
    std::vector<python::PyFrame> frames;
    const auto outcome = py->stacks->frames(*py->memory, *sample.holder_tid, py->tids, frames);
    if (outcome == python::FrameReader::Outcome::gone) return {};
    if (outcome == python::FrameReader::Outcome::failed) cause = "python_read_failed";
    if (frames.empty()) return "[no Python frames]";
    std::vector<std::string> leaf_first;
    leaf_first.reserve(frames.size());
    for (const auto& f : frames) leaf_first.push_back(python::frame_name(f));
    return fold_stack(leaf_first, {});
  }

  // One sample → its folded stack (and `cause` set when it was cut or dropped); empty
  // when the sample is dropped.
  std::string fold(const ProcessKey& key, std::span<const std::byte> record, std::string& cause) {
    auto sample = parse_sample(record);
    if (!sample) {
      cause = "bad_record";
      return {};
    }
    std::vector<std::string> user;
    if (sample->has_user_regs) {
      Process& p = process(key);
      const std::uint64_t ip = sample->regs[reg_index(kPerfRegIp)];
      const auto now = std::chrono::steady_clock::now();
      if (!p.gone && p.view->find(ip, cache) == nullptr &&
          now - p.refreshed >= kMinRefreshInterval) {
        // A mapping made since the last read (dlopen, exec): read the maps again.
        p.refreshed = now;
        p.gone = !p.view->refresh();
      }
      if (p.gone) {
        cause = "process_gone";
        return {};
      }
      auto unwound = unwinder.unwind(*sample, *p.view, cache);
      for (std::size_t i = 0; i < unwound.ips.size(); ++i) {
        // A return address points after the call: name the call's instruction.
        user.push_back(frame_name(*p.view, i == 0 ? unwound.ips[i] : unwound.ips[i] - 1));
      }
      const bool partial = unwound.failure != UnwindFailure::kNone;
      if (partial) cause = std::string(to_string(unwound.failure));
      std::string python_cause;
      auto python = p.python ? python_frames(key, static_cast<int>(sample->tid), python_cause)
                             : std::vector<python::PyFrame>{};
      auto spliced = splice_python(user, partial, python);
      if (!spliced.matched && cause.empty()) cause = "python_unmatched";
      if (cause.empty()) cause = python_cause;
      user = std::move(spliced.frames);
    }
    std::vector<std::string> kernel_frames;
    for (std::uint64_t kip : sample->kernel_ips) {
      auto name = kernel.name_at(kip);
      kernel_frames.emplace_back(name.empty() ? std::string_view("[kernel]") : name);
    }
    std::string folded = fold_stack(user, kernel_frames);
    return folded.empty() ? std::string("[unknown]") : folded;
  }
};

UnwindWorker::UnwindWorker(std::string proc_root, KernelSymbols kernel, std::size_t max_queue)
    : state_(std::make_unique<State>()), max_queue_(max_queue) {
  state_->proc_root = std::move(proc_root);
  state_->kernel = std::move(kernel);
  thread_ = std::thread([this] { run(); });
}

UnwindWorker::~UnwindWorker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

bool UnwindWorker::post(Job job) {
  {
    std::lock_guard lock(mutex_);
    const bool sample = job.kind == Job::Kind::kSample || job.kind == Job::Kind::kOffCpu ||
                        job.kind == Job::Kind::kGilProbe;
    if (sample && queue_.size() >= max_queue_) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

bool UnwindWorker::post_sample(const ProcessKey& key, const std::string& workload,
                               std::span<const std::byte> record) {
  return post(Job{Job::Kind::kSample, key, workload, {record.begin(), record.end()}, {}, 1});
}

bool UnwindWorker::post_offcpu(const ProcessKey& key, const std::string& workload,
                               std::string root_frame, std::uint64_t weight,
                               std::vector<std::byte> record) {
  return post(
      Job{Job::Kind::kOffCpu, key, workload, std::move(record), std::move(root_frame), weight});
}

void UnwindWorker::post_python(const ProcessKey& key, std::uint64_t runtime, int major, int minor) {
  Job job{Job::Kind::kPython, key, {}, {}, {}, 1};
  job.runtime = runtime;
  job.major = major;
  job.minor = minor;
  post(std::move(job));
}

bool UnwindWorker::post_gil_probe(const ProcessKey& key, const std::string& workload) {
  return post(Job{Job::Kind::kGilProbe, key, workload, {}, {}, 1});
}

void UnwindWorker::post_refresh(const ProcessKey& key) {
  post(Job{Job::Kind::kRefresh, key, {}, {}, {}, 1});
}

void UnwindWorker::post_retire(const ProcessKey& key) {
  post(Job{Job::Kind::kRetire, key, {}, {}, {}, 1});
}

UnwindWorker::Results UnwindWorker::take() {
  std::lock_guard lock(mutex_);
  Results out;
  out.stacks = std::move(results_.stacks);
  results_.stacks.clear();
  out.offcpu = std::move(results_.offcpu);
  results_.offcpu.clear();
  out.gil = std::move(results_.gil);
  results_.gil.clear();
  out.seconds = results_.seconds;
  out.failures = results_.failures;
  return out;
}

void UnwindWorker::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    const double t0 = thread_cpu_seconds();
    std::string stack;
    std::string cause;
    switch (job.kind) {
      case Job::Kind::kSample:
        stack = state_->fold(job.key, job.record, cause);
        break;
      case Job::Kind::kOffCpu:
        stack = state_->fold(job.key, job.record, cause);
        if (!stack.empty()) stack = job.root_frame + ";" + stack;
        break;
      case Job::Kind::kRefresh:
        if (auto it = state_->processes.find(job.key); it != state_->processes.end()) {
          it->second.gone = it->second.gone || !it->second.view->refresh();
          it->second.refreshed = std::chrono::steady_clock::now();
        }
        break;
      case Job::Kind::kRetire:
        state_->processes.erase(job.key);
        break;
      case Job::Kind::kPython: {
        auto py = std::make_unique<PythonProcess>();
        py->runtime = job.runtime;
        py->major = job.major;
        py->minor = job.minor;
        state_->process(job.key).python = std::move(py);
        break;
      }
      case Job::Kind::kGilProbe:
        stack = state_->gil_holder(job.key, cause);
        break;
    }
    const double spent = thread_cpu_seconds() - t0;
    std::lock_guard lock(mutex_);
    results_.seconds += spent;
    if (!cause.empty()) ++results_.failures[cause];
    if (stack.empty()) continue;
    auto& into = job.kind == Job::Kind::kOffCpu     ? results_.offcpu
                 : job.kind == Job::Kind::kGilProbe ? results_.gil
                                                    : results_.stacks;
    add_stack(into[job.workload], stack, job.weight, kMaxProfileStacks);
    ++into[job.workload].taken;
  }
}

}  // namespace boundwise::stacks
