// The unwinding thread (contract in unwind_worker.hpp).
#include "collectors/stacks/unwind_worker.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <tuple>

#include "collectors/stacks/object_cache.hpp"
#include "collectors/stacks/perf_sample.hpp"
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

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct Process {
  std::unique_ptr<ProcessView> view;
  bool gone = false;  // its maps could not be read again
  std::chrono::steady_clock::time_point refreshed{};
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
      if (unwound.failure != UnwindFailure::kNone) {
        cause = std::string(to_string(unwound.failure));
        user.emplace_back("[partial]");
      }
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
    const bool sample = job.kind == Job::Kind::kSample || job.kind == Job::Kind::kOffCpu;
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
    }
    const double spent = thread_cpu_seconds() - t0;
    std::lock_guard lock(mutex_);
    results_.seconds += spent;
    if (!cause.empty()) ++results_.failures[cause];
    if (stack.empty()) continue;
    auto& into = job.kind == Job::Kind::kOffCpu ? results_.offcpu : results_.stacks;
    add_stack(into[job.workload], stack, job.weight, kMaxProfileStacks);
  }
}

}  // namespace boundwise::stacks
